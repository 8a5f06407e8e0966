/** Synthetic results files for the report specs: small, explicit, every field valid. */
import { addRatios } from '../suite.js';
import {
  emptyMetrics,
  REPORT_FORMAT,
  type BackendId,
  type BenchReport,
  type BenchRun,
  type Metrics,
  type Params,
  type WorkloadName,
} from '../report/format.js';
import { publishedReferences, referencesFor } from '../report/references.js';

export function run(
  backend: BackendId,
  workload: WorkloadName,
  params: Params,
  metrics: Partial<Metrics>,
  over: Partial<BenchRun> = {},
): BenchRun {
  const variant = over.variant ?? null;
  return {
    backend,
    port: backend === 'linux' ? 'netns-lo' : 'virtual',
    workload,
    params,
    variant,
    timeBase: backend === 'linux' || backend === 'x86' ? 'wall' : 'modelled',
    status: 'ok',
    reason: null,
    seed: 2,
    elapsedS: 1.5,
    metrics: { ...emptyMetrics(), durationS: 1, wallS: 1, ...metrics },
    vsLinux: null,
    vsRunToCompletion: null,
    references: referencesFor({ backend, workload, params, variant }),
    ...over,
  };
}

export const ECHO = { messageBytes: 64, connections: 1, depth: 1 };
export const ABLATION = { mode: 'rpc', messageBytes: 64, depth: 64, rpcs: 2000, warmup: 200 };

export function echoMetrics(requestsPerSec: number, p9999Us: number, cpu: number): Partial<Metrics> {
  return {
    requestsPerSec,
    goodputGbps: (requestsPerSec * 128 * 8) / 1e9,
    p50Us: p9999Us / 8,
    p99Us: p9999Us / 4,
    p999Us: p9999Us / 2,
    p9999Us,
    meanUs: p9999Us / 7,
    maxUs: p9999Us,
    latencySamples: requestsPerSec,
    requests: requestsPerSec,
    bytes: requestsPerSec * 128,
    appCpuUsPerRequest: cpu,
    cpuScope: 'application thread CPU',
    connectsPerSec: 1000,
  };
}

export function report(runs: BenchRun[], over: Partial<BenchReport['config']> = {}): BenchReport {
  addRatios(runs);
  return {
    format: REPORT_FORMAT,
    machine: {
      hostname: 'bench-box',
      platform: 'linux',
      release: '6.1.0',
      arch: 'x64',
      cpuModel: 'Test CPU',
      cpuCount: 2,
      cpuMHz: 2000,
      memoryBytes: 8e9,
      node: process.version,
      v8: process.versions.v8,
      gitCommit: '0'.repeat(40),
      gitDirty: false,
      loadAverage: [0.1, 0.1, 0.1],
      root: true,
      openFilesLimit: 1024,
    },
    config: {
      preset: 'quick',
      backends: ['linux', 'x86', 'agilio-sim', 'bluefield-sim'],
      workloads: ['rpc-echo'],
      port: 'virtual',
      seed: 1,
      durationS: 0.5,
      warmupS: 0.2,
      argv: ['--quick'],
      startedAt: '2026-11-25T16:00:00.000Z',
      finishedAt: '2026-11-25T16:00:30.000Z',
      wallS: 30,
      targets: {},
      ...over,
    },
    runs,
    references: publishedReferences(),
  };
}
