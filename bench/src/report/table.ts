/**
 * The comparison table `npm run bench` prints: one section per workload, one line per backend
 * and parameter set, absolute figures then ratios against Linux measured in the same run, and
 * the published figure that applies (a reference, not a comparison).
 */
import { paramsLabel } from '../plan.js';
import { runWhere, WORKLOAD_NAMES, type BenchReport, type BenchRun, type WorkloadName } from './format.js';
import { referenceShort } from './references.js';
import { backendSummaries } from './summary.js';

export const WORKLOAD_TITLES: Readonly<Record<WorkloadName, string>> = {
  'rpc-echo': 'RPC echo: closed loop, each request echoed back (size, connections c, pipelining depth d)',
  bulk: 'bulk transfer: server streams, client counts (connections c)',
  kv: 'key-value: memcached text protocol get/set mix (get share, value size, c, d)',
  'many-connections': 'many connections: connect them all, then 64 B echo on each',
  lossy: 'lossy link: frames dropped at random in each direction',
  'pipeline-micro': 'pipeline micro-benchmark: the FlexTOE data path alone, one core, CPU time',
  'parallelism-ablation':
    "parallelism ablation: one connection's pipelined RPCs on FlexTOE's parallel layout vs every stage on one core (xRTC)",
  'sim-speed':
    'simulation speed: simulated segments per wall-clock second of a line-rate transfer (target 500k/s)',
};

/** Compact number: 3 significant digits, k/M suffixes. */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(digits)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(digits)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(digits)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a === 0) return '0';
  return v.toPrecision(digits);
}

export const ratio = (v: number | null | undefined): string => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v === 0) return '0x';
  if (v >= 10) return `${v.toFixed(1)}x`;
  return v >= 0.1 ? `${v.toFixed(2)}x` : `${v.toPrecision(2)}x`;
};

const HEAD = [
  'params',
  'backend/port',
  'time',
  'req/s',
  'Gbit/s',
  'p50 us',
  'p99 us',
  'p99.9 us',
  'p99.99 us',
  'CPU us/req',
  'thpt xL',
  'p99.99 xL',
  'CPU xL',
  'xRTC',
  'paper (reference, other baseline)',
];
/** Columns that hold numbers are right-aligned. */
const NUMERIC = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

/** The row's speedup over run-to-completion (requests, else goodput). */
export const speedupOf = (run: BenchRun): number | null =>
  run.vsRunToCompletion ? (run.vsRunToCompletion.requestsPerSec ?? run.vsRunToCompletion.goodputGbps) : null;

function cells(run: BenchRun, first: boolean): string[] {
  const m = run.metrics;
  const where = runWhere(run);
  const label = first ? paramsLabel(run.workload, run.params) : '';
  const time = run.timeBase === 'wall' ? 'wall' : run.metrics.extra.windowTruncated ? 'model*' : 'model';
  if (run.status !== 'ok') {
    const what = run.status === 'unavailable' ? 'not available' : 'FAILED';
    return [label, where, time, `${what}: ${run.reason ?? ''}`];
  }
  if (m.extra.windowTruncated && m.requests === 0 && m.bytes === 0)
    return [label, where, time, `nothing completed: ${run.reason ?? ''}`];
  if (run.workload === 'pipeline-micro') {
    const e = m.extra;
    return [
      label,
      where,
      time,
      `RX ${fmt(e.rxSegmentsPerSecPerCore)}, TX ${fmt(e.txSegmentsPerSecPerCore)} segments/s/core ` +
        `(checksum offload: RX ${fmt(e.rxOffloadSegmentsPerSecPerCore)}, TX ${fmt(e.txOffloadSegmentsPerSecPerCore)}; ` +
        `both ends on one thread ${fmt(e.bothEndsSegmentsPerSecPerCore)}; target ${fmt(e.targetSegmentsPerSecPerCore)}), ` +
        `${fmt(e.bytesAllocatedPerSegment)} B allocated/segment`,
    ];
  }
  if (run.workload === 'sim-speed') {
    const e = m.extra;
    return [
      label,
      where,
      time,
      `${fmt(e.segmentsPerWallSecond)} segments/s wall (${fmt(e.segmentsPerCpuSecond)}/s CPU; target ${fmt(e.targetSegmentsPerSecond)}/s): 1 simulated s takes ${fmt(e.wallSecondsPerSimulatedSecond)} s`,
    ];
  }
  const thpt = run.vsLinux ? (run.vsLinux.requestsPerSec ?? run.vsLinux.goodputGbps) : null;
  return [
    label,
    where,
    time,
    fmt(m.requestsPerSec),
    fmt(m.goodputGbps),
    fmt(m.p50Us),
    fmt(m.p99Us),
    fmt(m.p999Us),
    fmt(m.p9999Us),
    fmt(m.appCpuUsPerRequest ?? null),
    run.backend === 'linux' ? '1' : ratio(thpt),
    run.backend === 'linux' ? (m.p9999Us !== null ? '1' : '-') : ratio(run.vsLinux?.p9999Us),
    run.backend === 'linux'
      ? m.appCpuUsPerRequest !== null
        ? '1'
        : '-'
      : ratio(run.vsLinux?.appCpuUsPerRequest),
    ratio(speedupOf(run)),
    run.references.map(referenceShort).join('; '),
  ];
}

