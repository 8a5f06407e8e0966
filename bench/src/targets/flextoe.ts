/**
 * FlexTOE on one backend: two stacks from `@flextoe/sockets`' `createStack`, the server on .1
 * and the client on .2, both in this process, driven through `stack.net`, the same `net`
 * surface the Linux baseline gets from Node. Between them:
 *
 * - `virtual`: one in-process virtual wire (with the run's loss, seeded by the run);
 * - `tap` / `dpdk` (root): two TAP devices (opened by the x86 TAP driver, or by DPDK's net_tap)
 *   moved into a namespace of their own and joined by a Linux bridge there, so every frame goes
 *   through the kernel's device path; loss is an nftables drop rule on the bridge.
 *
 * The x86 target also runs the pipeline micro-benchmark (the data path alone); its placement
 * variants (`config.x86`: inline, parallel cores, pre-processing replicas) are targets of their
 * own on the single-connection cases. The simulated NICs also run their own benchmarks
 * (parallelism ablation, simulation speed: `sim-benchmarks.ts`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendName, FlexToeConfigInput, PortConfig } from '@flextoe/core';
import { createStack, createVirtualNetwork, type Stack } from '@flextoe/sockets';
import { runPipelineMicro } from '../pipeline-micro.js';
import { timedMetrics, type Metrics, type Params, type WorkloadName } from '../report/format.js';
import { isSocketWorkload, lossOf } from '../workloads/index.js';
import { Namespace, run as spawnIpCommand } from './netns.js';
import type { NetLike } from '../workloads/net-like.js';
import { wallNow, type Budget, type WorkloadEnv } from '../workloads/workload.js';
import { runInProcess, within, type InProcessEnv, type Target } from './target.js';
import { wallEnv } from './wall-env.js';
import { runSimWorkload, SIM_WORKLOADS, stageUtilisation } from './sim-benchmarks.js';

/** Where `createStack` looks for flextoe.config.json: bench's own directory, which has none, so a
 *  config file in the caller's directory cannot silently change what is measured. */
const NO_CONFIG_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A stack as the suite builds it: everything explicit (no --backend flag, env or file applies). */
function newStack(config: FlexToeConfigInput): Promise<Stack> {
  return createStack(config, { argv: [], env: {}, cwd: NO_CONFIG_DIR });
}

export const X86_CPU_SCOPE =
  'both applications, the sockets layer and the host control plane; the data path on NIC-core threads counts only in extra.processCpuUsPerRequest';

/** Connections above this get small per-connection buffers, or 10 000 of them would need gigabytes. */
const MANY = 256;
const SMALL_BUFFER = 16384;

const manyConnections = (params: Params): boolean =>
  typeof params.connections === 'number' && params.connections > MANY;

export interface FlexToeTargetOptions {
  readonly backend: BackendName;
  readonly port: 'virtual' | 'tap' | 'dpdk';
  /** `config.x86` of both stacks (the results file records it with the rest of their config). */
  readonly x86?: Record<string, unknown>;
  /** A configuration other than the backend's default, run on the cases `applies` accepts. */
  readonly variant?: {
    readonly id: string;
    readonly applies: (workload: WorkloadName, params: Params) => boolean;
  };
  /** The target runs the data path to completion on one core (the speedups' baseline). */
  readonly runToCompletion?: boolean;
}

