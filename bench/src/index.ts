// @flextoe/bench: the cross-backend benchmark suite. `flextoe bench` loads this lazily.
export * from './pipeline-micro.js';
export { runBenchCli, parseBenchArgs, runBench, BenchUsageError, HELP, type BenchOptions } from './cli.js';
export * from './report/format.js';
export { compareReports } from './report/compare.js';
export { renderChart } from './report/chart.js';
export { renderTable } from './report/table.js';
export type { BenchIo, TextSink } from './report/text-sink.js';
export { LatencyHistogram } from './metrics/histogram.js';
export { PLAN, TIMING } from './plan.js';
