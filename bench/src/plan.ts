/**
 * What a preset runs: for each workload, the parameter sets, and how long each measurement
 * lasts. `smoke` is for the test suite (seconds), `quick` for CI and a first look (under a
 * minute), `full` for numbers worth keeping. Parameters are recorded in every row.
 */
import type { Params, Preset, WorkloadName } from './report/format.js';

export interface PresetTiming {
  /** Measured window per run, seconds of the run's time base. */
  durationS: number;
  warmupS: number;
}

export const TIMING: Readonly<Record<Preset, PresetTiming>> = {
  smoke: { durationS: 0.15, warmupS: 0.05 },
  quick: { durationS: 0.5, warmupS: 0.2 },
  full: { durationS: 3, warmupS: 1 },
};

/**
 * Windows in modelled time for the simulators. A discrete-event model of a 40 GbE NIC runs far
 * slower than its clock, so its windows are milliseconds of modelled time; and a run also stops
 * once it has used the wall-clock time a wall-time run gets (`durationS + warmupS` of TIMING),
 * reporting the modelled time it did cover (`extra.windowTruncated`).
 */
export const MODELLED_TIMING: Readonly<Record<Preset, PresetTiming>> = {
  smoke: { durationS: 0.002, warmupS: 0.0005 },
  quick: { durationS: 0.01, warmupS: 0.002 },
  full: { durationS: 0.1, warmupS: 0.02 },
};

/**
 * Shortest window per workload, whatever the preset: a lossy link recovers through
 * retransmission timeouts (200 ms minimum on Linux, RFC 6298), so a shorter window would measure
 * one timeout rather than the link.
 */
export const MIN_TIMING: Readonly<Partial<Record<WorkloadName, PresetTiming>>> = {
  lossy: { durationS: 1, warmupS: 0.3 },
};

const cross = (axes: Record<string, readonly (number | string)[]>): Params[] =>
  Object.entries(axes).reduce<Params[]>(
    (acc, [k, vs]) => acc.flatMap((p) => vs.map((v) => ({ ...p, [k]: v }))),
    [{}],
  );

const echo = (messageBytes: number, connections: number, depth: number): Params => ({
  messageBytes,
  connections,
  depth,
});

/** Parallelism ablation on a simulated NIC (issue 6): one connection, `rpcs` pipelined echo RPCs. */
const ablation = (messageBytes: number, depth: number, rpcs: number): Params => ({
  mode: 'rpc',
  messageBytes,
  depth,
  rpcs,
  warmup: Math.ceil(rpcs / 10),
});

/** Simulation speed (issue 6): a one-way transfer at line rate, `bulkBytes` measured. */
const simSpeed = (bulkBytes: number): Params => ({ mode: 'bulk', bulkBytes, warmup: bulkBytes / 8 });

/** Parameter sets per workload and preset, in the order the table shows them. */
export const PLAN: Readonly<Record<Preset, Readonly<Record<WorkloadName, readonly Params[]>>>> = {
  smoke: {
    'rpc-echo': [echo(64, 1, 1)],
    bulk: [{ connections: 1, chunkBytes: 65536 }],
    kv: [{ getRatio: 0.9, keys: 100, valueBytes: 64, connections: 1, depth: 2 }],
    'many-connections': [{ ...echo(64, 20, 1), connectConcurrency: 256 }],
    lossy: [{ loss: 0.01, mode: 'bulk', connections: 1, chunkBytes: 65536 }],
    'pipeline-micro': [{ payloadBytes: 64, totalBytes: 1 << 20 }],
    'parallelism-ablation': [ablation(64, 16, 200)],
    'sim-speed': [simSpeed(256 << 10)],
  },
  quick: {
    'rpc-echo': [echo(64, 1, 1), echo(1024, 8, 4), echo(16384, 1, 1)],
    bulk: [{ connections: 1, chunkBytes: 65536 }],
    kv: [{ getRatio: 0.9, keys: 1000, valueBytes: 64, connections: 4, depth: 4 }],
    'many-connections': [{ ...echo(64, 200, 1), connectConcurrency: 256 }],
    lossy: [{ loss: 0.01, mode: 'bulk', connections: 1, chunkBytes: 65536 }],
    'pipeline-micro': [
      { payloadBytes: 64, totalBytes: 4 << 20 },
      { payloadBytes: 1448, totalBytes: 64 << 20 },
    ],
    'parallelism-ablation': [ablation(64, 64, 2000)],
    'sim-speed': [simSpeed(2 << 20)],
  },
  full: {
    'rpc-echo': cross({ messageBytes: [64, 1024, 16384], connections: [1, 16], depth: [1, 8] }),
    bulk: cross({ connections: [1, 8], chunkBytes: [65536] }),
    kv: [
      { getRatio: 0.9, keys: 10000, valueBytes: 64, connections: 1, depth: 1 },
      { getRatio: 0.9, keys: 10000, valueBytes: 64, connections: 16, depth: 8 },
      { getRatio: 0.5, keys: 10000, valueBytes: 1024, connections: 16, depth: 8 },
    ],
    'many-connections': [1, 100, 1000, 10000].map((c) => ({ ...echo(64, c, 1), connectConcurrency: 256 })),
    lossy: [
      ...[0.001, 0.01, 0.05].map((loss) => ({ loss, mode: 'bulk', connections: 1, chunkBytes: 65536 })),
      ...[0.001, 0.01, 0.05].map((loss) => ({ loss, mode: 'rpc', ...echo(1024, 4, 1) })),
    ],
    'pipeline-micro': [
      { payloadBytes: 64, totalBytes: 32 << 20 },
      { payloadBytes: 1448, totalBytes: 512 << 20 },
    ],
    'parallelism-ablation': [ablation(64, 64, 20_000), ablation(1024, 16, 10_000)],
    'sim-speed': [simSpeed(16 << 20)],
  },
};

