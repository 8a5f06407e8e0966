/** Ethernet timing for the rate-limited software wires (virtual network, fault injector). */

/**
 * Bytes a frame occupies on the wire beyond the bytes a PacketBuffer holds: preamble + start
 * delimiter (8), FCS (4), inter-frame gap (12). IEEE 802.3 clause 4.
 */
export const ETHERNET_WIRE_OVERHEAD_BYTES = 24;
/** Shortest frame without FCS; shorter ones are padded on the wire (IEEE 802.3: 64 B with FCS). */
export const ETHERNET_MIN_FRAME_BYTES = 60;
export const ETHERNET_HEADER_BYTES = 14;

/**
 * Bytes a frame of `length` (no FCS) occupies on the wire, padding and overheads included.
 * Per-frame code multiplies this integer by a precomputed `nsPerByte(gbps)` rather than
 * calling `wireTimeNs`: an integer return is never boxed, a fractional one is when V8 does
 * not inline the call.
 */
export function wireBytes(length: number): number {
  return Math.max(length, ETHERNET_MIN_FRAME_BYTES) + ETHERNET_WIRE_OVERHEAD_BYTES;
}

/** Nanoseconds one byte takes on a `gbps` link. */
export function nsPerByte(gbps: number): number {
  return 8 / gbps;
}

/** Nanoseconds a frame of `length` bytes (no FCS) occupies a `gbps` link. */
export function wireTimeNs(length: number, gbps: number): number {
  return wireBytes(length) * nsPerByte(gbps);
}
