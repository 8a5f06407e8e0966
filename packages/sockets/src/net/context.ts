/**
 * What every socket and server of one stack shares: the backend's libTOE-level stack, the
 * liveness hold, the open sockets and servers (so `stack.close()` can end them), counters.
 * Internal to @flextoe/sockets.
 */
import type { BackendStack } from '@flextoe/core';
import type { Liveness } from './liveness.js';

/** Counters of the sockets layer, reported under `stack.stats().sockets`. */
export interface SocketCounters {
  /** Active opens started (`connect()`). */
  connects: number;
  /** Passive opens handed to a server as a socket. */
  accepted: number;
  /** Passive opens dropped because `server.maxConnections` was reached (Node's 'drop'). */
  dropped: number;
  /** Connections whose socket was destroyed while open and that finish in the background (FIN). */
  orphaned: number;
  /** Connections reset by us: `resetAndDestroy()`, destroy with unread bytes, stack close. */
  resets: number;
  /** Orphans aborted after ORPHAN_FIN_TIMEOUT_MS without the peer's FIN (Linux tcp_fin_timeout). */
  orphanTimeouts: number;
}

export interface NetContext {
  readonly api: BackendStack;
  /** Our IPv4 address, dotted. */
  readonly localAddress: string;
  readonly liveness: Liveness;
  /** Sockets between connect()/accept and their 'close'. */
  readonly sockets: Set<{ destroy(): unknown }>;
  /** Servers that are listening. */
  readonly servers: Set<{ close(): unknown }>;
  readonly counters: SocketCounters;
  /** Set by `stack.close()`: every connection is aborted, nothing lingers. */
  closing: boolean;
}

export function newCounters(): SocketCounters {
  return { connects: 0, accepted: 0, dropped: 0, orphaned: 0, resets: 0, orphanTimeouts: 0 };
}

/** Option keys (symbols, so they never collide with Node's) for sockets the layer builds itself. */
export const kContext = Symbol('flextoe.net.context');
export const kConnection = Symbol('flextoe.net.connection');
export const kSocketClass = Symbol('flextoe.net.socketClass');
