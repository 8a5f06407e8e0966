// The Agilio model behaves as the hardware argument says it should (DESIGN.md 1, "fine-grained
// parallelism"): one connection goes faster with more pre/post-processing FPCs until its flow
// group's protocol FPC is saturated, and flow state that misses FlexTOE's LM/CLS caches (all in
// EMEM) slows the protocol stage, hence the connection.
import { expect } from 'chai';
import { agilioParams, agilioSpec } from '@flextoe/backend-agilio-sim';
import { runSimBenchmark, type SimBenchmarkResult, type SimStats } from '@flextoe/sim';

const BULK = { workload: 'bulk', bulkBytes: 3 << 20, warmup: 512 << 10 } as const;

/** The busiest protocol FPC of a NIC. */
function protocolUtilisation(s: SimStats): number {
  return Math.max(
    ...s.cores.filter((c) => c.stages.some((x) => x.startsWith('protocol'))).map((c) => c.utilisation),
  );
}

describe('agilio-sim model sanity', function () {
  this.timeout(180_000);

  it('doubling the pre/post FPCs raises single-connection throughput until the protocol FPC saturates', async () => {
    const runs: [number, SimBenchmarkResult][] = [];
    for (const n of [1, 2, 4, 8, 16])
      runs.push([
        n,
        await runSimBenchmark({ ...BULK, spec: agilioSpec(agilioParams({ stages: { pre: n, post: n } })) }),
      ]);
    const gbps = runs.map(([, r]) => r.goodputGbps);
    // One pre and one post FPC are the bottleneck: doubling them helps a lot.
    expect(
      gbps[1]! / gbps[0]!,
      `Gbit/s by pre/post FPCs: ${gbps.map((g) => g.toFixed(2))}`,
    ).to.be.greaterThan(1.5);
    expect(protocolUtilisation(runs[0]![1].client)).to.be.below(0.8);
    // Never worse with more.
    for (let i = 1; i < gbps.length; i++) expect(gbps[i]!).to.be.at.least(gbps[i - 1]! * 0.97);
    // Beyond that the protocol FPC of the connection's flow group is busy all the time, and more
    // pre/post FPCs do not help.
    const [, top] = runs[runs.length - 1]!;
    expect(protocolUtilisation(top.client)).to.be.greaterThan(0.9);
    expect(gbps[4]! / gbps[2]!).to.be.below(1.05);
  });

  it('moving protocol state from LM/CLS to EMEM lowers single-connection throughput', async () => {
    const cached = await runSimBenchmark({
      ...BULK,
      spec: agilioSpec(agilioParams({ protocolState: 'cached' })),
    });
    const emem = await runSimBenchmark({
      ...BULK,
      spec: agilioSpec(agilioParams({ protocolState: 'emem' })),
    });
    expect(emem.goodputGbps / cached.goodputGbps).to.be.below(0.8);
    // The reason: cached state is served from LM; the ablation reads and writes EMEM every time.
    expect(cached.client.caches['protocol-state LM CAM']!.hitRate).to.be.greaterThan(0.99);
    expect(emem.client.caches['protocol-state LM CAM']).to.equal(undefined);
    expect(emem.client.tiers.emem!.accesses).to.be.greaterThan(cached.client.tiers.emem!.accesses);
  });
});
