/**
 * The results file `bench-results/<date>.json`: a stable, documented format (bench/README.md,
 * "Results format"). Version 1; a change that removes or renames a field bumps `format`.
 * `validateReport` is what `--compare` and the tests use to refuse anything else.
 */

export const REPORT_FORMAT = 'flextoe-bench/1';

export const BACKEND_IDS = ['linux', 'x86', 'agilio-sim', 'bluefield-sim'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

export const WORKLOAD_NAMES = [
  'rpc-echo',
  'bulk',
  'kv',
  'many-connections',
  'lossy',
  'pipeline-micro',
  'parallelism-ablation',
  'sim-speed',
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export type TimeBase = 'modelled' | 'wall';
export type Preset = 'smoke' | 'quick' | 'full';
export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

/**
 * What one run measured. Every key is present in every run; a value is null when the workload
 * does not produce it (bulk has no requests) or the run did not complete.
 */
export interface Metrics {
  /** Completed requests per second of the run's time base. */
  requestsPerSec: number | null;
  /** Application payload bytes delivered (both directions for RPC) in Gbit/s. */
  goodputGbps: number | null;
  /** Request round-trip latency percentiles in microseconds (from a log-linear histogram, <0.8% error). */
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  p9999Us: number | null;
  meanUs: number | null;
  maxUs: number | null;
  /** Latency samples behind the percentiles (a p99.99 from fewer than 10 000 samples is a maximum, not a tail). */
  latencySamples: number;
  /**
   * Host CPU time (user + system) of the application process per completed request, in
   * microseconds, client and server together. What it includes depends on the backend (see
   * `cpuScope`): for Linux the kernel's TCP work done in the process's context, for the x86
   * inline runner the whole FlexTOE data path (it runs on the application thread).
   */
  appCpuUsPerRequest: number | null;
  /** What `appCpuUsPerRequest` counts, in words. */
  cpuScope: string | null;
  /** Fraction of the run the application thread's event loop was busy (0..1). */
  appThreadUtilisation: number | null;
  /** Per pipeline stage, fraction of its execution units busy (0..1), where the backend reports it. */
  stageUtilisation: Record<string, number> | null;
  /** Requests completed in the measured window. */
  requests: number;
  /** Payload bytes delivered in the measured window. */
  bytes: number;
  /** Length of the measured window in seconds of the run's time base. */
  durationS: number;
  /** Wall-clock seconds the measured window took (equals durationS for wall time bases). */
  wallS: number;
  /** New connections established per second (many-connections). */
  connectsPerSec: number | null;
  /** Socket errors seen during the run (resets, timeouts). */
  errors: number;
  /** Workload-specific extras (e.g. segments/s/core for pipeline-micro). */
  extra: Record<string, number>;
}

/**
 * A run's speedup from data-path parallelism: this row / the same backend's run-to-completion
 * measurement of the same case in this run (FlexTOE's single-connection ablation).
 */
export interface VsRunToCompletion {
  requestsPerSec: number | null;
  goodputGbps: number | null;
}

/** A run's ratios against the Linux run with the same workload and params (this backend / Linux). */
export interface VsLinux {
  requestsPerSec: number | null;
  goodputGbps: number | null;
  p99Us: number | null;
  p9999Us: number | null;
  appCpuUsPerRequest: number | null;
}

export interface BenchRun {
  backend: BackendId;
  /** Where packets went: 'loopback', 'netns-lo' (Linux in a namespace), 'virtual', 'tap', 'dpdk', 'none'. */
  port: string;
  workload: WorkloadName;
  params: Params;
  /**
   * Which configuration of the backend ran, when not its default: the x86 data-path placements
   * (`inline`, `parallel-2`, `parallel-1+pre-1`, ...; `config.targets` has each one's config).
   * Null for the default configuration (and absent in files written before this field).
   */
  variant: string | null;
  timeBase: TimeBase;
  status: 'ok' | 'unavailable' | 'failed';
  /** Why the run is unavailable or failed; notes for ok runs. */
  reason: string | null;
  seed: number;
  /** Wall-clock seconds the whole run took: connecting, warm-up, window and teardown. */
  elapsedS: number;
  metrics: Metrics;
  /** Ratios against Linux in this same report; null for Linux itself or without a Linux run. */
  vsLinux: VsLinux | null;
  /**
   * Speedup over run-to-completion: x86 placement variants against the x86 run-to-completion
   * row of the same case; `parallelism-ablation` rows from the two layouts the row measured.
   * Null elsewhere (and absent in files written before this field).
   */
  vsRunToCompletion: VsRunToCompletion | null;
  /** Ids of the published reference figures that apply to this row (see `references`). */
  references: string[];
}

export interface MachineInfo {
  hostname: string;
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  cpuMHz: number;
  memoryBytes: number;
  node: string;
  v8: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  /** 1, 5 and 15 minute load averages when the run started: a busy machine explains noisy numbers. */
  loadAverage: [number, number, number];
  root: boolean;
  openFilesLimit: number | null;
}

export interface BenchConfig {
  preset: Preset;
  backends: BackendId[];
  workloads: WorkloadName[];
  port: 'virtual' | 'tap' | 'dpdk';
  seed: number;
  /** Measured window per run, seconds (wall) or modelled seconds (simulators). */
  durationS: number;
  warmupS: number;
  argv: string[];
  startedAt: string;
  finishedAt: string;
  wallS: number;
  /**
   * How each target was set up, keyed `backend/port`: for FlexTOE the resolved stack
   * configuration its stacks were built from, for Linux the kernel's TCP settings and the MTU.
   */
  targets: Record<string, Record<string, unknown>>;
}

/** A published FlexTOE figure (NSDI 2022) shown beside our ratios; never compared numerically. */
export interface PublishedReference {
  id: string;
  claim: string;
  /** The figure as a ratio, in the direction `metric` states. */
  ratio: number;
  /** What the paper compared against (TAS, Chelsio, FlexTOE without data-path parallelism). */
  baseline: string;
  workload: WorkloadName;
  metric: keyof VsLinux;
  /**
   * Which of our ratios the figure stands beside: `vsLinux` (absent in older files) or
   * `vsRunToCompletion` (the paper's parallelism speedups).
   */
  beside: 'vsLinux' | 'vsRunToCompletion';
}

export interface BenchReport {
  format: typeof REPORT_FORMAT;
  machine: MachineInfo;
  config: BenchConfig;
  runs: BenchRun[];
  references: PublishedReference[];
}

export const METRIC_KEYS: readonly (keyof Metrics)[] = [
  'requestsPerSec',
  'goodputGbps',
  'p50Us',
  'p99Us',
  'p999Us',
  'p9999Us',
  'meanUs',
  'maxUs',
  'latencySamples',
  'appCpuUsPerRequest',
  'cpuScope',
  'appThreadUtilisation',
  'stageUtilisation',
  'requests',
  'bytes',
  'durationS',
  'wallS',
  'connectsPerSec',
  'errors',
  'extra',
];

/** A metrics record with nothing measured (unavailable and failed runs). */
export function emptyMetrics(): Metrics {
  return {
    requestsPerSec: null,
    goodputGbps: null,
    p50Us: null,
    p99Us: null,
    p999Us: null,
    p9999Us: null,
    meanUs: null,
    maxUs: null,
    latencySamples: 0,
    appCpuUsPerRequest: null,
    cpuScope: null,
    appThreadUtilisation: null,
    stageUtilisation: null,
    requests: 0,
    bytes: 0,
    durationS: 0,
    wallS: 0,
    connectsPerSec: null,
    errors: 0,
    extra: {},
  };
}

/**
 * The metrics of a benchmark that times itself rather than a socket window (pipeline
 * micro-benchmark, simulation speed): `seconds` measured, `bytes` moved, its figures in `extra`.
 */
export function timedMetrics(
  seconds: number,
  bytes: number,
  cpuScope: string,
  extra: Record<string, number>,
): Metrics {
  return { ...emptyMetrics(), durationS: seconds, wallS: seconds, bytes, cpuScope, extra };
}

/** The identity of a row across reports: backend (and its variant), port, workload and params. */
export function runKey(
  r: Pick<BenchRun, 'backend' | 'port' | 'workload' | 'params'> & { variant?: string | null },
): string {
  return `${targetLabel(r)}|${r.port}|${r.workload}|${paramsKey(r.params)}`;
}

/** `x86/virtual`, `x86:parallel-2/virtual`: how tables and charts name a row's target. */
export function runWhere(r: { backend: BackendId; variant?: string | null; port: string }): string {
  return `${targetLabel(r)}/${r.port}`;
}

/** `x86`, or `x86:parallel-2` for a variant: how tables and keys name a backend configuration. */
export function targetLabel(r: { backend: BackendId; variant?: string | null }): string {
  return r.variant ? `${r.backend}:${r.variant}` : r.backend;
}

/** Params as a stable string (keys sorted). */
export function paramsKey(p: Params): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${String(p[k])}`)
    .join(',');
}

export class ReportFormatError extends Error {}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);

/**
 * Checks that `data` is a version-1 report, field by field; throws ReportFormatError naming the
 * first wrong field. Sanity too: ratios and percentiles are finite and ordered, counts are >= 0.
 */
export function validateReport(data: unknown, source = 'report'): BenchReport {
  const fail = (where: string, what: string): never => {
    throw new ReportFormatError(`${source}: ${where} ${what}`);
  };
  if (typeof data !== 'object' || data === null) fail('', 'is not a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== REPORT_FORMAT)
    fail('format', `is ${JSON.stringify(d.format)}, expected "${REPORT_FORMAT}"`);
  const m = d.machine as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null) fail('machine', 'is missing');
  for (const k of ['hostname', 'platform', 'release', 'arch', 'cpuModel', 'node'] as const)
    if (typeof m![k] !== 'string') fail(`machine.${k}`, 'must be a string');
  for (const k of ['cpuCount', 'memoryBytes'] as const)
    if (!isNum(m![k]) || (m![k] as number) <= 0) fail(`machine.${k}`, 'must be a positive number');
  if (!Array.isArray(m!.loadAverage) || m!.loadAverage.length !== 3)
    fail('machine.loadAverage', 'must be 3 numbers');
  const c = d.config as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null) fail('config', 'is missing');
  if (!Number.isInteger(c!.seed)) fail('config.seed', 'must be an integer');
  if (!isNum(c!.durationS) || (c!.durationS as number) <= 0) fail('config.durationS', 'must be > 0');
  if (typeof c!.targets !== 'object' || c!.targets === null) fail('config.targets', 'must be an object');
  if (!Array.isArray(d.runs)) fail('runs', 'must be an array');
  if (!Array.isArray(d.references)) fail('references', 'must be an array');
  (d.runs as unknown[]).forEach((run, i) => validateRun(run, `runs[${i}]`, fail));
  return data as BenchReport;
}

function validateRun(run: unknown, at: string, fail: (where: string, what: string) => never): void {
  if (typeof run !== 'object' || run === null) fail(at, 'is not an object');
  const r = run as Record<string, unknown>;
  if (!(BACKEND_IDS as readonly unknown[]).includes(r.backend))
    fail(`${at}.backend`, `is ${JSON.stringify(r.backend)}`);
  if (!(WORKLOAD_NAMES as readonly unknown[]).includes(r.workload))
    fail(`${at}.workload`, `is ${JSON.stringify(r.workload)}`);
  if (typeof r.port !== 'string') fail(`${at}.port`, 'must be a string');
  if (r.timeBase !== 'wall' && r.timeBase !== 'modelled')
    fail(`${at}.timeBase`, "must be 'wall' or 'modelled'");
  if (!['ok', 'unavailable', 'failed'].includes(r.status as string))
    fail(`${at}.status`, 'is not ok/unavailable/failed');
  if (r.status !== 'ok' && (typeof r.reason !== 'string' || r.reason.length === 0))
    fail(`${at}.reason`, 'must say why the run is not ok');
  if (typeof r.params !== 'object' || r.params === null) fail(`${at}.params`, 'must be an object');
  if (r.variant !== undefined && r.variant !== null && (typeof r.variant !== 'string' || r.variant === ''))
    fail(`${at}.variant`, 'must be a non-empty string or null');
  const speedup = r.vsRunToCompletion as Record<string, unknown> | null | undefined;
  if (speedup !== undefined && speedup !== null) {
    if (typeof speedup !== 'object') fail(`${at}.vsRunToCompletion`, 'must be an object or null');
    for (const k of ['requestsPerSec', 'goodputGbps'] as const)
      if (!isNumOrNull(speedup[k]) || (isNum(speedup[k]) && (speedup[k] as number) < 0))
        fail(`${at}.vsRunToCompletion.${k}`, 'must be a finite number >= 0 or null');
  }
  if (!isNum(r.elapsedS) || (r.elapsedS as number) < 0) fail(`${at}.elapsedS`, 'must be seconds >= 0');
  const mt = r.metrics as Record<string, unknown> | undefined;
  if (typeof mt !== 'object' || mt === null) fail(`${at}.metrics`, 'is missing');
  for (const k of METRIC_KEYS) if (!(k in mt!)) fail(`${at}.metrics.${k}`, 'is missing');
  for (const k of [
    'requestsPerSec',
    'goodputGbps',
    'p50Us',
    'p99Us',
    'p999Us',
    'p9999Us',
    'appCpuUsPerRequest',
    'connectsPerSec',
  ] as const) {
    if (!isNumOrNull(mt![k])) fail(`${at}.metrics.${k}`, 'must be a finite number or null');
    if (isNum(mt![k]) && (mt![k] as number) < 0) fail(`${at}.metrics.${k}`, 'is negative');
  }
  for (const k of ['requests', 'bytes', 'errors', 'latencySamples'] as const)
    if (!isNum(mt![k]) || (mt![k] as number) < 0) fail(`${at}.metrics.${k}`, 'must be a count >= 0');
  const ps = [mt!.p50Us, mt!.p99Us, mt!.p999Us, mt!.p9999Us].filter(isNum) as number[];
  for (let i = 1; i < ps.length; i++)
    if (ps[i]! < ps[i - 1]!) fail(`${at}.metrics`, 'percentiles are not in increasing order');
  if (
    r.status === 'ok' &&
    mt!.requestsPerSec === null &&
    mt!.goodputGbps === null &&
    Object.keys(mt!.extra ?? {}).length === 0
  )
    fail(`${at}.metrics`, 'an ok run measured nothing');
}
