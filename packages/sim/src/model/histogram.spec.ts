import { expect } from 'chai';
import { LatencyHistogram } from './histogram.js';

describe('LatencyHistogram', () => {
  it('is exact below 64 ns', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 50; v++) h.record(v);
    expect(h.quantile(0.5)).to.equal(25);
    expect(h.quantile(1)).to.equal(50);
  });

  it('gives percentiles within 1.6% over a wide range, and the exact maximum', () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const v = 100 + ((i * 7919) % 100_000) * 37; // 100 ns .. 3.7 ms, spread
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.99, 0.999, 0.9999]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      expect(h.quantile(q) / exact).to.be.within(1, 1.016);
    }
    const p = h.percentiles();
    expect(p.count).to.equal(100_000);
    expect(p.maxNs).to.equal(values.at(-1));
    expect(p.p50Ns).to.be.at.most(p.p99Ns);
  });

  it('puts every value, fractional or at a power of two, in a bucket whose upper edge is within 1.6% above it', () => {
    const values: number[] = [];
    for (let e = 6; e <= 42; e++)
      for (const d of [-1e-6, -0.5, 0, 1e-6, 0.5, 1.25]) values.push(2 ** e + d * (e > 40 ? 2 ** 20 : 1));
    values.push(64.7, 1000.001, 6784.9, 2 ** 31 - 0.25, 2 ** 31 + 0.25, 1.5e12);
    // Below 64 ns buckets are whole nanoseconds; the top bucket ends at 2^43 ns.
    for (const v of values.filter((x) => x >= 64 && x < 2 ** 43)) {
      const h = new LatencyHistogram();
      h.record(v);
      h.record(v * 4); // the maximum must not be what bounds the quantile
      const edge = h.quantile(0.5);
      expect(edge, `${v}`).to.be.at.least(v);
      expect(edge / v, `${v}`).to.be.at.most(1.016);
    }
  });
});
