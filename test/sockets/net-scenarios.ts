/**
 * `net` scenarios written once against the `NetLike` shape, run on Node's own `net` (loopback)
 * and on FlexTOE stacks: each returns what both sides saw (event sequences, bytes), so a test
 * can assert FlexTOE == Node. Every scenario waits on events, never on time, except where the
 * scenario is about time (the idle timeout).
 */
import type * as nodeNet from 'node:net';
import { closeServer, listening, once, pattern, recordEvents, type NetPair } from './net-kit.js';

export interface Sides {
  client: string[];
  server: string[];
}

/** A server whose accepted sockets are recorded into `server` (with 'connection' first). */
function recordingServer(
  p: NetPair,
  server: string[],
  onSocket: (s: nodeNet.Socket) => void,
  options: object = {},
): { srv: nodeNet.Server; serverSocketClosed: Promise<void> } {
  let resolveClosed!: () => void;
  const serverSocketClosed = new Promise<void>((r) => (resolveClosed = r));
  const srv = p.server.createServer(options, (s) => {
    server.push('connection');
    recordEvents(s, server);
    s.once('close', () => resolveClosed());
    onSocket(s);
  });
  return { srv, serverSocketClosed };
}

/** Client writes, reads the echo, ends first; the server (allowHalfOpen false) ends in turn. */
export async function echoClientEndsFirst(p: NetPair): Promise<Sides & { echoed: string }> {
  const client: string[] = [];
  const server: string[] = [];
  const { srv, serverSocketClosed } = recordingServer(p, server, (s) => s.pipe(s));
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect(port, p.host);
  recordEvents(c, client);
  c.write('ping');
  let echoed = '';
  c.on('data', (d: Buffer) => {
    echoed += d.toString();
    if (echoed.length === 4) c.end();
  });
  await once(c, 'close');
  await serverSocketClosed;
  await closeServer(srv);
  return { client, server, echoed };
}

/**
 * Half-close the other way: the server writes and ends at once; the client (allowHalfOpen)
 * receives 'end', still writes, then ends; the server reads after its own end.
 */
export async function serverEndsFirstHalfOpenClient(
  p: NetPair,
): Promise<Sides & { serverGot: string; clientGot: string }> {
  const client: string[] = [];
  const server: string[] = [];
  let serverGot = '';
  const { srv, serverSocketClosed } = recordingServer(p, server, (s) => {
    s.on('data', (d: Buffer) => (serverGot += d.toString()));
    s.end('hello');
  });
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect({ port, host: p.host, allowHalfOpen: true });
  recordEvents(c, client);
  let clientGot = '';
  c.on('data', (d: Buffer) => (clientGot += d.toString()));
  c.on('end', () => {
    client.push(`readyState:${(c as unknown as { readyState: string }).readyState}`);
    c.end('after-end');
  });
  await once(c, 'close');
  await serverSocketClosed;
  await closeServer(srv);
  return { client, server, serverGot, clientGot };
}

/** A port nobody listens on: listen on an ephemeral port, close, connect there. */
export async function refused(p: NetPair): Promise<Sides & { error: Record<string, unknown>; port: number }> {
  const srv = p.server.createServer(() => {});
  srv.listen(0);
  const port = await listening(srv);
  await closeServer(srv);
  const client: string[] = [];
  const c = p.client.connect(port, p.host);
  recordEvents(c, client);
  const err = await once<NodeJS.ErrnoException & { address?: string; port?: number }>(c, 'error');
  await once(c, 'close');
  return {
    client,
    server: [],
    port,
    error: { code: err.code, errno: err.errno, syscall: err.syscall, address: err.address, port: err.port },
  };
}

/** The server resets the connection when the client's first bytes arrive. */
export async function resetByPeer(p: NetPair): Promise<Sides & { error: Record<string, unknown> }> {
  const client: string[] = [];
  const server: string[] = [];
  const { srv, serverSocketClosed } = recordingServer(p, server, (s) => {
    s.once('data', () => (s as unknown as { resetAndDestroy(): void }).resetAndDestroy());
  });
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect(port, p.host);
  recordEvents(c, client);
  c.write('x');
  const err = await once<NodeJS.ErrnoException>(c, 'error');
  await once(c, 'close');
  await serverSocketClosed;
  await closeServer(srv);
  return { client, server, error: { code: err.code, errno: err.errno, syscall: err.syscall } };
}

/** An idle client gets 'timeout' and destroys itself; the server sees a clean end. */
export async function idleTimeout(p: NetPair): Promise<Sides> {
  const client: string[] = [];
  const server: string[] = [];
  const { srv, serverSocketClosed } = recordingServer(p, server, () => {});
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect(port, p.host);
  recordEvents(c, client);
  // Armed once connected: a first handshake on a cold, busy machine may itself take 60 ms.
  c.once('connect', () => c.setTimeout(60));
  c.on('timeout', () => c.destroy());
  await once(c, 'close');
  await serverSocketClosed;
  await closeServer(srv);
  return { client, server };
}

/**
 * A big write, then destroy() at once: the write's callback completes (as Node's does), the
 * client closes without error, the server receives a prefix of the bytes, in order, then a
 * clean end (FIN after what was already handed to the transport).
 */
