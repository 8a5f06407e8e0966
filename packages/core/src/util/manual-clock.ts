/**
 * A `Clock` + `Timers` that only moves when told to: the fake clock for specs and the time base
 * of the discrete-event simulators. Timers run in due-time order (ties in scheduling order),
 * each with `now()` equal to its due time, so a run is a pure function of its inputs.
 */
import type { Clock, TimerHandle, Timers } from '../hw/clock.js';

export class ManualClock implements Clock, Timers {
  // Initialised here, not only in the constructor: a field first defined as undefined keeps a
  // tagged representation, and every store of a fractional time would allocate a heap number.
  private nowNs = 0;
  private seq = 0;
  private nextHandle = 1;
  /** Binary min-heap on (dueNs, seq); cancelled entries are removed lazily when they surface. */
  private readonly heap: TimerEntry[] = [];
  private readonly live = new Map<TimerHandle, TimerEntry>();

  constructor(startNs = 0) {
    this.nowNs = startNs;
  }

  now(): number {
    return this.nowNs;
  }

  /** Calls `fn` when the clock reaches now + `delayNs` (negative delays count as zero). */
  schedule(delayNs: number, fn: () => void): TimerHandle {
    if (Number.isNaN(delayNs)) throw new RangeError('ManualClock.schedule: delay is NaN');
    const entry: TimerEntry = {
      dueNs: this.nowNs + Math.max(0, delayNs),
      seq: this.seq++,
      handle: this.nextHandle++,
      fn,
    };
    this.live.set(entry.handle, entry);
    this.push(entry);
    return entry.handle;
  }

  cancel(handle: TimerHandle): void {
    const entry = this.live.get(handle);
    if (!entry) return;
    this.live.delete(handle);
    entry.fn = null;
  }

  /** Moves time forward by `ns`, running every timer that falls due on the way (also ones they schedule). */
  advance(ns: number): void {
    if (!(ns >= 0)) throw new RangeError(`ManualClock.advance: ns must be >= 0, got ${ns}`);
    this.advanceTo(this.nowNs + ns);
  }

  /** Moves time forward to `t` (never backwards), running timers due at or before `t`. */
  advanceTo(t: number): void {
    if (t < this.nowNs) throw new RangeError(`ManualClock.advanceTo: ${t} is before now (${this.nowNs})`);
    for (;;) {
      const next = this.peek();
      if (!next || next.dueNs > t) break;
      this.runEntry(next);
    }
    this.nowNs = t;
  }

  /** Jumps to the earliest pending timer and runs it; false if none is pending. */
  runNext(): boolean {
    const next = this.peek();
    if (!next) return false;
    this.runEntry(next);
    return true;
  }

  /** Runs timers until none is pending, at most `limit` of them (guards self-rescheduling loops); returns how many ran. */
  runAll(limit = 1_000_000): number {
    let ran = 0;
    while (ran < limit && this.runNext()) ran++;
    return ran;
  }

  /** Due time of the earliest pending timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.peek()?.dueNs;
  }

  get pendingTimers(): number {
    return this.live.size;
  }

  private runEntry(entry: TimerEntry): void {
    this.pop();
    this.live.delete(entry.handle);
    if (entry.dueNs > this.nowNs) this.nowNs = entry.dueNs;
    const fn = entry.fn!;
    entry.fn = null;
    fn();
  }

  /** The earliest live entry, discarding cancelled ones on the way. */
  private peek(): TimerEntry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) this.pop();
    return this.heap[0];
  }

  private push(entry: TimerEntry): void {
    const h = this.heap;
    let i = h.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[child]!, last)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
  }
}

interface TimerEntry {
  readonly dueNs: number;
  readonly seq: number;
  readonly handle: TimerHandle;
  fn: (() => void) | null;
}

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.dueNs < b.dueNs || (a.dueNs === b.dueNs && a.seq < b.seq);
}
