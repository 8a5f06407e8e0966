import { expect } from 'chai';
import fc from 'fast-check';
import { mbps } from './congestion-control.js';
import { flow, sample } from './cc-spec-fixtures.js';

/** Past slow start, gradient normalised by a fixed 10 us minRTT. */
const PAPER = { timelySlowStart: false, timelyMinRttUs: 10 } as const;
const DELTA = mbps(10);

describe('timely (Mittal et al., SIGCOMM 2015, Algorithm 1)', () => {
  describe('init', () => {
    it('starts at 10 Mb/s, no window, in slow start', () => {
      const { s } = flow('timely');
      expect(s.rateBps).to.equal(mbps(10));
      expect(s.cwndBytes).to.equal(0);
      expect(s.slowStart).to.equal(1);
    });
  });

  describe('new_rtt < Tlow (30 us)', () => {
    it('increases by delta (10 Mb/s) per interval, whatever the gradient', () => {
      const { s, cc } = flow('timely', PAPER);
      for (const [i, rtt] of [10, 25, 12, 29].entries()) {
        cc.onInterval(s, sample({ rttUs: rtt }));
        expect(s.rateBps).to.equal(mbps(10) + (i + 1) * DELTA);
      }
    });

    it('does not increase while the flow is application-limited', () => {
      const { s, cc } = flow('timely', PAPER);
      cc.onInterval(s, sample({ rttUs: 10, sendBlockedByCc: false }));
      expect(s.rateBps).to.equal(mbps(10));
    });
  });

  describe('new_rtt > Thigh (150 us)', () => {
    it('multiplies the rate by 1 - beta * (1 - Thigh / new_rtt)', () => {
      const { s, cc } = flow('timely', PAPER);
      s.rateBps = mbps(1000);
      cc.onInterval(s, sample({ rttUs: 300 }));
      expect(s.rateBps).to.be.closeTo(mbps(1000) * (1 - 0.8 * 0.5), 1);
    });

    it('decreases every interval while above Thigh, even when application-limited', () => {
      const { s, cc } = flow('timely', PAPER);
      s.rateBps = mbps(1000);
      let prev = s.rateBps;
      for (let i = 0; i < 10; i++) {
        cc.onInterval(s, sample({ rttUs: 200, sendBlockedByCc: false }));
        expect(s.rateBps).to.be.below(prev);
        prev = s.rateBps;
      }
    });

    it('at most halves the rate in one update', () => {
      const { s, cc } = flow('timely', PAPER);
      s.rateBps = mbps(1000);
      cc.onInterval(s, sample({ rttUs: 1500 })); // the paper's factor would be 0.28
      expect(s.rateBps).to.equal(mbps(500));
    });
  });

  describe('Tlow <= new_rtt <= Thigh: the RTT gradient', () => {
    it('keeps an EWMA of RTT differences with weight alpha on the newest', () => {
      const { s, cc } = flow('timely', PAPER);
      cc.onInterval(s, sample({ rttUs: 50 }));
      expect(s.rttDiffUs).to.equal(0);
      cc.onInterval(s, sample({ rttUs: 60 }));
      expect(s.rttDiffUs).to.equal(0.875 * 10);
      cc.onInterval(s, sample({ rttUs: 40 }));
      expect(s.rttDiffUs).to.equal(0.125 * 8.75 + 0.875 * -20);
      expect(s.prevRttUs).to.equal(40);

      const { s: s2, cc: cc2 } = flow('timely', { ...PAPER, timelyEwmaAlpha: 0.02 });
      cc2.onInterval(s2, sample({ rttUs: 50 }));
      cc2.onInterval(s2, sample({ rttUs: 60 }));
      expect(s2.rttDiffUs).to.be.closeTo(0.2, 1e-12);
    });

    it('decreases by beta * normalized_gradient on a rising RTT', () => {
      const { s, cc } = flow('timely', PAPER);
      cc.onInterval(s, sample({ rttUs: 50 })); // gradient 0: + delta
      const before = s.rateBps;
      cc.onInterval(s, sample({ rttUs: 52 })); // rtt_diff 1.75, gradient 0.175
      expect(s.rateBps).to.be.closeTo(before * (1 - 0.8 * 0.175), 1);
    });

    it('normalises by the smallest RTT seen when minRTT is not configured', () => {
      const { s, cc } = flow('timely', { timelySlowStart: false });
      cc.onInterval(s, sample({ rttUs: 40 }));
      const before = s.rateBps;
      cc.onInterval(s, sample({ rttUs: 44 })); // rtt_diff 3.5, gradient 3.5 / 40
      expect(s.minRttUs).to.equal(40);
      expect(s.rateBps).to.be.closeTo(before * (1 - 0.8 * (3.5 / 40)), 1);
    });

    it('increases by delta on a flat or falling RTT, by 5 delta after 5 such intervals (HAI)', () => {
      const { s, cc } = flow('timely', PAPER);
      const steps: number[] = [];
      for (let i = 0; i < 8; i++) {
        const before = s.rateBps;
        cc.onInterval(s, sample({ rttUs: 100 }));
        steps.push((s.rateBps - before) / DELTA);
      }
      expect(steps).to.deep.equal([1, 1, 1, 1, 5, 5, 5, 5]);
    });

    it('leaves HAI on a rising RTT', () => {
      const { s, cc } = flow('timely', PAPER);
      for (let i = 0; i < 6; i++) cc.onInterval(s, sample({ rttUs: 100 }));
      expect(s.haiCount).to.equal(5);
      cc.onInterval(s, sample({ rttUs: 101 }));
      expect(s.haiCount).to.equal(0);
    });

    it('never enters HAI when the threshold is 0', () => {
      const { s, cc } = flow('timely', { ...PAPER, timelyHaiThreshold: 0 });
      for (let i = 1; i <= 8; i++) {
        cc.onInterval(s, sample({ rttUs: 100 }));
        expect(s.rateBps).to.equal(mbps(10) + i * DELTA);
      }
    });

    it('at most halves the rate on a steep gradient', () => {
      const { s, cc } = flow('timely', PAPER);
      s.rateBps = mbps(1000);
      cc.onInterval(s, sample({ rttUs: 40 }));
      const before = s.rateBps;
      cc.onInterval(s, sample({ rttUs: 140 }));
      expect(s.rateBps).to.equal(Math.floor(before / 2));
    });
  });

  describe('slow start (TAS)', () => {
    it('doubles per interval until the RTT exceeds (Tlow + Thigh) / 2', () => {
      const { s, cc } = flow('timely');
      cc.onInterval(s, sample({ rttUs: 40 }));
      cc.onInterval(s, sample({ rttUs: 40 }));
      expect(s.rateBps).to.equal(mbps(40));
      cc.onInterval(s, sample({ rttUs: 100 }));
      expect(s.slowStart).to.equal(0);
      expect(s.rateBps).to.equal(mbps(20)); // steep gradient: halved
    });
  });

  describe('no RTT estimate', () => {
    it('changes nothing', () => {
      const { s, cc } = flow('timely', PAPER);
      cc.onInterval(s, sample({ rttUs: 0, ackedBytes: 1 << 20 }));
      expect(s.rateBps).to.equal(mbps(10));
      expect(s.prevRttUs).to.equal(0);
    });
  });

  describe('retransmits (FlexTOE: the rate halves)', () => {
    it('halves on onRetransmit', () => {
      const { s, cc } = flow('timely', PAPER);
      s.rateBps = mbps(600);
      cc.onRetransmit(s, 'fast');
      expect(s.rateBps).to.equal(mbps(300));
    });

    it('halves once for a loss interval and makes no other change in it', () => {
      const { s, cc } = flow('timely', PAPER);
      s.rateBps = mbps(600);
      cc.onInterval(s, sample({ rttUs: 10, retransmits: 2 }));
      expect(s.rateBps).to.equal(mbps(300));
      expect(s.prevRttUs).to.equal(10); // the gradient state still learns
    });
  });

  it('keeps the rate within [floor, link] for any RTT sequence (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 300 }), (rtts) => {
        const { s, cc } = flow('timely', { linkRateBps: mbps(1000) });
        for (const rtt of rtts) {
          cc.onInterval(s, sample({ rttUs: rtt }));
          expect(s.rateBps).to.be.within(cc.params.minRateBps, mbps(1000));
        }
      }),
    );
  });
});
