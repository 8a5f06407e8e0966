/**
 * Runs a plan on a set of targets and assembles the report. Runs are ordered case by case, each
 * case on every target back to back, so a noisy neighbour or thermal drift hits the compared
 * numbers alike rather than one backend more than another.
 */
import { performance } from 'node:perf_hooks';
import { MIN_TIMING, MODELLED_TIMING, PLAN, TIMING } from './plan.js';
import {
  emptyMetrics,
  REPORT_FORMAT,
  type BenchConfig,
  type BenchReport,
  type BenchRun,
  type MachineInfo,
  type Metrics,
  type Params,
  type VsLinux,
  type WorkloadName,
  paramsKey,
  targetLabel,
} from './report/format.js';
import { Progress } from './report/progress.js';
import { publishedReferences, referencesFor } from './report/references.js';
import type { TextSink } from './report/text-sink.js';
import { paramsLabel } from './plan.js';
import type { Target } from './targets/target.js';

export interface SuiteOptions {
  readonly config: Omit<BenchConfig, 'startedAt' | 'finishedAt' | 'wallS' | 'targets'>;
  readonly machine: MachineInfo;
  readonly targets: readonly Target[];
  readonly progress: { out: TextSink; isTTY: boolean; columns: number };
}

interface Step {
  target: Target;
  workload: WorkloadName;
  params: Params;
  seed: number;
}

export async function runSuite(o: SuiteOptions): Promise<BenchReport> {
  const started = new Date();
  const { durationS, warmupS, seed } = o.config;
  const steps: Step[] = [];
  let caseIndex = 0;
  for (const workload of o.config.workloads) {
    for (const params of PLAN[o.config.preset][workload]) {
      caseIndex++;
      for (const target of o.targets) {
        if (target.applies(workload, params))
          steps.push({ target, workload, params, seed: seed + caseIndex });
      }
    }
  }
  const progress = new Progress(o.progress.out, steps.length, o.progress);
  const runs: BenchRun[] = [];
  for (const s of steps) {
    const t = s.target;
    progress.begin(`${targetLabel(t)}/${t.port} ${s.workload} ${paramsLabel(s.workload, s.params)}`);
    const base = {
      backend: t.backend,
      port: t.port,
      workload: s.workload,
      params: s.params,
      variant: t.variant,
      timeBase: t.timeBaseOf?.(s.workload) ?? t.timeBase,
      seed: s.seed,
      vsLinux: null,
      vsRunToCompletion: null,
      references: referencesFor({
        backend: t.backend,
        workload: s.workload,
        params: s.params,
        variant: t.variant,
      }),
    };
    const t0 = performance.now();
    const elapsed = (): number => (performance.now() - t0) / 1000;
    const why = t.unavailable(s.workload, s.params);
    if (why !== null) {
      runs.push({
        ...base,
        status: 'unavailable',
        reason: why,
        elapsedS: elapsed(),
        metrics: emptyMetrics(),
      });
      progress.end(`not available: ${why}`);
      continue;
    }
    try {
      const min = MIN_TIMING[s.workload];
      const d = Math.max(durationS, min?.durationS ?? 0);
      const w = Math.max(warmupS, min?.warmupS ?? 0);
      // Simulators: a window of modelled time, bounded by the wall time a wall-clock run gets.
      const modelled = base.timeBase === 'modelled';
      const m = MODELLED_TIMING[o.config.preset];
      const metrics: Metrics = await t.run(s.workload, s.params, {
        warmupNs: (modelled ? m.warmupS : w) * 1e9,
        // --duration scales the modelled window in proportion to the preset's.
        durationNs: (modelled ? m.durationS * (durationS / TIMING[o.config.preset].durationS) : d) * 1e9,
        ...(modelled ? { maxWallNs: (d + w) * 1e9 } : {}),
        wallCapMs: Math.max(15_000, 20_000 * (d + w)),
        seed: s.seed,
        onProgress: (f) => progress.update(f),
      });
      const cut = metrics.extra.windowTruncated
        ? `the model covered ${(metrics.durationS * 1e3).toPrecision(3)} ms of modelled time within its wall-clock allowance`
        : null;
      runs.push({
        ...base,
        status: 'ok',
        reason: [t.note, cut].filter((x) => x !== null).join('; ') || null,
        elapsedS: elapsed(),
        metrics,
      });
      progress.end('ok');
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      runs.push({ ...base, status: 'failed', reason: msg, elapsedS: elapsed(), metrics: emptyMetrics() });
      progress.end(`FAILED: ${msg}`);
    }
  }
  progress.finish();
  addRatios(runs);
  addSpeedups(
    runs,
    o.targets.filter((t) => t.runToCompletion),
  );
  const finished = new Date();
  return {
    format: REPORT_FORMAT,
    machine: o.machine,
    config: {
      ...o.config,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      wallS: (finished.getTime() - started.getTime()) / 1000,
      targets: Object.fromEntries(o.targets.map((t) => [targetKey(t), t.describe?.() ?? {}])),
    },
    runs,
    references: publishedReferences(),
  };
}

