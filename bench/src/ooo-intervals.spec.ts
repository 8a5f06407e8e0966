import { expect } from 'chai';
import { compareOooIntervals, runOooIntervals } from './ooo-intervals.js';

describe('bench: out-of-order intervals (lossy virtual wire, virtual time)', function () {
  this.timeout(120_000);

  it('is deterministic: the same seed gives the same run', () => {
    const o = { oooIntervals: 1, totalBytes: 1 << 20, loss: 0.02, reorder: 0.01 };
    expect(runOooIntervals(o)).to.deep.equal(runOooIntervals(o));
  });

  it("with 4 intervals no segment is dropped for want of one; with FlexTOE's single interval some are", () => {
    const r = compareOooIntervals({ totalBytes: 4 << 20, loss: 0.02, reorder: 0.01 });
    const [one, four] = r.runs;
    expect(one!.oooIntervals).to.equal(1);
    expect(four!.oooIntervals).to.equal(4);
    expect(one!.oooDropped).to.be.above(0);
    expect(four!.oooDropped).to.equal(0);
    for (const x of r.runs) {
      expect(x.fastRetransmits + x.timeoutRetransmits, 'losses were recovered').to.be.above(0);
      expect(x.goodputGbps).to.be.above(0).and.below(10);
    }
    expect(r.goodputRatio).to.equal(four!.goodputGbps / one!.goodputGbps);
  });
});
