/**
 * DMA (FlexTOE stage 4): payload between packet buffers and the per-connection circular
 * buffers in host memory. A copy that crosses the end of a ring becomes two copies.
 */
import { DmaDirection, type DmaEngine } from '../hw/dma-engine.js';

/**
 * Copies `length` bytes from `src[srcOffset..]` into the ring `ring` (size a power of two) at
 * `pos`. Returns the number of DMA commands submitted (1 or 2), or -1 if the engine refused.
 */
export function dmaToRing(
  dma: DmaEngine,
  src: Uint8Array,
  srcOffset: number,
  ring: Uint8Array,
  pos: number,
  length: number,
  tag: number,
): number {
  const first = Math.min(length, ring.length - pos);
  if (!dma.submit(DmaDirection.ToHost, src, srcOffset, ring, pos, first, tag)) return -1;
  if (first === length) return 1;
  if (!dma.submit(DmaDirection.ToHost, src, srcOffset + first, ring, 0, length - first, tag)) return -1;
  return 2;
}

/** Copies `length` bytes out of the ring at `pos` into `dst[dstOffset..]`; as `dmaToRing`. */
export function dmaFromRing(
  dma: DmaEngine,
  ring: Uint8Array,
  pos: number,
  dst: Uint8Array,
  dstOffset: number,
  length: number,
  tag: number,
): number {
  const first = Math.min(length, ring.length - pos);
  if (!dma.submit(DmaDirection.FromHost, ring, pos, dst, dstOffset, first, tag)) return -1;
  if (first === length) return 1;
  if (!dma.submit(DmaDirection.FromHost, ring, 0, dst, dstOffset + first, length - first, tag)) return -1;
  return 2;
}
