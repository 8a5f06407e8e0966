// The Internet checksum: RFC 1071 (computation), RFC 9293 section 3.1 (TCP pseudo-header),
// RFC 1624 (incremental update).
//
// Sums are kept unfolded in a plain JS number while adding (exact up to 2^53, i.e. for any
// buffer below 2^37 bytes) and folded once at the end: the "Deferred Carries" technique of
// RFC 1071 section 2.

import { LITTLE_ENDIAN, wordsOf } from './bytes.js';

/** Ranges at least this long are summed a 32-bit word at a time (see `wordsOf`). */
const WORD_SUM_MIN_BYTES = 128;

/**
 * Adds the 16-bit big-endian words of buf[start, end) to `initial` (RFC 1071 section 1). An odd final
 * byte is padded on the right with zero, as RFC 9293 3.1 prescribes for the TCP checksum.
 * Returns an unfolded sum (long ranges come back partly folded: the same value mod 0xffff, and
 * non-zero exactly when the words are); pass it to `foldSum` or `finishChecksum`.
 */
export function sumWords(buf: Uint8Array, start: number, end: number, initial: number): number {
  // Word loads need the 16-bit words to start at an even address (true of every frame the data
  // path builds: the IPv4 header at 14 or 18, TCP after it).
  if (end - start >= WORD_SUM_MIN_BYTES && ((buf.byteOffset + start) & 1) === 0) {
    return sumWordsWide(buf, start, end, initial);
  }
  let sum = initial;
  const evenEnd = start + ((end - start) & ~1);
  let i = start;
  for (; i < evenEnd; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/**
 * `sumWords` with aligned 32-bit loads for the middle of the range. On a little-endian host a
 * loaded word holds two byte-swapped 16-bit words; RFC 1071 section 2(B) (byte order
 * independence): their ones' complement sum is the byte swap of the big-endian words' sum, so
 * the words' sum is folded to 16 bits and swapped back once at the end.
 */
function sumWordsWide(buf: Uint8Array, start: number, end: number, initial: number): number {
  return sumWordsVia(wordsOf(buf), buf.byteOffset, buf, start, end, initial);
}

/**
 * `sumWords` for a caller that holds the words of buf's ArrayBuffer already (the data path keeps
 * them for its packet buffers): no cache lookup, for ranges of any length. `words` is an
 * Int32Array over that ArrayBuffer from byte 0 (`wordsOf(buf)`), `base` is `buf.byteOffset`.
 */
export function sumWordsVia(
  words: Int32Array,
  base: number,
  buf: Uint8Array,
  start: number,
  end: number,
  initial: number,
): number {
  let sum = initial;
  let i = start;
  if (((base + i) & 1) !== 0 || end - start < 8) {
    // Odd start (words would pair the wrong bytes) or too short to matter: bytes.
    const evenEnd = start + ((end - start) & ~1);
    for (; i < evenEnd; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
    if (i < end) sum += buf[i]! << 8;
    return sum;
  }
  if (((base + i) & 2) !== 0) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    i += 2;
  }
  const endWord = (base + end) >>> 2;
  // Unsigned words summed in a double: exact for any range below 2^21 words; folding a sum of
  // 32-bit words to 16 bits adds up their 16-bit halves (2^16 = 1 mod 0xffff).
  let wide = 0;
  let w = (base + i) >>> 2;
  for (; w + 4 <= endWord; w += 4) {
    wide += (words[w]! >>> 0) + (words[w + 1]! >>> 0) + (words[w + 2]! >>> 0) + (words[w + 3]! >>> 0);
  }
  for (; w < endWord; w++) wide += words[w]! >>> 0;
  // foldSum, written out: `wide` is a double, boxed if passed to a call V8 did not inline. No
  // `%` on it: a double modulo is a call into C (fmod), a third of a 64-byte sum's time. The
  // 32-bit carries are added back by subtraction instead (2^32 = 1 mod 0xffff): `top` < 2^21,
  // so `wide` < 2^32 + 2^21, and `& 0xffff` keeps its low 16 bits (ToInt32 is modulo 2^32).
  const top = Math.floor(wide / 0x100000000);
  wide = wide - top * 0x100000000 + top;
  wide = (wide & 0xffff) + Math.floor(wide / 0x10000);
  while (wide > 0xffff) wide = (wide & 0xffff) + (wide >>> 16);
  sum += LITTLE_ENDIAN ? ((wide & 0xff) << 8) | (wide >>> 8) : wide;
  i = endWord * 4 - base;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/**
 * Folds carries into the low 16 bits (the end-around carry of RFC 1071). A non-zero sum never
 * folds to 0, so the result is the ones' complement sum in 1..0xffff unless every word was 0.
 */
export function foldSum(sum: number): number {
  // 2^32 = 1 (mod 0xffff): fold a > 32-bit accumulator into 32 bits first (twice at most),
  // subtracting the carries rather than taking `%` (a double modulo is a call into C).
  while (sum > 0xffffffff) {
    const top = Math.floor(sum / 0x100000000);
    sum = sum - top * 0x100000000 + top;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for an unfolded sum: the ones' complement of the folded sum. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** The Internet checksum of buf[start, end) (RFC 1071). */
export function internetChecksum(buf: Uint8Array, start: number, end: number): number {
  return finishChecksum(sumWords(buf, start, end, 0));
}

/**
 * True when an unfolded sum that covered the transmitted checksum field verifies: RFC 1071 section 1,
 * "if the result is all 1 bits, the check succeeds".
 */
export function checksumVerifies(sum: number): boolean {
  return foldSum(sum) === 0xffff;
}

/** Source and destination IPv4 addresses as u32 numbers, e.g. an `Ipv4Header`. */
export interface Ipv4Addresses {
  readonly src: number;
  readonly dst: number;
}

/**
 * Unfolded sum of the IPv4 pseudo-header (RFC 9293 3.1): source address, destination address,
 * zero + protocol, and the TCP length (header plus data, in octets, excluding the pseudo-header).
 * Takes the addresses in an object so they are never passed as (boxable) arguments: bytes.ts.
 */
export function pseudoHeaderSum(ip: Ipv4Addresses, protocol: number, l4Length: number): number {
  const src = ip.src;
  const dst = ip.dst;
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

/**
 * RFC 1624 equation 3: the new checksum after a 16-bit word changes from `oldWord` to `newWord`,
 * HC' = ~(~HC + ~m + m'). Equal to a full recomputation whenever the covered data has a non-zero
 * word other than the changed one (always so for IPv4 and TCP: version, protocol).
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  return finishChecksum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
}

/**
 * RFC 1624 equation 3 for a 32-bit field (two words), e.g. an address, a sequence number.
 * A small leaf meant to be inlined: u32 arguments of a call V8 does not inline are boxed
 * (bytes.ts); in doubt, call `updateChecksum16` on the two halves.
 */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const sum =
    (~checksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    ((newValue >>> 16) & 0xffff) +
    (newValue & 0xffff);
  return finishChecksum(sum);
}
