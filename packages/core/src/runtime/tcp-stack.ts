/**
 * A complete TCP stack on the FlexTOE data path: the data path (NIC side), the host control
 * plane, and the application's context queue, run-to-completion on the calling thread (the
 * inline runner: the no-parallelism baseline and what the core tests use). Backends reuse the
 * same pieces and place the stages on their own cores.
 */
import type { Clock, Timers } from '../hw/clock.js';
import type { DmaEngine } from '../hw/dma-engine.js';
import type { MemoryTiers } from '../hw/memory-tiers.js';
import type { NicPort } from '../hw/nic-port.js';
import { ContextQueue, CONTEXT_ENTRY_WORDS, Notification, Request } from '../pipeline/context-queue.js';
import { ControlPlane, type Listener } from '../control/control-plane.js';
import type { CcName } from '../control/cc/congestion-control.js';
import type { IsnGenerator } from '../control/isn.js';
import { TcpState } from '../control/tcp-state.js';
import { ipv4FromString } from '../wire/ipv4.js';
import { Connection, type ConnectionHandlers, type ConnectionHost } from './connection.js';
import { DataPath } from './data-path.js';
import type { DataPathModule } from '../pipeline/hooks.js';
import type { DataPathStats } from './counters.js';
import type { ControlPlaneCounters } from '../control/control-plane.js';
import type { StackApi } from './stack-api.js';
import { resolveStackOptions } from './stack-options.js';

export { DEFAULT_STACK_OPTIONS, parseCidr } from './stack-options.js';

/** The hardware a stack runs on (what a backend's container module provides). */
export interface StackHardware {
  readonly port: NicPort;
  readonly dma: DmaEngine;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly tiers: MemoryTiers;
}

export interface TcpStackOptions {
  /** Our address with prefix, e.g. '10.0.0.1/24'. */
  readonly ip: string;
  readonly gateway?: string;
  /** MSS we announce (RFC 9293 3.7.1): MTU 1500 - 40. */
  readonly mss?: number;
  readonly rxBufferBytes?: number;
  readonly txBufferBytes?: number;
  readonly flowGroups?: number;
  readonly maxFlows?: number;
  readonly cc?: CcName;
  readonly delayedAck?: boolean;
  readonly oooIntervals?: number;
  readonly windowScale?: boolean;
  readonly timestamps?: boolean;
  readonly ecn?: boolean;
  /** ISN source; default RFC 6528. Tests pin it (e.g. just below 2^32 to wrap). */
  readonly isn?: IsnGenerator;
  readonly synRetries?: number;
  readonly dataRetries?: number;
  readonly synRtoMs?: number;
  readonly minRtoMs?: number;
  readonly timeWaitMs?: number;
  readonly controlTickUs?: number;
  readonly burst?: number;
  readonly maxHalfOpen?: number;
  /** User modules for the data path's hook points, installed in this order (pipeline/hooks.ts). */
  readonly modules?: readonly DataPathModule[];
}

export interface StackStats {
  dataPath: DataPathStats;
  control: ControlPlaneCounters;
  connections: number;
}

export class TcpStack implements ConnectionHost, StackApi {
  readonly dataPath: DataPath;
  readonly control: ControlPlane;
  readonly context: ContextQueue;
  readonly localIp: number;
  private readonly note = new Uint32Array(CONTEXT_ENTRY_WORDS);
  private readonly req = new Uint32Array(CONTEXT_ENTRY_WORDS);
  private running = false;
  private scheduled = false;
  private closed = false;

  constructor(
    readonly hw: StackHardware,
    options: TcpStackOptions,
  ) {
    const resolved = resolveStackOptions(options, hw.port.capabilities.maxFrameBytes);
    this.localIp = resolved.localIp;
    this.dataPath = new DataPath(resolved.dataPath, hw.port, hw.dma, hw.clock, hw.tiers);
    for (const m of options.modules ?? []) this.dataPath.installModule(m);
    this.context = this.dataPath.addContext(resolved.contextEntries);
    this.control = new ControlPlane(
      resolved.control,
      this.dataPath,
      hw.clock,
      // A control-plane timer (RTO, persist, delayed ACK, CC tick) changes NIC state that only
      // the next poll round acts on: every timer that fires kicks the poll loop.
      {
        schedule: (delayNs, fn) =>
          hw.timers.schedule(delayNs, () => {
            fn();
            this.kick();
          }),
        cancel: (handle) => hw.timers.cancel(handle),
      },
      this,
    );
  }

