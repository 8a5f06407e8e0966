/**
 * Copies that allocate nothing, for the per-packet path: whole frames (`copyFrame`, ports and
 * exception queues) and payload between packet buffers and host rings (`copyBytes`, the DMA
 * engine).
 *
 * Why not `Buffer#copy` or `dst.set(src.subarray(...))`: on Node 20 both build a new Uint8Array
 * view of the source whenever only part of it is copied (lib/buffer.js `_copyActual`), about
 * 100 B of garbage per copy. The native paths that make no view copy a WHOLE source
 * (`dst.set(src, offset)`) or a prefix of one (`dst.fill(src, start, end)`), which suits frames;
 * a copy out of the middle of a ring has neither shape, so `copyBytes` moves 8-byte elements
 * (`doublesOf`) when source and destination share their alignment modulo 8, else 32-bit words,
 * in JavaScript over cached views (`wordsOf`).
 */
import { doublesOf, LITTLE_ENDIAN, wordsOf } from '../wire/bytes.js';
import { wasmPayload } from './wasm-payload.js';

/** The WebAssembly payload passes (null without them: `copyFrameVia` never copies by address). */
const WASM = wasmPayload();

/** Whole-source copies are used for sources up to this size (a 1500 B MTU frame buffer fits). */
const WHOLE_COPY_MAX = 2048;

/**
 * Copies a frame, `src[0, len)`, to `dst[dstOffset, dstOffset + len)` without allocating. For
 * frame slots and packet buffers: it MAY also overwrite `dst` after the frame, up to
 * `dstOffset + src.length`, with the rest of `src` (bytes past a frame's length mean nothing):
 *  - copying the whole source: for frame-sized sources a memcpy of the whole buffer costs less
 *    than the allocation a partial copy makes (bytes past `len` land in the destination's unused tail);
 *  - `dst.fill(src, start, end)`: fills from the start of `src`, which for a source at least
 *    as long as the range is exactly a prefix copy.
 */
export function copyFrame(src: Uint8Array, dst: Buffer, len: number, dstOffset = 0): void {
  if (len <= 0) return;
  if (len > src.length || dstOffset + len > dst.length) {
    throw new RangeError(
      `copyFrame: ${len} B do not fit (source ${src.length} B, room ${dst.length - dstOffset} B)`,
    );
  }
  if (src.length <= WHOLE_COPY_MAX && src.length <= dst.length - dstOffset) {
    // %TypedArray%.prototype.set with a typed array is one native memmove, no view, and skips
    // Buffer#copy's argument handling.
    dst.set(src, dstOffset);
  } else {
    dst.fill(src, dstOffset, dstOffset + len);
  }
}

/**
 * Frames up to this long are copied a word at a time in JavaScript (`copyFrameVia`): a native
 * whole-buffer copy moves the whole 1.5 KiB slot, 24 cache lines where an ACK fills 2.
 */
const WORD_FRAME_MAX = 256;

/**
 * `copyFrame` for a caller that holds both buffers' word views (`PacketBuffer.words`,
 * `wordsOf`) and bases (`byteOffset`). `byAddress`: both buffers lie in the WebAssembly payload
 * memory (`PacketBuffer.inPayloadMemory`), so the bases are addresses and one `memory.copy`
 * moves exactly `len` bytes (1514 B ~35 ns, 66 B ~15 ns; a native `set` from or into a
 * SharedArrayBuffer copies with relaxed atomics, ~550 ns for 1514 B). Otherwise short frames
 * (ACKs, small segments) move exactly `len` bytes a word at a time, longer ones take
 * `copyFrame`'s native path.
 */
export function copyFrameVia(
  src: Uint8Array,
  srcWords: Int32Array,
  srcBase: number,
  dst: Buffer,
  dstWords: Int32Array,
  dstBase: number,
  len: number,
  byAddress: boolean,
): void {
  if (byAddress && len <= src.length && len <= dst.length) {
    if (len > 0) WASM!.copy(dstBase, srcBase, len);
    return;
  }
  if (len > WORD_FRAME_MAX || len > src.length || len > dst.length || !LITTLE_ENDIAN) {
    copyFrame(src, dst, len);
    return;
  }
  copyBytesVia(srcWords, srcBase, src, 0, dstWords, dstBase, dst, 0, len);
}

/** Below this many bytes a byte loop beats finding the word views. */
const WORD_COPY_MIN = 32;

/**
 * Copies `src[srcOffset, srcOffset + len)` to `dst[dstOffset, dstOffset + len)` exactly (nothing
 * outside the range is written) without allocating. The ranges must be in bounds (unchecked:
 * the DMA stage computes them) and must not overlap unless `src === dst`.
 */
