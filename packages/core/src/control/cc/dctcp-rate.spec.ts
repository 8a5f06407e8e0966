import { expect } from 'chai';
import fc from 'fast-check';
import { gbps, mbps } from './congestion-control.js';
import { MSS, flow, sample } from './cc-spec-fixtures.js';

/** A flow past slow start, as after its first congestion signal. */
const NO_SLOW_START = { dctcpSlowStart: false } as const;

describe('dctcp-rate (TAS rate-based DCTCP, FlexTOE default)', () => {
  describe('init', () => {
    it('starts at 10 Mb/s with no window, alpha 1 and in slow start', () => {
      const { s } = flow('dctcp-rate');
      expect(s.rateBps).to.equal(mbps(10));
      expect(s.cwndBytes).to.equal(0);
      expect(s.alpha).to.equal(1);
      expect(s.slowStart).to.equal(1);
      expect(s.mss).to.equal(MSS);
    });
  });

  describe('alpha (RFC 8257 3.3: alpha = (1 - g) * alpha + g * F, g = 1/16)', () => {
    it('applies one EWMA step per interval', () => {
      const { s, cc } = flow('dctcp-rate', { dctcpInitialAlpha: 0 });
      cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 500 }));
      expect(s.alpha).to.equal(0.5 / 16);
      cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 1000 }));
      expect(s.alpha).to.be.closeTo((15 / 16) * (0.5 / 16) + 1 / 16, 1e-15);
    });

    it('leaves alpha alone in an interval with nothing acknowledged', () => {
      const { s, cc } = flow('dctcp-rate');
      cc.onInterval(s, sample({ ackedBytes: 0 }));
      expect(s.alpha).to.equal(1);
    });

    it('counts at most the acknowledged bytes as marked', () => {
      const { s, cc } = flow('dctcp-rate', { dctcpInitialAlpha: 0 });
      cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 5000 }));
      expect(s.alpha).to.equal(1 / 16);
    });

    for (const fraction of [0, 0.1, 0.3, 0.75, 1]) {
      it(`converges to the mark fraction ${fraction}`, () => {
        for (const initial of [0, 1]) {
          const { s, cc } = flow('dctcp-rate', { dctcpInitialAlpha: initial });
          for (let i = 0; i < 400; i++) {
            cc.onInterval(s, sample({ ackedBytes: 100 * MSS, ecnBytes: fraction * 100 * MSS }));
          }
          expect(s.alpha).to.be.closeTo(fraction, 1e-9);
        }
      });
    }
  });

  describe('with marks', () => {
    it('multiplies the rate by (1 - alpha / 2)', () => {
      const { s, cc } = flow('dctcp-rate', NO_SLOW_START);
      s.rateBps = mbps(1000);
      cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 1000 })); // alpha stays 1
      expect(s.rateBps).to.equal(mbps(500));
      s.alpha = 0.25;
      cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 250 })); // alpha stays 0.25
      expect(s.rateBps).to.equal(mbps(500) * (1 - 0.25 / 2));
    });

    it('decreases the rate every interval under 100% marks, down to the floor', () => {
      const { s, cc } = flow('dctcp-rate', { dctcpInitialAlpha: 0 });
      s.rateBps = gbps(10);
      let prev = s.rateBps;
      while (s.rateBps > cc.params.minRateBps) {
        cc.onInterval(s, sample({ ackedBytes: 10 * MSS, ecnBytes: 10 * MSS }));
        expect(s.rateBps).to.be.below(prev);
        prev = s.rateBps;
      }
      cc.onInterval(s, sample({ ackedBytes: 10 * MSS, ecnBytes: 10 * MSS }));
      expect(s.rateBps).to.equal(cc.params.minRateBps);
    });

    it('ends slow start', () => {
      const { s, cc } = flow('dctcp-rate');
      cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 1 }));
      expect(s.slowStart).to.equal(0);
    });
  });

  describe('without marks', () => {
    it('increases by exactly the step (10 Mb/s) per interval', () => {
      const { s, cc } = flow('dctcp-rate', NO_SLOW_START);
      for (let i = 1; i <= 20; i++) {
        cc.onInterval(s, sample({ ackedBytes: 10 * MSS }));
        expect(s.rateBps).to.equal(mbps(10) + i * mbps(10));
      }
    });

    it('doubles per interval in slow start until the first mark, then steps', () => {
      const { s, cc } = flow('dctcp-rate', { dctcpInitialAlpha: 0 });
      const rates: number[] = [];
      for (let i = 0; i < 4; i++) {
        cc.onInterval(s, sample({ ackedBytes: 10 * MSS }));
        rates.push(s.rateBps);
      }
      expect(rates).to.deep.equal([mbps(20), mbps(40), mbps(80), mbps(160)]);
      cc.onInterval(s, sample({ ackedBytes: 10 * MSS, ecnBytes: 10 * MSS }));
      const afterMark = s.rateBps;
      expect(afterMark).to.equal(Math.floor(mbps(160) * (1 - 1 / 32)));
      cc.onInterval(s, sample({ ackedBytes: 10 * MSS }));
      expect(s.rateBps).to.equal(afterMark + mbps(10));
    });

    it('stops at the link rate', () => {
      const { s, cc } = flow('dctcp-rate', { linkRateBps: mbps(100) });
      for (let i = 0; i < 10; i++) cc.onInterval(s, sample({ ackedBytes: MSS }));
      expect(s.rateBps).to.equal(mbps(100));
    });

    it('does not grow while the application, not congestion control, limits the flow', () => {
      const { s, cc } = flow('dctcp-rate', NO_SLOW_START);
      cc.onInterval(s, sample({ ackedBytes: MSS, sendBlockedByCc: false }));
      expect(s.rateBps).to.equal(mbps(10));
      const { s: s2, cc: cc2 } = flow('dctcp-rate', { ...NO_SLOW_START, growOnlyWhenCcLimited: false });
      cc2.onInterval(s2, sample({ ackedBytes: MSS, sendBlockedByCc: false }));
      expect(s2.rateBps).to.equal(mbps(20));
    });
  });

  describe('retransmits (FlexTOE: the rate halves on each retransmit)', () => {
    for (const kind of ['fast', 'timeout'] as const) {
      it(`halves on a ${kind} retransmit and ends slow start`, () => {
        const { s, cc } = flow('dctcp-rate');
        s.rateBps = mbps(800);
        cc.onRetransmit(s, kind);
        expect(s.rateBps).to.equal(mbps(400));
        cc.onRetransmit(s, kind);
        expect(s.rateBps).to.equal(mbps(200));
        expect(s.slowStart).to.equal(0);
      });
    }

    it('halves once for an interval whose sample reports unannounced retransmits, and does not grow', () => {
      const { s, cc } = flow('dctcp-rate');
      s.rateBps = mbps(800);
      cc.onInterval(s, sample({ ackedBytes: 10 * MSS, retransmits: 4 }));
      expect(s.rateBps).to.equal(mbps(400));
      expect(s.slowStart).to.equal(0);
    });

    it('never goes below the floor', () => {
      const { s, cc } = flow('dctcp-rate');
      for (let i = 0; i < 64; i++) cc.onRetransmit(s, 'timeout');
      expect(s.rateBps).to.equal(cc.params.minRateBps);
    });
  });

  it('keeps the rate a whole number of bytes/s within [floor, link] (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ acked: fc.nat(1 << 24), marked: fc.double({ min: 0, max: 1, noNaN: true }) })),
        (steps) => {
          const { s, cc } = flow('dctcp-rate');
          for (const { acked, marked } of steps) {
            cc.onInterval(s, sample({ ackedBytes: acked, ecnBytes: Math.floor(acked * marked) }));
            expect(Number.isInteger(s.rateBps)).to.equal(true);
            expect(s.rateBps).to.be.within(cc.params.minRateBps, cc.params.linkRateBps);
          }
        },
      ),
    );
  });
});
