/**
 * A small seeded PRNG shared by the fault injector and the discrete-event simulators:
 * xoshiro128** 1.1 (Blackman and Vigna) over four uint32 words, seeded through murmur3's
 * finaliser. Only 32-bit integer arithmetic (Math.imul, shifts) is used, so the same seed
 * gives the same sequence on every platform and engine.
 *
 * Per-packet callers use a `Coin` (`prng.coin(p)`) or `nextInt`: the generator's output goes
 * through a typed array, never returned from a call V8 might not inline, because a uint32 above
 * 2^30 or a fraction returned that way is boxed (allocated). `nextU32` and `nextFloat` return
 * such numbers; fine in ordinary code, avoid them in allocation-free loops.
 */

/** What a seed may be: a safe integer, or a string (a test name, a scenario label). */
export type Seed = number | string;

const TWO_POW_32 = 4294967296;
/** Index of the last output in the state array (after the four state words). */
const OUT = 4;

export class Prng {
  /** Generator state s[0..3] and the last output s[OUT]; a typed array so stepping never allocates. */
  private readonly s = new Uint32Array(5);
  /** The 64-bit stream key (two words) the state was derived from; `fork` derives from it. */
  private k0: number;
  private k1: number;

  constructor(seed: Seed) {
    [this.k0, this.k1] = seedWords(seed);
    this.reset();
  }

  /** A generator with an exact xoshiro128** state, for checking against reference vectors. */
  static fromState(s0: number, s1: number, s2: number, s3: number): Prng {
    const p = new Prng(0);
    p.s[0] = s0;
    p.s[1] = s1;
    p.s[2] = s2;
    p.s[3] = s3;
    if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('Prng: the all-zero state is a fixed point');
    return p;
  }

  /** A uniformly distributed integer in [0, 2^32). */
  nextU32(): number {
    step(this.s);
    return this.s[OUT]!;
  }

  /** A float in [0, 1) with 32 random bits (steps of 2^-32; enough for probabilities). */
  nextFloat(): number {
    step(this.s);
    return this.s[OUT]! / TWO_POW_32;
  }

  /** An unbiased integer in [0, n) for an integer n in [1, 2^32]; rejection sampling, not `%`. */
  nextInt(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= TWO_POW_32)) {
      throw new RangeError(`Prng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    // Values at or above `limit` would make the low residues more likely; draw again.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      step(this.s);
      if (this.s[OUT]! < limit) return this.s[OUT]! % n;
    }
  }

  /** True with probability `p` (one draw per call whatever `p` is, so call counts stay stable). */
  chance(p: number): boolean {
    step(this.s);
    // Exactly nextFloat() < p: scaling by 2^32 is exact in binary floating point.
    return this.s[OUT]! < p * TWO_POW_32;
  }

  /** A biased coin drawing from this stream (shares its state), for per-packet decisions. */
  coin(p: number): Coin {
    return new Coin(this.s, p);
  }

  /**
   * An independent stream named `label`. It depends only on this generator's seed and the
   * label, never on how many numbers were drawn, so adding a consumer of one stream does not
   * perturb the others. The same label forks the same stream: use distinct labels.
   */
  fork(label: string): Prng {
    const h = hashString(label);
    const child = new Prng(0);
    child.k0 = fmix32((this.k0 ^ h) >>> 0);
    child.k1 = fmix32((this.k1 + Math.imul(h, 0x9e3779b9)) >>> 0);
    child.reset();
    return child;
  }

  /** Expands the key into a non-zero state (splitmix-style increments, murmur3 finaliser). */
  private reset(): void {
    for (let i = 0; i < 4; i++) {
      const a = fmix32((this.k0 + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
      this.s[i] = fmix32((a ^ this.k1 ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }
}

/** One xoshiro128** 1.1 step: advances s[0..3] and writes the output to s[OUT]. */
function step(s: Uint32Array): void {
  const s0 = s[0]!;
  const s1 = s[1]!;
  const m = Math.imul(s1, 5);
  s[OUT] = Math.imul((m << 7) | (m >>> 25), 9);
  const t = s1 << 9;
  s[2] ^= s0;
  s[3] ^= s1;
  s[1] ^= s[2]!;
  s[0] ^= s[3]!;
  s[2] ^= t;
  s[3] = (s[3]! << 11) | (s[3]! >>> 21);
}

/**
 * True with probability `p` on each `flip()`, without allocating: the threshold lives in a
 * typed array and the result is a boolean, so nothing boxed crosses a call. Make one with
 * `Prng.coin(p)`; it advances that generator's stream.
 */
export class Coin {
  private readonly threshold = new Float64Array(1);

  /** @internal */
  constructor(
    private readonly s: Uint32Array,
    p: number,
  ) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Coin: probability must be in [0, 1], got ${p}`);
    this.threshold[0] = p * TWO_POW_32;
  }

  get probability(): number {
    return this.threshold[0]! / TWO_POW_32;
  }

  flip(): boolean {
    step(this.s);
    return this.s[OUT]! < this.threshold[0]!;
  }
}

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units (identical on every engine), finalised. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h >>> 0);
}

/** A seed as two 32-bit words: the low and high halves of an integer, or two string hashes. */
function seedWords(seed: Seed): [number, number] {
  if (typeof seed === 'string') return [hashString(seed), hashString(`\u0000${seed}`)];
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Prng: seed must be a safe integer, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}