const div = (a: number | null, b: number | null): number | null =>
  a === null || b === null || !(b > 0) || !Number.isFinite(a / b) ? null : a / b;

/** Fills `vsLinux` of every ok non-Linux run that has an ok Linux run with the same workload and params. */
export function addRatios(runs: BenchRun[]): void {
  const linux = new Map<string, Metrics>();
  for (const r of runs)
    if (r.backend === 'linux' && r.status === 'ok')
      linux.set(`${r.workload}|${paramsKey(r.params)}`, r.metrics);
  for (const r of runs) {
    if (r.backend === 'linux' || r.status !== 'ok') continue;
    const l = linux.get(`${r.workload}|${paramsKey(r.params)}`);
    if (!l) continue;
    const m = r.metrics;
    const v: VsLinux = {
      requestsPerSec: div(m.requestsPerSec, l.requestsPerSec),
      goodputGbps: div(m.goodputGbps, l.goodputGbps),
      p99Us: div(m.p99Us, l.p99Us),
      p9999Us: div(m.p9999Us, l.p9999Us),
      appCpuUsPerRequest: div(m.appCpuUsPerRequest, l.appCpuUsPerRequest),
    };
    r.vsLinux = v;
  }
}

/**
 * Fills `vsRunToCompletion`: for a variant row, its figures over the row of the same case on
 * the same backend and port whose target runs to completion; for a parallelism-ablation row,
 * the speedup the row measured itself.
 */
export function addSpeedups(
  runs: BenchRun[],
  baselines: readonly Pick<Target, 'backend' | 'port' | 'variant'>[],
): void {
  const isBaseline = (r: BenchRun): boolean =>
    baselines.some((b) => b.backend === r.backend && b.port === r.port && b.variant === r.variant);
  const base = new Map<string, Metrics>();
  for (const r of runs)
    if (r.status === 'ok' && isBaseline(r))
      base.set(`${r.backend}|${r.port}|${r.workload}|${paramsKey(r.params)}`, r.metrics);
  for (const r of runs) {
    if (r.status !== 'ok') continue;
    if (r.workload === 'parallelism-ablation') {
      const e = r.metrics.extra;
      r.vsRunToCompletion = {
        requestsPerSec: e.parallelSpeedup ?? null,
        goodputGbps: e.parallelGoodputSpeedup ?? null,
      };
      continue;
    }
    if (r.variant === null || isBaseline(r)) continue;
    const b = base.get(`${r.backend}|${r.port}|${r.workload}|${paramsKey(r.params)}`);
    if (!b) continue;
    r.vsRunToCompletion = {
      requestsPerSec: div(r.metrics.requestsPerSec, b.requestsPerSec),
      goodputGbps: div(r.metrics.goodputGbps, b.goodputGbps),
    };
  }
}

/** How `config.targets` names a target: `backend/port`, or `backend:variant/port`. */
export const targetKey = (t: Pick<Target, 'backend' | 'port' | 'variant'>): string =>
  `${targetLabel(t)}/${t.port}`;

export { TIMING };
