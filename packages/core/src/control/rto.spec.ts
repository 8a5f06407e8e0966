import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEFAULT_RTO_PARAMS,
  RtoEstimator,
  computeRtoUs,
  createFlextoeTimeoutState,
  flextoeTimeoutDue,
  resolveRtoParams,
} from './rto.js';

const MS = 1000; // us
const S = 1_000_000; // us

describe('RTO (RFC 6298)', () => {
  describe('defaults', () => {
    it('initial RTO 1 s (2.1), min 200 ms (Linux; RFC says 1 s), max 60 s (2.5), G 1 ms', () => {
      expect(DEFAULT_RTO_PARAMS).to.deep.equal({
        initialRtoUs: 1 * S,
        minRtoUs: 200 * MS,
        maxRtoUs: 60 * S,
        clockGranularityUs: 1 * MS,
      });
      const rto = new RtoEstimator();
      expect(rto.rtoUs).to.equal(1 * S);
      expect(rto.state.samples).to.equal(0);
    });
  });

  describe('estimator (2.2, 2.3)', () => {
    it('first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR)', () => {
      const rto = new RtoEstimator();
      expect(rto.sample(100 * MS, false, false)).to.equal(true);
      expect(rto.state.srttUs).to.equal(100 * MS);
      expect(rto.state.rttvarUs).to.equal(50 * MS);
      expect(rto.rtoUs).to.equal(300 * MS);
    });

    it('later samples: RTTVAR from the old SRTT first, then SRTT', () => {
      const rto = new RtoEstimator();
      rto.sample(100 * MS, false, false);
      rto.sample(200 * MS, false, false);
      // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
      expect(rto.state.rttvarUs).to.equal(62.5 * MS);
      expect(rto.state.srttUs).to.equal(112.5 * MS);
      expect(rto.rtoUs).to.equal(112.5 * MS + 4 * 62.5 * MS);
      rto.sample(100 * MS, false, false);
      // RTTVAR = 3/4 * 62.5 + 1/4 * 12.5 = 50; SRTT = 7/8 * 112.5 + 1/8 * 100 = 110.9375
      expect(rto.state.rttvarUs).to.equal(50 * MS);
      expect(rto.state.srttUs).to.equal(110.9375 * MS);
      expect(rto.rtoUs).to.equal(310.9375 * MS);
    });

    it('uses the clock granularity G when 4*RTTVAR is smaller', () => {
      const rto = new RtoEstimator({ minRtoUs: 1, initialRtoUs: 1 * S, clockGranularityUs: 500 });
      for (let i = 0; i < 200; i++) rto.sample(10 * MS, true, false);
      expect(rto.state.rttvarUs).to.be.below(125);
      expect(rto.rtoUs).to.be.closeTo(10 * MS + 500, 1e-6);
      expect(computeRtoUs(10 * MS, 0, rto.params)).to.equal(10 * MS + 500);
    });

    it('rounds a small RTO up to the minimum (2.4)', () => {
      const rto = new RtoEstimator();
      rto.sample(1 * MS, false, false);
      expect(rto.rtoUs).to.equal(200 * MS);
      const strict = new RtoEstimator({ minRtoUs: 1 * S });
      strict.sample(100 * MS, false, false);
      expect(strict.rtoUs).to.equal(1 * S);
    });

    it('caps a large RTO at the maximum (2.5)', () => {
      const rto = new RtoEstimator();
      rto.sample(50 * S, false, false);
      expect(rto.rtoUs).to.equal(60 * S);
    });

    it('ignores negative and non-finite measurements', () => {
      const rto = new RtoEstimator();
      for (const bad of [-1, Number.NaN, Infinity]) expect(rto.sample(bad, true, false)).to.equal(false);
      expect(rto.state.samples).to.equal(0);
      expect(rto.rtoUs).to.equal(1 * S);
    });
  });

  describe("Karn's algorithm (3) and timestamps (RFC 7323 4.1)", () => {
    it('does not sample a retransmitted segment timed without a timestamp', () => {
      const rto = new RtoEstimator();
      rto.sample(100 * MS, false, false);
      const before = { ...rto.state };
      expect(rto.sample(900 * MS, false, true)).to.equal(false);
      expect(rto.state).to.deep.equal(before);
    });

    it('samples a retransmitted segment when the measurement comes from a timestamp echo', () => {
      const rto = new RtoEstimator();
      rto.sample(100 * MS, false, false);
      expect(rto.sample(200 * MS, true, true)).to.equal(true);
      expect(rto.state.srttUs).to.equal(112.5 * MS);
    });

    it('keeps the back-off through an ambiguous sample', () => {
      const rto = new RtoEstimator();
      rto.sample(100 * MS, false, false);
      rto.backoff();
      rto.sample(100 * MS, false, true);
      expect(rto.rtoUs).to.equal(600 * MS);
      expect(rto.state.backoffs).to.equal(1);
    });
  });

  describe('back-off (5.5)', () => {
    it('doubles on each expiry up to the maximum', () => {
      const rto = new RtoEstimator();
      const seen: number[] = [];
      for (let i = 0; i < 8; i++) seen.push(rto.backoff() / S);
      expect(seen).to.deep.equal([2, 4, 8, 16, 32, 60, 60, 60]);
      expect(rto.state.backoffs).to.equal(8);
    });

    it('is reset by a new valid sample (RTO recomputed from SRTT and RTTVAR)', () => {
      const rto = new RtoEstimator();
      rto.sample(100 * MS, false, false);
      rto.backoff();
      rto.backoff();
      expect(rto.rtoUs).to.equal(1200 * MS);
      rto.sample(100 * MS, false, false);
      // RTTVAR = 3/4 * 50 + 0 = 37.5, SRTT = 100: RTO = 250 ms
      expect(rto.rtoUs).to.equal(250 * MS);
      expect(rto.state.backoffs).to.equal(0);
    });
  });

  describe('parameters', () => {
    it('rejects a maximum below 60 s (2.5) and inconsistent bounds, naming the field', () => {
      expect(() => resolveRtoParams({ maxRtoUs: 10 * S })).to.throw(RangeError, 'maxRtoUs');
      expect(() => resolveRtoParams({ minRtoUs: 90 * S, maxRtoUs: 60 * S })).to.throw(RangeError, 'minRtoUs');
      expect(() => resolveRtoParams({ initialRtoUs: 100 * MS })).to.throw(RangeError, 'initialRtoUs');
      expect(() => resolveRtoParams({ clockGranularityUs: -1 })).to.throw(RangeError, 'clockGranularityUs');
      expect(() => resolveRtoParams({ nope: 1 } as never)).to.throw(RangeError, 'nope');
    });
  });

  it('keeps the RTO finite and within [min, max] for any sequence (property)', () => {
    const op = fc.oneof(
      fc.record({
        rtt: fc.oneof(fc.double({ min: -1, max: 1e9 }), fc.integer({ min: 0, max: 10 * S })),
        ts: fc.boolean(),
        retx: fc.boolean(),
      }),
      fc.constant('backoff' as const),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const rto = new RtoEstimator();
        for (const o of ops) {
          if (o === 'backoff') rto.backoff();
          else rto.sample(o.rtt, o.ts, o.retx);
          expect(Number.isFinite(rto.rtoUs)).to.equal(true);
          expect(rto.rtoUs).to.be.within(200 * MS, 60 * S);
        }
      }),
    );
  });
});

