/**
 * Runs stacks that share a `ManualClock` as fast as the machine allows (virtual time): poll
 * every stack until all are idle, then jump the clock to the next timer (or the next pacing
 * slot), and repeat. Deterministic for a given seed: the core tests and the simulated
 * backends' `virtual` time mode use it.
 */
import type { ManualClock } from '../util/manual-clock.js';

export interface Pollable {
  poll(): number;
  /** True while the stack's scheduler holds rate-limited flows. */
  readonly pacing: boolean;
}

/** Pacing granularity when only rate-limited flows are pending: one queue-manager wheel slot. */
const PACING_STEP_NS = 1000;

/**
 * Runs until `done()` is true (returns true) or virtual time passes `limitNs` or nothing is
 * left to happen (returns false).
 */
export function runVirtual(
  stacks: readonly Pollable[],
  clock: ManualClock,
  done: () => boolean,
  limitNs: number,
): boolean {
  const end = clock.now() + limitNs;
  for (;;) {
    let work = 0;
    for (const s of stacks) work += s.poll();
    if (done()) return true;
    if (work > 0) continue;
    const timer = clock.nextTimerAt();
    let next = timer ?? Infinity;
    if (stacks.some((s) => s.pacing)) next = Math.min(next, clock.now() + PACING_STEP_NS);
    if (next === Infinity || next > end) return false;
    clock.advanceTo(Math.max(next, clock.now()));
  }
}
