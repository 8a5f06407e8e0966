import { expect } from 'chai';
import fc from 'fast-check';
import { createCcFlowState, createCongestionControl } from './congestion-control.js';
import { MSS, flow, sample } from './cc-spec-fixtures.js';

const IW = 10 * MSS;
const RTT = 50; // us, the initial RTT: one-RTT intervals unless a test says otherwise

describe('newreno (RFC 5681, RFC 6582, per interval)', () => {
  describe('initial window (RFC 6928 2: min(10*MSS, max(2*MSS, 14600)))', () => {
    for (const [mss, iw] of [
      [1448, 14480],
      [1460, 14600],
      [536, 5360],
      [4000, 14600],
      [9000, 18000],
    ] as const) {
      it(`is ${iw} bytes for MSS ${mss}`, () => {
        const cc = createCongestionControl('newreno');
        const s = createCcFlowState();
        cc.init(s, mss);
        expect(s.cwndBytes).to.equal(iw);
      });
    }

    it('is a parameter', () => {
      const { s } = flow('newreno', { initialWindowSegments: 4 });
      expect(s.cwndBytes).to.equal(4 * MSS);
    });

    it('leaves the rate unlimited', () => {
      const { s, cc } = flow('newreno');
      cc.onInterval(s, sample({ ackedBytes: IW }));
      expect(s.rateBps).to.equal(0);
    });
  });

  describe('slow start (cwnd < ssthresh)', () => {
    it('doubles the window per RTT', () => {
      const { s, cc } = flow('newreno');
      for (let i = 1; i <= 6; i++) {
        cc.onInterval(s, sample({ ackedBytes: s.cwndBytes, intervalUs: RTT }));
        expect(s.cwndBytes).to.equal(IW * 2 ** i);
      }
    });

    it('at most doubles per RTT however many bytes an interval acknowledges', () => {
      const { s, cc } = flow('newreno');
      cc.onInterval(s, sample({ ackedBytes: 10 * IW, intervalUs: RTT }));
      expect(s.cwndBytes).to.equal(2 * IW);
      cc.onInterval(s, sample({ ackedBytes: 10 * IW, intervalUs: 2 * RTT }));
      expect(s.cwndBytes).to.equal(2 * IW + 2 * (2 * IW)); // one window acked per RTT, twice
    });

    it('stops at ssthresh and continues in congestion avoidance', () => {
      const { s, cc } = flow('newreno');
      s.ssthreshBytes = IW + 2 * MSS;
      cc.onInterval(s, sample({ ackedBytes: IW, intervalUs: RTT }));
      expect(s.cwndBytes).to.equal(IW + 2 * MSS);
      expect(s.caBytesAcked).to.equal(IW - 2 * MSS);
    });
  });

  describe('congestion avoidance (cwnd >= ssthresh)', () => {
    it('grows by one MSS per RTT', () => {
      const { s, cc } = flow('newreno');
      s.ssthreshBytes = IW;
      for (let i = 1; i <= 10; i++) {
        cc.onInterval(s, sample({ ackedBytes: s.cwndBytes, intervalUs: RTT }));
        expect(s.cwndBytes).to.equal(IW + i * MSS);
      }
    });

    it('adds MSS * acked / cwnd, carrying partial windows over', () => {
      const { s, cc } = flow('newreno');
      s.ssthreshBytes = IW;
      cc.onInterval(s, sample({ ackedBytes: IW / 2, intervalUs: RTT }));
      expect(s.cwndBytes).to.equal(IW);
      cc.onInterval(s, sample({ ackedBytes: IW / 2, intervalUs: RTT }));
      expect(s.cwndBytes).to.equal(IW + MSS);
    });

    it('grows at most one MSS per RTT of the interval', () => {
      const { s, cc } = flow('newreno');
      s.ssthreshBytes = IW;
      cc.onInterval(s, sample({ ackedBytes: 50 * IW, intervalUs: RTT }));
      expect(s.cwndBytes).to.equal(IW + MSS);
      cc.onInterval(s, sample({ ackedBytes: 50 * IW, intervalUs: 2 * RTT }));
      expect(s.cwndBytes).to.equal(IW + 3 * MSS);
    });

    it('does not grow while the flow is application-limited', () => {
      const { s, cc } = flow('newreno');
      cc.onInterval(s, sample({ ackedBytes: IW, sendBlockedByCc: false }));
      expect(s.cwndBytes).to.equal(IW);
    });
  });

  describe('fast retransmit (RFC 5681 3.2 eq. 4, RFC 6582)', () => {
    it('sets ssthresh = cwnd = FlightSize / 2', () => {
      const { s, cc } = flow('newreno');
      s.cwndBytes = 100 * MSS;
      s.lastInFlightBytes = 80 * MSS;
      cc.onRetransmit(s, 'fast');
      expect(s.ssthreshBytes).to.equal(40 * MSS);
      expect(s.cwndBytes).to.equal(40 * MSS);
    });

    it('halves the window when the window was full', () => {
      const { s, cc } = flow('newreno');
      cc.onInterval(s, sample({ ackedBytes: IW, inFlightBytes: 2 * IW })); // cwnd 2*IW, full
      cc.onInterval(s, sample({ retransmits: 1 }));
      expect(s.cwndBytes).to.equal(IW);
    });

    it('never sets ssthresh below 2 MSS', () => {
      const { s, cc } = flow('newreno');
      s.lastInFlightBytes = MSS;
      cc.onRetransmit(s, 'fast');
      expect(s.ssthreshBytes).to.equal(2 * MSS);
      expect(s.cwndBytes).to.equal(2 * MSS);
    });

    it('cuts once per recovery: further fast retransmits before progress do not cut again', () => {
      const { s, cc } = flow('newreno');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onRetransmit(s, 'fast');
      cc.onRetransmit(s, 'fast');
      cc.onInterval(s, sample({ retransmits: 3 }));
      expect(s.cwndBytes).to.equal(32 * MSS);
      cc.onInterval(s, sample({ ackedBytes: 32 * MSS, inFlightBytes: 32 * MSS, sendBlockedByCc: false }));
      expect(s.inRecovery).to.equal(0);
      cc.onRetransmit(s, 'fast');
      expect(s.cwndBytes).to.equal(16 * MSS);
    });
  });

  describe('timeout (RFC 5681 3.1: loss window)', () => {
    it('collapses the window to 1 MSS and halves ssthresh', () => {
      const { s, cc } = flow('newreno');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onRetransmit(s, 'timeout');
      expect(s.cwndBytes).to.equal(MSS);
      expect(s.ssthreshBytes).to.equal(32 * MSS);
    });

    it('holds ssthresh on back-to-back timeouts', () => {
      const { s, cc } = flow('newreno');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onRetransmit(s, 'timeout');
      cc.onInterval(s, sample({ retransmits: 1, timeouts: 1 }));
      cc.onRetransmit(s, 'timeout');
      expect(s.ssthreshBytes).to.equal(32 * MSS);
      expect(s.cwndBytes).to.equal(MSS);
    });

    it('slow-starts again from 1 MSS once data is acknowledged', () => {
      const { s, cc } = flow('newreno');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onRetransmit(s, 'timeout');
      cc.onInterval(s, sample({ retransmits: 1, timeouts: 1 }));
      for (let i = 1; i <= 5; i++) {
        cc.onInterval(s, sample({ ackedBytes: s.cwndBytes, intervalUs: RTT }));
        expect(s.cwndBytes).to.equal(Math.min(MSS * 2 ** i, 32 * MSS));
      }
      cc.onInterval(s, sample({ ackedBytes: s.cwndBytes, intervalUs: RTT }));
      expect(s.cwndBytes).to.equal(33 * MSS);
    });
  });

  it('keeps cwnd a whole number of bytes in [MSS, maxCwndBytes] under plausible traffic (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            acked: fc.nat(1 << 22),
            inFlight: fc.nat(1 << 22),
            interval: fc.integer({ min: 50, max: 400 }),
            loss: fc.constantFrom('none', 'none', 'none', 'fast', 'timeout'),
          }),
        ),
        (steps) => {
          const { s, cc } = flow('newreno', { maxCwndBytes: 1 << 20 });
          for (const st of steps) {
            cc.onInterval(
              s,
              sample({
                ackedBytes: st.acked,
                inFlightBytes: st.inFlight,
                intervalUs: st.interval,
                retransmits: st.loss === 'none' ? 0 : 1,
                timeouts: st.loss === 'timeout' ? 1 : 0,
              }),
            );
            expect(Number.isInteger(s.cwndBytes)).to.equal(true);
            expect(s.cwndBytes).to.be.within(MSS, 1 << 20);
          }
        },
      ),
    );
  });
});
