/** Turns a window's raw counts into the results file's `Metrics`. */
import type { Metrics } from '../report/format.js';
import type { WindowResult, WorkloadEnv } from '../workloads/workload.js';
import type { LatencyHistogram } from './histogram.js';

export interface Counts {
  /** Completed requests; null for workloads without requests (bulk). */
  requests: number | null;
  bytes: number;
  latency: LatencyHistogram | null;
  errors: number;
  connectsPerSec?: number | null;
  extra?: Record<string, number>;
}

const us = (ns: number): number | null => (Number.isFinite(ns) ? ns / 1000 : null);

export function summarise(win: WindowResult, counts: Counts, env: WorkloadEnv): Metrics {
  const seconds = win.durationNs / 1e9;
  const h = counts.latency !== null && counts.latency.count > 0 ? counts.latency : null;
  const requests = counts.requests ?? 0;
  const extra = { ...(counts.extra ?? {}) };
  if (win.truncated) extra.windowTruncated = 1;
  if (counts.requests === null && win.cpuUs !== null && counts.bytes > 0)
    extra.appCpuUsPerMiB = win.cpuUs / (counts.bytes / 1048576);
  if (win.processCpuUs !== null && requests > 0) extra.processCpuUsPerRequest = win.processCpuUs / requests;
  // A window a slow model cut short before anything completed measured no rate, not a zero one.
  const nothing = win.truncated && requests === 0 && counts.bytes === 0;
  return {
    requestsPerSec: counts.requests === null || seconds <= 0 || nothing ? null : requests / seconds,
    goodputGbps: seconds > 0 && !nothing ? (counts.bytes * 8) / seconds / 1e9 : null,
    p50Us: h ? us(h.quantile(0.5)) : null,
    p99Us: h ? us(h.quantile(0.99)) : null,
    p999Us: h ? us(h.quantile(0.999)) : null,
    p9999Us: h ? us(h.quantile(0.9999)) : null,
    meanUs: h ? us(h.mean) : null,
    maxUs: h ? us(h.max) : null,
    latencySamples: h ? h.count : 0,
    appCpuUsPerRequest: win.cpuUs !== null && requests > 0 ? win.cpuUs / requests : null,
    cpuScope: win.cpuUs !== null ? env.cpuScope : null,
    appThreadUtilisation: env.timeBase === 'wall' ? win.eventLoopUtilisation : null,
    stageUtilisation: win.stageUtilisation,
    requests,
    bytes: counts.bytes,
    durationS: seconds,
    wallS: win.wallNs / 1e9,
    connectsPerSec: counts.connectsPerSec ?? null,
    errors: counts.errors,
    extra,
  };
}
