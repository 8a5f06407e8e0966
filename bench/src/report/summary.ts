/**
 * One line per backend: the geometric mean of its ratios against Linux over every row where
 * both ran (the mean of ratios that is fair to both directions: 2x and 0.5x cancel).
 */
import type { BackendId, BenchReport } from './format.js';

export interface BackendSummary {
  backend: BackendId;
  rows: number;
  throughput: number | null;
  p9999: number | null;
  cpu: number | null;
}

const geomean = (xs: number[]): number | null =>
  xs.length === 0 ? null : Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

export function backendSummaries(report: BenchReport): BackendSummary[] {
  const out: BackendSummary[] = [];
  const backends = [...new Set(report.runs.map((r) => r.backend))].filter((b) => b !== 'linux');
  for (const backend of backends) {
    const rows = report.runs.filter((r) => r.backend === backend && r.vsLinux !== null);
    const pick = (f: (v: NonNullable<(typeof rows)[number]['vsLinux']>) => number | null): number[] =>
      rows.map((r) => f(r.vsLinux!)).filter((x): x is number => x !== null && x > 0 && Number.isFinite(x));
    out.push({
      backend,
      rows: rows.length,
      throughput: geomean(pick((v) => v.requestsPerSec ?? v.goodputGbps)),
      p9999: geomean(pick((v) => v.p9999Us)),
      cpu: geomean(pick((v) => v.appCpuUsPerRequest)),
    });
  }
  return out;
}
