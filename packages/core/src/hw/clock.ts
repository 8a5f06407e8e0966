/**
 * Time for the data path and the control plane. Real backends read the wall clock; simulated
 * backends return modelled time (and in `virtual` mode it runs as fast as the machine allows).
 * Nanoseconds as a double: exact up to 2^53 ns (about 104 days).
 */
export interface Clock {
  /** Current time in nanoseconds since the backend started. */
  now(): number;
  /**
   * Optional: writes `now()` into `into[index]`. A clock whose time is no small integer (a
   * simulator's fractional nanoseconds) offers it so hot callers read the time without a heap
   * number: V8 boxes a double returned from a call it did not inline.
   */
  nowInto?(into: Float64Array, index: number): void;
}
export const Clock = Symbol.for('flextoe.hw.Clock');

export type TimerHandle = number;

/** One-shot timers on the backend's clock (control-plane RTOs, TIME-WAIT, CC loop, persist). */
export interface Timers {
  /** Calls `fn` once, `delayNs` from now on the backend clock. */
  schedule(delayNs: number, fn: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}
export const Timers = Symbol.for('flextoe.hw.Timers');
