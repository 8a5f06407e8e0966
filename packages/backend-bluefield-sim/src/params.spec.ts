import { expect } from 'chai';
import { bluefieldParams, bluefieldSpec, DEFAULT_BLUEFIELD_PARAMS } from './params.js';

describe('bluefield-sim parameters', () => {
  it('default to 16 Cortex-A72 cores at 800 MHz in pairs sharing an L2, 25 GbE', () => {
    const s = bluefieldSpec(bluefieldParams());
    expect(s.cores).to.include({
      count: 16,
      clusterSize: 2,
      threads: 1,
      clockHz: 800e6,
      memoryStallsCore: true,
    });
    expect(s.graph).to.include({ pre: 4, flowGroups: 4, post: 4, dma: 2, ctxq: 1, qm: 1 });
    expect(s.lineRateGbps).to.equal(25);
    const path = s.paths['protocol-state']!;
    expect(path.caches.map((c) => [c.name, c.entries, c.ways, c.scope])).to.deep.equal([
      ['L1D', 512, 2, 'core'],
      ['L2', 16384, 16, 'cluster'],
      ['L3', 98304, 12, 'nic'],
    ]);
    expect(path.backing).to.equal('dram');
  });

  it('converts L3 and DRAM latencies from ns at the configured clock', () => {
    const at800 = bluefieldSpec(bluefieldParams());
    expect(at800.tiers.find((t) => t.name === 'dram')!.accessCycles).to.deep.equal([72, 104]);
    const at1200 = bluefieldSpec(bluefieldParams({ clockMHz: 1200 }));
    expect(at1200.tiers.find((t) => t.name === 'dram')!.accessCycles).to.deep.equal([108, 156]);
  });

  it('takes the stage counts of the 8-core part when asked for 8 cores', () => {
    const s = bluefieldSpec(bluefieldParams({ cores: 8 }));
    expect(s.cores.count).to.equal(8);
    const c = DEFAULT_BLUEFIELD_PARAMS.stages[8];
    expect(s.graph).to.include({ pre: c.pre, flowGroups: c.protocol, post: c.post, dma: c.dma });
  });

  it('refuses what no BlueField has, naming the key', () => {
    expect(() => bluefieldParams({ cores: 12 })).to.throw(RangeError, /bluefieldSim\.cores is 12/);
    expect(() => bluefieldParams({ l2: { ways: 3 } })).to.throw(RangeError, /bluefieldSim\.l2/);
    expect(() => bluefieldParams({ gpu: true })).to.throw(RangeError, /bluefieldSim\.gpu is not a parameter/);
  });
});
