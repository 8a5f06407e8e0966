/**
 * `Connection.write(data, offset, length)` copies from the middle of the caller's buffer without
 * a view for short parts, natively for whole buffers and long parts: every shape (a whole
 * buffer, short and long parts at odd offsets, parts split by the TX ring's wrap) must arrive
 * byte-exact, in order.
 */
import { expect } from 'chai';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { Prng } from '../util/prng.js';
import { HeapMemoryTiers } from './heap-memory.js';
import { buildStackUnderTest } from './stack-under-test.js';
import { runVirtual } from './virtual-time.js';

describe('Connection.write from (buffer, offset, length)', function () {
  this.timeout(120_000);

  it('whole buffers, short and long parts at odd offsets, across ring wraps: byte-exact', () => {
    const clock = new ManualClock();
    const net = new VirtualNetwork({ clock, timers: clock, rateGbps: 10, delayNs: 5_000 });
    const mk = (ip: string) =>
      buildStackUnderTest(
        { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
        { ip, maxFlows: 4, minRtoMs: 2, synRtoMs: 20, timeWaitMs: 10, controlTickUs: 100 },
      );
    const a = mk('10.0.0.1/24');
    const b = mk('10.0.0.2/24');
    // The source: a pattern the receiver can check byte by byte; writes take pieces of it.
    const rnd = new Prng(7);
    const source = Buffer.allocUnsafe(1 << 16);
    for (let i = 0; i < source.length; i++) source[i] = rnd.nextU32() & 0xff;
    const pieces: { offset: number; length: number }[] = [];
    let total = 0;
    for (let i = 0; total < 3 << 20; i++) {
      // Whole buffers, then short parts (the view-less copy) and long ones (native), mixed.
      const kind = i % 5;
      const length =
        kind === 0 ? source.length : kind < 3 ? 1 + (rnd.nextU32() % 300) : 2048 + (rnd.nextU32() % 20_000);
      const offset = kind === 0 ? 0 : rnd.nextU32() % (source.length - length);
      pieces.push({ offset, length });
      total += length;
    }
    const expected = Buffer.allocUnsafe(total);
    let at = 0;
    for (const p of pieces) {
      source.copy(expected, at, p.offset, p.offset + p.length);
      at += p.length;
    }

    let received = 0;
    let mismatchAt = -1;
    let ended = false;
    a.listen(5001, (s) => {
      s.handlers.onReadable = (x) => {
        for (const view of x.peek()) {
          if (view === null) continue;
          for (let i = 0; i < view.length && mismatchAt < 0; i++)
            if (view[i] !== expected[received + i]) mismatchAt = received + i;
          received += view.length;
          x.consume(view.length);
        }
      };
      s.handlers.onEnd = () => (ended = true);
    });
    const c = b.connect('10.0.0.1', 5001);
    let piece = 0;
    let done = 0; // bytes of the current piece already written
    let partial = 0; // writes that took less than asked (the ring was nearly full)
    const push = (): void => {
      while (piece < pieces.length && c.canWrite) {
        const p = pieces[piece]!;
        const n = c.write(source, p.offset + done, p.length - done);
        if (n === 0) return;
        if (n < p.length - done) partial++;
        done += n;
        if (done === p.length) {
          piece++;
          done = 0;
        }
      }
      if (piece === pieces.length && !c.txShut) c.shutdown();
    };
    c.handlers.onConnect = push;
    c.handlers.onWritable = push;
    expect(
      runVirtual([a, b], clock, () => ended, 600e9),
      `received ${received} of ${total} B`,
    ).to.equal(true);
    expect(mismatchAt, 'first byte that differs').to.equal(-1);
    expect(received).to.equal(total);
    // The ring filled up, so writes were cut short and the copies split at its end.
    expect(partial).to.be.greaterThan(0);
    a.close();
    b.close();
  });
});
