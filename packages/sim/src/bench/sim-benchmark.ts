/**
 * Benchmarks on the simulated NICs, for the bench suite (bench/ calls these; see README.md):
 *
 * - `runSimBenchmark`: two NICs of one model on a fresh virtual wire in virtual time, one
 *   connection, a workload (`rpc`: pipelined echo RPCs; `bulk`: a one-way transfer). Reports
 *   the modelled results (RPCs per simulated second, goodput, RPC latency percentiles, both NICs'
 *   model statistics) and the simulator's own speed (segments per wall-clock and per CPU second).
 * - `runParallelismAblation`: the same workload on FlexTOE's parallel layout and on one core run
 *   to completion; the ratio is what fine-grained parallelism buys on that hardware.
 *
 * Time: stats windows start after a warm-up and end inside the callback that completes the
 * workload, so the modelled numbers do not include idle simulated time.
 */
import { performance } from 'node:perf_hooks';
import {
  registerVirtualWire,
  resolveConfig,
  unregisterVirtualWire,
  type BackendName,
  type CcAlgorithm,
  type Connection,
  type FlexToeConfig,
  type VirtualWireOptions,
} from '@flextoe/core';
import { LatencyHistogram, type Percentiles } from '../model/histogram.js';
import type { NicModelSpec } from '../model/spec.js';
import { createSimStack, type SimBackendStack } from '../nic/sim-backend-stack.js';
import type { SimStats } from '../nic/sim-stats.js';

export interface SimBenchmarkOptions {
  /** The model of both NICs (server and client), e.g. `agilioSpec(agilioParams({...}))`. */
  readonly spec: NicModelSpec;
  /** Backend name the stacks report (default: `spec.name`). */
  readonly backend?: BackendName;
  readonly workload: 'rpc' | 'bulk';
  /** RPC request and response size in bytes (default 64). */
  readonly messageBytes?: number;
  /** RPCs in flight on the connection (default 64: a pipelined single-connection RPC load). */
  readonly depth?: number;
  /** RPCs measured after the warm-up (default 20 000). */
  readonly rpcs?: number;
  /** Bulk bytes measured after the warm-up (default 16 MiB). */
  readonly bulkBytes?: number;
  /** Warm-up: RPCs (default 2 000) or bulk bytes (default 2 MiB) before the window opens. */
  readonly warmup?: number;
  /** Congestion control (default 'const-rate', unlimited: the NIC is what is measured). */
  readonly cc?: CcAlgorithm;
  /** Impairments of the wire between the two NICs (loss, reordering, delay... with a seed). */
  readonly wire?: VirtualWireOptions;
  /**
   * Give Node's event loop a turn after every delivery to the application, as for an
   * application that defers work (default false: the benchmark's callbacks do all their work
   * synchronously, so the turns change no simulated result; they cost CPU, see
   * `SimEngine.applicationDefers`).
   */
  readonly eventLoopTurns?: boolean;
}

export interface SimSpeed {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  /** Frames both NICs received in the window (data segments and ACKs). */
  readonly segments: number;
  readonly segmentsPerWallSecond: number;
  readonly segmentsPerCpuSecond: number;
  readonly events: number;
  /** Whether the engine gave Node's event loop a turn after every delivery (`eventLoopTurns`). */
  readonly eventLoopTurns: boolean;
}

export interface SimBenchmarkResult {
  readonly model: string;
  readonly layout: string;
  readonly workload: 'rpc' | 'bulk';
  /** Simulated length of the measured window, ns. */
  readonly simulatedNs: number;
  /** RPC workload: completed RPCs per simulated second. */
  readonly rpcsPerSecond: number;
  /** Application payload delivered per simulated second, Gbit/s (both directions for RPC). */
  readonly goodputGbps: number;
  /** RPC workload: request written -> response fully read, at the application. */
  readonly rpcLatency: Percentiles | null;
  readonly server: SimStats;
  readonly client: SimStats;
  readonly speed: SimSpeed;
}

let benchWires = 0;

