// Big-endian (network byte order) reads and writes of 16-bit words on a Uint8Array: no DataView,
// no allocation. Callers check bounds first: these helpers are unchecked.
//
// Why only 16-bit helpers: V8 keeps a number that does not fit a small integer (any u32 from
// 2^31 up, any MAC address) unboxed only inside one optimized function. Passed to or returned
// from a call that V8 did not inline, it is boxed, one heap allocation per call, and inlining
// is a budgeted heuristic. So 32- and 48-bit values are composed from u16 reads and split into
// u16 writes at the call site (`hi * 0x10000 + lo`, `v >>> 16` / `v & 0xffff`), and the wire code
// passes IPv4 addresses inside the header objects rather than as arguments.

/** Reads the unsigned 16-bit big-endian value at `off`. */
export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

/** Writes the low 16 bits of `value` big-endian at `off`. */
export function writeU16(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value >>> 8;
  buf[off + 1] = value;
}

// 32-bit word views for the bulk loops (checksums, payload copies). V8 spends about as long on
// one typed-array element access whatever its width, so summing or copying a 1448-byte payload
// a word at a time costs a quarter of doing it a byte at a time. A view is made once per buffer
// (the data path reuses its frames and rings) and found again by identity: a WeakMap lookup
// costs less than the loads it saves from about 128 bytes up, and allocates nothing.
const wordViews = new WeakMap<Uint8Array, Int32Array>();

/**
 * The words of `buf`'s whole ArrayBuffer as an Int32Array from byte 0 of that buffer (native
 * byte order), so byte `i` of `buf` lies in word `(buf.byteOffset + i) >>> 2`. Cached per
 * `buf`; only words that lie wholly inside a caller's range may be read or written.
 */
export function wordsOf(buf: Uint8Array): Int32Array {
  let words = wordViews.get(buf);
  if (words === undefined) {
    words = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
    wordViews.set(buf, words);
  }
  return words;
}

// 64-bit views for the longest copies (payload out of a host ring): V8 moves a Float64Array
// element with one 8-byte load and store, bits untouched (no arithmetic happens on the value, so
// NaN payloads survive: copy-frame.spec.ts copies every NaN class through every tier), half the
// element accesses of the word loop.
const doubleViews = new WeakMap<Uint8Array, Float64Array>();

/**
 * As `wordsOf`, 8 bytes per element: byte `i` of `buf` lies in element `(buf.byteOffset + i) >>> 3`.
 * Only for moving bytes, never for reading their values.
 */
export function doublesOf(buf: Uint8Array): Float64Array {
  let doubles = doubleViews.get(buf);
  if (doubles === undefined) {
    doubles = new Float64Array(buf.buffer, 0, buf.buffer.byteLength >>> 3);
    doubleViews.set(buf, doubles);
  }
  return doubles;
}

/** True on little-endian hosts (every platform Node supports today, but checked, not assumed). */
export const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