export function flextoeTarget(o: FlexToeTargetOptions): Target {
  let why: string | null = 'not prepared';
  let bridge: Namespace | null = null;
  const modelled = o.backend !== 'x86';
  const x86 = o.x86 ?? {};
  const open = (params: Params, seed: number): Promise<InProcessEnv> =>
    o.port === 'virtual'
      ? openPair(o.backend, x86, params, virtualPorts(params, seed))
      : openPair(o.backend, x86, params, devicePorts(o.port, bridge!, params));
  /**
   * The pair the runs share while what it was built with stays the same: a virtual wire's loss
   * and seed, and the buffer sizing for many connections. Opening a pair starts NIC threads or a
   * model, and Linux, too, keeps one kernel for the whole suite. A failed run drops the pair.
   */
  let cached: { key: string; env: InProcessEnv } | null = null;
  let setup: Record<string, unknown> | null = null;
  const keyOf = (params: Params, seed: number): string => {
    const loss = o.port === 'virtual' ? lossOf(params) : 0; // a bridge's loss is set per run
    const c = manyConnections(params) ? (params.connections as number) : 0;
    return JSON.stringify([loss, loss > 0 ? seed : 0, c]);
  };
  const drop = async (): Promise<void> => {
    const c = cached;
    cached = null;
    if (c) await within(c.env.close(), 30_000, `closing a ${o.backend} pair`);
  };
  const shared = async (params: Params, seed: number): Promise<InProcessEnv> => {
    const key = keyOf(params, seed);
    if (cached?.key !== key) {
      await drop();
      cached = { key, env: await within(open(params, seed), 60_000, `opening a ${o.backend} pair`) };
      setup ??= cached.env.setup ?? null; // the first pair's: later ones differ only by loss/buffers
    }
    if (bridge !== null) bridge.setLoss(lossOf(params), 'bridge');
    return { ...cached.env, close: async () => {} };
  };
  const target: Target & { prepare(): Promise<void> } = {
    backend: o.backend,
    port: o.port,
    variant: o.variant?.id ?? null,
    runToCompletion: o.runToCompletion ?? false,
    timeBase: modelled ? 'modelled' : 'wall',
    // The simulator's speed is its wall-clock rate.
    timeBaseOf: (w) => (w === 'sim-speed' ? 'wall' : modelled ? 'modelled' : 'wall'),
    note: o.port === 'virtual' ? null : `two ${o.port} devices joined by a Linux bridge in a namespace`,
    applies(w, params) {
      if (o.variant) return o.variant.applies(w, params);
      if (w === 'pipeline-micro') return o.backend === 'x86';
      if (SIM_WORKLOADS.includes(w)) return modelled;
      return isSocketWorkload(w);
    },
    describe: () => setup ?? {},
    async prepare() {
      try {
        if (modelled && o.port !== 'virtual')
          throw new Error(
            `a simulated NIC keeps modelled time only on the virtual wire (--port ${o.port} would pace it to the wall clock)`,
          );
        if (o.port !== 'virtual') {
          if (process.getuid?.() !== 0)
            throw new Error(`a ${o.port} port pair needs root (TAP devices, a namespace)`);
          bridge = Namespace.create('br');
          for (const args of [
            ['link', 'add', 'br0', 'type', 'bridge'],
            ['link', 'set', 'br0', 'up'],
          ]) {
            const r = bridge.ip(args);
            if (!r.ok) throw new Error(`cannot make a bridge for the ${o.port} pair: ${r.out}`);
          }
        }
        // The first pair proves the backend and port build here (an error says why not).
        await shared({}, 1);
        why = null;
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
      }
    },
    unavailable(workload: WorkloadName, params: Params) {
      // These build their own NICs or data path, whatever the port.
      if (workload === 'pipeline-micro' || SIM_WORKLOADS.includes(workload)) return null;
      if (why === null && bridge !== null && lossOf(params) > 0)
        return bridge.lossUnavailable(lossOf(params), 'bridge');
      return why;
    },
    async run(workload: WorkloadName, params: Params, budget: Budget): Promise<Metrics> {
      if (workload === 'pipeline-micro') return pipelineMicro(params);
      if (SIM_WORKLOADS.includes(workload))
        return within(runSimWorkload(o.backend, workload, params), budget.wallCapMs, workload);
      let metrics: Metrics;
      try {
        metrics = await runInProcess(() => shared(params, budget.seed), workload, params, budget);
      } catch (e) {
        await drop().catch(() => {}); // a pair in an unknown state is not reused
        throw e;
      }
      // A pair sized for thousands of connections serves no other case, and kept open it slows
      // the runs after it in this process (the simulators' 10 000-connection rows took 22-60 s
      // behind x86's cached 10 000-connection pair, 12-16 s once it was closed here).
      if (manyConnections(params)) await drop();
      return metrics;
    },
    close: async () => {
      await drop().catch(() => {});
      await bridge?.delete();
    },
  };
  return target;
}

/** The two ports of a pair: their configs, what to do once both stacks hold them, and teardown. */
interface PairPorts {
  readonly server: PortConfig;
  readonly client: PortConfig;
  readonly host: string;
  /** Runs after both stacks opened their ports (devices exist now). */
  attached(): void;
  release(): void;
}

