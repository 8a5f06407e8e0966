/**
 * A log-linear latency histogram in the manner of HdrHistogram (Gil Tene): values below 2^P are
 * counted exactly; above, every power-of-two range [2^m, 2^(m+1)) is split into 2^(P-1) equal
 * buckets, so a recorded value is off by at most 2^-(P-1) of itself (P = 8: under 0.8%) at
 * every magnitude. All storage is preallocated; `record` does integer arithmetic and one
 * typed-array increment, so it can sit on a request's completion path without allocating.
 *
 * Values are non-negative integers (nanoseconds here) up to 2^MAX_MAGNITUDE (about 13 days);
 * larger ones land in the top bucket and are counted in `overflows`.
 */

/** Sub-bucket bits: values < 2^P exact, relative error <= 2^-(P-1) above. */
const P = 8;
const EXACT = 1 << P;
const HALF = 1 << (P - 1);
/** Largest magnitude tracked: 2^50 ns is 13 days. */
const MAX_MAGNITUDE = 50;
const BUCKETS = EXACT + (MAX_MAGNITUDE - P + 1) * HALF;
const TWO_POW_32 = 4294967296;

/** Index of the bucket holding `v` (an integer >= 0). */
export function bucketOf(v: number): number {
  if (v < EXACT) return v;
  // Most significant bit without Math.log2 (which is inexact near powers of two).
  const m = v < TWO_POW_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO_POW_32));
  if (m > MAX_MAGNITUDE) return BUCKETS - 1;
  const shift = m - P + 1;
  const sub = Math.floor(v / 2 ** shift); // in [HALF, EXACT)
  return EXACT + (shift - 1) * HALF + (sub - HALF);
}

/** The smallest value that lands in bucket `i`. */
export function bucketLow(i: number): number {
  if (i < EXACT) return i;
  const shift = Math.floor((i - EXACT) / HALF) + 1;
  const sub = ((i - EXACT) % HALF) + HALF;
  return sub * 2 ** shift;
}

/** The number of distinct values that land in bucket `i`. */
function bucketWidth(i: number): number {
  return i < EXACT ? 1 : 2 ** (Math.floor((i - EXACT) / HALF) + 1);
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  /** [count, sum, min, max, overflows] in one typed array so recording never boxes a double. */
  private readonly totals = new Float64Array(5);

  constructor() {
    this.reset();
  }

  reset(): void {
    this.counts.fill(0);
    this.totals[0] = 0;
    this.totals[1] = 0;
    this.totals[2] = Infinity;
    this.totals[3] = 0;
    this.totals[4] = 0;
  }

  /** Counts one value (rounded to an integer; negatives count as 0). */
  record(value: number): void {
    const v = value > 0 ? Math.round(value) : 0;
    const t = this.totals;
    // bucketOf, inlined by hand: V8 boxes a double (beyond 2^30, or any float64-represented
    // number) passed to a call it did not inline, which would allocate per sample.
    let i: number;
    if (v < EXACT) i = v;
    else {
      const m = v < TWO_POW_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO_POW_32));
      if (m > MAX_MAGNITUDE) i = BUCKETS - 1;
      else {
        const shift = m - P + 1;
        i = EXACT + (shift - 1) * HALF + (Math.floor(v / 2 ** shift) - HALF);
      }
    }
    this.counts[i]!++;
    t[0]!++;
    t[1]! += v;
    if (v < t[2]!) t[2] = v;
    if (v > t[3]!) t[3] = v;
    if (v >= 2 ** (MAX_MAGNITUDE + 1)) t[4]!++;
  }

  /** Adds every count of `other` (e.g. per-connection histograms into one). */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    const t = this.totals;
    const o = other.totals;
    t[0]! += o[0]!;
    t[1]! += o[1]!;
    t[2] = Math.min(t[2]!, o[2]!);
    t[3] = Math.max(t[3]!, o[3]!);
    t[4]! += o[4]!;
  }

  get count(): number {
    return this.totals[0]!;
  }

  get min(): number {
    return this.count === 0 ? NaN : this.totals[2]!;
  }

  get max(): number {
    return this.count === 0 ? NaN : this.totals[3]!;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.totals[1]! / this.count;
  }

  get overflows(): number {
    return this.totals[4]!;
  }

  /**
   * The value at quantile `q` (0 < q <= 1): the smallest recorded value v such that at least
   * q of all values are <= v, reported as the middle of v's bucket and clamped to the exact
   * min/max (so p100 is the true maximum). NaN when empty.
   */
  quantile(q: number): number {
    if (!(q > 0 && q <= 1)) throw new RangeError(`quantile: q must be in (0, 1], got ${q}`);
    const n = this.count;
    if (n === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * n - 1e-9)); // 0.9999 * n must not round up past n
    if (rank >= n) return this.totals[3]!; // the largest value is known exactly
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const mid = bucketLow(i) + (bucketWidth(i) - 1) / 2;
        return Math.min(Math.max(mid, this.totals[2]!), this.totals[3]!);
      }
    }
    return this.totals[3]!;
  }

  /** Non-empty buckets as [lowest value, count] pairs (for charts and tests). */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) out.push([bucketLow(i), this.counts[i]!]);
    return out;
  }
}

/** Relative error bound of a recorded value above the exact range. */
export const HISTOGRAM_RELATIVE_ERROR = 1 / HALF;
