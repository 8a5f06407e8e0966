/**
 * Edge-triggered receive notifications shared by the software ports (FlexTOE: interrupts only
 * after idleness). The wakeup is armed when the consumer registers it or when its `rxBurst`
 * leaves nothing receivable; it then fires once, on the first frame that is (or becomes)
 * receivable, and disarms until the consumer again finds the queue idle. It never runs inside
 * the caller that queued the frame: a frame receivable now is announced from a microtask, a
 * frame receivable later from a timer on the port's clock.
 */
import type { Clock, TimerHandle, Timers } from '../hw/clock.js';

export class RxWakeup {
  private fn: (() => void) | null = null;
  private armed = false;
  private microtaskQueued = false;
  private timer: TimerHandle = 0;
  /** When the pending timer fires; Infinity when none is pending. */
  private timerAtNs = Infinity;
  /** The clock read into a register (`Clock.nowInto`): no heap number per frame queued. */
  private readonly nowNs = new Float64Array(1);
  // Bound once so arranging a wakeup never allocates a closure.
  private readonly onMicrotask = (): void => {
    this.microtaskQueued = false;
    this.fire();
  };
  private readonly onTimer = (): void => {
    this.timerAtNs = Infinity;
    this.fire();
  };

  /**
   * @param nextEventNs brings the owner up to date with the clock and returns the earliest time
   *   a frame is receivable or the owner's state next changes (Infinity: nothing pending).
   */
  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers | undefined,
    private readonly nextEventNs: () => number,
  ) {}

  set(fn: (() => void) | null): void {
    this.cancelTimer();
    this.fn = fn;
    this.armed = fn !== null;
    if (this.armed) this.arrange(this.nextEventNs());
  }

  /** The consumer found nothing receivable: announce the next frame that becomes receivable. */
  idle(): void {
    if (this.fn === null) return;
    this.armed = true;
    this.arrange(this.nextEventNs());
  }

  /** True while waiting to announce a frame (callers check it first, to skip the call). */
  get isArmed(): boolean {
    return this.armed;
  }

  /** A frame was queued that is receivable at `dueNs`. */
  queued(dueNs: number): void {
    if (this.armed) this.arrange(dueNs);
  }

  /** Drops any pending timer (port stopped or detached). */
  dispose(): void {
    this.cancelTimer();
    this.armed = false;
  }

  private arrange(dueNs: number): void {
    if (dueNs === Infinity) return;
    const now = this.readClock();
    if (dueNs <= now) {
      if (!this.microtaskQueued) {
        this.microtaskQueued = true;
        queueMicrotask(this.onMicrotask);
      }
      return;
    }
    if (this.timerAtNs <= dueNs) return; // a pending timer already fires early enough
    if (this.timers === undefined) {
      throw new Error('RxWakeup: frames are due in the future but the port was given no Timers');
    }
    this.cancelTimer();
    this.timerAtNs = dueNs;
    this.timer = this.timers.schedule(dueNs - now, this.onTimer);
  }

  private fire(): void {
    if (!this.armed || this.fn === null) return;
    // A polling consumer may have drained the queue since this was arranged: check again.
    const due = this.nextEventNs();
    if (due > this.readClock()) {
      this.arrange(due);
      return;
    }
    this.armed = false;
    this.fn();
  }

  /** The clock's time; callers are small enough that V8 inlines this (the double stays unboxed). */
  private readClock(): number {
    const reg = this.nowNs;
    const clock = this.clock;
    if (clock.nowInto !== undefined) clock.nowInto(reg, 0);
    else reg[0] = clock.now();
    return reg[0]!;
  }

  private cancelTimer(): void {
    if (this.timerAtNs === Infinity) return;
    this.timers!.cancel(this.timer);
    this.timerAtNs = Infinity;
  }
}
