/**
 * One line per backend (each variant of a backend on its own): the geometric mean of its ratios
 * against Linux over every row where both ran (the mean of ratios that is fair to both
 * directions: 2x and 0.5x cancel).
 */
import { targetLabel, type BackendId, type BenchReport } from './format.js';

export interface BackendSummary {
  backend: BackendId;
  /** `x86`, or `x86:parallel-2` for a variant. */
  label: string;
  rows: number;
  throughput: number | null;
  p9999: number | null;
  cpu: number | null;
}

const geomean = (xs: number[]): number | null =>
  xs.length === 0 ? null : Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

export function backendSummaries(report: BenchReport): BackendSummary[] {
  const out: BackendSummary[] = [];
  const labels = new Map(
    report.runs.filter((r) => r.backend !== 'linux').map((r) => [targetLabel(r), r.backend]),
  );
  for (const [label, backend] of labels) {
    const rows = report.runs.filter((r) => targetLabel(r) === label && r.vsLinux !== null);
    const pick = (f: (v: NonNullable<(typeof rows)[number]['vsLinux']>) => number | null): number[] =>
      rows.map((r) => f(r.vsLinux!)).filter((x): x is number => x !== null && x > 0 && Number.isFinite(x));
    out.push({
      backend,
      label,
      rows: rows.length,
      throughput: geomean(pick((v) => v.requestsPerSec ?? v.goodputGbps)),
      p9999: geomean(pick((v) => v.p9999Us)),
      cpu: geomean(pick((v) => v.appCpuUsPerRequest)),
    });
  }
  return out;
}
