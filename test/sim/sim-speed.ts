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
 */
import { writeFileSync } from 'node:fs';
import { agilioParams, agilioSpec } from '@flextoe/backend-agilio-sim';
import { bluefieldParams, bluefieldSpec } from '@flextoe/backend-bluefield-sim';
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const runs = Number(arg('--runs') ?? 3);
const only = arg('--only')?.split(',');
const golden: Record<string, unknown> = {};
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
