import { expect } from 'chai';
import fc from 'fast-check';
import { DmaDirection } from '../hw/dma-engine.js';
import { MemcpyDma } from './memcpy-dma.js';

describe('dma/MemcpyDma', () => {
  it('copies exactly the range on every path (whole source, prefix of a view, 8-byte elements, words, bytes) and reports completions in order', () => {
    const dma = new MemcpyDma(64);
    // A few memories, reused, as the data path's packet regions and rings are (the view cache).
    const memories = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => new Uint8Array(4096 + i));
    const done = new Uint32Array(64);
    fc.assert(
      fc.property(
        fc.nat(9),
        fc.nat(9),
        fc.nat(4095),
        fc.nat(4095),
        fc.nat(2000),
        fc.boolean(),
        fc.boolean(),
        (si, di, so, doff, n, whole, prefix) => {
          let src = memories[si]!;
          const dst = memories[di === si ? (di + 1) % 10 : di]!;
          let srcOffset = so % src.length;
          const len = Math.min(n, src.length - srcOffset, dst.length - doff);
          if (len < 0) return;
          if (whole) {
            // A view that is exactly the range, or that starts at it and runs on (the data path's
            // payload views: the native prefix copy must take only `len` bytes of it).
            src = prefix ? src.subarray(srcOffset) : src.subarray(srcOffset, srcOffset + len);
            srcOffset = 0;
          }
          for (let i = 0; i < src.length; i++) src[i] = (i * 7 + si) & 0xff;
          dst.fill(0xee);
          expect(dma.submit(DmaDirection.ToHost, src, srcOffset, dst, doff, len, 5)).to.equal(true);
          expect(Buffer.from(dst.subarray(doff, doff + len))).to.deep.equal(
            Buffer.from(src.subarray(srcOffset, srcOffset + len)),
          );
          expect(dst.subarray(0, doff).every((b) => b === 0xee)).to.equal(true);
          expect(dst.subarray(doff + len).every((b) => b === 0xee)).to.equal(true);
          expect(dma.poll(done, 64)).to.equal(1);
          expect(done[0]).to.equal(5);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses beyond its in-flight limit per direction until polled, and rejects out-of-bounds ranges', () => {
    const dma = new MemcpyDma(2);
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    expect(dma.submit(DmaDirection.FromHost, a, 0, b, 0, 8, 1)).to.equal(true);
    expect(dma.submit(DmaDirection.FromHost, a, 8, b, 8, 8, 2)).to.equal(true);
    expect(dma.submit(DmaDirection.FromHost, a, 16, b, 16, 8, 3)).to.equal(false);
    expect(dma.submit(DmaDirection.ToHost, a, 16, b, 16, 8, 4)).to.equal(true);
    expect(dma.inFlight(DmaDirection.FromHost)).to.equal(2);
    const done = new Uint32Array(8);
    expect(Array.from(done.subarray(0, dma.poll(done, 8)))).to.deep.equal([1, 2, 4]);
    expect(dma.inFlight(DmaDirection.FromHost)).to.equal(0);
    expect(() => dma.submit(DmaDirection.ToHost, a, 60, b, 0, 8, 5)).to.throw(RangeError);
  });
});
