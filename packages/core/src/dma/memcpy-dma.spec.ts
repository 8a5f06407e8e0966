import { expect } from 'chai';
import fc from 'fast-check';
import { DmaDirection } from '../hw/dma-engine.js';
import { MemcpyDma } from './memcpy-dma.js';
import { allocatePayloadMemory } from '../util/wasm-payload.js';
import { foldSum, sumWords } from '../wire/checksum.js';

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

  it('copies between views of the WebAssembly payload memory (memory.copy) and submitSummed returns the sum of what it copied, there and elsewhere', () => {
    const dma = new MemcpyDma(64);
    const done = new Uint32Array(64);
    const views = [0, 1].map((i) => {
      const r = allocatePayloadMemory(4096 + i);
      // Without the module: plain memories (the fallback path is then what this checks).
      return r !== null ? new Uint8Array(r.buffer, r.byteOffset + i, 4090) : new Uint8Array(4090);
    });
    const plain = [new Uint8Array(new SharedArrayBuffer(4096), 3, 4090), new Uint8Array(4090)];
    const memories = [...views, ...plain];
    fc.assert(
      fc.property(
        fc.nat(3),
        fc.nat(3),
        fc.nat(4089),
        fc.nat(4089),
        fc.nat(1600),
        fc.nat(255),
        fc.boolean(),
        (si, di, so, doff, n, seed, summed) => {
          const src = memories[si]!;
          const dst = memories[di === si ? (di + 1) % 4 : di]!;
          const len = Math.min(n, src.length - so, dst.length - doff);
          for (let i = 0; i < src.length; i++) src[i] = (i * 131 + seed * 7 + (i >>> 5)) & 0xff;
          if (seed === 0) src.fill(0xff, so, so + len); // sums that fold to 0xffff
          dst.fill(0xee);
          if (summed) {
            const sum = dma.submitSummed(DmaDirection.FromHost, src, so, dst, doff, len, 9);
            expect(sum).to.equal(foldSum(sumWords(src, so, so + len, 0)));
          } else {
            expect(dma.submit(DmaDirection.ToHost, src, so, dst, doff, len, 9)).to.equal(true);
          }
          expect(Buffer.from(dst.subarray(doff, doff + len))).to.deep.equal(
            Buffer.from(src.subarray(so, so + len)),
          );
          expect(dst.subarray(0, doff).every((b) => b === 0xee)).to.equal(true);
          expect(dst.subarray(doff + len).every((b) => b === 0xee)).to.equal(true);
          expect(dma.poll(done, 64)).to.equal(1);
          expect(done[0]).to.equal(9);
        },
      ),
      { numRuns: 1000 },
    );
    // submitSummed honours the in-flight limit (-1, nothing copied) and the range checks.
    const small = new MemcpyDma(1);
    const [a, b] = views;
    a!.fill(1, 0, 64);
    b!.fill(0, 0, 128);
    expect(small.submitSummed(DmaDirection.FromHost, a!, 0, b!, 0, 64, 1)).to.equal(foldSum(32 * 0x0101));
    expect(small.submitSummed(DmaDirection.FromHost, a!, 0, b!, 64, 64, 2)).to.equal(-1);
    expect(b!.subarray(64, 128).every((x) => x === 0)).to.equal(true);
    small.poll(done, 8);
    expect(() => small.submitSummed(DmaDirection.FromHost, a!, 4080, b!, 0, 64, 3)).to.throw(RangeError);
  });
});
