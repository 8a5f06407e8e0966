import { expect } from 'chai';
import fc from 'fast-check';
import { copyBytes } from './copy-frame.js';
import {
  allocateOwnedPayloadMemory,
  allocatePayloadMemory,
  isPayloadBuffer,
  payloadMemoryUsed,
  payloadModuleBytes,
  releasePayloadMemory,
  wasmPayload,
} from './wasm-payload.js';
import { wordsOf } from '../wire/bytes.js';
import { foldSum, sumWords, sumWordsVia } from '../wire/checksum.js';

const w = wasmPayload();

describe('wasmPayload (WebAssembly SIMD payload passes)', () => {
  it('validates, and loads on this runtime (Node 20: SIMD, shared memory, bulk memory)', () => {
    const wasm = (globalThis as { WebAssembly?: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(wasm?.validate(payloadModuleBytes())).to.equal(true);
    if (process.env.FLEXTOE_NO_WASM === '1') {
      // The switch the A/B measurements use: no module, no arena (callers keep JavaScript).
      expect(w).to.equal(null);
      expect(allocatePayloadMemory(64)).to.equal(null);
      expect(allocateOwnedPayloadMemory({}, 64)).to.equal(null);
      return;
    }
    expect(w).to.not.equal(null);
    expect(w!.memory.buffer).to.be.instanceOf(SharedArrayBuffer);
  });

  if (w === null) return;
  // A scratch range of the arena (other specs' stacks hold ranges of the same memory):
  // [0, 16 KiB) sources, [32 KiB, 64 KiB) destinations, relative to its start `B`.
  const scratch = allocatePayloadMemory((1 << 18) + 65536)!;
  const B = scratch.byteOffset;
  const mem = new Uint8Array(scratch.buffer, B, (1 << 18) + 65536);
  const words = wordsOf(mem);
  const SRC_MAX = 16384;
  const DST = 32768;
  // The functions take addresses: every offset below is relative to the scratch range.
  const sum = (off: number, len: number): number => w.sum(B + off, len);
  const copy = (dst: number, src: number, len: number): void => w.copy(B + dst, B + src, len);
  const copySum = (dst: number, src: number, len: number): number => w.copySum(B + dst, B + src, len);

  it('hands out 64-byte aligned, zeroed, disjoint ranges of the memory', () => {
    const a = allocatePayloadMemory(100)!;
    const b = allocatePayloadMemory(1)!;
    expect(a.byteOffset % 64).to.equal(0);
    expect(b.byteOffset).to.be.at.least(a.byteOffset + 100);
    expect(isPayloadBuffer(a.buffer)).to.equal(true);
    expect(isPayloadBuffer(new SharedArrayBuffer(8))).to.equal(false);
    expect(new Uint8Array(a.buffer, a.byteOffset, 100).every((x) => x === 0)).to.equal(true);
  });

  // Owned ranges are taken when this file loads, before any spec runs: fresh ones come only while
  // the arena is below a quarter of its maximum, which a whole suite's ports may have passed by the
  // time these specs run. The sizes are this file's alone, so their free lists are too.
  const SIZE = 3 * 4096 + 5;
  const first = {};
  const a = allocateOwnedPayloadMemory(first, SIZE)!;
  const b = allocateOwnedPayloadMemory(first, 100)!;
  const owners = [{}, {}, {}];
  const held = owners.map((o) => allocateOwnedPayloadMemory(o, 1000)!.byteOffset);

  it("recycles an owner's ranges once it releases them: same size first, zeroed, the arena not grown", () => {
    new Uint8Array(a.buffer, a.byteOffset, SIZE).fill(0xab);
    const used = payloadMemoryUsed();
    releasePayloadMemory(first);
    releasePayloadMemory(first); // a second release gives nothing back twice
    const second = {};
    const c = allocateOwnedPayloadMemory(second, SIZE)!;
    expect(c.byteOffset).to.equal(a.byteOffset);
    expect(new Uint8Array(c.buffer, c.byteOffset, SIZE).every((x) => x === 0)).to.equal(true);
    expect(isPayloadBuffer(c.buffer)).to.equal(true);
    expect(payloadMemoryUsed()).to.equal(used);
    // Neither the range just handed out nor the other size's is handed out again for this size.
    const d = allocateOwnedPayloadMemory(second, SIZE);
    expect([a.byteOffset, b.byteOffset]).to.not.include(d?.byteOffset);
    releasePayloadMemory(second);
  });

  it('never hands a range that is still owned to a second owner', () => {
    releasePayloadMemory(owners[1]!);
    expect(allocateOwnedPayloadMemory({}, 1000)!.byteOffset).to.equal(held[1]);
    expect(held).to.not.include(allocateOwnedPayloadMemory({}, 1000)?.byteOffset);
  });

  function fill(bytes: Uint8Array, at: number): void {
    mem.set(bytes, at);
  }

  it('sum matches sumWords / sumWordsVia (folded) for every length 0..64 at every start 0..17', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => (i * 151 + 7) & 0xff);
    fill(bytes, 0);
    for (let start = 0; start < 18; start++) {
      for (let len = 0; len <= 64; len++) {
        const js = foldSum(sumWords(mem, start, start + len, 0));
        expect(sum(start, len), `start ${start} len ${len}`).to.equal(js);
        expect(sum(start, len)).to.equal(foldSum(sumWordsVia(words, B, mem, start, start + len, 0)));
      }
    }
  });

  it('sum is 0 exactly when every word is zero, else 1..0xffff (folded as foldSum)', () => {
    mem.fill(0, 0, 2048);
    expect(sum(3, 1500)).to.equal(0);
    // Words that sum to 0xffff (a ones' complement zero that is not all zeros): 0xfffe + 1.
    mem[10] = 0xff;
    mem[11] = 0xfe;
    mem[13] = 1;
    expect(sum(10, 4)).to.equal(0xffff);
    expect(foldSum(sumWords(mem, 10, 14, 0))).to.equal(0xffff);
  });

  it('sum matches the JavaScript sums for random contents, lengths and starts (odd ones too)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 9000 }), fc.nat(SRC_MAX - 9000), (bytes, at) => {
        fill(bytes, at);
        const js = foldSum(sumWords(mem, at, at + bytes.length, 0));
        expect(sum(at, bytes.length)).to.equal(js);
        expect(foldSum(sumWordsVia(words, B, mem, at, at + bytes.length, 0))).to.equal(js);
      }),
      { numRuns: 300 },
    );
  });

  it('all-0xff words up to the sum limit stay exact in the 32-bit lanes', () => {
    mem.fill(0xff, 0, (1 << 18) + 16);
    expect(sum(0, 1 << 18)).to.equal(foldSum(sumWords(mem, 0, 1 << 18, 0)));
    expect(sum(1, (1 << 18) - 1)).to.equal(foldSum(sumWords(mem, 1, 1 << 18, 0)));
    mem.fill(0, 0, (1 << 18) + 16);
  });

  it('copy moves exactly the range (nothing around it written), any offsets', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.nat(SRC_MAX - 3000),
        fc.nat(8000),
        (bytes, at, dstOff) => {
          fill(bytes, at);
          const dst = DST + 16 + dstOff;
          mem.fill(0xee, dst - 16, dst + bytes.length + 16);
          copy(dst, at, bytes.length);
          expect(Buffer.from(mem.subarray(dst, dst + bytes.length)).equals(bytes)).to.equal(true);
          expect(mem.subarray(dst - 16, dst).every((b) => b === 0xee)).to.equal(true);
          expect(mem.subarray(dst + bytes.length, dst + bytes.length + 16).every((b) => b === 0xee)).to.equal(
            true,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('copySum copies exactly the range and returns the sum of its bytes, every length 0..64 and odd starts', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => (i * 89 + 3) & 0xff);
    fill(bytes, 0);
    for (let start = 0; start < 9; start++) {
      for (let len = 0; len <= 64; len++) {
        const dst = DST + 16 + ((start * 5) & 15);
        mem.fill(0xee, dst - 16, dst + len + 16);
        const sum = copySum(dst, start, len);
        expect(sum, `start ${start} len ${len}`).to.equal(foldSum(sumWords(mem, start, start + len, 0)));
        expect(Buffer.from(mem.subarray(dst, dst + len)).equals(mem.subarray(start, start + len))).to.equal(
          true,
        );
        expect(mem[dst - 1]).to.equal(0xee);
        expect(mem[dst + len]).to.equal(0xee);
      }
    }
  });

  it('copySum out of a ring that wraps (two copies) sums as the JavaScript copy then sum does', () => {
    // The TX case: a payload that wraps the end of a host ring is copied in two parts into a
    // frame; the two partial sums add up to the frame payload's sum when the first part is even
    // (the data path pairs words from the payload's start) and byte-swapped when it is odd.
    const RING = 4096;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: RING, maxLength: RING }),
        fc.nat(RING - 1),
        fc.integer({ min: 1, max: 3000 }),
        fc.nat(63),
        (ring, pos, len, frameOff) => {
          fill(ring, 0);
          const dst = DST + frameOff;
          const first = Math.min(len, RING - pos);
          let s = copySum(dst, pos, first);
          const second = copySum(dst + first, 0, len - first);
          s += (first & 1) === 0 ? second : ((second & 0xff) << 8) | (second >>> 8);
          // Reference: the JavaScript copy into a separate buffer, then the JavaScript sum.
          const ref = new Uint8Array(len);
          copyBytes(ring, pos, ref, 0, first);
          copyBytes(ring, 0, ref, first, len - first);
          expect(Buffer.from(mem.subarray(dst, dst + len)).equals(ref)).to.equal(true);
          expect(foldSum(s)).to.equal(foldSum(sumWords(ref, 0, len, 0)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
