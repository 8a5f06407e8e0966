/**
 * The steady-state allocation of a simulated NIC pair, measured in a process of its own (as
 * core's data-path-allocation.fixture.ts: inside the full suite other tests make shared call
 * sites megamorphic and V8 boxes numbers there). A bulk transfer between two NICs of a model in
 * virtual time, after one unmeasured run; V8's sampling heap profiler counts what was allocated
 * (also what the young-generation collector freed) during a 1x and a 4x run; the difference over
 * the difference in segments is what a segment costs, setup (stacks, pools, caches) cancelling.
 *
 * Run: node --conditions=source --import tsx sim-allocation.fixture.ts <agilio|bluefield>
 * Prints one JSON line: { bytesPerSegment, segments }.
 */
import { Session } from 'node:inspector/promises';
import { agilioParams, agilioSpec } from '@flextoe/backend-agilio-sim';
import { bluefieldParams, bluefieldSpec } from '@flextoe/backend-bluefield-sim';
import { runSimBenchmark, type SimBenchmarkOptions } from '@flextoe/sim';

export interface SimAllocationResult {
  /** Bytes allocated per received segment (data and ACK frames of both NICs) in steady state. */
  readonly bytesPerSegment: number;
  /** Segments between the two measured runs (the denominator). */
  readonly segments: number;
}

interface HeapNode {
  selfSize: number;
  children: HeapNode[];
}

const model = process.argv[2] ?? 'agilio';
const spec = model === 'bluefield' ? bluefieldSpec(bluefieldParams({})) : agilioSpec(agilioParams({}));
const run = (mib: number): SimBenchmarkOptions => ({ spec, workload: 'bulk', bulkBytes: mib << 20 });

await runSimBenchmark(run(8)); // warm: the measured runs see optimised code

const session = new Session();
session.connect();
async function sampled(mib: number): Promise<{ bytes: number; segments: number }> {
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const r = await runSimBenchmark(run(mib));
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let bytes = 0;
  const walk = (n: HeapNode): void => {
    bytes += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head as HeapNode);
  return { bytes, segments: r.speed.segments };
}

const small = await sampled(8);
const large = await sampled(32);
session.disconnect();
const segments = large.segments - small.segments;
const result: SimAllocationResult = { bytesPerSegment: (large.bytes - small.bytes) / segments, segments };
console.log(JSON.stringify(result));
