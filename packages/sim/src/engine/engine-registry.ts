/**
 * Which engine a simulated NIC runs on. In virtual time every stack on one virtual wire must
 * share one simulation clock (frames cross the wire at simulated instants both ends agree on),
 * so engines are per wire. Paced NICs all follow the wall clock: they share one engine.
 *
 * Process-wide (a `Symbol.for` slot, like core's wire registry), so two copies of this package
 * in one process still put the stacks of one wire on one engine.
 */
import type { Seed } from '@flextoe/core';
import { SimEngine, type SimTimeMode } from './sim-engine.js';

interface Registry {
  readonly virtual: Map<string, SimEngine>;
  paced: SimEngine | null;
}

const KEY = Symbol.for('flextoe.sim.engines');
const registry: Registry =
  ((globalThis as Record<symbol, unknown>)[KEY] as Registry | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = { virtual: new Map(), paced: null } as Registry);

/**
 * The engine for a NIC in `mode`; in virtual mode, the one of wire `wire` (created on first
 * use with `seed`). Call `releaseEngine` when the NIC closes.
 */
export function engineFor(mode: SimTimeMode, wire: string, seed?: Seed): SimEngine {
  if (mode === 'paced') {
    if (registry.paced === null || registry.paced.isClosed)
      registry.paced = new SimEngine({ mode: 'paced', ...(seed === undefined ? {} : { seed }) });
    return registry.paced;
  }
  let e = registry.virtual.get(wire);
  if (e === undefined || e.isClosed) {
    e = new SimEngine({ mode: 'virtual', ...(seed === undefined ? {} : { seed }) });
    registry.virtual.set(wire, e);
  }
  return e;
}

/**
 * Called when a NIC closes. The paced engine closes once no NIC uses it. A virtual wire keeps
 * its engine (it parks when idle and holds no handles): core's wire remembers the clock it was
 * built on, so a stack that joins the wire later must find the same clock.
 */
export function releaseEngine(engine: SimEngine): void {
  if (engine.participantCount > 0 || engine.mode !== 'paced') return;
  engine.close();
  if (registry.paced === engine) registry.paced = null;
}
