/**
 * The one contract between a backend and the application side (`@flextoe/sockets`): a running
 * TCP stack whose connections are libTOE-style `Connection`s. The inline runner's `TcpStack`
 * implements it directly; the x86 backend and the simulated NICs return their own stacks with
 * the same shape, so the `net` layer above is written once.
 */
import type { BackendName, FlexToeConfig } from '../config/schema.js';
import type { BackendDescriptor } from '../backend-descriptor.js';
import type { Listener } from '../control/control-plane.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import type { StackStats } from './tcp-stack.js';

export interface StackApi {
  /** Our IPv4 address as a u32. */
  readonly localIp: number;
  /** Passive open on `port` (RFC 9293 3.10.1); throws TcpError EADDRINUSE when taken. */
  listen(port: number, onConnection: (c: Connection) => void, backlog?: number): Listener;
  unlisten(listener: Listener): void;
  /** Active open; the handshake's outcome arrives through `handlers` (onConnect / onClose). */
  connect(
    remoteIp: string | number,
    remotePort: number,
    handlers?: ConnectionHandlers,
    localPort?: number,
  ): Connection;
  /** Counters by stage and reason (plus whatever the backend models: utilisation, tiers). */
  stats(): StackStats;
  /** Schedules a poll round soon (the application changed something the stack must see). */
  kick(): void;
  /** Aborts every connection and releases the hardware; idempotent. */
  close(): void | Promise<void>;
}

/** A stack a backend built from a configuration, with what the backend is. */
export interface BackendStack extends StackApi {
  readonly backend: BackendName;
  /** 'wall' for x86, 'modelled' for the simulators (DESIGN.md 3). */
  readonly timeBase: 'wall' | 'modelled';
  close(): Promise<void>;
}

/**
 * What every backend package exports as `backend`: its descriptor and a factory. `createStack`
 * receives a fully resolved, validated configuration (core's `resolveConfig`).
 */
export interface Backend {
  readonly descriptor: BackendDescriptor;
  createStack(config: FlexToeConfig): Promise<BackendStack>;
}