export async function destroyMidWrite(
  p: NetPair,
  bytes: number,
): Promise<Sides & { prefixOk: boolean; received: number }> {
  const client: string[] = [];
  const server: string[] = [];
  const data = pattern(bytes, 7);
  const chunks: Buffer[] = [];
  const { srv, serverSocketClosed } = recordingServer(p, server, (s) =>
    s.on('data', (d: Buffer) => chunks.push(d)),
  );
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect(port, p.host);
  recordEvents(c, client);
  await once(c, 'connect');
  c.write(data, (err) => client.push(`write-cb:${err ? (err as NodeJS.ErrnoException).code : 'ok'}`));
  c.destroy();
  await once(c, 'close');
  await serverSocketClosed;
  await closeServer(srv);
  const received = Buffer.concat(chunks);
  return {
    client,
    server,
    received: received.length,
    prefixOk: received.equals(data.subarray(0, received.length)),
  };
}

/** destroy(err): 'error' with that error, then close(true); the peer sees a clean end. */
export async function destroyWithError(p: NetPair): Promise<Sides> {
  const client: string[] = [];
  const server: string[] = [];
  const { srv, serverSocketClosed } = recordingServer(p, server, () => {});
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect(port, p.host);
  recordEvents(c, client);
  await once(c, 'connect');
  c.destroy(Object.assign(new Error('boom'), { code: 'EBOOM' }));
  await once(c, 'close');
  await serverSocketClosed;
  await closeServer(srv);
  return { client, server };
}

/**
 * server.close() with a connection open: new connections are refused at once, the open one
 * keeps working, and 'close' comes only after it closes.
 */
export async function serverCloseWithOpenConnection(
  p: NetPair,
): Promise<{ log: string[]; connections: number }> {
  const log: string[] = [];
  const srv = p.server.createServer((s) => {
    log.push('connection');
    s.on('data', (d: Buffer) => s.write(d)); // echo, so the open connection is shown to still work
    s.on('end', () => log.push('server-socket:end'));
    s.on('close', () => log.push('server-socket:close'));
  });
  srv.listen(0);
  const port = await listening(srv);
  const c1 = p.client.connect(port, p.host);
  await once(c1, 'connect');
  while (!log.includes('connection')) await new Promise((r) => setImmediate(r));
  srv.on('close', () => log.push('server:close'));
  srv.close(() => log.push('close-cb'));
  log.push(`listening:${srv.listening}`);
  const connections = await new Promise<number>((resolve, reject) =>
    srv.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
  const c2 = p.client.connect(port, p.host);
  const err = await once<NodeJS.ErrnoException>(c2, 'error');
  log.push(`second-connect:${err.code}`);
  c1.write('still-open');
  const echoed = await once<Buffer>(c1, 'data');
  log.push(`echo:${echoed.toString()}`);
  c1.end();
  await once(c1, 'close');
  while (!log.includes('close-cb') || !log.includes('server-socket:close'))
    await new Promise((r) => setImmediate(r));
  return { log, connections };
}

/**
 * Backpressure both ways: the server starts paused and reads nothing, the client writes until
 * write() returns false; after a while the server reads everything and the client, on 'drain',
 * writes the rest. Returns what the sender could push while nobody read, and the integrity check.
 */
export async function backpressure(
  p: NetPair,
  totalBytes: number,
  chunkBytes: number,
): Promise<{
  sawFalse: boolean;
  drained: boolean;
  acceptedWhilePaused: number;
  writableLengthAtFalse: number;
  serverReadWhilePaused: number;
  intact: boolean;
  received: number;
}> {
  const data = pattern(totalBytes, 11);
  let serverSocket: nodeNet.Socket | null = null;
  const srv = p.server.createServer({ pauseOnConnect: true }, (s) => {
    serverSocket = s;
  });
  srv.listen(0);
  const port = await listening(srv);
  const c = p.client.connect(port, p.host);
  await once(c, 'connect');
  let offset = 0;
  let sawFalse = false;
  let writableLengthAtFalse = 0;
  while (offset < totalBytes) {
    const end = Math.min(totalBytes, offset + chunkBytes);
    const ok = c.write(data.subarray(offset, end));
    offset = end;
    if (!ok) {
      sawFalse = true;
      writableLengthAtFalse = c.writableLength;
      break;
    }
  }
  // Let the transport move what it can while nobody reads (windows fill, then stop).
  await new Promise((r) => setTimeout(r, 150));
  while (serverSocket === null) await new Promise((r) => setImmediate(r));
  const s: nodeNet.Socket = serverSocket;
  const acceptedWhilePaused = offset - c.writableLength;
  const serverReadWhilePaused = s.bytesRead;
  const chunks: Buffer[] = [];
  const serverDone = new Promise<void>((resolve) => s.on('end', () => resolve()));
  s.on('data', (d: Buffer) => chunks.push(d));
  s.resume();
  let drained = false;
  while (offset < totalBytes) {
    if (c.writableNeedDrain) {
      await once(c, 'drain');
      drained = true;
    }
    const end = Math.min(totalBytes, offset + chunkBytes);
    c.write(data.subarray(offset, end));
    offset = end;
  }
  if (c.writableNeedDrain) {
    await once(c, 'drain');
    drained = true;
  }
  c.end();
  await serverDone;
  await once(c, 'close');
  await closeServer(srv);
  const received = Buffer.concat(chunks);
  return {
    sawFalse,
    drained,
    acceptedWhilePaused,
    writableLengthAtFalse,
    serverReadWhilePaused,
    intact: received.equals(data),
    received: received.length,
  };
}