function virtualPorts(params: Params, seed: number): PairPorts {
  const loss = lossOf(params);
  // The wire's fault injector is seeded by the run, so a lossy run drops the same frames again.
  const wire = createVirtualNetwork(loss > 0 ? { loss, seed } : {});
  return {
    server: wire.attach('10.0.0.1/24'),
    client: wire.attach('10.0.0.2/24'),
    host: '10.0.0.1',
    attached: () => {},
    release: () => wire.close(),
  };
}

let deviceCounter = 0;
const spawnIp = (args: string[]) => spawnIpCommand('ip', args);

/**
 * Two TAP devices: the stacks create them in this namespace (x86 TAP driver, or DPDK net_tap),
 * then they move into the bridge's namespace (an open TAP keeps working across the move) and
 * join its bridge, so Linux forwards every frame between the two FlexTOE stacks.
 */
function devicePorts(driver: 'tap' | 'dpdk', bridge: Namespace, params: Params): PairPorts {
  const n = deviceCounter++;
  // Interface names have at most 15 bytes; pid and counter keep concurrent runs apart.
  const names = ['s', 'c'].map((end) => `ftb${process.pid % 100000}${end}${n % 100}`);
  const port = (ifname: string, ip: string, i: number): PortConfig =>
    driver === 'tap'
      ? { driver: 'tap', ifname, ip }
      : { driver: 'dpdk', vdev: `net_tap${n * 2 + i},iface=${ifname}`, ip };
  return {
    server: port(names[0]!, '10.78.0.1/24', 0),
    client: port(names[1]!, '10.78.0.2/24', 1),
    host: '10.78.0.1',
    attached() {
      for (const ifname of names) {
        const steps = [
          spawnIp(['link', 'set', ifname, 'netns', bridge.name]),
          bridge.ip(['link', 'set', ifname, 'master', 'br0']),
          bridge.ip(['link', 'set', ifname, 'up']),
        ];
        const bad = steps.find((r) => !r.ok);
        if (bad) throw new Error(`cannot bridge ${ifname}: ${bad.out}`);
      }
      bridge.setLoss(lossOf(params), 'bridge');
    },
    release: () => {},
  };
}

async function openPair(
  backend: BackendName,
  x86: Record<string, unknown>,
  params: Params,
  ports: PairPorts,
): Promise<InProcessEnv> {
  const connections = typeof params.connections === 'number' ? params.connections : 1;
  const stack = manyConnections(params)
    ? { rxBufferBytes: SMALL_BUFFER, txBufferBytes: SMALL_BUFFER, maxFlows: 2 * connections }
    : {};
  const stacks: Stack[] = [];
  const close = async (): Promise<void> => {
    for (const st of stacks) await st.close();
    ports.release();
  };
  try {
    // Simulators in virtual time: modelled time runs as fast as the model can go and both NICs
    // on the wire share its clock (DESIGN.md 3; the sim engine's 'virtual' mode).
    const extra = backend === 'x86' ? { x86 } : { timeMode: 'virtual' as const };
    stacks.push(await newStack({ backend, port: ports.server, stack, ...extra }));
    stacks.push(await newStack({ backend, port: ports.client, stack, ...extra }));
    ports.attached();
  } catch (e) {
    await close();
    throw e;
  }
  const env: WorkloadEnv = backend === 'x86' ? x86Env(stacks) : modelledEnv(stacks);
  const { port: _port, ...config } = stacks[0]!.config;
  return {
    server: stacks[0]!.net as unknown as NetLike,
    client: stacks[1]!.net as unknown as NetLike,
    host: ports.host,
    env,
    setup: { ...config, port: { server: ports.server, client: ports.client } },
    close,
  };
}

/**
 * x86: wall-clock time, the application thread's CPU, and each NIC-core thread's utilisation
 * over the window (its CPU time from /proc/self/task/<tid>/schedstat over the wall time): the
 * x86 backend's cores are threads, so "how busy is each stage's core" is their CPU share.
 */
