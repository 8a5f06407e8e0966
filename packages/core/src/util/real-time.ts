/**
 * `Clock` and `Timers` on the wall clock, for the x86 backend and for tests that talk to real
 * devices. Time is nanoseconds since this module was loaded, so every instance agrees.
 */
import type { Clock, TimerHandle, Timers } from '../hw/clock.js';

// process.hrtime() rather than hrtime.bigint(): the bigint form allocates on every call and
// now() is on the per-packet path; the tuple form is exact integer ns and, once optimised,
// its array does not escape (measured: no per-call heap growth).
const ORIGIN = process.hrtime();

/** Node clamps setTimeout delays above 2^31-1 ms to 1 ms; longer timers re-arm in steps. */
const MAX_TIMEOUT_MS = 2147483647;

export interface RealTimeOptions {
  /** Unref every timer so a pending one never keeps the process alive (default false). */
  readonly unrefTimers?: boolean;
}

interface PendingTimer {
  readonly dueNs: number;
  readonly fn: () => void;
  handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
}

export class RealTimeClock implements Clock, Timers {
  private readonly pending = new Map<TimerHandle, PendingTimer>();
  private nextHandle = 1;
  private readonly unrefTimers: boolean;

  constructor(opts: RealTimeOptions = {}) {
    this.unrefTimers = opts.unrefTimers ?? false;
  }

  now(): number {
    const t = process.hrtime();
    return (t[0] - ORIGIN[0]) * 1e9 + (t[1] - ORIGIN[1]);
  }

  /**
   * Calls `fn` once, no earlier than `delayNs` from now on this clock (Node's millisecond
   * timers can fire a fraction of a millisecond early; such a timer re-arms for the rest).
   * A zero or negative delay runs on the next event-loop turn (setImmediate), not after 1 ms.
   */
  schedule(delayNs: number, fn: () => void): TimerHandle {
    if (Number.isNaN(delayNs)) throw new RangeError('RealTimeClock.schedule: delay is NaN');
    const handle = this.nextHandle++;
    const timer: PendingTimer = { dueNs: this.now() + Math.max(0, delayNs), fn, handle: undefined };
    this.pending.set(handle, timer);
    this.arm(handle, timer, delayNs);
    return handle;
  }

  cancel(handle: TimerHandle): void {
    const timer = this.pending.get(handle);
    if (!timer) return;
    this.pending.delete(handle);
    clearTimeout(timer.handle as ReturnType<typeof setTimeout>);
    clearImmediate(timer.handle as ReturnType<typeof setImmediate>);
  }

  /** Cancels every pending timer (an owner shutting down). */
  cancelAll(): void {
    for (const handle of [...this.pending.keys()]) this.cancel(handle);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  private arm(handle: TimerHandle, timer: PendingTimer, remainingNs: number): void {
    const fire = (): void => this.fire(handle, timer);
    timer.handle =
      remainingNs <= 0
        ? setImmediate(fire)
        : setTimeout(fire, Math.min(MAX_TIMEOUT_MS, Math.ceil(remainingNs / 1e6)));
    if (this.unrefTimers) timer.handle.unref();
  }

  private fire(handle: TimerHandle, timer: PendingTimer): void {
    if (this.pending.get(handle) !== timer) return;
    const remainingNs = timer.dueNs - this.now();
    if (remainingNs > 0) {
      this.arm(handle, timer, remainingNs);
      return;
    }
    this.pending.delete(handle);
    timer.fn();
  }
}

/** A process-wide wall clock with ordinary (ref'd) timers; the default where none is injected. */
export const realTime = new RealTimeClock();
