/**
 * A simulated NIC as a `BackendStack` (the contract `@flextoe/sockets` builds on), and the one
 * factory both simulated backends use: configuration -> time mode, engine, wire -> NIC.
 *
 * Wires by port driver and time mode:
 * - `virtual` driver, `virtual` time: core's named in-process wire, on the wire's engine (every
 *   stack on the wire shares its clock; an x86 stack cannot join such a wire).
 * - `virtual` driver, `paced` time: the same wire on the wall clock, so x86 stacks can share it.
 * - `tap` / `dpdk`, `paced` time only: the x86 backend's drivers carry real frames.
 */
import {
  DEFAULT_VIRTUAL_WIRE,
  loadDataPathModules,
  openVirtualPort,
  Prng,
  realTime,
  rfc6528Isn,
  stackOptionsFromConfig,
  type BackendName,
  type BackendStack,
  type Connection,
  type ConnectionHandlers,
  type FlexToeConfig,
  type Listener,
  type NicPort,
  type StackStats,
} from '@flextoe/core';
import { engineFor, releaseEngine } from '../engine/engine-registry.js';
import type { SimEngine } from '../engine/sim-engine.js';
import type { NicModelSpec } from '../model/spec.js';
import { SimNic } from './sim-nic.js';
import type { SimStats } from './sim-stats.js';

/** Stack statistics of a simulated backend: core's counters plus the model's. */
export interface SimStackStats extends StackStats {
  readonly model: SimStats;
}

export class SimBackendStack implements BackendStack {
  readonly timeBase = 'modelled' as const;
  private closing: Promise<void> | null = null;

  constructor(
    readonly backend: BackendName,
    readonly nic: SimNic,
    private readonly release: () => Promise<void>,
  ) {}

  get engine(): SimEngine {
    return this.nic.engine;
  }

  get localIp(): number {
    return this.nic.stack.localIp;
  }

  listen(port: number, onConnection: (c: Connection) => void, backlog?: number): Listener {
    const l = this.nic.stack.listen(port, onConnection, backlog);
    this.nic.kicked();
    return l;
  }

  unlisten(listener: Listener): void {
    this.nic.stack.unlisten(listener);
  }

  connect(
    remoteIp: string | number,
    remotePort: number,
    handlers?: ConnectionHandlers,
    localPort?: number,
  ): Connection {
    return this.nic.stack.connect(remoteIp, remotePort, handlers, localPort);
  }

  stats(): SimStackStats {
    return { ...this.nic.stack.stats(), model: this.nic.stats() };
  }

  /** The model's statistics alone (throughput, latency, cores, tiers, queues). */
  simStats(): SimStats {
    return this.nic.stats();
  }

  /** Starts a new statistics window. */
  resetStats(): void {
    this.nic.resetStats();
  }

  kick(): void {
    this.nic.kicked();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.nic.close();
      releaseEngine(this.nic.engine);
      await this.release();
    })();
    return this.closing;
  }
}

/** The seed a model's config asks for (default 1): memory latencies and ISN secrets derive from it. */
function isnFromSeed(seed: number | string): ReturnType<typeof rfc6528Isn> {
  const r = new Prng(seed).fork('rfc6528-secret');
  const secret = Buffer.alloc(16);
  for (let i = 0; i < 16; i += 4) secret.writeUInt32LE(r.nextU32(), i);
  return rfc6528Isn(secret);
}

function parseMac(text: string): number {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text))
    throw new RangeError(`mac is "${text}" but must look like 02:00:00:00:00:01`);
  return parseInt(text.replace(/:/g, ''), 16);
}

/**
 * Builds a simulated NIC for `config` with model `spec` (the backend validated its own
 * parameters into the spec). The stack's ISN secret is derived from the model's seed: the
 * simulator promises the same results for the same seed (it is no security boundary).
 */
export async function createSimStack(
  backend: BackendName,
  config: FlexToeConfig,
  spec: NicModelSpec,
): Promise<SimBackendStack> {
  // User modules run inside the simulated NIC's data path, charged as the stage they hook.
  const modules = await loadDataPathModules(config.modules);
  const options = { ...stackOptionsFromConfig(config), isn: isnFromSeed(spec.seed), modules };
  const mode = config.timeMode;
  const port = config.port;
  let wire: NicPort;
  let wireName: string;
  let engine: SimEngine;
  let closeWire: () => Promise<void>;
  if (port.driver === 'virtual') {
    wireName = port.network ?? DEFAULT_VIRTUAL_WIRE;
    engine = engineFor(mode, wireName, spec.seed);
    const time =
      mode === 'virtual' ? { clock: engine, timers: engine } : { clock: realTime, timers: realTime };
    const opened = openVirtualPort(wireName, time, port.mac === undefined ? undefined : parseMac(port.mac));
    wire = opened.port;
    wireName = `virtual:${wireName}`;
    closeWire = async () => opened.close();
  } else {
    if (mode !== 'paced')
      throw new RangeError(
        `a ${port.driver} port carries real frames in real time: ${backend} needs timeMode 'paced' on it (got '${mode}')`,
      );
    engine = engineFor('paced', '', spec.seed);
    // The x86 backend's drivers are the simulated NIC's wire in paced mode (issue: simulated
    // backends talk TCP to Linux); loaded only here, so virtual wires never load native code.
    const { openPort } = await import('@flextoe/backend-x86');
    const opened = await openPort(port);
    wire = opened.port;
    wireName = `${port.driver}:${port.driver === 'tap' ? port.ifname : port.vdev}`;
    closeWire = () => opened.close();
  }
  let nic: SimNic;
  try {
    nic = new SimNic({ spec, engine, wire, stack: options, wireName });
  } catch (e) {
    await closeWire();
    releaseEngine(engine);
    throw e;
  }
  return new SimBackendStack(backend, nic, closeWire);
}
