import { expect } from 'chai';
import { FLEXTOE_AGILIO_GRAPH, RUN_TO_COMPLETION_GRAPH } from '@flextoe/core';
import { SimCores, stageIndex } from './cores.js';

const NFP = {
  count: 60,
  clusterSize: 12,
  threads: 8,
  clockHz: 800e6,
  memoryStallsCore: false,
  switchCycles: 2,
  syncAccessCycles: 3,
};
const ARM = {
  count: 16,
  clusterSize: 2,
  threads: 1,
  clockHz: 800e6,
  memoryStallsCore: true,
  switchCycles: 0,
  syncAccessCycles: 4,
};
const PROTOCOL = stageIndex('protocol');
const PRE = stageIndex('pre');

describe('SimCores', () => {
  it("places FlexTOE's Agilio layout: one protocol FPC per island, every instance on its own FPC", () => {
    const c = new SimCores(NFP, 'spread');
    const p = c.place(FLEXTOE_AGILIO_GRAPH);
    expect(p).to.have.length(16 + 4 + 16 + 3);
    const protocol = p.filter((x) => x.stage === 'protocol').map((x) => c.cores[x.core]!.cluster);
    expect(protocol).to.deep.equal([0, 1, 2, 3]);
    expect(new Set(p.map((x) => x.core)).size).to.equal(p.length);
  });

  it('puts everything on core 0 when run to completion', () => {
    const c = new SimCores(NFP, 'single-core');
    expect(new Set(c.place(RUN_TO_COMPLETION_GRAPH).map((x) => x.core))).to.deep.equal(new Set([0]));
  });

  it('NFP: 8 threads hide memory waits behind other threads’ compute', () => {
    const c = new SimCores(NFP, 'spread');
    c.place(FLEXTOE_AGILIO_GRAPH);
    const core = c.coreFor(PRE, 0);
    // 8 runs arrive together, each 100 cycles of compute and 1000 ns of waits.
    const ends = Array.from({ length: 8 }, () => c.reserve(PRE, core, 0, 0, 0, 100, 0, 1_000_000).endPs);
    // Compute is serialised (125 ns each at 800 MHz); the waits overlap.
    expect(ends).to.deep.equal(Array.from({ length: 8 }, (_, i) => (i + 1) * 125_000 + 1_000_000));
    // A ninth has no thread until the first is done.
    expect(c.reserve(PRE, core, 0, 0, 0, 100, 0, 0).startPs).to.equal(1_125_000);
  });

  it('NFP: a run takes the thread free earliest, in whatever order the runs before it ended', () => {
    const c = new SimCores(NFP, 'spread');
    c.place(FLEXTOE_AGILIO_GRAPH);
    const core = c.coreFor(PRE, 0);
    const waits = [7, 3, 5, 1, 8, 2, 6, 4];
    const ends = waits.map((w) => c.reserve(PRE, core, 0, 0, 0, 100, 0, w * 100_000).endPs);
    const sorted = [...ends].sort((a, b) => a - b);
    // Runs without compute or waits end when the pipeline is free (1 us: eight runs' compute)
    // and free their thread then, ahead of the three threads busy until later.
    const starts = Array.from({ length: 6 }, () => c.reserve(PRE, core, 0, 0, 0, 0, 0, 0).startPs);
    expect(starts).to.deep.equal([...sorted.slice(0, 5), 1_000_000]);
  });

  it('ARM: a memory wait stalls the core', () => {
    const c = new SimCores(ARM, 'spread');
    c.place({ ...RUN_TO_COMPLETION_GRAPH });
    expect(c.reserve(PRE, 0, 0, 0, 0, 100, 0, 1_000_000).endPs).to.equal(1_125_000);
    expect(c.reserve(PRE, 0, 0, 0, 0, 100, 0, 1_000_000).startPs).to.equal(1_125_000);
    expect(c.busyPs[0]).to.equal(2_250_000);
  });

  it('serialises runs of one flow behind its lock, and reports the queue', () => {
    const c = new SimCores(NFP, 'spread');
    c.place(FLEXTOE_AGILIO_GRAPH);
    const core = c.coreFor(PROTOCOL, 0);
    // EMEM state: 200 ns to read, 100 cycles to update, 200 ns to write back.
    const unlock = c.reserve(PROTOCOL, core, 0, 0, 200_000, 100, 200_000, 0).lockReleasePs;
    expect(unlock).to.equal(525_000);
    expect(c.reserve(PROTOCOL, core, 0, unlock, 200_000, 100, 200_000, 0).startPs).to.equal(525_000);
    expect(c.stageMaxDepth[PROTOCOL]).to.equal(1);
    expect(c.stageMaxWaitPs[PROTOCOL]).to.equal(525_000);
  });
});