export function copyBytes(
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  len: number,
): void {
  if (src === dst) {
    dst.copyWithin(dstOffset, srcOffset, srcOffset + len);
    return;
  }
  if (len < WORD_COPY_MIN || !LITTLE_ENDIAN) {
    for (let i = 0; i < len; i++) dst[dstOffset + i] = src[srcOffset + i]!;
    return;
  }
  const srcBase = src.byteOffset;
  const dstBase = dst.byteOffset;
  if (len >= WIDE_COPY_MIN && ((srcBase + srcOffset - dstBase - dstOffset) & 7) === 0) {
    copyBytesWide(doublesOf(src), srcBase, src, srcOffset, doublesOf(dst), dstBase, dst, dstOffset, len);
    return;
  }
  copyBytesVia(wordsOf(src), srcBase, src, srcOffset, wordsOf(dst), dstBase, dst, dstOffset, len);
}

/** From this long, copies whose ends share their alignment modulo 8 move 8-byte elements. */
export const WIDE_COPY_MIN = 64;

/**
 * `copyBytes` in 8-byte elements, for ranges whose absolute starts (`base + offset`) are equal
 * modulo 8: bytes up to the destination's 8-byte boundary, then Float64Array elements (one
 * 8-byte load and store each, the bits moved, never interpreted: about a third of the word
 * loop's time from a SharedArrayBuffer), then the tail bytes. `srcDoubles`/`dstDoubles` are
 * `doublesOf` the buffers, `srcBase`/`dstBase` their `byteOffset`. Distinct buffers.
 */
export function copyBytesWide(
  srcDoubles: Float64Array,
  srcBase: number,
  src: Uint8Array,
  srcOffset: number,
  dstDoubles: Float64Array,
  dstBase: number,
  dst: Uint8Array,
  dstOffset: number,
  len: number,
): void {
  let i = 0;
  const dstAbs = dstBase + dstOffset;
  for (; ((dstAbs + i) & 7) !== 0 && i < len; i++) dst[dstOffset + i] = src[srcOffset + i]!;
  const n = (len - i) >>> 3;
  const d = (dstAbs + i) >>> 3;
  const s = (srcBase + srcOffset + i) >>> 3;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    dstDoubles[d + k] = srcDoubles[s + k]!;
    dstDoubles[d + k + 1] = srcDoubles[s + k + 1]!;
    dstDoubles[d + k + 2] = srcDoubles[s + k + 2]!;
    dstDoubles[d + k + 3] = srcDoubles[s + k + 3]!;
  }
  for (; k < n; k++) dstDoubles[d + k] = srcDoubles[s + k]!;
  for (i += n * 8; i < len; i++) dst[dstOffset + i] = src[srcOffset + i]!;
}

/**
 * `copyBytes` for a caller that holds the word views already (`wordsOf`) and where each view
 * starts in its words (`byteOffset`): no lookups, for the DMA engine's cached views. Distinct
 * buffers, little-endian host.
 */
export function copyBytesVia(
  srcWords: Int32Array,
  srcBase: number,
  src: Uint8Array,
  srcOffset: number,
  dstWords: Int32Array,
  dstBase: number,
  dst: Uint8Array,
  dstOffset: number,
  len: number,
): void {
  // Bring the destination to a word boundary, then store whole words.
  let i = 0;
  const dstAbs = dstBase + dstOffset;
  for (; ((dstAbs + i) & 3) !== 0 && i < len; i++) dst[dstOffset + i] = src[srcOffset + i]!;
  const srcAbs = srcBase + srcOffset + i;
  const d = (dstAbs + i) >>> 2;
  let n = (len - i) >>> 2;
  const s = srcAbs >>> 2;
  const shift = srcAbs & 3;
  if (shift === 0) copyWordsAligned(srcWords, s, dstWords, d, n);
  else if (n > 0) {
    // The shifted loop reads one source word past the last whole one; at the very end of an
    // ArrayBuffer whose length is not a multiple of 4 that word does not exist (bytes loop).
    if (s + n >= srcWords.length) n--;
    copyWordsShifted(srcWords, s, shift * 8, dstWords, d, n);
  }
  for (i += n * 4; i < len; i++) dst[dstOffset + i] = src[srcOffset + i]!;
}

function copyWordsAligned(src: Int32Array, s: number, dst: Int32Array, d: number, n: number): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    dst[d + k] = src[s + k]!;
    dst[d + k + 1] = src[s + k + 1]!;
    dst[d + k + 2] = src[s + k + 2]!;
    dst[d + k + 3] = src[s + k + 3]!;
  }
  for (; k < n; k++) dst[d + k] = src[s + k]!;
}

/**
 * Destination word k takes the source bytes starting `bits / 8` bytes into source word s + k:
 * on a little-endian host the high bytes of one word and the low bytes of the next. The last
 * source word read is s + n, which holds the final copied bytes (the caller's range covers them).
 */
function copyWordsShifted(
  src: Int32Array,
  s: number,
  bits: number,
  dst: Int32Array,
  d: number,
  n: number,
): void {
  const back = 32 - bits;
  let cur = src[s]! >>> bits;
  for (let k = 0; k < n; k++) {
    const next = src[s + k + 1]!;
    dst[d + k] = cur | (next << back);
    cur = next >>> bits;
  }
}
