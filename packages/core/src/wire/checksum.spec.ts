import { expect } from 'chai';
import fc from 'fast-check';
import {
  checksumVerifies,
  finishChecksum,
  foldSum,
  internetChecksum,
  pseudoHeaderSum,
  sumWords,
  updateChecksum16,
  updateChecksum32,
} from './checksum.js';
import { u16, u32 } from './spec-helpers.js';

/** Textbook RFC 1071 reference: add 16-bit words with an end-around carry after every add. */
function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

describe('wire/checksum (RFC 1071, RFC 1624)', () => {
  it('matches the RFC 1071 section 3 numerical example', () => {
    const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(foldSum(sumWords(bytes, 0, bytes.length, 0))).to.equal(0xddf2);
    expect(internetChecksum(bytes, 0, bytes.length)).to.equal(0x220d);
  });

  it('pads an odd final byte with zero on the right (RFC 9293 3.1)', () => {
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56), 0, 3)).to.equal(~(0x1234 + 0x5600) & 0xffff);
  });

  it('sums only the given range', () => {
    const bytes = Uint8Array.of(0xff, 0xff, 0x00, 0x01, 0x00, 0x02, 0xff);
    expect(sumWords(bytes, 2, 6, 0)).to.equal(3);
  });

  it('equals the reference over random bytes and offsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(8), (bytes, skip) => {
        const start = Math.min(skip, bytes.length);
        expect(internetChecksum(bytes, start, bytes.length)).to.equal(
          referenceChecksum(bytes.subarray(start)),
        );
      }),
    );
  });

  it('equals the reference on views at any byte offset of a larger buffer (word-wide path)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 132, maxLength: 1600 }), fc.nat(7), (bytes, at) => {
        const backing = new Uint8Array(bytes.length + 16).fill(0xa5);
        backing.set(bytes, at);
        const view = backing.subarray(at, at + bytes.length);
        for (const start of [0, 1, 2, 3]) {
          expect(internetChecksum(view, start, view.length)).to.equal(
            referenceChecksum(bytes.subarray(start)),
          );
        }
      }),
    );
  });

  it("folds the word path's carries exactly at the extremes (all-ones words, long ranges)", () => {
    // The 32-bit word sum passes 2^32 within two words of 0xff bytes: every carry fold runs.
    for (const length of [132, 133, 1448, 4096, 65535, 65536]) {
      for (const fill of [0xff, 0xfe, 0x01]) {
        const bytes = new Uint8Array(length).fill(fill);
        bytes[length >>> 1] = 0;
        expect(internetChecksum(bytes, 0, length), `${length} B of ${fill}`).to.equal(
          referenceChecksum(bytes),
        );
        expect(internetChecksum(bytes, 2, length)).to.equal(referenceChecksum(bytes.subarray(2)));
      }
    }
    for (const sum of [0xffffffff, 0x100000000, 0xfffffffffff, 2 ** 53 - 1]) {
      const folded = foldSum(sum);
      expect(folded).to.be.within(1, 0xffff);
      expect(folded % 0xffff).to.equal(sum % 0xffff);
    }
  });

  it('a buffer carrying its own checksum verifies; any single-bit flip does not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat(), (bytes, bit) => {
        const data = Uint8Array.of(0x45, 0x00, 0, 0, ...bytes); // non-zero word, checksum at 2
        const c = internetChecksum(data, 0, data.length);
        data[2] = c >>> 8;
        data[3] = c & 0xff;
        expect(checksumVerifies(sumWords(data, 0, data.length, 0))).to.equal(true);
        const flip = bit % (data.length * 8);
        data[flip >>> 3]! ^= 1 << (flip & 7);
        expect(checksumVerifies(sumWords(data, 0, data.length, 0))).to.equal(false);
      }),
    );
  });

  it("folds any unfolded sum up to 2^53 to its ones' complement value in 1..0xffff", () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (sum) => {
        const folded = foldSum(sum);
        expect(folded % 0xffff).to.equal(sum % 0xffff); // 2^16 = 1 (mod 0xffff)
        expect(folded).to.be.within(sum === 0 ? 0 : 1, 0xffff);
      }),
    );
    expect(foldSum(0xffff)).to.equal(0xffff);
    expect(foldSum(0x1_0000)).to.equal(1);
    expect(foldSum(2 ** 32)).to.equal(1);
  });

  it('pseudo-header sum equals summing the 12-byte pseudo-header (RFC 9293 3.1)', () => {
    fc.assert(
      fc.property(u32, u32, fc.nat(255), u16, (src, dst, protocol, length) => {
        // prettier-ignore
        const ph = Uint8Array.of(
          src >>> 24, (src >>> 16) & 0xff, (src >>> 8) & 0xff, src & 0xff,
          dst >>> 24, (dst >>> 16) & 0xff, (dst >>> 8) & 0xff, dst & 0xff,
          0, protocol, length >>> 8, length & 0xff,
        );
        expect(finishChecksum(pseudoHeaderSum({ src, dst }, protocol, length))).to.equal(
          internetChecksum(ph, 0, 12),
        );
      }),
    );
  });

  describe('incremental update (RFC 1624)', () => {
    it('reproduces the RFC 1624 section 4 example: eqn 3 gives 0x0000 where eqn 2 gave 0xFFFF', () => {
      expect(updateChecksum16(0xdd2f, 0x5555, 0x3285)).to.equal(0x0000);
    });

    /** Random header-like data whose first word is non-zero, as in IPv4 and TCP. */
    const data = fc
      .tuple(fc.integer({ min: 1, max: 0xffff }), fc.uint8Array({ minLength: 6, maxLength: 80 }))
      .map(([first, rest]) =>
        Uint8Array.of(first >>> 8, first & 0xff, ...rest.subarray(0, rest.length & ~1)),
      );

    it('a 16-bit field change equals a full recomputation', () => {
      fc.assert(
        fc.property(data, fc.nat(), u16, (bytes, pick, newWord) => {
          const at = 2 + 2 * (pick % ((bytes.length - 2) / 2));
          const before = internetChecksum(bytes, 0, bytes.length);
          const oldWord = (bytes[at]! << 8) | bytes[at + 1]!;
          bytes[at] = newWord >>> 8;
          bytes[at + 1] = newWord & 0xff;
          expect(updateChecksum16(before, oldWord, newWord)).to.equal(
            internetChecksum(bytes, 0, bytes.length),
          );
        }),
      );
    });

    it('a 32-bit field change equals a full recomputation', () => {
      fc.assert(
        fc.property(data, fc.nat(), u32, (bytes, pick, newValue) => {
          fc.pre(bytes.length >= 6);
          const at = 2 + 2 * (pick % ((bytes.length - 4) / 2));
          const before = internetChecksum(bytes, 0, bytes.length);
          const oldValue =
            ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
          bytes.set(
            [newValue >>> 24, (newValue >>> 16) & 0xff, (newValue >>> 8) & 0xff, newValue & 0xff],
            at,
          );
          expect(updateChecksum32(before, oldValue, newValue)).to.equal(
            internetChecksum(bytes, 0, bytes.length),
          );
        }),
      );
    });
  });
});