export async function runSimBenchmark(opts: SimBenchmarkOptions): Promise<SimBenchmarkResult> {
  const backend = opts.backend ?? (opts.spec.name as BackendName);
  const wire = registerVirtualWire(opts.wire ?? {}, `sim-bench-${process.pid}-${++benchWires}`);
  const config = (ip: string) =>
    resolveConfig(
      {
        backend,
        timeMode: 'virtual',
        port: { driver: 'virtual', network: wire, ip },
        stack: { cc: opts.cc ?? 'const-rate' },
      },
      { env: {} },
    ).config;
  // The engine's own handles do not hold the process (a NIC alone must not); the benchmark does,
  // until its promise settles, so a script awaiting it is not cut short.
  const hold = setInterval(() => {}, 1 << 30);
  try {
    return await runOnWire(opts, backend, wire, config);
  } finally {
    clearInterval(hold);
  }
}

async function runOnWire(
  opts: SimBenchmarkOptions,
  backend: BackendName,
  wire: string,
  config: (ip: string) => FlexToeConfig,
): Promise<SimBenchmarkResult> {
  const server = await createSimStack(backend, config('10.77.0.1/24'), opts.spec);
  const client = await createSimStack(backend, config('10.77.0.2/24'), opts.spec);
  // One engine per wire: both stacks run on it.
  const engine = server.engine;
  const defers = engine.applicationDefers;
  engine.applicationDefers = opts.eventLoopTurns ?? false;
  try {
    return opts.workload === 'rpc' ? await rpc(opts, server, client) : await bulk(opts, server, client);
  } finally {
    engine.applicationDefers = defers;
    await client.close();
    await server.close();
    unregisterVirtualWire(wire);
  }
}

/** The same workload with FlexTOE's parallel layout and run to completion on one core. */
export async function runParallelismAblation(
  parallel: NicModelSpec,
  runToCompletion: NicModelSpec,
  workload: Omit<SimBenchmarkOptions, 'spec'>,
): Promise<{ parallel: SimBenchmarkResult; runToCompletion: SimBenchmarkResult; speedup: number }> {
  const p = await runSimBenchmark({ ...workload, spec: parallel });
  const r = await runSimBenchmark({ ...workload, spec: runToCompletion });
  const metric = (x: SimBenchmarkResult) => (workload.workload === 'rpc' ? x.rpcsPerSecond : x.goodputGbps);
  return { parallel: p, runToCompletion: r, speedup: metric(p) / metric(r) };
}

/** Window bookkeeping shared by both workloads. */
class Window {
  private startPs = 0;
  private wall0 = 0;
  private cpu0 = { user: 0, system: 0 };
  private frames0 = 0;
  private events0 = 0;

  constructor(
    private readonly server: SimBackendStack,
    private readonly client: SimBackendStack,
  ) {}

  private frames(): number {
    return (
      this.server.nic.stack.dataPath.counters.rxFrames + this.client.nic.stack.dataPath.counters.rxFrames
    );
  }

  open(): void {
    this.server.resetStats();
    this.client.resetStats();
    this.startPs = this.server.engine.nowPs;
    this.frames0 = this.frames();
    this.events0 = this.server.engine.eventsRun;
    this.wall0 = performance.now();
    this.cpu0 = process.cpuUsage();
  }

