import { expect } from 'chai';
import fc from 'fast-check';
import { allocatedBy } from './allocation-meter.js';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { copyBytes, copyFrame, copyFrameVia } from './copy-frame.js';
import { allocatePayloadMemory, wasmPayload } from './wasm-payload.js';

describe('copyFrame', () => {
  it('copies the frame into place and never writes before it, whatever the sizes (both native paths)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 5000 }),
        fc.nat(5000),
        fc.nat(100),
        fc.nat(5000),
        (src, lenSeed, dstOffset, slack) => {
          const len = 1 + (lenSeed % src.length);
          const dst = Buffer.alloc(dstOffset + len + slack, 0xee);
          copyFrame(src, dst, len, dstOffset);
          expect(dst.subarray(dstOffset, dstOffset + len).equals(src.subarray(0, len))).to.equal(true);
          expect(dst.subarray(0, dstOffset).every((b) => b === 0xee)).to.equal(true);
        },
      ),
    );
  });

  it('copies exactly the range on the fill path (large sources)', () => {
    const src = Buffer.alloc(4096, 1);
    const dst = Buffer.alloc(4096, 0xee);
    copyFrame(src, dst, 10, 5);
    expect([dst[4], dst[5], dst[14], dst[15]]).to.deep.equal([0xee, 1, 1, 0xee]);
  });

  it('refuses ranges that do not fit', () => {
    expect(() => copyFrame(Buffer.alloc(10), Buffer.alloc(100), 11)).to.throw(RangeError);
    expect(() => copyFrame(Buffer.alloc(10), Buffer.alloc(10), 10, 1)).to.throw(RangeError);
  });
});

describe('copyFrameVia', () => {
  it('copies the frame between packet buffers at any alignment, short frames exactly (nothing after them)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 1500 }),
        fc.nat(7),
        fc.nat(7),
        (bytes, srcAt, dstAt) => {
          const region = (): SharedArrayBuffer => new SharedArrayBuffer(1536 + 16);
          const src = new PacketBuffer(1536, { buffer: region(), byteOffset: srcAt });
          const dstRegion = region();
          new Uint8Array(dstRegion).fill(0xee);
          const dst = new PacketBuffer(1536, { buffer: dstRegion, byteOffset: dstAt });
          src.data.set(bytes);
          const len = bytes.length;
          const byAddress = src.inPayloadMemory && dst.inPayloadMemory;
          expect(byAddress).to.equal(false);
          copyFrameVia(src.data, src.words, src.wordBase, dst.data, dst.words, dst.wordBase, len, byAddress);
          expect(dst.data.subarray(0, len).equals(src.data.subarray(0, len))).to.equal(true);
          const all = new Uint8Array(dstRegion);
          expect(
            all.subarray(0, dstAt).every((b) => b === 0xee),
            'before the frame',
          ).to.equal(true);
          if (len <= 256) {
            expect(
              all.subarray(dstAt + len).every((b) => b === 0xee),
              'after a short frame',
            ).to.equal(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('between two buffers of the payload memory copies by address, exactly the frame', function () {
    if (wasmPayload() === null) this.skip();
    const region = (): { buffer: SharedArrayBuffer; byteOffset: number } => allocatePayloadMemory(1536 + 16)!;
    const srcRegion = region();
    const dstRegion = region();
    const around = new Uint8Array(dstRegion.buffer, dstRegion.byteOffset, 1536 + 16);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 1500 }),
        fc.nat(7),
        fc.nat(7),
        (bytes, srcAt, dstAt) => {
          const src = new PacketBuffer(1536, {
            buffer: srcRegion.buffer,
            byteOffset: srcRegion.byteOffset + srcAt,
          });
          const dst = new PacketBuffer(1536, {
            buffer: dstRegion.buffer,
            byteOffset: dstRegion.byteOffset + dstAt,
          });
          expect(src.inPayloadMemory && dst.inPayloadMemory).to.equal(true);
          around.fill(0xee);
          src.data.set(bytes);
          const len = bytes.length;
          copyFrameVia(src.data, src.words, src.wordBase, dst.data, dst.words, dst.wordBase, len, true);
          expect(dst.data.subarray(0, len).equals(src.data.subarray(0, len))).to.equal(true);
          expect(around.subarray(0, dstAt).every((b) => b === 0xee)).to.equal(true);
          expect(around.subarray(dstAt + len).every((b) => b === 0xee)).to.equal(true);
        },
      ),
      { numRuns: 300 },
    );
    // A frame longer than either buffer is refused as on the other paths.
    const a = new PacketBuffer(64, srcRegion);
    const b = new PacketBuffer(64, dstRegion);
    expect(() => copyFrameVia(a.data, a.words, a.wordBase, b.data, b.words, b.wordBase, 65, true)).to.throw(
      RangeError,
    );
  });
});

