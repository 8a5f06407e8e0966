import { expect } from 'chai';
import fc from 'fast-check';
import { copyFrame } from './copy-frame.js';

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
