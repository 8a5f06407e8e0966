/**
 * Moves bytes between NIC-side buffers (packet buffers) and host memory (per-connection
 * circular buffers, context queues). Completion is asynchronous on real and simulated hardware
 * alike: callers hand over a copy with a tag and learn of completion later through `poll`.
 * FlexTOE's NFP DMA engine bounds the commands in flight per queue (e.g. 120 RX, 120 TX).
 */
export enum DmaDirection {
  /** NIC -> host: received payload, notifications. */
  ToHost = 0,
  /** host -> NIC: payload to transmit. */
  FromHost = 1,
}

export interface DmaLimits {
  /** Copies in flight per direction before `submit` returns false. */
  readonly inFlightPerQueue: number;
  /** Largest single copy in bytes. */
  readonly maxCopyBytes: number;
}

export interface DmaEngine {
  readonly limits: DmaLimits;
  /**
   * Queues a copy of `length` bytes from `src[srcOffset..]` to `dst[dstOffset..]`. Returns false
   * when the direction's in-flight limit is reached (the caller retries after polling). `tag` is
   * returned by `poll` on completion. Must not allocate.
   */
  submit(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): boolean;
  /** Writes the tags of completed copies since the last call into `out`, oldest first. */
  poll(out: Uint32Array, max: number): number;
  /** Copies submitted but not yet returned by `poll`, per direction. */
  inFlight(direction: DmaDirection): number;
  /**
   * True when `submit` has finished the copy by the time it returns (the bytes are in place;
   * `poll` only reports it later). The data path then reads a payload it just had copied
   * without waiting for the completion. Absent or false: completion is only known via `poll`.
   */
  readonly copiesAtSubmit?: boolean;
  /**
   * `submit` that also returns the RFC 1071 sum of the bytes it copied (big-endian 16-bit words
   * from the first byte, an odd last byte padded with zero, folded to 0..0xffff), or -1 where
   * `submit` returns false. Only engines that copy at submit offer it: the TX data path with
   * software checksums then reads the payload once instead of copying it and summing the frame.
   */
  submitSummed?(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): number;
}
export const DmaEngine = Symbol.for('flextoe.hw.DmaEngine');
