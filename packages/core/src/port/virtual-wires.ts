/**
 * Named in-process wires, so a configuration (plain data: `{ driver: 'virtual', network, ip }`)
 * can say which wire a stack attaches to, and several stacks in one process, on any backends,
 * can talk. `@flextoe/sockets`' `createVirtualNetwork()` registers a wire with its faults;
 * a backend opens its port here. Faults apply on receive at every attached port (the
 * `FaultInjectingPort` contract), each port with its own PRNG stream forked from the wire's seed.
 */
import type { Clock, Timers } from '../hw/clock.js';
import type { NicPort } from '../hw/nic-port.js';
import { realTime } from '../util/real-time.js';
import { FaultInjectingPort, type FaultOptions } from './fault-injecting-port.js';
import { VirtualNetwork, type VirtualPort } from './virtual-network.js';

/** A wire's impairments, in the units the quick start uses (DESIGN.md; issue "sockets"). */
export interface VirtualWireOptions {
  /** Probability a frame is dropped, per receiving port. */
  readonly loss?: number;
  readonly duplicate?: number;
  readonly reorder?: number;
  readonly corrupt?: number;
  /** One-way delay in microseconds. */
  readonly delayUs?: number;
  /** Link rate in Gbit/s (unlimited when omitted). */
  readonly rateGbps?: number;
  readonly seed?: number;
}

/** The default wire's name: a virtual port config without `network` joins it. */
export const DEFAULT_VIRTUAL_WIRE = 'default';

interface WireEntry {
  readonly options: VirtualWireOptions;
  network: VirtualNetwork | null;
  /** The time base the wire was built on (every port on one wire must share it). */
  clock: Clock | null;
  attached: number;
}

/**
 * Process-wide, not module-wide: an application that ends up with two copies of
 * `@flextoe/core` (a CommonJS and an ESM instance, or two installed versions) must still see one
 * set of wires, or stacks on "the same" wire would silently never meet.
 */
const REGISTRY = Symbol.for('flextoe.port.virtualWires');
type Registry = { wires: Map<string, WireEntry>; counter: number };
const registry: Registry =
  ((globalThis as Record<symbol, unknown>)[REGISTRY] as Registry | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY] = { wires: new Map(), counter: 0 } as Registry);
const wires = registry.wires;

function checkOptions(o: VirtualWireOptions): void {
  for (const key of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    const p = o[key];
    if (p !== undefined && !(typeof p === 'number' && p >= 0 && p <= 1))
      throw new RangeError(`virtual wire: ${key} is ${String(p)} but must be a probability 0..1`);
  }
  if (o.delayUs !== undefined && !(o.delayUs >= 0 && Number.isFinite(o.delayUs)))
    throw new RangeError(`virtual wire: delayUs is ${o.delayUs} but must be a finite number >= 0`);
  if (o.rateGbps !== undefined && !(o.rateGbps > 0))
    throw new RangeError(`virtual wire: rateGbps is ${o.rateGbps} but must be > 0`);
  if (o.seed !== undefined && !Number.isInteger(o.seed))
    throw new RangeError(`virtual wire: seed is ${o.seed} but must be an integer`);
}

/** Registers a new wire; returns its name for port configs. */
export function registerVirtualWire(options: VirtualWireOptions = {}, name?: string): string {
  checkOptions(options);
  const wireName = name ?? `wire-${++registry.counter}`;
  if (wires.has(wireName)) throw new Error(`virtual wire "${wireName}" already exists`);
  wires.set(wireName, { options: { ...options }, network: null, clock: null, attached: 0 });
  return wireName;
}

/** Forgets a wire (ports already open keep working until closed). */
export function unregisterVirtualWire(name: string): void {
  wires.delete(name);
}

export function virtualWireOptions(name: string): VirtualWireOptions | undefined {
  return wires.get(name)?.options;
}

export interface OpenedVirtualPort {
  /** What the stack uses: the switch port, wrapped in a fault injector when the wire has faults. */
  readonly port: NicPort;
  readonly network: VirtualNetwork;
  readonly inner: VirtualPort;
  /** Detaches from the wire. */
  close(): void;
}

/**
 * Attaches a port to the named wire (created on first use for `default` or an unknown name),
 * on `time` (the wall clock unless a backend runs on modelled time: then every port on the wire
 * must pass the same clock, or this throws).
 */
export function openVirtualPort(
  networkName: string | undefined,
  time: { clock: Clock; timers: Timers } = { clock: realTime, timers: realTime },
  mac?: number,
): OpenedVirtualPort {
  const name = networkName ?? DEFAULT_VIRTUAL_WIRE;
  let entry = wires.get(name);
  if (!entry) {
    entry = { options: {}, network: null, clock: null, attached: 0 };
    wires.set(name, entry);
  }
  const o = entry.options;
  if (entry.network === null) {
    entry.network = new VirtualNetwork({
      clock: time.clock,
      timers: time.timers,
      ...(o.rateGbps !== undefined ? { rateGbps: o.rateGbps } : {}),
    });
    entry.clock = time.clock;
  } else if (entry.clock !== time.clock) {
    throw new Error(
      `virtual wire "${name}": every stack on one wire must share one clock (a simulated backend in virtual time cannot share a wire with a wall-clock one; use timeMode 'paced')`,
    );
  }
  const network = entry.network;
  const inner = network.attach(mac === undefined ? {} : { mac });
  const index = entry.attached++;
  const faulty =
    (o.loss ?? 0) > 0 ||
    (o.duplicate ?? 0) > 0 ||
    (o.reorder ?? 0) > 0 ||
    (o.corrupt ?? 0) > 0 ||
    (o.delayUs ?? 0) > 0;
  const faults: FaultOptions = {
    loss: o.loss ?? 0,
    duplicate: o.duplicate ?? 0,
    reorder: o.reorder ?? 0,
    corrupt: o.corrupt ?? 0,
    delayNs: (o.delayUs ?? 0) * 1000,
    seed: (o.seed ?? 1) * 1009 + index,
    clock: time.clock,
    timers: time.timers,
  };
  const port = faulty ? new FaultInjectingPort(inner, faults) : inner;
  return {
    port,
    network,
    inner,
    close() {
      network.detach(inner);
    },
  };
}
