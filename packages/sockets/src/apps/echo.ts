/**
 * The echo service (RFC 862 over TCP): every byte a client sends comes back. Streams with
 * backpressure (`pipe`), and half-closes like the RFC's server: our FIN follows the client's.
 */
import type { AppSocket, NetLike, AppServer } from './net-like.js';

export function serveEcho(socket: AppSocket): void {
  socket.on('error', () => {}); // a peer's reset ends its echo; nothing to report
  socket.setNoDelay?.(true);
  socket.pipe(socket);
}

export function createEchoServer(net: NetLike): AppServer {
  return net.createServer(serveEcho);
}
