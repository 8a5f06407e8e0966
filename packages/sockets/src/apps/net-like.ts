/**
 * The part of Node's `net` the applications here use, so each runs unchanged on `node:net`
 * (the kernel's TCP) and on a FlexTOE stack's `stack.net`: pass either module.
 */
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

/** A connected byte stream: `net.Socket` of either module. */
export interface AppSocket extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  setNoDelay?(noDelay?: boolean): unknown;
}

export interface AppServer extends EventEmitter {
  listen(port: number, host: string, listeningListener?: () => void): this;
  listen(port: number, listeningListener?: () => void): this;
  close(callback?: (err?: Error) => void): this;
  address(): unknown;
}

export interface NetLike {
  createServer(connectionListener?: (socket: AppSocket) => void): AppServer;
}

/** `server.listen(port[, host])` as a promise: resolves when listening, rejects on 'error'. */
export function listenServer(server: AppServer, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if (host === undefined) server.listen(port, done);
    else server.listen(port, host, done);
  });
}

/** The port a listening server got (for listen(0)). */
export function portOf(server: AppServer): number {
  const a = server.address();
  if (a === null || typeof a !== 'object' || typeof (a as { port?: unknown }).port !== 'number')
    throw new Error('the server is not listening');
  return (a as { port: number }).port;
}

/** `server.close()` as a promise. */
export function closeServer(server: AppServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
