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
