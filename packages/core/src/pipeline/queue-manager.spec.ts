import { expect } from 'chai';
import fc from 'fast-check';
import { QueueManager } from './queue-manager.js';

const MSS = 1448;

/** Polls once at `now`; if a flow comes out, it sends `bytes` and the credit returns at once. */
function step(qm: QueueManager, now: number, bytes = MSS): number {
  const f = qm.poll(now);
  if (f >= 0) {
    qm.sent(f, bytes, now);
    qm.returnCredit();
  }
  return f;
}

describe('QueueManager', () => {
  describe('unlimited flows (FIFO)', () => {
    it('serves active flows round robin, one MSS per event', () => {
      const qm = new QueueManager(8);
      for (const f of [3, 1, 4]) qm.activate(f, 10 * MSS);
      const order = Array.from({ length: 9 }, () => step(qm, 0));
      expect(order).to.deep.equal([3, 1, 4, 3, 1, 4, 3, 1, 4]);
      expect(qm.counters.events).to.equal(9);
    });

    it('keeps a flow queued once however often it is activated', () => {
      const qm = new QueueManager(4);
      qm.activate(0, MSS);
      qm.activate(0, MSS);
      qm.activate(1, MSS);
      qm.activate(0, 2 * MSS);
      expect(qm.waiting).to.equal(2);
      expect([step(qm, 0), step(qm, 0), step(qm, 0), step(qm, 0)]).to.deep.equal([0, 1, 0, -1]);
    });

    it('drops a flow whose ready bytes are used up, and takes it back on the next activate', () => {
      const qm = new QueueManager(2);
      qm.activate(0, 2000);
      expect(step(qm, 0)).to.equal(0); // 1448 of 2000
      expect(step(qm, 0, 552)).to.equal(0);
      expect(step(qm, 0)).to.equal(-1);
      qm.activate(0, 100);
      expect(step(qm, 0)).to.equal(0);
    });

    it('deactivate removes a waiting flow; a handed-out flow is then not re-queued', () => {
      const qm = new QueueManager(3);
      qm.activate(0, 1e6);
      qm.activate(1, 1e6);
      qm.deactivate(1);
      expect(qm.waiting).to.equal(1);
      const f = qm.poll(0);
      expect(f).to.equal(0);
      qm.deactivate(0);
      qm.sent(0, MSS, 0);
      qm.returnCredit();
      expect(qm.poll(0)).to.equal(-1);
      qm.activate(0, 1e6); // a flow deactivated while handed out can come back
      expect(qm.poll(0)).to.equal(0);
    });

    it('sent(flow, 0) puts a flow that could not send back in line, uncharged', () => {
      const qm = new QueueManager(2);
      qm.activate(0, 1e6);
      qm.activate(1, 1e6);
      expect(qm.poll(0)).to.equal(0);
      qm.sent(0, 0, 0);
      qm.returnCredit();
      expect([step(qm, 0), step(qm, 0)]).to.deep.equal([1, 0]);
    });
  });

  describe('credits', () => {
    it('bounds in-flight events by the credit pool and counts the refusals', () => {
      const qm = new QueueManager(16, { credits: 3 });
      for (let f = 0; f < 10; f++) qm.activate(f, 1e6);
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const f = qm.poll(0);
        if (f >= 0) {
          out.push(f);
          qm.sent(f, MSS, 0);
        }
      }
      expect(out).to.deep.equal([0, 1, 2]);
      expect(qm.credits).to.equal(0);
      expect(qm.counters.noCredit).to.equal(2);
      qm.returnCredit();
      expect(qm.poll(0)).to.equal(3);
    });

    it('ignores and counts credits returned beyond the pool', () => {
      const qm = new QueueManager(1, { credits: 2 });
      qm.returnCredit();
      expect(qm.credits).to.equal(2);
      expect(qm.counters.creditOverflow).to.equal(1);
    });

    it('does not count noCredit when nothing is ready', () => {
      const qm = new QueueManager(1, { credits: 1 });
      qm.activate(0, 1e6);
      qm.poll(0);
      qm.deactivate(0);
      expect(qm.poll(0)).to.equal(-1);
      expect(qm.counters.noCredit).to.equal(0);
    });
  });

  describe('rate-limited flows (timer wheel)', () => {
    /** Runs one flow alone, polling every `tick` ns until `until`; returns the send times. */
    function sendTimes(
      nsPerByte: number,
      slotNs: number,
      tick: number,
      until: number,
      bytes = MSS,
    ): number[] {
      const qm = new QueueManager(4, { slotNs });
      qm.setRate(2, nsPerByte);
      qm.activate(2, 1e12);
      const times: number[] = [];
      for (let now = 0; now <= until; now += tick) {
        if (step(qm, now, bytes) === 2) times.push(now);
      }
      return times;
    }

    it('says when the next flow is due: now for the FIFO, the first occupied slot for the wheel', () => {
      const qm = new QueueManager(4, { slotNs: 1000 });
      expect(qm.nextDueNs()).to.equal(Infinity);
      qm.setRate(1, 2);
      qm.activate(1, 1e6);
      expect(step(qm, 0)).to.equal(1); // the first segment goes at once
      // 1448 B x 2 ns/B later: parked in the wheel slot that starts at or after 2896 ns.
      expect(qm.nextDueNs()).to.equal(3000);
      expect(step(qm, 2999)).to.equal(-1);
      expect(step(qm, 3000)).to.equal(1);
      qm.activate(2, MSS);
      expect(qm.nextDueNs()).to.equal(3000); // an unlimited flow in the FIFO: due now
    });

    it('spaces segments by bytes x nsPerByte, never early and at most one slot late', () => {
      const slotNs = 1000;
      const gap = MSS * 2; // 2 ns/B = 4 Gbit/s
      const times = sendTimes(2, slotNs, 10, 2_000_000);
      expect(times.length).to.be.greaterThan(600);
      for (let k = 0; k < times.length; k++) {
        const ideal = times[0]! + k * gap;
        expect(times[k]).to.be.at.least(ideal);
        expect(times[k]).to.be.at.most(ideal + slotNs);
      }
    });

    it('holds the long-run rate exactly although every send is rounded up to a slot', () => {
      // 0.8 ns/B (10 Gbit/s): a segment every 1158.4 ns, with 1 us slots.
      const times = sendTimes(0.8, 1000, 50, 10_000_000);
      const rate = ((times.length - 1) * MSS) / (times.at(-1)! - times[0]!);
      expect(rate).to.be.closeTo(1 / 0.8, 0.01);
    });

    it('parks times beyond the 512-slot horizon in the last slot and re-inserts them', () => {
      const slotNs = 1000;
      const gap = 1000 * 1448; // 1000 ns/B: 1.448 ms per segment, ~3 wheel turns
      const qm = new QueueManager(1, { slotNs });
      qm.setRate(0, 1000);
      qm.activate(0, 1e12);
      const times: number[] = [];
      for (let now = 0; now <= 10 * gap; now += 100) if (step(qm, now) === 0) times.push(now);
      expect(times.length).to.equal(11);
      for (let k = 1; k < times.length; k++)
        expect(times[k]! - times[k - 1]!).to.be.within(gap - slotNs, gap + slotNs);
      expect(qm.counters.wheelClamped).to.be.greaterThan(0);
    });

    it('releases everything due after a long idle jump in time, without walking every slot', () => {
      const qm = new QueueManager(100, { slotNs: 1000 });
      for (let f = 0; f < 100; f++) {
        qm.setRate(f, 1 + f);
        qm.activate(f, 1e9);
        expect(step(qm, 0)).to.equal(f);
      }
      expect(qm.waiting).to.equal(100); // all in the wheel
      const got = new Set<number>();
      for (let f; (f = step(qm, 1e15)) >= 0 && !got.has(f);) got.add(f);
      expect(got.size).to.equal(100);
    });

    it('restarts an idle flow near now (at most maxLagNs of head start) instead of bursting to catch up', () => {
      const qm = new QueueManager(1, { slotNs: 1000 });
      qm.setRate(0, 1);
      qm.activate(0, 1e9);
      expect(step(qm, 0)).to.equal(0);
      qm.deactivate(0);
      qm.activate(0, 1e9);
      const t0 = 1_000_000; // long after its next-allowed time
      expect(step(qm, t0)).to.equal(0);
      expect(step(qm, t0 + 10)).to.equal(-1);
      expect(qm.nextAllowedNs(0)).to.equal(t0 - 1000 + MSS);
    });

    it('moves a waiting flow to the FIFO when its limit is lifted', () => {
      const qm = new QueueManager(1, { slotNs: 1000 });
      qm.setRate(0, 100);
      qm.activate(0, 1e9);
      step(qm, 0);
      expect(qm.poll(1)).to.equal(-1);
      qm.setRate(0, 0);
      expect(qm.poll(1)).to.equal(0);
    });

    it('shares the FIFO fairly between due rate-limited flows and unlimited ones', () => {
      const qm = new QueueManager(2, { slotNs: 100 });
      qm.setRate(1, 1); // one segment per 1448 ns
      qm.activate(0, 1e12);
      qm.activate(1, 1e12);
      const counts = [0, 0];
      for (let now = 0; now < 1_448_000; now += 10) {
        const f = step(qm, now);
        if (f >= 0) counts[f]!++;
      }
      expect(counts[1]).to.be.within(999, 1001); // its rate, not more
      expect(counts[0]).to.be.greaterThan(100_000); // the unlimited flow takes the rest
    });
  });

  describe('10k flows', () => {
    it('serves 10k unlimited flows round robin: equal turns, in the same order every round', () => {
      const N = 10_000;
      const qm = new QueueManager(N, { credits: 16 });
      for (let f = 0; f < N; f++) qm.activate((f * 7919) % N, 1e12); // activation order is the turn order
      for (let round = 0; round < 5; round++) {
        for (let f = 0; f < N; f++) expect(step(qm, round)).to.equal((f * 7919) % N);
      }
      expect(qm.counters.events).to.equal(5 * N);
    });

    it('holds 10k rate-limited flows to their rates when the wire has room for all of them', () => {
      const N = 10_000;
      const SLOT = 1000;
      const qm = new QueueManager(N, { slotNs: SLOT, credits: 64 });
      // 100 .. 1090 ns/B: one segment per 0.145 .. 1.58 ms, about 1.3e7 segments/s in all,
      // well below the 1e8 polls/s below, so every flow can get its full rate.
      const rate = new Float64Array(N);
      for (let f = 0; f < N; f++) {
        rate[f] = 100 + (f % 100) * 10;
        qm.setRate(f, rate[f]!);
        qm.activate(f, 1e12);
      }
      const sends = new Uint32Array(N);
      const last = new Float64Array(N).fill(-1);
      let violations = 0;
      const T = 20_000_000; // 20 ms
      for (let now = 0; now < T; now += 10) {
        const f = step(qm, now);
        if (f < 0) continue;
        if (last[f]! >= 0 && now - last[f]! < MSS * rate[f]! - SLOT) violations++;
        last[f] = now;
        sends[f]!++;
      }
      expect(violations).to.equal(0);
      for (let f = 0; f < N; f++) {
        const allowed = Math.floor(T / (MSS * rate[f]!)) + 1;
        expect(sends[f], `flow ${f}`).to.be.within(allowed - 1, allowed);
      }
    });

    it('under overload, gives every flow one turn per round and keeps rate-limited flows under their rates', () => {
      const N = 10_000;
      const SLOT = 1000;
      const qm = new QueueManager(N, { slotNs: SLOT, credits: 64 });
      const rate = new Float64Array(N);
      for (let f = 0; f < N; f++) {
        rate[f] = f % 2 ? 0.5 + (f % 97) / 2 : 0; // odd flows limited to 0.5 .. 48.5 ns/B
        qm.setRate(f, rate[f]!);
        qm.activate(f, 1e12);
      }
      const sends = new Uint32Array(N);
      const last = new Float64Array(N).fill(-1);
      const wire: number[] = [];
      let violations = 0;
      for (let now = 0; now < 5_000_000; now += 10) {
        // the wire holds 32 segments and completes one per poll: credits return in order
        if (wire.length >= 32) {
          wire.shift();
          qm.returnCredit();
        }
        const f = qm.poll(now);
        if (f < 0) continue;
        if (rate[f]! > 0 && last[f]! >= 0 && now - last[f]! < MSS * rate[f]! - SLOT) violations++;
        last[f] = now;
        sends[f]!++;
        qm.sent(f, MSS, now);
        wire.push(f);
        if (wire.length > 64) violations++; // more segments in flight than credits
      }
      expect(violations).to.equal(0);
      let min = Infinity;
      let max = 0;
      for (let f = 0; f < N; f += 2) {
        min = Math.min(min, sends[f]!);
        max = Math.max(max, sends[f]!);
      }
      expect(max - min).to.be.at.most(1); // the unlimited flows share round robin
      for (let f = 1; f < N; f += 2) expect(sends[f]).to.be.at.most(max + 1); // one turn per round at most
    });
  });

  describe('invariants under random operations', () => {
    it('hands out only active, due flows, once each, within the credits, and never idles a due flow', () => {
      const F = 6;
      const SLOT = 1000;
      const op = fc.oneof(
        fc.record({
          k: fc.constant('activate' as const),
          f: fc.nat({ max: F - 1 }),
          b: fc.integer({ min: 0, max: 5000 }),
        }),
        fc.record({ k: fc.constant('deactivate' as const), f: fc.nat({ max: F - 1 }) }),
        fc.record({
          k: fc.constant('rate' as const),
          f: fc.nat({ max: F - 1 }),
          r: fc.constantFrom(0, 0.5, 3, 200, 5000),
        }),
        fc.record({ k: fc.constant('poll' as const) }),
        fc.record({ k: fc.constant('finish' as const), bytes: fc.nat({ max: MSS }) }),
        fc.record({ k: fc.constant('credit' as const) }),
        fc.record({
          k: fc.constant('time' as const),
          dt: fc.oneof(fc.nat({ max: 3000 }), fc.nat({ max: 5e7 })),
        }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
          const credits = 3;
          const qm = new QueueManager(F, { slotNs: SLOT, wheelSlots: 8, credits });
          // The model: ready bytes per flow (active while > 0), flows handed out, credits held.
          const avail = new Array<number>(F).fill(0);
          let out: number[] = [];
          let held = 0;
          let now = 0;
          for (const o of ops) {
            switch (o.k) {
              case 'activate':
                qm.activate(o.f, o.b);
                avail[o.f] = o.b;
                if (o.b === 0) out = out.filter((f) => f !== o.f);
                break;
              case 'deactivate':
                qm.deactivate(o.f);
                avail[o.f] = 0;
                out = out.filter((f) => f !== o.f); // the caller abandons its event
                break;
              case 'rate':
                qm.setRate(o.f, o.r);
                break;
              case 'poll': {
                const f = qm.poll(now);
                if (f < 0) {
                  if (held < credits) {
                    // nobody is overlooked: every active, waiting flow is not yet due
                    for (let g = 0; g < F; g++) {
                      if (avail[g]! > 0 && !out.includes(g))
                        expect(qm.nextAllowedNs(g)).to.be.above(now - SLOT);
                    }
                  }
                  break;
                }
                expect(avail[f], `flow ${f} handed out while inactive`).to.be.above(0);
                expect(out).to.not.include(f);
                expect(qm.nextAllowedNs(f)).to.be.at.most(now);
                out.push(f);
                held++;
                expect(held).to.be.at.most(credits);
                break;
              }
              case 'finish': {
                const f = out.shift();
                if (f === undefined) break;
                qm.sent(f, o.bytes, now);
                avail[f] = Math.max(0, avail[f]! - o.bytes);
                break;
              }
              case 'credit':
                if (held > 0) {
                  held--;
                  qm.returnCredit();
                }
                break;
              case 'time':
                now += o.dt;
                break;
            }
            expect(qm.credits).to.equal(credits - held);
          }
        }),
        { numRuns: 500 },
      );
    });
  });

  it('validates its arguments: bad ids and rates are counted, bad geometry throws', () => {
    const qm = new QueueManager(2);
    expect(qm.activate(2, 1)).to.equal(false);
    expect(qm.activate(-1, 1)).to.equal(false);
    expect(qm.setRate(0, -1)).to.equal(false);
    expect(qm.setRate(0, NaN)).to.equal(false);
    expect(qm.counters.invalid).to.equal(4);
    expect(() => new QueueManager(2, { wheelSlots: 500 })).to.throw(RangeError, /power of two/);
    expect(() => new QueueManager(0)).to.throw(RangeError);
  });

  it('lives in a region it is given', () => {
    const bytes = QueueManager.bytesFor(1000, 512);
    const buffer = new SharedArrayBuffer(bytes + 64);
    const qm = new QueueManager(1000, { buffer, byteOffset: 64 });
    qm.activate(999, 1);
    expect(step(qm, 0)).to.equal(999);
    expect(() => new QueueManager(1000, { buffer, byteOffset: 72 })).to.throw(RangeError, /needs/);
  });

  it('readyAtClock moves the wheel to the clock and takes nothing; pollAtClock then hands the flow out', () => {
    const qm = new QueueManager(4, { slotNs: 1000 });
    qm.setRate(2, 10); // 10 ns per byte: after one MSS the flow waits 14 480 ns
    qm.activate(2, 10 * MSS);
    expect(step(qm, 0)).to.equal(2);
    qm.clockNs = 5000;
    expect(qm.readyAtClock()).to.equal(false); // still in the wheel
    expect(qm.credits).to.equal(128);
    qm.clockNs = 20_000;
    expect(qm.readyAtClock()).to.equal(true);
    expect(qm.readyAtClock()).to.equal(true); // idempotent: nothing was taken
    expect(qm.counters.events).to.equal(1);
    expect(qm.pollAtClock()).to.equal(2);
    expect(qm.readyAtClock()).to.equal(false);
  });
});
