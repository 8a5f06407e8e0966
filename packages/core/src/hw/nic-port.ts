/**
 * A network port, DPDK style: control operations (configure, start, stop, stats,
 * capabilities) kept apart from the per-packet burst operations, which move many frames per
 * call over preallocated packet buffers and never allocate. Drivers: the in-process virtual
 * wire, TAP, DPDK; wrappers (fault injection, capture) are ports around ports.
 */
import type { PacketBuffer } from './packet-buffer.js';

export interface PortCapabilities {
  /** Driver name, e.g. 'virtual', 'tap', 'dpdk:net_af_packet'. */
  readonly driver: string;
  readonly maxFrameBytes: number;
  readonly maxBurst: number;
  /** True when the device verifies IPv4/TCP checksums on receive (we then skip it). */
  readonly rxChecksumOffload: boolean;
  /** True when the device fills checksums on transmit. */
  readonly txChecksumOffload: boolean;
  readonly linkGbps: number;
}

export interface PortStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Frames the port dropped, by reason (ring full, no buffer, injected loss, ...). */
  drops: Record<string, number>;
}

export interface PortConfiguration {
  /** Our MAC as a 48-bit number. */
  readonly mac: number;
  readonly mtu: number;
}

/** Control operations; not on the per-packet path. */
export interface NicPortControl {
  readonly capabilities: PortCapabilities;
  readonly mac: number;
  configure(conf: PortConfiguration): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): PortStats;
  /**
   * Registers a callback the port calls when frames become available after the receive queue
   * was empty (FlexTOE: interrupts only after idleness). Polling runners may ignore it.
   */
  setRxWakeup(wakeup: (() => void) | null): void;
}

/** Burst operations; the per-packet path. */
export interface NicPortBurst {
  /**
   * Fills up to `max` caller-owned buffers from `bufs[0..]` with received frames (bytes and
   * `length`); returns how many were filled. The caller keeps ownership of the buffers.
   */
  rxBurst(bufs: PacketBuffer[], max: number): number;
  /**
   * Transmits `bufs[0..count)`; returns how many the port accepted (the rest are for the
   * caller to retry or drop). The port copies the bytes; the caller keeps the buffers.
   */
  txBurst(bufs: PacketBuffer[], count: number): number;
}

export interface NicPort extends NicPortControl, NicPortBurst {}
export const NicPort = Symbol.for('flextoe.hw.NicPort');
