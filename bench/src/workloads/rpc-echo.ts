/**
 * RPC echo (FlexTOE's RPC benchmark shape): every connection keeps `depth` requests of
 * `messageBytes` outstanding; the server writes back what it reads; a request completes when its
 * whole echo has arrived, and its round-trip time goes into the latency histogram. Closed loop:
 * a completion sends the next request on the same connection.
 *
 * `many-connections` is the same workload with many connections at depth 1, where the connect
 * rate (handshakes per second, `connectConcurrency` at a time) is part of the result.
 */
import type { WorkloadName } from '../report/format.js';
import type { NetLike, SocketLike } from './net-like.js';
import { ConnectionSet, measureClients, Outstanding, RequestLoop, serveTracked } from './session.js';
import { num, type ServerSide, type Workload } from './workload.js';

export function serveEcho(net: NetLike, host: string): Promise<ServerSide> {
  const conns = new ConnectionSet();
  const server = net.createServer((s) => {
    conns.add(s);
    s.setNoDelay?.(true);
    s.on('data', (chunk) => s.write(chunk));
    s.on('error', () => {}); // the client destroys its end when the run is over
  });
  return serveTracked(server, host, conns);
}

export const driveEcho: Workload['drive'] = (net, host, port, params, env, budget) => {
  const size = num(params, 'messageBytes');
  const depth = num(params, 'depth');
  const connections = num(params, 'connections');
  const concurrency = typeof params.connectConcurrency === 'number' ? params.connectConcurrency : 256;
  const request = Buffer.alloc(size, 0x61);
  const plan = { connections, concurrency, connectShare: connections > 100 ? 0.3 : 0.02 };
  return measureClients(net, host, port, env, budget, plan, (win) => {
    const loop = new RequestLoop(env, win);
    let alive = connections;
    const send = (q: Outstanding, sock: SocketLike): void => {
      q.push(env.now());
      sock.write(request);
    };
    return {
      reset: () => loop.reset(),
      attach(sock) {
        const q = new Outstanding(depth);
        let rx = 0; // echo bytes received toward the oldest outstanding request
        sock.on('data', (chunk) => {
          rx += chunk.length;
          while (rx >= size && q.count > 0) {
            rx -= size;
            if (loop.complete(q, 2 * size)) send(q, sock);
          }
          if (rx > 0 && q.count === 0) win.fail(new Error(`echo returned ${rx} bytes more than was sent`));
        });
        let lost = false;
        const onLost = (why: string): void => {
          if (lost || win.phase === 'done') return;
          lost = true;
          loop.errors++;
          if (--alive === 0) win.fail(new Error(`every connection failed (last: ${why})`));
        };
        sock.on('error', (err) => onLost(err.message));
        sock.on('close', () => onLost('closed by the peer'));
        return { sock, q };
      },
      begin(conns) {
        for (const c of conns) for (let i = 0; i < depth; i++) send(c.q, c.sock);
      },
      counts: (connected) => loop.counts(connected),
    };
  });
};

export const rpcEcho: Workload = {
  name: 'rpc-echo',
  serve: (net, host) => serveEcho(net, host),
  drive: driveEcho,
};

export const manyConnections: Workload = {
  name: 'many-connections' satisfies WorkloadName,
  serve: (net, host) => serveEcho(net, host),
  drive: driveEcho,
};
