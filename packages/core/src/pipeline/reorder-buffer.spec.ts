import { expect } from 'chai';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { ReorderBuffer, Sequencer } from './reorder-buffer.js';

const COMPILED = new URL('../../dist/pipeline/reorder-buffer.js', import.meta.url).href;

/** Drains everything ready now. */
function drain(rb: ReorderBuffer, out = new Uint32Array(16)): number[] {
  const got: number[] = [];
  for (let n; (n = rb.release(out)) > 0;) got.push(...out.subarray(0, n));
  return got;
}

describe('ReorderBuffer', () => {
  it('holds an early item until the gap before it fills, then releases both in order', () => {
    const rb = new ReorderBuffer(8);
    expect(rb.insert(1, 101)).to.equal(true);
    expect(rb.ready).to.equal(false);
    expect(drain(rb)).to.deep.equal([]);
    expect(rb.pending).to.equal(1);
    expect(rb.insert(0, 100)).to.equal(true);
    expect(rb.ready).to.equal(true);
    expect(drain(rb)).to.deep.equal([100, 101]);
    expect(rb.next).to.equal(2);
    expect(rb.pending).to.equal(0);
  });

  it('passes over a skipped number (a dropped item still consumes its slot)', () => {
    const rb = new ReorderBuffer(8);
    rb.insert(2, 102);
    rb.insert(0, 100);
    expect(drain(rb)).to.deep.equal([100]);
    expect(rb.skip(1)).to.equal(true);
    expect(drain(rb)).to.deep.equal([102]);
    expect(rb.next).to.equal(3);
    expect(rb.counters).to.include({ inserted: 2, skipped: 1, released: 2 });
  });

  it('refuses numbers outside [next, next + capacity) with counted drops', () => {
    const rb = new ReorderBuffer(4);
    expect(rb.insert(4, 1)).to.equal(false); // next + capacity: beyond the window
    expect(rb.skip(1000)).to.equal(false);
    expect(rb.insert(3, 1)).to.equal(true); // last number in the window
    rb.skip(0);
    rb.skip(1);
    rb.skip(2);
    expect(drain(rb)).to.deep.equal([1]);
    expect(rb.insert(2, 1)).to.equal(false); // already released: stale
    expect(rb.insert(3, 1)).to.equal(false);
    expect(rb.counters).to.include({ beyondWindow: 2, stale: 2, duplicate: 0 });
  });

  it('refuses a second insert (or skip) of a held number and keeps the first', () => {
    const rb = new ReorderBuffer(4);
    rb.insert(1, 7);
    expect(rb.insert(1, 8)).to.equal(false);
    expect(rb.skip(1)).to.equal(false);
    expect(rb.counters.duplicate).to.equal(2);
    rb.skip(0);
    expect(drain(rb)).to.deep.equal([7]);
  });

  it('releases at most max (and out.length) handles per call, keeping the rest', () => {
    const rb = new ReorderBuffer(16);
    for (let i = 0; i < 10; i++) rb.insert(i, i);
    const out = new Uint32Array(4);
    expect(rb.release(out, 3)).to.equal(3);
    expect([...out.subarray(0, 3)]).to.deep.equal([0, 1, 2]);
    expect(rb.release(out, 100)).to.equal(4);
    expect(rb.pending).to.equal(3);
    expect(rb.next).to.equal(7);
  });

  it('wraps across 2^32', () => {
    const rb = new ReorderBuffer(8, { initialSeq: 0xffff_fffe });
    expect(rb.next).to.equal(0xffff_fffe);
    rb.insert(1, 31);
    rb.insert(0, 30);
    rb.insert(0xffff_ffff, 29);
    expect(drain(rb)).to.deep.equal([]);
    rb.insert(0xffff_fffe, 28);
    expect(drain(rb)).to.deep.equal([28, 29, 30, 31]);
    expect(rb.next).to.equal(2);
    expect(rb.insert(0xffff_ffff, 1)).to.equal(false);
    expect(rb.counters.stale).to.equal(1);
  });

  it('releases any permutation of n numbers (some skipped) in order, exactly once, across 2^32', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 400 })
          .chain((n) =>
            fc.tuple(
              fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
              fc.array(fc.boolean(), { minLength: n, maxLength: n }),
              fc.constantFrom(1, 4, 16, 64, 512),
              fc.oneof(
                fc.constant(0),
                fc.integer({ min: 0xffff_ffff - 500, max: 0xffff_ffff }),
                fc.nat({ max: 0xffff_ffff }),
              ),
              fc.array(fc.nat({ max: 5 }), { minLength: n, maxLength: n }),
            ),
          ),
        ([order, skipped, capacity, start, releaseEvery]) => {
          const rb = new ReorderBuffer(capacity, { initialSeq: start });
          const seq = (i: number) => (start + i) >>> 0;
          const out = new Uint32Array(7);
          const got: number[] = [];
          // Producers retry items the window refused (as a stage would after the consumer ran).
          let todo = order;
          let step = 0;
          while (todo.length > 0) {
            const later: number[] = [];
            for (const i of todo) {
              const ok = skipped[i] ? rb.skip(seq(i)) : rb.insert(seq(i), i * 3 + 1);
              if (!ok) later.push(i);
              if (releaseEvery[step++ % releaseEvery.length] === 0) {
                const k = rb.release(out, 1 + (step % 7));
                got.push(...out.subarray(0, k));
              }
            }
            for (let k; (k = rb.release(out)) > 0;) got.push(...out.subarray(0, k));
            todo = later;
          }
          const expected = [...Array(order.length).keys()].filter((i) => !skipped[i]).map((i) => i * 3 + 1);
          expect(got).to.deep.equal(expected);
          expect(rb.next).to.equal(seq(order.length));
          expect(rb.pending).to.equal(0);
          expect(rb.counters.duplicate).to.equal(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps order with four producer threads and one consumer over a SharedArrayBuffer', async function () {
    this.timeout(60_000);
    const N = 200_000;
    const P = 4;
    const capacity = 8192; // FlexTOE's reorder queues
    const buffer = new SharedArrayBuffer(ReorderBuffer.bytesFor(capacity));
    const rb = new ReorderBuffer(capacity, { buffer, byteOffset: 0, initialSeq: 0xffff_0000 });
    // Producer p owns the numbers with index = p mod P, inserts them in a locally shuffled
    // order, skips every 10th, and retries what the window refused.
    const code = `
      const { parentPort, workerData: w } = require('node:worker_threads');
      import(w.url).then(({ ReorderBuffer }) => {
        const rb = ReorderBuffer.attach(w.buffer, 0);
        let i = w.p;
        while (i < w.n) {
          // swap neighbours within blocks of 8 of this producer's numbers: local disorder
          const j = i + ((((i - w.p) / w.P) & 1) ? -w.P : w.P);
          const idx = j < w.n ? j : i;
          const s = (w.start + idx) >>> 0;
          const ok = idx % 10 === 9 ? rb.skip(s) : rb.insert(s, idx);
          if (ok) i += w.P; else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
        }
        parentPort.postMessage(rb.counters);
      });`;
    const workers = Array.from(
      { length: P },
      (_, p) =>
        new Worker(code, {
          eval: true,
          workerData: { url: COMPILED, buffer, p, P, n: N, start: 0xffff_0000 },
        }),
    );
    const done = workers.map(
      (w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))),
    );
    const out = new Uint32Array(256);
    const kept = (i: number): number => (i % 10 === 9 ? i + 1 : i);
    const end = (0xffff_0000 + N) >>> 0;
    let expected = kept(0);
    let released = 0;
    let bad = -1;
    const deadline = Date.now() + 50_000;
    while (rb.next !== end && bad < 0 && Date.now() < deadline) {
      const k = rb.release(out);
      for (let j = 0; j < k; j++) {
        if (out[j] !== expected && bad < 0) bad = expected;
        expected = kept(expected + 1);
      }
      released += k;
      if (k === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(done);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(bad, `first handle out of order (expected ${bad})`).to.equal(-1);
    expect(rb.next).to.equal((0xffff_0000 + N) >>> 0);
    expect(rb.pending).to.equal(0);
    expect(released).to.equal(N - N / 10);
  });
});

