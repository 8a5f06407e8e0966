// Wrap-safe TCP sequence-number arithmetic.
//
// RFC 9293 section 3.4: "the sequence number space ranges from 0 to 2^32 - 1 ... all arithmetic
// dealing with sequence numbers must be performed modulo 2^32", and "the symbol '=<' means 'less
// than or equal' (modulo 2^32)". Comparisons follow RFC 1982 serial-number arithmetic with
// SERIAL_BITS = 32: a < b iff the signed 32-bit distance (a - b) is negative. RFC 1982 section 3.2
// leaves the comparison of two numbers exactly 2^31 apart undefined; here both lt(a, b) and
// lt(b, a) hold for such a pair (the same answer as Linux's before()), so callers must keep
// windows below 2^31 (TCP windows are at most 2^30, RFC 7323 section 2.3).
//
// Sequence numbers are plain 32-bit numbers at run time; the brand keeps raw `<`, `+` results
// and lengths from being mistaken for them at compile time. `from`, `add`, `sub` return the u32
// value; every function also accepts the int32 with the same bits (what the data path's records
// return: V8 keeps an int32 unboxed across any call, a u32 from 2^31 up it boxes, wire/bytes.ts).
// So compare only through `seq`, never with `===`.

/** An unsigned 32-bit TCP sequence (or acknowledgment) number. Compare only through `seq`. */
export type SeqNumber = number & { readonly __seq: unique symbol };

/** Brands `n` as a sequence number, reducing it modulo 2^32 (RFC 9293 3.4). */
function from(n: number): SeqNumber {
  return (n >>> 0) as SeqNumber;
}

/** `a + n` modulo 2^32; `n` may be negative. */
function add(a: SeqNumber, n: number): SeqNumber {
  return ((a + n) >>> 0) as SeqNumber;
}

/** `a - n` modulo 2^32; `n` may be negative. */
function sub(a: SeqNumber, n: number): SeqNumber {
  return ((a - n) >>> 0) as SeqNumber;
}

/**
 * `add(a, n)` as the int32 with the same bits: for the data path, which stores the result in a
 * record or passes it on (V8 never boxes an int32; a u32 from 2^31 up it may, wire/bytes.ts).
 */
function add32(a: SeqNumber, n: number): SeqNumber {
  return ((a + n) | 0) as SeqNumber;
}

/** `sub(a, n)` as the int32 with the same bits (see `add32`). */
function sub32(a: SeqNumber, n: number): SeqNumber {
  return ((a - n) | 0) as SeqNumber;
}

/** Signed distance `a - b` in -2^31 .. 2^31-1 (RFC 1982 3.2 with SERIAL_BITS = 32). */
function diff(a: SeqNumber, b: SeqNumber): number {
  return (a - b) | 0;
}

/** a < b modulo 2^32 (RFC 9293 3.4, RFC 1982 3.2). */
function lt(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) < 0;
}

/** a =< b modulo 2^32. */
function le(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b modulo 2^32. */
function gt(a: SeqNumber, b: SeqNumber): boolean {
  return ((b - a) | 0) < 0;
}

/** a >= b modulo 2^32. */
function ge(a: SeqNumber, b: SeqNumber): boolean {
  return ((b - a) | 0) <= 0;
}

/**
 * Same sequence number modulo 2^32. Also true for the u32 value and the int32 with the same bits
 * (the data path's records hand sequence numbers out as int32, see flow-records.ts).
 */
function eq(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) === 0;
}

/**
 * lo =< x < hiExclusive modulo 2^32, i.e. x lies in the half-open arc that starts at `lo`
 * (RFC 9293 3.4, e.g. "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND"). Empty when lo === hiExclusive.
 */
function inRange(x: SeqNumber, lo: SeqNumber, hiExclusive: SeqNumber): boolean {
  return (x - lo) >>> 0 < (hiExclusive - lo) >>> 0;
}

/** start =< x < start + length (RFC 9293 3.10.7.4 window test); `length` in 0 .. 2^32. */
function inWindow(x: SeqNumber, start: SeqNumber, length: number): boolean {
  return (x - start) >>> 0 < length;
}

/** The later of a and b (modulo 2^32). */
function max(a: SeqNumber, b: SeqNumber): SeqNumber {
  return ((b - a) | 0) > 0 ? b : a;
}

/** The earlier of a and b (modulo 2^32). */
function min(a: SeqNumber, b: SeqNumber): SeqNumber {
  return ((b - a) | 0) < 0 ? b : a;
}

/** Wrap-safe sequence-number operations; the only way this codebase compares sequence numbers. */
export const seq = {
  from,
  add,
  sub,
  add32,
  sub32,
  diff,
  lt,
  le,
  gt,
  ge,
  eq,
  inRange,
  inWindow,
  max,
  min,
} as const;
