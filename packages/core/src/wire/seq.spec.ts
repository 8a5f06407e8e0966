import { expect } from 'chai';
import fc from 'fast-check';
import { seq, type SeqNumber } from './seq.js';
import { u32 } from './spec-helpers.js';

const s = (n: number): SeqNumber => seq.from(n);
const anySeq = u32.map(s);
/** Distances for which RFC 1982 comparison is defined: 0 <= n < 2^31. */
const forwardDistance = fc.integer({ min: 0, max: 2 ** 31 - 1 });

describe('wire/seq (RFC 9293 3.4, RFC 1982)', () => {
  describe('across the 2^32 wrap', () => {
    it('0xffffffff + 1 is 0, and 0 - 1 is 0xffffffff', () => {
      expect(seq.add(s(0xffffffff), 1)).to.equal(0);
      expect(seq.sub(s(0), 1)).to.equal(0xffffffff);
      expect(seq.add(s(0xfffffff0), 0x20)).to.equal(0x10);
    });

    it('orders 0xffffffff before 0', () => {
      expect(seq.lt(s(0xffffffff), s(0))).to.equal(true);
      expect(seq.gt(s(0), s(0xffffffff))).to.equal(true);
      expect(seq.le(s(0xffffffff), s(0))).to.equal(true);
      expect(seq.ge(s(0), s(0xffffffff))).to.equal(true);
      expect(seq.lt(s(0), s(0xffffffff))).to.equal(false);
    });

    it('measures signed distances over the wrap', () => {
      expect(seq.diff(s(0), s(0xffffffff))).to.equal(1);
      expect(seq.diff(s(0xffffffff), s(0))).to.equal(-1);
      expect(seq.diff(s(5), s(0xfffffffb))).to.equal(10);
    });

    it('max/min pick the later/earlier number across the wrap', () => {
      expect(seq.max(s(0xfffffffe), s(3))).to.equal(3);
      expect(seq.min(s(0xfffffffe), s(3))).to.equal(0xfffffffe);
    });

    it('inRange handles a window that straddles 0', () => {
      const lo = s(0xfffffff0);
      const hi = s(0x10);
      expect(seq.inRange(s(0xfffffff0), lo, hi)).to.equal(true);
      expect(seq.inRange(s(0xffffffff), lo, hi)).to.equal(true);
      expect(seq.inRange(s(0), lo, hi)).to.equal(true);
      expect(seq.inRange(s(0xf), lo, hi)).to.equal(true);
      expect(seq.inRange(s(0x10), lo, hi), 'hi is exclusive').to.equal(false);
      expect(seq.inRange(s(0xffffffef), lo, hi)).to.equal(false);
      expect(seq.inRange(s(7), s(7), s(7)), 'empty range').to.equal(false);
    });

    it('inWindow(x, start, len) handles a window that straddles 0', () => {
      expect(seq.inWindow(s(2), s(0xfffffffe), 8)).to.equal(true);
      expect(seq.inWindow(s(6), s(0xfffffffe), 8)).to.equal(false);
      expect(seq.inWindow(s(0xfffffffe), s(0xfffffffe), 0)).to.equal(false);
    });

    it('from() reduces modulo 2^32, also negative numbers', () => {
      expect(seq.from(2 ** 32)).to.equal(0);
      expect(seq.from(-1)).to.equal(0xffffffff);
      expect(seq.from(2 ** 32 + 5)).to.equal(5);
    });

    it('numbers exactly 2^31 apart compare as lt both ways (RFC 1982 3.2: undefined)', () => {
      const a = s(0x80000000);
      const b = s(0);
      expect(seq.lt(a, b)).to.equal(true);
      expect(seq.lt(b, a)).to.equal(true);
      expect(seq.diff(a, b)).to.equal(-(2 ** 31));
    });
  });

  describe('properties', () => {
    it('gt(add(a, n + 1), a) for 0 <= n < 2^31 - 1', () => {
      fc.assert(
        fc.property(anySeq, fc.integer({ min: 0, max: 2 ** 31 - 2 }), (a, n) => seq.gt(seq.add(a, n + 1), a)),
      );
    });

    it('diff(add(a, n), a) === n and sub undoes add', () => {
      fc.assert(
        fc.property(anySeq, forwardDistance, (a, n) => {
          expect(seq.diff(seq.add(a, n), a)).to.equal(n);
          expect(seq.diff(a, seq.add(a, n))).to.equal(-n);
          expect(seq.sub(seq.add(a, n), n)).to.equal(a);
        }),
      );
    });

    it('results stay unsigned 32-bit integers', () => {
      fc.assert(
        fc.property(anySeq, fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (a, n) => {
          for (const r of [seq.add(a, n), seq.sub(a, n)]) {
            expect(Number.isInteger(r) && r >= 0 && r <= 0xffffffff).to.equal(true);
          }
        }),
      );
    });

    it('lt is antisymmetric and total except at distance 2^31; eq iff diff 0', () => {
      fc.assert(
        fc.property(anySeq, anySeq, (a, b) => {
          fc.pre((a - b) >>> 0 !== 0x80000000);
          expect(seq.lt(a, b) && seq.lt(b, a)).to.equal(false);
          expect(seq.lt(a, b) || seq.lt(b, a) || seq.eq(a, b)).to.equal(true);
          expect(seq.eq(a, b)).to.equal(seq.diff(a, b) === 0);
          expect(seq.le(a, b)).to.equal(seq.lt(a, b) || seq.eq(a, b));
          expect(seq.gt(a, b)).to.equal(seq.lt(b, a));
          expect(seq.ge(a, b)).to.equal(seq.le(b, a));
          expect(seq.max(a, b)).to.equal(seq.lt(a, b) ? b : a);
          expect(seq.min(a, b)).to.equal(seq.lt(a, b) ? a : b);
        }),
      );
    });

    it('inRange(x, lo, lo + len) agrees with 0 <= diff(x, lo) < len', () => {
      fc.assert(
        fc.property(
          anySeq,
          forwardDistance,
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          (lo, len, d) => {
            const x = seq.add(lo, d);
            const hi = seq.add(lo, len);
            const expected = d >= 0 && d < len;
            expect(seq.inRange(x, lo, hi)).to.equal(expected);
            expect(seq.inWindow(x, lo, len)).to.equal(expected);
            if (expected) expect(seq.le(lo, x) && seq.lt(x, hi)).to.equal(true);
          },
        ),
      );
    });

    it('lt is transitive within a half space', () => {
      fc.assert(
        fc.property(anySeq, forwardDistance, forwardDistance, (a, m, n) => {
          fc.pre(m + n < 2 ** 31 && m > 0 && n > 0);
          const b = seq.add(a, m);
          const c = seq.add(b, n);
          expect(seq.lt(a, b) && seq.lt(b, c) && seq.lt(a, c)).to.equal(true);
        }),
      );
    });
  });
});
