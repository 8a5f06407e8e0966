/**
 * The simulator's own speed, for packages/sim/README.md ("Simulation speed"): runs
 * `runSimBenchmark` (virtual time) for the bulk and RPC workloads on both models and prints
 * segments per CPU second (CPU seconds of this process over the measured window).
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json node --conditions=source --import tsx \
 *     test/sim/sim-speed.ts [--runs 3] [--warm] [--scale k] [--turns] [--only agilio-bulk,...] [--golden out.json]
 *
 * `--golden` writes every modelled figure (all but the speed) as JSON, so two builds of the
 * simulator can be compared for identical model output.
 *
 * `--only core-bulk` runs the bulk case's transfer on two inline stacks (the same core data path
 * on the same kind of virtual wire, no model at all): the ceiling a simulator running that code
 * can approach, in the same units.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { agilioParams, agilioSpec } from '@flextoe/backend-agilio-sim';
import { bluefieldParams, bluefieldSpec } from '@flextoe/backend-bluefield-sim';
import {
  HeapMemoryTiers,
  ManualClock,
  MemcpyDma,
  runVirtual,
  TcpStack,
  VirtualNetwork,
  type Connection,
} from '@flextoe/core';
import { runSimBenchmark, type SimBenchmarkOptions, type SimBenchmarkResult } from '@flextoe/sim';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `--scale k` multiplies the measured work (a longer steady state for a profile). */
const scale = Number(arg('--scale') ?? 1);
const CASES: Record<string, SimBenchmarkOptions> = {
  'agilio-bulk': { spec: agilioSpec(agilioParams({})), workload: 'bulk', bulkBytes: scale * (16 << 20) },
  'agilio-rpc': { spec: agilioSpec(agilioParams({})), workload: 'rpc', rpcs: scale * 20_000 },
  'bluefield-bulk': {
    spec: bluefieldSpec(bluefieldParams({})),
    workload: 'bulk',
    bulkBytes: scale * (16 << 20),
  },
  'bluefield-rpc': { spec: bluefieldSpec(bluefieldParams({})), workload: 'rpc', rpcs: scale * 20_000 },
  // Rate-limited congestion control (FlexTOE's default) and a lossy wire: the queue manager's
  // wheel and retransmissions in play (for comparing model output, `--only`).
  'agilio-bulk-dctcp-lossy': {
    spec: agilioSpec(agilioParams({})),
    workload: 'bulk',
    bulkBytes: scale * (4 << 20),
    cc: 'dctcp-rate',
    wire: { loss: 0.01, reorder: 0.01, seed: 5 },
  },
  // FlexTOE's layout against run to completion (the ablation's baseline) in the same dump.
  'agilio-rpc-rtc': {
    spec: agilioSpec(agilioParams({ layout: 'run-to-completion' })),
    workload: 'rpc',
    rpcs: scale * 5000,
  },
  'bluefield-bulk-rtc': {
    spec: bluefieldSpec(bluefieldParams({ layout: 'run-to-completion' })),
    workload: 'bulk',
    bulkBytes: scale * (4 << 20),
  },
  'bluefield-rpc-timely': {
    spec: bluefieldSpec(bluefieldParams({})),
    workload: 'rpc',
    rpcs: scale * 5000,
    cc: 'timely',
  },
};

function modelled(r: SimBenchmarkResult) {
  const { speed, server, client, ...rest } = r;
  const { wire: _s, ...srv } = server;
  const { wire: _c, ...cli } = client;
  return { ...rest, server: srv, client: cli, events: speed.events };
}

/**
 * The bulk case without a simulator: 2 MiB of warm-up, then `bytes` one way between two inline
 * stacks on a 40 Gbit/s virtual wire in virtual time; frames both stacks received per CPU and
 * wall second of the measured part.
 */
function coreBulk(bytes: number): { segments: number; perCpu: number; perWall: number } {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, timers: clock, rateGbps: 40, delayNs: 1000 });
  const stack = (ip: string) =>
    new TcpStack(
      { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
      { maxFlows: 4, cc: 'const-rate', ip },
    );
  const server = stack('10.0.0.1/24');
  const client = stack('10.0.0.2/24');
  let received = 0;
  server.listen(7, (c) => {
    c.handlers.onReadable = (x: Connection) => {
      const n = x.readableLength;
      x.consume(n);
      received += n;
    };
  });
  const warmup = 2 << 20;
  const total = warmup + bytes;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let sent = 0;
  const pump = (c: Connection): void => {
    while (sent < total) {
      const n = c.write(chunk, 0, Math.min(chunk.length, total - sent));
      if (n === 0) return;
      sent += n;
    }
  };
  client.connect('10.0.0.1', 7, { onConnect: pump, onWritable: pump });
  const stacks = [server, client];
  const frames = () => server.dataPath.counters.rxFrames + client.dataPath.counters.rxFrames;
  if (!runVirtual(stacks, clock, () => received >= warmup, 10e9)) throw new Error('core-bulk: warm-up stalled');
  const f0 = frames();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  if (!runVirtual(stacks, clock, () => received >= total, 60e9)) throw new Error('core-bulk: transfer stalled');
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - wall0) / 1000;
  const segments = frames() - f0;
  server.close();
  client.close();
  return { segments, perCpu: segments / ((cpu.user + cpu.system) / 1e6), perWall: segments / wall };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const runs = Number(arg('--runs') ?? 3);
const only = arg('--only')?.split(',');
const golden: Record<string, unknown> = {};
if (only?.includes('core-bulk')) {
  const bytes = scale * (16 << 20);
  if (process.argv.includes('--warm')) coreBulk(bytes);
  const r = Array.from({ length: runs }, () => coreBulk(bytes));
  console.log(
    `${'core-bulk'.padEnd(15)} segments ${r[0]!.segments}  median ${Math.round(median(r.map((x) => x.perCpu)))} seg/CPU-s  ` +
      `(runs: ${r.map((x) => Math.round(x.perCpu)).join(', ')})  median ${Math.round(median(r.map((x) => x.perWall)))} seg/wall-s  (inline stacks, no model)`,
  );
}
for (const [name, opts] of Object.entries(CASES)) {
  if (only ? !only.includes(name) : name.split('-').length > 2) continue; // extra cases by name
  const perCpu: number[] = [];
  const perWall: number[] = [];
  let last: SimBenchmarkResult | null = null;
  const turns = process.argv.includes('--turns');
  // `--warm`: one unmeasured run first, so the medians are of warm (optimised) code only.
  if (process.argv.includes('--warm')) await runSimBenchmark({ ...opts, eventLoopTurns: turns });
  for (let i = 0; i < runs; i++) {
    last = await runSimBenchmark({ ...opts, eventLoopTurns: turns });
    perCpu.push(last.speed.segmentsPerCpuSecond);
    perWall.push(last.speed.segmentsPerWallSecond);
  }
  const s = last!.speed;
  console.log(
    `${name.padEnd(15)} segments ${s.segments}  events ${s.events} (${(s.events / s.segments).toFixed(1)}/segment)  cpu ${s.cpuSeconds.toFixed(2)} s  ` +
      `wall ${s.wallSeconds.toFixed(2)} s  median ${Math.round(median(perCpu))} seg/CPU-s  (runs: ${perCpu.map((x) => Math.round(x)).join(', ')})  ` +
      `median ${Math.round(median(perWall))} seg/wall-s  simulated ${(last!.simulatedNs / 1e6).toFixed(2)} ms`,
  );
  golden[name] = modelled(last!);
}
const out = arg('--golden');
if (out) writeFileSync(out, JSON.stringify(golden, null, 1));