describe('Sequencer', () => {
  it('hands out consecutive numbers per group, independently, wrapping at 2^32', () => {
    const s = new Sequencer(3, { initialSeq: 0xffff_ffff });
    expect(s.next(0)).to.equal(0xffff_ffff);
    expect(s.next(0)).to.equal(0);
    expect(s.next(2)).to.equal(0xffff_ffff);
    expect(s.peek(0)).to.equal(1);
    expect(s.peek(1)).to.equal(0xffff_ffff);
  });

  it('answers -1 for a group it does not have, and counts it', () => {
    const s = new Sequencer(2);
    expect(s.next(2)).to.equal(-1);
    expect(s.next(-1)).to.equal(-1);
    expect(s.next(0.5)).to.equal(-1);
    expect(s.invalidGroup).to.equal(3);
  });

  it('feeds a ReorderBuffer: numbers taken in order, completed out of order, released in order', () => {
    const seqr = new Sequencer(1, { initialSeq: 0xffff_fff0 });
    const rb = new ReorderBuffer(64, { initialSeq: 0xffff_fff0 });
    const taken = Array.from({ length: 40 }, (_, i) => ({ seq: seqr.next(0), item: i }));
    for (const t of [...taken].reverse()) rb.insert(t.seq, t.item);
    expect(drain(rb)).to.deep.equal(taken.map((t) => t.item));
  });
});
