/**
 * The part of Node's `net` the workloads use. Every workload is written once against it, so
 * the Linux baseline is literally `node:net` and FlexTOE is `stack.net` from @flextoe/sockets:
 * same code, different TCP underneath.
 */

export interface SocketLike {
  write(data: Uint8Array): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  setNoDelay?(noDelay?: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'drain' | 'end' | 'connect' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface ServerLike {
  listen(port: number, host: string, listener: () => void): unknown;
  close(callback?: (err?: Error) => void): unknown;
  address(): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface NetLike {
  createServer(connectionListener: (socket: SocketLike) => void): ServerLike;
  connect(options: { port: number; host: string }, connectListener?: () => void): SocketLike;
}

/** The port a listening server got (port 0 asks for an ephemeral one). */
export function boundPort(server: ServerLike, asked: number): number {
  const a = server.address();
  if (typeof a === 'object' && a !== null && typeof (a as { port?: unknown }).port === 'number')
    return (a as { port: number }).port;
  return asked;
}

/** Listens and resolves with the bound port; rejects on 'error' (e.g. EADDRINUSE). */
export function listen(server: ServerLike, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, host, () => resolve(boundPort(server, port)));
  });
}

/** Closes a server, never waiting longer than `ms` (a server waits for its connections). */
export function closeServer(server: ServerLike, ms = 2000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
