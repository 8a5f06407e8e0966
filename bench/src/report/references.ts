/**
 * The published FlexTOE figures (Shashidhara et al., NSDI 2022) that the table shows beside our
 * ratios. They are reference columns, never targets we compare numbers against: the paper's
 * baselines (TAS, the Chelsio Terminator TOE, FlexTOE without data-path parallelism) are not
 * the Linux baseline this suite measures, on different hardware.
 */
import type { BackendId, BenchRun, Params, PublishedReference } from './format.js';

interface ReferenceRule extends PublishedReference {
  /** Backends the figure speaks about (null: any FlexTOE backend). */
  readonly backends: readonly BackendId[] | null;
  /** Params a row must have for the figure to apply. */
  readonly when: Params;
  /** The backend variants it applies to (null: the default configuration only). */
  readonly variant?: RegExp;
  /** How the table prints it. */
  readonly short: string;
}

export const REFERENCES: readonly ReferenceRule[] = [
  {
    id: 'memcached-vs-tas',
    claim: 'memcached throughput scales up to 38% better than TAS',
    ratio: 1.38,
    baseline: 'TAS',
    workload: 'kv',
    metric: 'requestsPerSec',
    backends: null,
    when: {},
    short: '+38% thpt vs TAS',
    beside: 'vsLinux',
  },
  {
    id: 'rtt9999-vs-chelsio',
    claim: '99.99th percentile RPC RTT 3.2x lower than the Chelsio Terminator TOE (and 50% lower than TAS)',
    ratio: 1 / 3.2,
    baseline: 'Chelsio Terminator TOE',
    workload: 'rpc-echo',
    metric: 'p9999Us',
    backends: null,
    when: {},
    short: 'p99.99 3.2x lower vs Chelsio',
    beside: 'vsLinux',
  },
  {
    id: 'host-cpu-vs-chelsio',
    claim: 'up to 81% fewer host CPU cycles per request than the Chelsio Terminator TOE',
    ratio: 0.19,
    baseline: 'Chelsio Terminator TOE',
    workload: 'rpc-echo',
    metric: 'appCpuUsPerRequest',
    backends: null,
    when: {},
    short: '-81% host CPU vs Chelsio',
    beside: 'vsLinux',
  },
  {
    id: 'single-conn-x86',
    claim: 'data-path parallelism raises single-connection RPC throughput up to 2.4x on x86',
    ratio: 2.4,
    baseline: 'FlexTOE without data-path parallelism',
    workload: 'rpc-echo',
    metric: 'requestsPerSec',
    backends: ['x86'],
    when: { connections: 1 },
    variant: /^parallel/,
    short: '1-conn 2.4x vs run-to-completion (x86)',
    beside: 'vsRunToCompletion',
  },
  {
    id: 'single-conn-bluefield',
    claim: 'data-path parallelism raises single-connection RPC throughput up to 4x on BlueField',
    ratio: 4,
    baseline: 'FlexTOE without data-path parallelism',
    workload: 'parallelism-ablation',
    metric: 'requestsPerSec',
    backends: ['bluefield-sim'],
    when: { mode: 'rpc' },
    short: '1-conn 4x vs run-to-completion (BlueField)',
    beside: 'vsRunToCompletion',
  },
];

/** The published figures for the results file (without the table's presentation fields). */
export function publishedReferences(): PublishedReference[] {
  return REFERENCES.map(({ id, claim, ratio, baseline, workload, metric, beside }) => ({
    id,
    claim,
    ratio,
    baseline,
    workload,
    metric,
    beside,
  }));
}

/** Ids of the figures that apply to a row. */
export function referencesFor(run: Pick<BenchRun, 'backend' | 'workload' | 'params' | 'variant'>): string[] {
  if (run.backend === 'linux') return [];
  return REFERENCES.filter(
    (r) =>
      r.workload === run.workload &&
      (r.backends === null || r.backends.includes(run.backend)) &&
      (run.variant === null ? r.variant === undefined : (r.variant?.test(run.variant) ?? false)) &&
      Object.entries(r.when).every(([k, v]) => run.params[k] === v),
  ).map((r) => r.id);
}

export function referenceShort(id: string): string {
  return REFERENCES.find((r) => r.id === id)?.short ?? id;
}

/** The short forms of a row's figures that stand beside one of our ratios. */
export function referencesBeside(
  run: Pick<BenchRun, 'references'>,
  beside: PublishedReference['beside'],
): string[] {
  return REFERENCES.filter((r) => r.beside === beside && run.references.includes(r.id)).map((r) => r.short);
}
