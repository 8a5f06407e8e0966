/**
 * One time base for the host thread and every NIC core. The data path stamps segments (RFC 7323
 * TSval) and the control plane stamps SYNs and its own ACKs from the same clock, so the peer
 * sees one monotonic TSval sequence (PAWS, RFC 7323 5) and RTT samples from echoes are right.
 * A worker's `process.hrtime()` counts from the same system clock, so sharing the host's
 * origin is enough: no cross-thread traffic per read.
 *
 * For lockstep runs on a `ManualClock` (the core's virtual-time suites), the host writes the
 * manual time into shared memory before it lets the cores run, and the cores read it there.
 */
import { RealTimeClock, type Clock } from '@flextoe/core/nic';

export type HrOrigin = readonly [number, number];

/** The origin every clock of one stack counts from. */
export function newOrigin(): HrOrigin {
  const t = process.hrtime();
  return [t[0], t[1]];
}

/** A NIC core's clock. */
export class CoreClock implements Clock {
  private readonly o0: number;
  private readonly o1: number;
  private readonly manual: Float64Array | null;

  constructor(origin: HrOrigin, manual: SharedArrayBuffer | null) {
    this.o0 = origin[0];
    this.o1 = origin[1];
    this.manual = manual ? new Float64Array(manual, 0, 1) : null;
  }

  now(): number {
    if (this.manual !== null) return this.manual[0]!;
    const t = process.hrtime();
    return (t[0] - this.o0) * 1e9 + (t[1] - this.o1);
  }
}

/** The host thread's wall clock and timers, on the stack's origin. */
export class HostClock extends RealTimeClock {
  private readonly o0: number;
  private readonly o1: number;

  constructor(readonly origin: HrOrigin) {
    // Unref'd: a stack's own timers (RTO, TIME-WAIT, ARP) must not keep the process alive; the
    // sockets layer holds the process while the application has ref'd servers or sockets, as
    // Node's handles do (packages/sockets/src/net/liveness.ts).
    super({ unrefTimers: true });
    this.o0 = origin[0];
    this.o1 = origin[1];
  }

  override now(): number {
    const t = process.hrtime();
    return (t[0] - this.o0) * 1e9 + (t[1] - this.o1);
  }
}