  /** Closes the window at the current simulated instant (call inside the completing callback). */
  close(): { simulatedNs: number; server: SimStats; client: SimStats; speed: SimSpeed } {
    const wallSeconds = (performance.now() - this.wall0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const segments = this.frames() - this.frames0;
    return {
      simulatedNs: (this.server.engine.nowPs - this.startPs) / 1000,
      server: this.server.simStats(),
      client: this.client.simStats(),
      speed: {
        wallSeconds,
        cpuSeconds,
        segments,
        segmentsPerWallSecond: segments / wallSeconds,
        segmentsPerCpuSecond: segments / cpuSeconds,
        events: this.server.engine.eventsRun - this.events0,
        eventLoopTurns: this.server.engine.applicationDefers,
      },
    };
  }
}

function rpc(
  opts: SimBenchmarkOptions,
  server: SimBackendStack,
  client: SimBackendStack,
): Promise<SimBenchmarkResult> {
  const size = opts.messageBytes ?? 64;
  const depth = opts.depth ?? 64;
  const warmup = opts.warmup ?? 2000;
  const measured = opts.rpcs ?? 20_000;
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`messageBytes must be >= 1, got ${size}`);
  if (!(Number.isInteger(depth) && depth >= 1)) throw new RangeError(`depth must be >= 1, got ${depth}`);
  const request = Buffer.alloc(size, 0x42);
  const window = new Window(server, client);
  const latency = new LatencyHistogram();
  const sentAt = new Float64Array(depth);
  return new Promise((resolve, reject) => {
    // The server echoes whatever arrives (one response per request, same size).
    server.listen(7, (s) => {
      let owed = 0;
      const flush = (c: Connection): void => {
        while (owed > 0 && c.canWrite) {
          const n = c.write(request, 0, Math.min(owed, size));
          if (n === 0) break;
          owed -= n;
        }
      };
      s.handlers.onReadable = (c) => {
        const n = c.readableLength;
        c.consume(n);
        owed += n;
        flush(c);
      };
      s.handlers.onWritable = flush;
    });
    let issued = 0;
    let completed = 0;
    let pendingBytes = 0; // request bytes not yet written (the TX ring was full)
    let got = 0;
    let done = false;
    const total = warmup + measured;
    const issue = (c: Connection): void => {
      while (issued < total && issued - completed < depth) {
        sentAt[issued % depth] = client.engine.nowPs;
        issued++;
        pendingBytes += size;
      }
      while (pendingBytes > 0 && c.canWrite) {
        const n = c.write(request, 0, Math.min(pendingBytes, size));
        if (n === 0) break;
        pendingBytes -= n;
      }
    };
    const c = client.connect('10.77.0.1', 7, {
      onConnect: issue,
      onWritable: issue,
      onClose: (_c, err) => {
        if (!done) reject(new Error(`benchmark connection closed: ${err?.message ?? 'by the peer'}`));
      },
    });
    c.handlers.onReadable = (x) => {
      const n = x.readableLength;
      x.consume(n);
      got += n;
      while (got >= size) {
        got -= size;
        if (completed >= warmup) latency.record((client.engine.nowPs - sentAt[completed % depth]!) / 1000);
        completed++;
        if (completed === warmup) window.open();
        if (completed === total) {
          done = true;
          const w = window.close();
          resolve({
            model: server.nic.spec.name,
            layout: server.nic.spec.layout,
            workload: 'rpc',
            simulatedNs: w.simulatedNs,
            rpcsPerSecond: measured / (w.simulatedNs / 1e9),
            goodputGbps: (2 * measured * size * 8) / w.simulatedNs,
            rpcLatency: latency.percentiles(),
            server: w.server,
            client: w.client,
            speed: w.speed,
          });
          return;
        }
      }
      issue(x);
    };
  });
}

function bulk(
  opts: SimBenchmarkOptions,
  server: SimBackendStack,
  client: SimBackendStack,
): Promise<SimBenchmarkResult> {
  const warmup = opts.warmup ?? 2 << 20;
  const measured = opts.bulkBytes ?? 16 << 20;
  const total = warmup + measured;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const window = new Window(server, client);
  return new Promise((resolve, reject) => {
    let received = 0;
    let opened = false;
    server.listen(9, (s) => {
      s.handlers.onReadable = (c) => {
        const n = c.readableLength;
        c.consume(n);
        received += n;
        if (!opened && received >= warmup) {
          opened = true;
          window.open();
        }
        if (received >= total) {
          const w = window.close();
          resolve({
            model: server.nic.spec.name,
            layout: server.nic.spec.layout,
            workload: 'bulk',
            simulatedNs: w.simulatedNs,
            rpcsPerSecond: 0,
            goodputGbps: ((received - warmup) * 8) / w.simulatedNs,
            rpcLatency: null,
            server: w.server,
            client: w.client,
            speed: w.speed,
          });
        }
      };
    });
    let sent = 0;
    // The sender writes whole 64 KiB chunks (an application with a fixed write size), so the
    // NIC sees one "appended" request per chunk, not one per acknowledgement.
    const push = (c: Connection): void => {
      while (sent < total && c.writableLength >= Math.min(chunk.length, total - sent)) {
        const n = c.write(chunk, 0, Math.min(chunk.length, total - sent));
        if (n === 0) break;
        sent += n;
      }
    };
    client.connect('10.77.0.1', 9, {
      onConnect: push,
      onWritable: push,
      onClose: (_c, err) => {
        if (received < total)
          reject(new Error(`benchmark connection closed: ${err?.message ?? 'by the peer'}`));
      },
    });
  });
}