  // ---------------------------------------------------------------- application API

  listen(port: number, onConnection: (c: Connection) => void, backlog = 511): Listener {
    this.assertOpen();
    return this.control.listen(port, backlog, (c) => {
      onConnection(c);
      this.kick();
    });
  }

  unlisten(l: Listener): void {
    this.control.unlisten(l);
  }

  connect(
    remoteIp: string | number,
    remotePort: number,
    handlers: ConnectionHandlers = {},
    localPort = 0,
  ): Connection {
    this.assertOpen();
    const ip = typeof remoteIp === 'number' ? remoteIp : ipv4FromString(remoteIp);
    const c = this.control.connect(ip, remotePort, handlers, localPort);
    this.kick();
    return c;
  }

  // ConnectionHost: the application's requests go through the context queue to the NIC.
  appended(c: Connection, n: number): void {
    this.request(Request.TxAppended, c, n);
  }

  consumed(c: Connection, n: number): void {
    if (c.flowId >= 0) this.request(Request.RxConsumed, c, n);
  }

  shutdown(c: Connection): void {
    // The FIN goes after every byte already appended (RFC 9293 3.10.4): the control plane
    // applies Close directly, so first drain the appends still queued in the context queue.
    this.dataPath.pollRequests();
    this.control.shutdown(c);
    this.kick();
  }

  abort(c: Connection): void {
    this.control.abort(c);
    this.kick();
  }

  private request(kind: Request, c: Connection, n: number): void {
    const r = this.req;
    r[0] = kind;
    r[1] = c.flowId;
    r[2] = n;
    // The ring is sized so a full one means a stalled NIC; apply directly rather than lose it.
    if (!this.context.requests.tryPush(r)) {
      this.dataPath.pollRequests();
      if (!this.context.requests.tryPush(r)) this.dataPath.applyRequest(kind, c.flowId, n);
    }
    this.kick();
  }

  // ---------------------------------------------------------------- the poll loop

  /**
   * One round of every stage, run to completion (FlexTOE's x86 port ran one core per stage; this
   * is all of them on one): receive, application requests, control plane, transmit,
   * notifications. Returns the work done (0 = idle).
   */
  poll(): number {
    const dp = this.dataPath;
    let work = dp.pollRx();
    work += dp.pollRequests();
    // Deliver what this round received before the control plane acts on the round's flow events:
    // a FIN's onClose (entering TIME-WAIT) must not overtake the data and onEnd before it.
    work += this.dispatchNotifications();
    work += this.control.poll();
    work += dp.pollTx();
    work += this.dispatchNotifications();
    return work;
  }

  /**
   * NIC notifications -> connection state -> application callbacks. Protected: a simulated NIC
   * releases notifications at their modelled time and dispatches them itself.
   */
  protected dispatchNotifications(): number {
    const ring = this.context.notifications;
    const note = this.note;
    let n = 0;
    while (ring.tryPop(note)) {
      n++;
      const c = this.control.byId.get(note[1]!);
      if (!c) continue;
      switch (note[0] as Notification) {
        case Notification.RxData:
          c.readableLength += note[2]!;
          c.handlers.onReadable?.(c);
          break;
        case Notification.TxFreed:
          c.txQueued -= note[2]!;
          c.handlers.onWritable?.(c);
          break;
        case Notification.Fin:
          c.handlers.onEnd?.(c);
          break;
      }
    }
    return n;
  }

  /** True when the transmit scheduler holds flows waiting for their rate. */
  get pacing(): boolean {
    return this.dataPath.qm.waiting > 0;
  }

  /** Runs the poll loop on the event loop (real time) until `stop()` or `close()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.hw.port.setRxWakeup(() => this.kick());
    this.kick();
  }

  stop(): void {
    this.running = false;
    this.hw.port.setRxWakeup(null);
  }

  /** Schedules a poll round soon (after a wakeup, a timer, or an application request). */
  kick(): void {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running) return;
      const work = this.poll();
      if (work > 0 || this.pacing) this.kick();
    });
  }

  stats(): StackStats {
    return {
      dataPath: this.dataPath.stats(),
      control: { ...this.control.counters },
      connections: this.control.connections.size,
    };
  }

  /** Aborts every connection and stops; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.control.close();
    this.poll();
    this.stop();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('stack is closed');
  }

  connectionsIn(state: TcpState): number {
    let n = 0;
    for (const c of this.control.connections.values()) if (c.state === state) n++;
    return n;
  }
}
