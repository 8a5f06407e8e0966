/**
 * Bytes the JavaScript heap allocated while a function ran: heap growth plus everything the
 * garbage collector reclaimed meanwhile (heap growth alone misses garbage a scavenge collected
 * mid-run). For specs and benchmarks that check the per-packet path allocates nothing; not for
 * production paths (it forces a full GC first).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

function gcNow(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

export function allocatedBy(fn: () => void): number {
  gcNow();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  fn();
  const after = process.memoryUsage().heapUsed;
  const { statistics } = profiler.stop();
  const collected = statistics.reduce(
    (sum, s) =>
      sum + Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize),
    0,
  );
  return after - before + collected;
}