/** Lays rows out in columns; a row with fewer cells spans its last cell across the rest. */
export function layout(head: string[], rows: string[][], numeric: Set<number>): string[] {
  // A short row's last cell spans the columns to its right, so it does not widen its column.
  const widths = head.map((h, i) =>
    Math.max(
      h.length,
      ...rows.filter((r) => i < r.length - 1 || r.length === head.length).map((r) => r[i]!.length),
    ),
  );
  const last = head.length - 1;
  const line = (r: string[]): string =>
    r
      .map((c, i) => {
        if (i === last || (i === r.length - 1 && r.length < head.length)) return c;
        return numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/**
 * Targets that ran nothing, all for one reason (a backend not built yet): one line at the end
 * rather than a "not available" row under every parameter set.
 */
export function whollyUnavailable(report: BenchReport): Map<string, string> {
  const reasons = new Map<string, Set<string>>();
  for (const r of report.runs) {
    const k = runWhere(r);
    const set = reasons.get(k) ?? new Set<string>();
    set.add(r.status === 'unavailable' ? (r.reason ?? '') : '\u0000ran');
    reasons.set(k, set);
  }
  const out = new Map<string, string>();
  for (const [k, set] of reasons) if (set.size === 1 && !set.has('\u0000ran')) out.set(k, [...set][0]!);
  return out;
}

export function renderTable(report: BenchReport): string {
  const out: string[] = [];
  const absent = whollyUnavailable(report);
  for (const workload of WORKLOAD_NAMES) {
    const runs = report.runs.filter((r) => r.workload === workload && !absent.has(runWhere(r)));
    if (runs.length === 0) continue;
    out.push('', `${workload}: ${WORKLOAD_TITLES[workload]}`);
    const rows: string[][] = [];
    let prev = '';
    for (const r of runs) {
      const key = JSON.stringify(r.params);
      rows.push(cells(r, key !== prev));
      prev = key;
    }
    out.push(...layout(HEAD, rows, NUMERIC).map((l) => `  ${l}`));
  }
  if (absent.size > 0) {
    out.push('');
    for (const [k, why] of absent) out.push(`${k}: not available: ${why}`);
  }
  const summary = backendSummaries(report)
    .filter((b) => ![...absent.keys()].some((k) => k.startsWith(`${b.label}/`)))
    .map((b) => [
      b.label,
      b.rows === 0 ? 'no row comparable with Linux' : `${b.rows} rows`,
      ratio(b.throughput),
      ratio(b.p9999),
      ratio(b.cpu),
    ]);
  if (summary.length > 0) {
    out.push('', 'summary: geometric mean of the ratios against Linux over the rows where both ran');
    out.push(
      ...layout(['backend', 'compared', 'thpt xL', 'p99.99 xL', 'CPU xL'], summary, new Set([2, 3, 4])).map(
        (l) => `  ${l}`,
      ),
    );
  }
  const modelled = report.runs.some((r) => r.timeBase === 'modelled');
  out.push(
    '',
    'time: wall = measured wall-clock time on this machine; model = modelled time reported by a simulator.',
    'xL: this backend divided by Linux in this same run (throughput: higher is better; p99.99 and CPU: lower is better).',
    'CPU us/req: host CPU of the application thread per request, both ends; "cpuScope" in the JSON says what it counts.',
    'paper: the published FlexTOE figure for the row, measured against a different baseline (TAS, Chelsio, no parallelism).',
  );
  if (report.runs.some((r) => r.vsRunToCompletion !== null || r.variant))
    out.push(
      'xRTC: throughput over the same backend running its data path to completion on one core, in this same run.',
      'backend:variant: a configuration other than the default (x86: placements of config.x86; config.targets in the JSON has each one).',
    );
  if (modelled) out.push("Modelled rows are the simulator's clock, not this machine's speed.");
  if (report.runs.some((r) => r.metrics.extra.windowTruncated))
    out.push(
      "model*: the simulator used up the run's wall-clock allowance first; the row covers the modelled time it reached (durationS).",
    );
  return out.join('\n') + '\n';
}
