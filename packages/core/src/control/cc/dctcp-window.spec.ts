import { expect } from 'chai';
import { MSS, flow, sample } from './cc-spec-fixtures.js';

const IW = 10 * MSS; // RFC 6928 for MSS 1448

describe('dctcp-window (RFC 8257)', () => {
  describe('init', () => {
    it('starts with the RFC 6928 initial window, an unlimited rate, alpha 1, ssthresh high', () => {
      const { s, cc } = flow('dctcp-window');
      expect(s.cwndBytes).to.equal(IW);
      expect(s.rateBps).to.equal(0);
      expect(s.alpha).to.equal(1);
      expect(s.ssthreshBytes).to.equal(cc.params.maxCwndBytes);
    });
  });

  describe('with marks (RFC 8257 3.3: cwnd = cwnd * (1 - alpha / 2), once per window)', () => {
    it('halves the window when alpha is 1', () => {
      const { s, cc } = flow('dctcp-window');
      cc.onInterval(s, sample({ ackedBytes: IW, ecnBytes: IW }));
      expect(s.cwndBytes).to.equal(IW / 2);
      expect(s.ssthreshBytes).to.equal(IW / 2);
    });

    it('cuts by alpha / 2 for a partial mark fraction', () => {
      const { s, cc } = flow('dctcp-window');
      s.cwndBytes = 100 * MSS;
      s.alpha = 0.25;
      cc.onInterval(s, sample({ ackedBytes: 100 * MSS, ecnBytes: 25 * MSS })); // alpha stays 0.25
      expect(s.alpha).to.equal(0.25);
      expect(s.cwndBytes).to.equal(100 * MSS * 0.875);
    });

    it('cuts once per interval however many bytes were marked, and not below 1 MSS', () => {
      const { s, cc } = flow('dctcp-window');
      for (let i = 0; i < 20; i++) cc.onInterval(s, sample({ ackedBytes: MSS, ecnBytes: MSS }));
      expect(s.cwndBytes).to.equal(MSS);
      expect(s.ssthreshBytes).to.equal(2 * MSS);
    });

    it('converges alpha to the mark fraction', () => {
      const { s, cc } = flow('dctcp-window');
      for (let i = 0; i < 400; i++) cc.onInterval(s, sample({ ackedBytes: 1000, ecnBytes: 400 }));
      expect(s.alpha).to.be.closeTo(0.4, 1e-9);
    });
  });

  describe('without marks (standard growth, RFC 5681 3.1)', () => {
    it('slow start doubles the window per RTT', () => {
      const { s, cc } = flow('dctcp-window');
      for (let i = 1; i <= 4; i++) {
        cc.onInterval(s, sample({ ackedBytes: s.cwndBytes, intervalUs: 50 }));
        expect(s.cwndBytes).to.equal(IW * 2 ** i);
      }
    });

    it('congestion avoidance adds one MSS per RTT', () => {
      const { s, cc } = flow('dctcp-window');
      s.ssthreshBytes = s.cwndBytes;
      for (let i = 1; i <= 5; i++) {
        cc.onInterval(s, sample({ ackedBytes: s.cwndBytes, intervalUs: 50 }));
        expect(s.cwndBytes).to.equal(IW + i * MSS);
      }
    });
  });

  describe('loss (RFC 8257 3.5: as standard TCP)', () => {
    it('halves on a fast retransmit', () => {
      const { s, cc } = flow('dctcp-window');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onRetransmit(s, 'fast');
      expect(s.cwndBytes).to.equal(32 * MSS);
      expect(s.ssthreshBytes).to.equal(32 * MSS);
    });

    it('collapses to 1 MSS on a timeout', () => {
      const { s, cc } = flow('dctcp-window');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onRetransmit(s, 'timeout');
      expect(s.cwndBytes).to.equal(MSS);
      expect(s.ssthreshBytes).to.equal(32 * MSS);
    });

    it('does not also apply the ECN cut in a loss interval', () => {
      const { s, cc } = flow('dctcp-window');
      s.cwndBytes = 64 * MSS;
      s.lastInFlightBytes = 64 * MSS;
      cc.onInterval(s, sample({ ackedBytes: 10 * MSS, ecnBytes: 10 * MSS, retransmits: 1 }));
      expect(s.cwndBytes).to.equal(32 * MSS);
    });
  });
});
