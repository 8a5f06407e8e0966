/**
 * Time for the data path and the control plane. Real backends read the wall clock; simulated
 * backends return modelled time (and in `virtual` mode it runs as fast as the machine allows).
 * Nanoseconds as a double: exact up to 2^53 ns (about 104 days).
 */
export interface Clock {
  /** Current time in nanoseconds since the backend started. */
  now(): number;
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
