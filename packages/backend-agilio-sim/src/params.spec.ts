import { expect } from 'chai';
import { agilioParams, agilioSpec, DEFAULT_AGILIO_PARAMS } from './params.js';

describe('agilio-sim parameters', () => {
  it("default to FlexTOE's layout on the NFP-4000 (DESIGN.md 2)", () => {
    const p = agilioParams();
    expect(p).to.deep.equal(DEFAULT_AGILIO_PARAMS);
    const s = agilioSpec(p);
    expect(s.cores).to.include({ count: 60, clusterSize: 12, threads: 8, clockHz: 800e6 });
    expect(s.graph).to.include({ pre: 16, flowGroups: 4, post: 16 });
    expect(s.lineRateGbps).to.equal(40);
    expect(s.tiers.find((t) => t.name === 'lm')!.accessCycles).to.deep.equal([1, 3]);
    expect(s.tiers.find((t) => t.name === 'emem')!.sizeBytes).to.equal(2 ** 31);
    const ps = s.paths['protocol-state']!;
    expect(ps.caches.map((c) => [c.tier, c.kind, c.entries])).to.deep.equal([
      ['lm', 'cam-lru', 16],
      ['cls', 'direct-mapped', 512],
    ]);
    expect(ps.backing).to.equal('emem');
    expect(s.paths['flow-table']!.caches[0]).to.include({ entries: 128, kind: 'direct-mapped' });
    expect(s.paths['flow-identity']!.caches[0]).to.include({ entries: 16, kind: 'cam-lru' });
  });

  it('overrides nested parameters and keeps the rest', () => {
    const p = agilioParams({ stages: { pre: 2, post: 2 }, protocolState: 'emem' });
    expect(p.stages).to.deep.equal({ ...DEFAULT_AGILIO_PARAMS.stages, pre: 2, post: 2 });
    expect(agilioSpec(p).paths['protocol-state']!.caches).to.deep.equal([]);
  });

  it('runs every stage on one FPC in the run-to-completion layout', () => {
    const s = agilioSpec(agilioParams({ layout: 'run-to-completion' }));
    expect(s.layout).to.equal('single-core');
    expect(s.graph).to.include({ pre: 1, flowGroups: 1, post: 1 });
  });

  it('refuses unknown keys, wrong types and impossible values with the key named', () => {
    expect(() => agilioParams({ fpc: 60 })).to.throw(RangeError, /agilioSim\.fpc is not a parameter/);
    expect(() => agilioParams({ stages: { pre: 0 } })).to.throw(RangeError, /agilioSim\.stages\.pre is 0/);
    expect(() => agilioParams({ clockMHz: 'fast' })).to.throw(
      RangeError,
      /agilioSim\.clockMHz must be a number/,
    );
    expect(() => agilioParams({ memory: { lm: { cycles: [3, 1] } } })).to.throw(
      RangeError,
      /memory\.lm\.cycles/,
    );
    expect(() => agilioParams({ layout: 'mesh' })).to.throw(RangeError, /layout/);
    // FlexTOE's caches live in each FPC's 4 KiB of local memory: more entries do not fit.
    expect(() => agilioParams({ protocolStateLmEntries: 64 })).to.throw(RangeError, /local memory/);
  });
});