describe('FlexTOE retransmit rule (4 intervals and >= 2 RTT without progress)', () => {
  const RTT = 50; // us
  const INTERVAL = 2 * RTT;

  it('fires on the 4th consecutive stalled interval', () => {
    const st = createFlextoeTimeoutState();
    const fired = [1, 2, 3, 4].map((i) => flextoeTimeoutDue(st, i * INTERVAL, true, 0, RTT));
    expect(fired).to.deep.equal([false, false, false, true]);
  });

  it('waits for 2 RTTs since the first stalled interval', () => {
    const st = createFlextoeTimeoutState();
    // Four intervals 10 us apart: 30 us < 2 RTT.
    const fired = [0, 10, 20, 30, 100, 110].map((t) => flextoeTimeoutDue(st, 1000 + t, true, 0, RTT));
    expect(fired).to.deep.equal([false, false, false, false, true, false]);
  });

  it('uses the initial RTT (50 us) when the flow has no estimate', () => {
    const st = createFlextoeTimeoutState();
    const fired = [0, 30, 60, 90].map((t) => flextoeTimeoutDue(st, t, true, 0, 0));
    expect(fired).to.deep.equal([false, false, false, false]);
    expect(flextoeTimeoutDue(st, 100, true, 0, 0)).to.equal(true);
  });

  it('is reset by progress', () => {
    const st = createFlextoeTimeoutState();
    const acked = [0, 0, 0, 1448, 0, 0, 0, 0];
    const fired = acked.map((a, i) => flextoeTimeoutDue(st, (i + 1) * INTERVAL, true, a, RTT));
    expect(fired).to.deep.equal([false, false, false, false, false, false, false, true]);
  });

  it('is reset when nothing is outstanding', () => {
    const st = createFlextoeTimeoutState();
    for (let i = 1; i <= 3; i++) flextoeTimeoutDue(st, i * INTERVAL, true, 0, RTT);
    expect(flextoeTimeoutDue(st, 4 * INTERVAL, false, 0, RTT)).to.equal(false);
    expect(st.stalledIntervals).to.equal(0);
  });

  it('counts afresh after firing', () => {
    const st = createFlextoeTimeoutState();
    const fired = Array.from({ length: 8 }, (_, i) =>
      flextoeTimeoutDue(st, (i + 1) * INTERVAL, true, 0, RTT),
    );
    expect(fired).to.deep.equal([false, false, false, true, false, false, false, true]);
  });
});
