/**
 * Copies a frame, `src[0, len)`, to `dst[dstOffset, dstOffset + len)` without allocating. For
 * frame slots and packet buffers: it MAY also overwrite `dst` after the frame, up to
 * `dstOffset + src.length`, with the rest of `src` (bytes past a frame's length mean nothing).
 *
 * Why not plain `src.copy(dst, dstOffset, 0, len)`: on Node 20, Buffer#copy builds a new
 * Uint8Array view of the source whenever it copies only part of it (lib/buffer.js
 * `_copyActual`), about 100 B of garbage per frame. Two native paths make no view:
 *  - copying the whole source: for frame-sized sources a memcpy of the whole buffer costs less
 *    than that allocation (bytes past `len` land in the destination's unused tail);
 *  - `dst.fill(src, start, end)`: fills from the start of `src`, which for a source at least
 *    as long as the range is exactly a prefix copy.
 */

/** Whole-source copies are used for sources up to this size (a 1500 B MTU frame buffer fits). */
const WHOLE_COPY_MAX = 2048;

export function copyFrame(src: Uint8Array, dst: Buffer, len: number, dstOffset = 0): void {
  if (len <= 0) return;
  if (len > src.length || dstOffset + len > dst.length) {
    throw new RangeError(
      `copyFrame: ${len} B do not fit (source ${src.length} B, room ${dst.length - dstOffset} B)`,
    );
  }
  if (src.length <= WHOLE_COPY_MAX && src.length <= dst.length - dstOffset) {
    Buffer.prototype.copy.call(src, dst, dstOffset);
  } else {
    dst.fill(src, dstOffset, dstOffset + len);
  }
}
