import { expect } from 'chai';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { SpscRing } from './spsc-ring.js';

/** The compiled ring (`npx tsc -b` runs before mocha): the worker tests the real code. */
const COMPILED_RING = new URL('../../dist/queues/spsc-ring.js', import.meta.url).href;

function ring(entryWords: number, capacity: number, shared = false): SpscRing {
  const bytes = SpscRing.bytesFor(entryWords, capacity);
  return new SpscRing(
    shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes),
    0,
    entryWords,
    capacity,
  );
}

/** Starts `body` in a worker (CommonJS eval code) with `ring` bound to an attached SpscRing. */
function startWorker(body: string, workerData: Record<string, unknown>): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then(({ SpscRing }) => {
      const ring = SpscRing.attach(workerData.buffer, workerData.offset, workerData.entryWords, workerData.capacity);
      ${body}
    }).catch((err) => { throw err; });`;
  return new Worker(code, { eval: true, workerData: { url: COMPILED_RING, ...workerData } });
}

function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('SpscRing, one thread', () => {
  it('starts empty, fills to exactly capacity, and counts the refused push as full', () => {
    const r = ring(2, 4);
    expect(r.size).to.equal(0);
    expect(r.free).to.equal(4);
    expect(r.tryPop(new Uint32Array(2))).to.equal(false);
    for (let i = 0; i < 4; i++) expect(r.tryPush([i, i + 100])).to.equal(true);
    expect(r.size).to.equal(4);
    expect(r.free).to.equal(0);
    expect(r.tryPush([9, 9])).to.equal(false);
    expect(r.reserve()).to.equal(-1);
    expect(r.counters).to.deep.equal({ pushed: 4, popped: 0, full: 2 });
    const out = new Uint32Array(2);
    for (let i = 0; i < 4; i++) {
      expect(r.tryPop(out)).to.equal(true);
      expect([...out]).to.deep.equal([i, i + 100]);
    }
    expect(r.tryPop(out)).to.equal(false);
  });

  it('wraps around many times in FIFO order, with source and destination offsets', () => {
    const r = ring(3, 4);
    const src = new Uint32Array(6);
    const out = new Uint32Array(5);
    for (let i = 0; i < 1000; i++) {
      src.set([i, ~i >>> 0, i * 7], 3);
      expect(r.tryPush(src, 3)).to.equal(true);
      // keep two entries in flight so head and tail differ as they cross the wrap
      while (r.size > 2) {
        expect(r.tryPop(out, 2)).to.equal(true);
        expect(out[3]).to.equal(~out[2]! >>> 0);
        expect(out[4]).to.equal(out[2]! * 7);
      }
    }
    const seen: number[] = [];
    while (r.tryPop(out, 2)) {
      expect(out[3]).to.equal(~out[2]! >>> 0);
      seen.push(out[2]!);
    }
    expect(seen).to.deep.equal([998, 999]);
  });

  it('reserve/commit publishes a burst at once, in order; cancel abandons open reservations', () => {
    const r = ring(1, 8);
    const a = r.reserve();
    const b = r.reserve();
    r.data[a] = 1;
    r.data[b] = 2;
    expect(r.size).to.equal(0); // reserved, not published
    expect(r.peek()).to.equal(-1);
    expect(r.free).to.equal(6);
    r.commit();
    expect(r.size).to.equal(2);
    r.data[r.reserve()] = 99;
    r.cancel();
    expect(r.size).to.equal(2);
    r.tryPush([3]);
    const out = new Uint32Array(1);
    const got: number[] = [];
    while (r.tryPop(out)) got.push(out[0]!);
    expect(got).to.deep.equal([1, 2, 3]);
  });

  it('lets the consumer read an entry in place with peek and free it with consume', () => {
    const r = ring(2, 2);
    r.tryPush([5, 6]);
    const slot = r.peek();
    expect(slot).to.be.at.least(0);
    expect([r.data[slot], r.data[slot + 1]]).to.deep.equal([5, 6]);
    expect(r.peek()).to.equal(slot); // peek does not consume
    r.consume();
    expect(r.peek()).to.equal(-1);
    r.consume(); // nothing peeked: no effect
    expect(r.counters.popped).to.equal(1);
  });

  it('behaves like an array queue under random push/pop sequences', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4, 8), fc.array(fc.boolean(), { maxLength: 200 }), (cap, ops) => {
        const r = ring(2, cap);
        const model: number[] = [];
        const out = new Uint32Array(2);
        let n = 0;
        let full = 0;
        for (const push of ops) {
          if (push) {
            const ok = r.tryPush([n, n ^ 0xffff]);
            expect(ok).to.equal(model.length < cap);
            if (ok) model.push(n);
            else full++;
            n++;
          } else {
            const ok = r.tryPop(out);
            expect(ok).to.equal(model.length > 0);
            if (ok) expect(out[0]).to.equal(model.shift());
          }
          expect(r.size).to.equal(model.length);
          expect(r.free).to.equal(cap - model.length);
        }
        expect(r.counters.full).to.equal(full);
      }),
    );
  });

  it('does not block on an ArrayBuffer ring (Atomics.wait needs shared memory)', () => {
    const r = ring(1, 2);
    const t0 = Date.now();
    expect(r.waitForData(1000)).to.equal(false);
    expect(Date.now() - t0).to.be.below(500);
    r.tryPush([1]);
    r.tryPush([2]);
    expect(r.waitForSpace(1000)).to.equal(false);
    expect(r.waitForData(1000)).to.equal(true);
  });

  it('times out waitForData on an empty shared ring', () => {
    const r = ring(1, 2, true);
    const t0 = Date.now();
    expect(r.waitForData(20)).to.equal(false);
    expect(Date.now() - t0).to.be.at.least(15);
  });

  it('attaches to an initialised ring, and refuses a missing ring or other geometry', () => {
    const buf = new SharedArrayBuffer(SpscRing.bytesFor(4, 16) + 64);
    const producer = new SpscRing(buf, 64, 4, 16);
    const consumer = SpscRing.attach(buf, 64, 4, 16);
    producer.tryPush([1, 2, 3, 4]);
    const out = new Uint32Array(4);
    expect(consumer.tryPop(out)).to.equal(true);
    expect([...out]).to.deep.equal([1, 2, 3, 4]);
    expect(producer.free).to.equal(16);
    expect(() => SpscRing.attach(buf, 64, 2, 16)).to.throw(RangeError, /16 entries of 4 words/);
    expect(() => SpscRing.attach(buf, 0, 4, 16)).to.throw(RangeError, /no ring/);
    expect(() => new SpscRing(buf, 64, 4, 12)).to.throw(RangeError, /power of two/);
    expect(() => new SpscRing(new ArrayBuffer(64), 0, 4, 16)).to.throw(RangeError, /needs/);
  });
});

describe('SpscRing across worker_threads', function () {
  this.timeout(60_000);

  it('delivers 1 000 000 sequenced entries from a worker in order, complete and untorn', async () => {
    const N = 1_000_000;
    const entryWords = 4;
    const capacity = 1024; // small, so the ring wraps ~1000 times and runs full
    const buffer = new SharedArrayBuffer(SpscRing.bytesFor(entryWords, capacity));
    const r = new SpscRing(buffer, 0, entryWords, capacity);
    // Producer: bursts of 1..32 entries through reserve/commit, every 7th through tryPush;
    // when the ring is full it sleeps in waitForSpace.
    const w = startWorker(
      `
      const N = workerData.n;
      const tmp = new Uint32Array(4);
      let seq = 0;
      while (seq < N) {
        if (seq % 7 === 0) {
          tmp[0] = seq; tmp[1] = ~seq >>> 0; tmp[2] = Math.imul(seq, 0x9e3779b1) >>> 0; tmp[3] = 0xabcd0000 ^ seq;
          if (ring.tryPush(tmp)) seq++; else ring.waitForSpace(100);
          continue;
        }
        const burst = Math.min(1 + (seq % 32), N - seq);
        let k = 0;
        for (; k < burst; k++) {
          const s = ring.reserve();
          if (s < 0) break;
          const v = seq + k;
          ring.data[s] = v; ring.data[s + 1] = ~v >>> 0; ring.data[s + 2] = Math.imul(v, 0x9e3779b1) >>> 0; ring.data[s + 3] = 0xabcd0000 ^ v;
        }
        ring.commit();
        seq += k;
        if (k < burst) ring.waitForSpace(100);
      }
      parentPort.postMessage(ring.counters);
      `,
      { buffer, offset: 0, entryWords, capacity, n: N },
    );
    const done = nextMessage<{ pushed: number; popped: number; full: number }>(w);
    let expected = 0;
    let bad = -1;
    let slept = 0;
    const deadline = Date.now() + 50_000;
    while (expected < N && Date.now() < deadline) {
      const s = r.peek();
      if (s < 0) {
        slept++;
        r.waitForData(100);
        continue;
      }
      const d = r.data;
      const v = expected;
      if (
        d[s] !== v ||
        d[s + 1] !== ~v >>> 0 ||
        d[s + 2] !== Math.imul(v, 0x9e3779b1) >>> 0 ||
        d[s + 3] !== (0xabcd0000 ^ v) >>> 0
      ) {
        bad = v;
        break;
      }
      r.consume();
      expected++;
    }
    expect(bad, `first bad entry (expected seq ${bad})`).to.equal(-1);
    expect(expected).to.equal(N);
    const counters = await done;
    await w.terminate();
    expect(counters.pushed).to.equal(N);
    expect(r.size).to.equal(0);
    expect(r.peek()).to.equal(-1);
    // How often each side had to wait, for whoever reads a slow run.
    if (process.env.FLEXTOE_VERBOSE) console.log(`consumer waits ${slept}, producer full ${counters.full}`);
  });

  it('wakes a consumer sleeping in waitForData when the worker publishes', async () => {
    const buffer = new SharedArrayBuffer(SpscRing.bytesFor(1, 4));
    const r = new SpscRing(buffer, 0, 1, 4);
    const w = startWorker(
      `
      parentPort.postMessage('ready');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // sleep 50 ms
      ring.tryPush([42]);
      `,
      { buffer, offset: 0, entryWords: 1, capacity: 4 },
    );
    await nextMessage(w);
    const t0 = Date.now();
    expect(r.waitForData(10_000)).to.equal(true);
    const waited = Date.now() - t0;
    expect(waited).to.be.below(5_000);
    const out = new Uint32Array(1);
    expect(r.tryPop(out)).to.equal(true);
    expect(out[0]).to.equal(42);
    await w.terminate();
  });

  it('wakes a producer sleeping in waitForSpace when the consumer frees a slot', async () => {
    const buffer = new SharedArrayBuffer(SpscRing.bytesFor(1, 2));
    const r = new SpscRing(buffer, 0, 1, 2);
    const w = startWorker(
      `
      ring.tryPush([1]); ring.tryPush([2]);
      parentPort.postMessage('full');
      const t0 = Date.now();
      const ok = ring.waitForSpace(10000);
      parentPort.postMessage({ ok, waited: Date.now() - t0, pushed: ring.tryPush([3]) });
      `,
      { buffer, offset: 0, entryWords: 1, capacity: 2 },
    );
    await nextMessage(w);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const out = new Uint32Array(1);
    expect(r.tryPop(out)).to.equal(true);
    const res = await nextMessage<{ ok: boolean; waited: number; pushed: boolean }>(w);
    expect(res.ok).to.equal(true);
    expect(res.pushed).to.equal(true);
    expect(res.waited).to.be.below(5_000);
    await w.terminate();
  });
});
