import { expect } from 'chai';
import fc from 'fast-check';
import { Prng } from './prng.js';

const take = (p: Prng, n: number): number[] => Array.from({ length: n }, () => p.nextU32());

describe('Prng (xoshiro128**)', () => {
  describe('reference vectors', () => {
    it('matches the reference C implementation from state (0, 1, 2, 3)', () => {
      // Published vectors for xoshiro128** 1.1, and reproduced with prng.di.unimi.it's C code.
      expect(take(Prng.fromState(0, 1, 2, 3), 8)).to.deep.equal([
        5760, 17280, 2966400, 32451840, 2604340873, 3891234569, 1254043636, 216095511,
      ]);
    });

    it('matches the reference C implementation from state (1, 2, 3, 4)', () => {
      expect(take(Prng.fromState(1, 2, 3, 4), 8)).to.deep.equal([
        11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
      ]);
    });

    it('pins the seeding: seed 42 and seed "flextoe" give these sequences on every platform', () => {
      // Regression pins: if seeding changes, every recorded simulation and fault run changes.
      expect(take(new Prng(42), 4)).to.deep.equal(SEED_42);
      expect(take(new Prng('flextoe'), 4)).to.deep.equal(SEED_FLEXTOE);
    });

    it('refuses the all-zero state, which never leaves zero', () => {
      expect(() => Prng.fromState(0, 0, 0, 0)).to.throw(RangeError);
    });
  });

  describe('determinism', () => {
    it('same seed gives the same sequence', () => {
      fc.assert(
        fc.property(fc.oneof(fc.maxSafeInteger(), fc.string()), (seed) => {
          expect(take(new Prng(seed), 16)).to.deep.equal(take(new Prng(seed), 16));
        }),
      );
    });

    it('nearby seeds give unrelated sequences', () => {
      const a = take(new Prng(1), 64);
      const b = take(new Prng(2), 64);
      expect(a.filter((x, i) => x === b[i])).to.have.length(0);
    });

    it('uses the high 32 bits of large integer seeds', () => {
      expect(take(new Prng(2 ** 32), 4)).to.not.deep.equal(take(new Prng(0), 4));
    });

    it('refuses seeds that are not safe integers', () => {
      expect(() => new Prng(1.5)).to.throw(RangeError);
      expect(() => new Prng(2 ** 53)).to.throw(RangeError);
    });
  });

  describe('fork', () => {
    it('depends on the seed and label only, not on what the parent drew', () => {
      const fresh = new Prng(7);
      const used = new Prng(7);
      take(used, 100);
      expect(take(fresh.fork('loss'), 8)).to.deep.equal(take(used.fork('loss'), 8));
    });

    it('gives different streams for different labels and different parents', () => {
      const p = new Prng(7);
      expect(take(p.fork('loss'), 8)).to.not.deep.equal(take(p.fork('corrupt'), 8));
      expect(take(p.fork('loss'), 8)).to.not.deep.equal(take(new Prng(8).fork('loss'), 8));
      expect(take(p.fork('loss'), 8)).to.not.deep.equal(take(p, 8));
    });

    it('forks of forks are streams of their own', () => {
      const p = new Prng(7);
      expect(take(p.fork('a').fork('b'), 8)).to.not.deep.equal(take(p.fork('b').fork('a'), 8));
    });
  });

  describe('ranges and distribution', () => {
    it('nextU32 is an integer in [0, 2^32); nextFloat in [0, 1)', () => {
      const p = new Prng(3);
      for (let i = 0; i < 10_000; i++) {
        const u = p.nextU32();
        expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).to.equal(true);
        const f = p.nextFloat();
        expect(f >= 0 && f < 1).to.equal(true);
      }
    });

    it('nextInt(n) stays in [0, n) for any n', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer(), (n, seed) => {
          const p = new Prng(seed);
          for (let i = 0; i < 20; i++) {
            const x = p.nextInt(n);
            expect(Number.isInteger(x) && x >= 0 && x < n).to.equal(true);
          }
        }),
      );
    });

    it('nextInt rejects bad bounds', () => {
      const p = new Prng(3);
      for (const n of [0, -1, 1.5, 2 ** 32 + 1, NaN]) expect(() => p.nextInt(n)).to.throw(RangeError);
    });

    it('nextInt is uniform (chi-squared over 10 buckets, 100k draws)', () => {
      const p = new Prng(11);
      const counts = new Array<number>(10).fill(0);
      const draws = 100_000;
      for (let i = 0; i < draws; i++) counts[p.nextInt(10)]!++;
      const expected = draws / 10;
      const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      expect(chi2).to.be.below(27.88); // 9 degrees of freedom, p = 0.001
    });

    it('chance(p) comes true at rate p', () => {
      const p = new Prng(5);
      let hits = 0;
      for (let i = 0; i < 100_000; i++) if (p.chance(0.25)) hits++;
      expect(hits / 100_000).to.be.closeTo(0.25, 0.005);
      expect(p.chance(0)).to.equal(false);
      expect(p.chance(1)).to.equal(true);
    });

    it('mean of nextFloat is 1/2 and bits are balanced', () => {
      const p = new Prng(9);
      let sum = 0;
      const ones = new Array<number>(32).fill(0);
      const n = 50_000;
      for (let i = 0; i < n; i++) {
        const u = p.nextU32();
        sum += u / 2 ** 32;
        for (let b = 0; b < 32; b++) ones[b]! += (u >>> b) & 1;
      }
      expect(sum / n).to.be.closeTo(0.5, 0.01);
      for (const c of ones) expect(c / n).to.be.closeTo(0.5, 0.015);
    });
  });
});

const SEED_42 = [1671935488, 3474464058, 393340883, 3332288541];
const SEED_FLEXTOE = [1302881537, 1467557000, 1458112996, 4170769341];
