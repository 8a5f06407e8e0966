/**
 * `flextoe bench --compare A.json B.json`: row by row (backend, port, workload, params), what
 * changed from A to B. Percent changes only; a change is tagged better/worse by the metric's
 * direction. Rows in only one file, and machines or seeds that differ, are called out, because
 * then a difference may not be the code's.
 */
import { paramsLabel } from '../plan.js';
import { runKey, runWhere, type BenchReport, type BenchRun } from './format.js';
import { fmt, layout } from './table.js';

const pct = (a: number | null, b: number | null, higherIsBetter: boolean): string => {
  if (a === null || b === null || !(a > 0)) return '-';
  const d = (b - a) / a;
  const tag = Math.abs(d) < 0.02 ? '' : d > 0 === higherIsBetter ? ' better' : ' worse';
  return `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%${tag}`;
};

/** The row's main throughput figure: requests/s, else Gbit/s, else segments/s/core or per wall second. */
export function throughput(r: BenchRun): { value: number | null; unit: string } {
  const m = r.metrics;
  if (m.requestsPerSec !== null) return { value: m.requestsPerSec, unit: 'req/s' };
  if (m.goodputGbps !== null) return { value: m.goodputGbps, unit: 'Gbit/s' };
  if (m.extra.segmentsPerWallSecond !== undefined)
    return { value: m.extra.segmentsPerWallSecond, unit: 'seg/s wall' };
  return { value: m.extra.segmentsPerSecPerCore ?? null, unit: 'seg/s/core' };
}

function describe(r: BenchReport, file: string): string {
  const m = r.machine;
  return `${file}: ${r.config.startedAt} ${r.config.preset}, ${m.hostname} (${m.cpuCount} x ${m.cpuModel}), node ${m.node}, commit ${m.gitCommit?.slice(0, 10) ?? '?'}${m.gitDirty ? '+dirty' : ''}, load ${m.loadAverage[0].toFixed(2)}`;
}

export function compareReports(a: BenchReport, b: BenchReport, fileA: string, fileB: string): string {
  const out = [`A = ${describe(a, fileA)}`, `B = ${describe(b, fileB)}`];
  if (a.machine.hostname !== b.machine.hostname || a.machine.cpuModel !== b.machine.cpuModel)
    out.push("note: different machines; differences are not only the code's.");
  if (a.config.seed !== b.config.seed)
    out.push(`note: different seeds (${a.config.seed} vs ${b.config.seed}).`);
  if (a.config.durationS !== b.config.durationS)
    out.push(`note: different run lengths (${a.config.durationS} s vs ${b.config.durationS} s).`);
  const inB = new Map(b.runs.map((r) => [runKey(r), r]));
  const inA = new Set(a.runs.map(runKey));
  const head = [
    'workload',
    'params',
    'backend/port',
    'thpt A',
    'thpt B',
    'unit',
    'thpt change',
    'p99 A us',
    'p99 B us',
    'p99 change',
    'p99.99 change',
    'CPU/req change',
  ];
  const rows: string[][] = [];
  const onlyA: string[] = [];
  for (const ra of a.runs) {
    const rb = inB.get(runKey(ra));
    const name = [ra.workload, paramsLabel(ra.workload, ra.params), runWhere(ra)];
    if (!rb) {
      onlyA.push(name.join(' '));
      continue;
    }
    if (ra.status !== 'ok' || rb.status !== 'ok') {
      rows.push([...name, `A ${ra.status}, B ${rb.status}`]);
      continue;
    }
    const ta = throughput(ra);
    const tb = throughput(rb);
    rows.push([
      ...name,
      fmt(ta.value),
      fmt(tb.value),
      ta.unit,
      pct(ta.value, tb.value, true),
      fmt(ra.metrics.p99Us),
      fmt(rb.metrics.p99Us),
      pct(ra.metrics.p99Us, rb.metrics.p99Us, false),
      pct(ra.metrics.p9999Us, rb.metrics.p9999Us, false),
      pct(ra.metrics.appCpuUsPerRequest, rb.metrics.appCpuUsPerRequest, false),
    ]);
  }
  const onlyB = b.runs
    .filter((r) => !inA.has(runKey(r)))
    .map((r) => `${r.workload} ${paramsLabel(r.workload, r.params)} ${runWhere(r)}`);
  out.push('', ...layout(head, rows, new Set([3, 4, 7, 8])));
  if (onlyA.length) out.push('', `only in A: ${onlyA.join('; ')}`);
  if (onlyB.length) out.push('', `only in B: ${onlyB.join('; ')}`);
  out.push('', "change = (B - A) / A; better/worse by the metric's direction, unmarked below 2%.");
  return out.join('\n') + '\n';
}