function x86Env(stacks: readonly Stack[]): WorkloadEnv {
  const base = wallEnv(X86_CPU_SCOPE);
  const cores = (): Array<{ key: string; tid: number }> =>
    stacks.flatMap((st, i) => {
      const x = (st.stats() as unknown as { x86?: { cores?: readonly { index: number; tid: number }[] } })
        .x86;
      return (x?.cores ?? [])
        .filter((c) => Number.isInteger(c.tid) && c.tid > 0)
        .map((c) => ({ key: `${i === 0 ? 'server' : 'client'}.nic-core${c.index}`, tid: c.tid }));
    });
  let start: { wall: number; cpu: Map<string, number> } | null = null;
  const sample = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const c of cores()) {
      const us = taskCpuUs(c.tid);
      if (us !== null) m.set(c.key, us);
    }
    return m;
  };
  return {
    ...base,
    onWindow(edge) {
      if (edge === 'open') start = { wall: wallNow(), cpu: sample() };
    },
    stageUtilisation() {
      if (!start) return null;
      const wallUs = (wallNow() - start.wall) / 1000;
      const out: Record<string, number> = {};
      for (const [k, us] of sample()) {
        const us0 = start.cpu.get(k);
        if (us0 !== undefined && wallUs > 0) out[k] = (us - us0) / wallUs;
      }
      return Object.keys(out).length > 0 ? out : null;
    },
  };
}

/** CPU microseconds of thread `tid` of this process, from Linux schedstat; null if unreadable. */
function taskCpuUs(tid: number): number | null {
  try {
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ', 1)[0]);
    return Number.isFinite(ns) ? ns / 1000 : null;
  } catch {
    return null;
  }
}

/** What the suite reads of a simulated NIC's stack through `Stack.backendStack`. */
interface ModelledStack {
  readonly engine?: { now(): number };
  resetStats?(): void;
  stats(): { model?: { cores?: readonly { stages: readonly string[]; utilisation: number }[] } };
}

/**
 * The simulators' time base: the engine's modelled clock (ns), shared by both NICs on the
 * wire. Host CPU is not modelled, and this process's CPU is the simulator's, so it is not
 * reported. Stage utilisation: each stage's cores' busy fraction, averaged over both NICs.
 */
function modelledEnv(stacks: readonly Stack[]): WorkloadEnv {
  const nics = stacks.map((s) => s.backendStack as unknown as ModelledStack);
  const engine = nics[0]!.engine;
  if (!engine || typeof engine.now !== 'function')
    throw new Error(`${stacks[0]!.backend} does not expose its modelled clock (backendStack.engine.now)`);
  return {
    timeBase: 'modelled',
    now: () => engine.now(),
    cpuUs: () => null,
    cpuScope: null,
    onWindow(edge) {
      if (edge === 'open') for (const n of nics) n.resetStats?.(); // the model's window starts with ours
    },
    stageUtilisation: () => stageUtilisation(nics.map((n) => ({ cores: n.stats().model?.cores ?? [] }))),
  };
}

/** The core issue's target for one data path on one core. */
const PIPELINE_TARGET_SEGMENTS_PER_SEC = 2_000_000;

function pipelineMicro(params: Params): Metrics {
  const payload = Number(params.payloadBytes);
  const r = runPipelineMicro(payload, Number(params.totalBytes));
  const scope =
    'CPU time of the benchmark thread: ONE data path (one core) against a traffic generator; the headline is the slower of its RX and TX paths with software checksums; bothEnds* is both stacks and the wire on one thread';
  // Every path's figures, flattened (extra holds numbers): <path>SegmentsPerSecPerCore,
  // <path>NsPerSegment, <path>HarnessNsPerSegment, <path>BytesAllocatedPerSegment.
  const paths = { rx: r.rx, tx: r.tx, rxOffload: r.rxOffload, txOffload: r.txOffload, bothEnds: r.bothEnds };
  const perPath: Record<string, number> = {};
  for (const [name, f] of Object.entries(paths)) {
    perPath[`${name}SegmentsPerSecPerCore`] = f.segmentsPerSecPerCore;
    perPath[`${name}NsPerSegment`] = f.nsPerSegment;
    if (f.harnessNsPerSegment !== null) perPath[`${name}HarnessNsPerSegment`] = f.harnessNsPerSegment;
    perPath[`${name}BytesAllocatedPerSegment`] = f.bytesAllocatedPerSegment;
  }
  return timedMetrics(r.cpuMs / 1000, r.dataSegments * payload, scope, {
    segmentsPerSecPerCore: r.segmentsPerSecPerCore,
    bytesAllocatedPerSegment: r.bytesAllocatedPerSegment,
    segments: r.segments,
    dataSegments: r.dataSegments,
    cpuMs: r.cpuMs,
    goodputGbpsPerCore: (r.dataSegments * payload * 8) / (r.cpuMs / 1000) / 1e9,
    targetSegmentsPerSecPerCore: PIPELINE_TARGET_SEGMENTS_PER_SEC,
    ...perPath,
  });
}