describe('copyBytes', () => {
  it('copies exactly the range for any offsets, lengths and alignments (byte, aligned and shifted word paths)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.nat(4000),
        fc.nat(4000),
        fc.nat(7),
        fc.nat(7),
        fc.nat(9),
        (bytes, srcSeed, lenSeed, srcView, dstView, slack) => {
          // Views at odd byte offsets of backings with odd lengths, so every alignment and the
          // end-of-buffer edge are reached.
          const srcBacking = new Uint8Array(srcView + bytes.length + (slack & 3));
          srcBacking.set(bytes, srcView);
          const src = srcBacking.subarray(srcView, srcView + bytes.length);
          const srcOffset = srcSeed % bytes.length;
          const len = lenSeed % (bytes.length - srcOffset + 1);
          const dstOffset = slack;
          const dstBacking = new Uint8Array(dstView + dstOffset + len + slack).fill(0xee);
          const dst = dstBacking.subarray(dstView);
          copyBytes(src, srcOffset, dst, dstOffset, len);
          expect(Buffer.from(dst.subarray(dstOffset, dstOffset + len))).to.deep.equal(
            Buffer.from(bytes.subarray(srcOffset, srcOffset + len)),
          );
          expect(dst.subarray(0, dstOffset).every((b) => b === 0xee)).to.equal(true);
          expect(dst.subarray(dstOffset + len).every((b) => b === 0xee)).to.equal(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('moves bytes that read as NaN doubles unchanged on the 8-byte path, before and after V8 optimises it', () => {
    // The wide path loads and stores Float64Array elements: an engine that canonicalised NaNs
    // would corrupt payload. Every element here is a NaN (signalling and quiet, both signs,
    // payload bits everywhere) or an infinity; thousands of rounds reach optimised code.
    const elements = 4096;
    const ring = new Uint8Array(new SharedArrayBuffer(elements * 8 + 8));
    const halves = new Uint32Array(ring.buffer);
    for (let i = 0; i < elements; i++) {
      halves[2 * i] = i % 3 === 0 ? 1 : (Math.imul(i, 0x9e3779b9) >>> 0) | (i & 1);
      const sign = i & 2 ? 0x80000000 : 0;
      halves[2 * i + 1] = (sign | 0x7ff00000 | (i % 5 === 0 ? 0 : (i * 2654435761) & 0xfffff)) >>> 0;
    }
    const frame = new Uint8Array(elements * 8 + 8);
    for (let round = 0; round < 3000; round++) {
      frame.fill(0);
      copyBytes(ring, 0, frame, 0, elements * 8);
      if (round % 500 === 0 || round === 2999)
        expect(Buffer.compare(frame.subarray(0, elements * 8), ring.subarray(0, elements * 8))).to.equal(0);
    }
    // Shared alignment at a non-zero offset modulo 8 (head and tail bytes, then elements).
    copyBytes(ring, 3, frame, 11, 1448);
    expect(Buffer.compare(frame.subarray(11, 11 + 1448), ring.subarray(3, 3 + 1448))).to.equal(0);
  });

  it('moves overlapping ranges of one buffer like memmove', () => {
    const b = Uint8Array.from({ length: 100 }, (_, i) => i);
    copyBytes(b, 0, b, 10, 50);
    expect(Array.from(b.subarray(10, 60))).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
  });

  it('allocates nothing once the word views of its buffers exist', () => {
    const src = Buffer.alloc(1536, 7);
    const ring = new Uint8Array(new SharedArrayBuffer(1 << 16));
    const run = (): void => {
      for (let k = 0; k < 20_000; k++) {
        const pos = (k * 1449) & 0xefff;
        copyBytes(src, 66, ring, pos, 1448);
        copyBytes(ring, pos, src, 66, 1448);
        copyBytes(src, 2, ring, pos + 1, 64);
      }
    };
    run();
    // 60 000 copies: a view per copy would be ~6 MB; what remains is the meter's own bookkeeping.
    // Best of three: in a long test run V8 may still be (re)optimising during the first one,
    // and compiled code counts as heap.
    const best = Math.min(allocatedBy(run), allocatedBy(run), allocatedBy(run));
    expect(best).to.be.below(20_000);
  });
});