/**
 * The x86 data-path placements measured beside the backend's default (issue 5: 1 vs 2 data-path
 * cores, run-to-completion vs the parallel stage graph), as `config.x86` of both stacks. The
 * suite adds `run-to-completion` itself when that is not the default. Each variant is a row of
 * its own (`variant`), on the single-connection cases below.
 */
export const X86_VARIANTS: readonly { id: string; x86: Record<string, unknown> }[] = [
  { id: 'inline', x86: { placement: 'inline' } },
  { id: 'parallel-2', x86: { placement: 'parallel', cores: 2 } },
  { id: 'parallel-1+pre-1', x86: { placement: 'parallel', cores: 1, graph: { pre: 1 } } },
  // The payload copies on a DMA replica thread; then issue 5's example graph on one core.
  { id: 'parallel-1+dma-1', x86: { placement: 'parallel', cores: 1, graph: { dma: 1 } } },
  {
    id: 'parallel-1+pre-2+post-2+dma-1',
    x86: { placement: 'parallel', cores: 1, graph: { pre: 2, post: 2, dma: 1 } },
  },
];

/**
 * Where the x86 variants run: single-connection RPC and bulk in `full`; `quick` and `smoke` keep
 * to the first single-connection RPC case (64 B), to stay within their time.
 */
export function variantCase(preset: Preset, workload: WorkloadName, p: Params): boolean {
  const single = p.connections === 1;
  if (preset === 'full') return single && (workload === 'rpc-echo' || workload === 'bulk');
  return single && workload === 'rpc-echo' && p.messageBytes === 64;
}

/** A short label for a parameter set, as the table and chart print it. */
export function paramsLabel(workload: WorkloadName, p: Params): string {
  const bytes = (n: unknown): string =>
    typeof n !== 'number' ? String(n) : n >= 1024 && n % 1024 === 0 ? `${n / 1024}KiB` : `${n}B`;
  switch (workload) {
    case 'rpc-echo':
      return `${bytes(p.messageBytes)} c${p.connections} d${p.depth}`;
    case 'many-connections':
      return `${p.connections} conns`;
    case 'bulk':
      return `c${p.connections}`;
    case 'kv':
      return `get ${Math.round(Number(p.getRatio) * 100)}% ${bytes(p.valueBytes)} c${p.connections} d${p.depth}`;
    case 'lossy':
      return `${Number(p.loss) * 100}% ${p.mode}${p.mode === 'rpc' ? ` ${bytes(p.messageBytes)} c${p.connections}` : ''}`;
    case 'pipeline-micro':
      return `${bytes(p.payloadBytes)} segs`;
    case 'parallelism-ablation':
      return `${bytes(p.messageBytes)} rpc d${p.depth} x${p.rpcs}`;
    case 'sim-speed':
      return `${bytes(p.bulkBytes)} ${p.mode}`;
  }
}
