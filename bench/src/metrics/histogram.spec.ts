import { allocatedBy } from '@flextoe/core';
import { expect } from 'chai';
import fc from 'fast-check';
import { bucketLow, bucketOf, HISTOGRAM_RELATIVE_ERROR, LatencyHistogram } from './histogram.js';

describe('LatencyHistogram', () => {
  it('counts values below 256 exactly', () => {
    const h = new LatencyHistogram();
    for (const v of [0, 1, 7, 255]) h.record(v);
    expect(h.quantile(0.25)).to.equal(0);
    expect(h.quantile(0.5)).to.equal(1);
    expect(h.quantile(0.75)).to.equal(7);
    expect(h.quantile(1)).to.equal(255);
  });

  it('puts every value in a bucket whose low edge is within the relative error below it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (v) => {
        const low = bucketLow(bucketOf(v));
        expect(low).to.be.at.most(v);
        expect(v - low).to.be.at.most(Math.max(0, v * HISTOGRAM_RELATIVE_ERROR));
      }),
    );
  });

  it('has contiguous buckets: the next bucket starts right after the values of this one', () => {
    for (const v of [
      255,
      256,
      257,
      511,
      512,
      1023,
      1024,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 40 + 5,
    ]) {
      expect(bucketOf(v + 1) - bucketOf(v)).to.be.oneOf([0, 1], `at ${v}`);
    }
  });

  it('reports percentiles of a uniform 1..100000 ns sample within the error bound', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const [q, want] of [
      [0.5, 50_000],
      [0.99, 99_000],
      [0.999, 99_900],
      [0.9999, 99_990],
    ] as const) {
      expect(Math.abs(h.quantile(q) - want) / want).to.be.below(HISTOGRAM_RELATIVE_ERROR, `q=${q}`);
    }
    expect(h.count).to.equal(100_000);
    expect(h.min).to.equal(1);
    expect(h.max).to.equal(100_000);
    expect(h.mean).to.equal(50_000.5);
  });

  it('finds a rare tail: 1 slow request in 10 000 is the p99.99, not the p99.9', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 9_999; i++) h.record(20_000);
    h.record(5_000_000);
    expect(h.quantile(0.999)).to.be.closeTo(20_000, 20_000 * HISTOGRAM_RELATIVE_ERROR);
    expect(h.quantile(0.9999)).to.be.closeTo(20_000, 20_000 * HISTOGRAM_RELATIVE_ERROR);
    expect(h.quantile(1)).to.equal(5_000_000);
    h.record(5_000_000);
    expect(h.quantile(0.9999)).to.be.closeTo(5_000_000, 5_000_000 * HISTOGRAM_RELATIVE_ERROR);
  });

  it('merges histograms and resets', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(100);
    b.record(1_000_000);
    a.add(b);
    expect(a.count).to.equal(2);
    expect(a.max).to.equal(1_000_000);
    expect(a.buckets().map(([, n]) => n)).to.deep.equal([1, 1]);
    a.reset();
    expect(a.count).to.equal(0);
    expect(Number.isNaN(a.quantile(0.5))).to.equal(true);
    expect(() => a.quantile(0)).to.throw(RangeError);
  });

  it('clamps negatives to 0 and counts values beyond 2^51 ns as overflows', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(2 ** 52);
    expect(h.min).to.equal(0);
    expect(h.overflows).to.equal(1);
  });

  it('records the bucket bucketOf names', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 52 }), (v) => {
        const h = new LatencyHistogram();
        h.record(v);
        expect(h.buckets()).to.deep.equal([[bucketLow(bucketOf(v)), 1]]);
      }),
    );
  });

  it('records without allocating', () => {
    const h = new LatencyHistogram();
    // Fractional nanoseconds up to ~2^40, like round trips from performance.now() differences,
    // made beforehand; one loop function, warmed up first, so the measurement sees no compiling.
    const xs = Float64Array.from({ length: 200_000 }, (_, i) => ((i * 7919.37) % 1e6) * ((i % 7) + 1) ** 6);
    const recordAll = (): void => {
      for (let i = 0; i < xs.length; i++) h.record(xs[i]!);
    };
    for (let r = 0; r < 3; r++) recordAll();
    // The best of three rounds: a round in which V8 re-optimises the loop (other specs in the same
    // process share its call sites) counts the compiled code; allocation per record would show in
    // every round.
    let best = Infinity;
    for (let r = 0; r < 3; r++) best = Math.min(best, allocatedBy(recordAll));
    expect(best / xs.length).to.be.below(0.1); // allocatedBy's own bookkeeping is ~2 KB
  });
});
