/**
 * Bulk transfer: every connection's server end writes `chunkBytes` chunks as fast as the
 * socket accepts them (honouring backpressure: write() false -> wait for 'drain'); the client
 * end counts what arrives. Goodput is payload bytes received per second, measured at the
 * receiver so both halves may live in different processes.
 */
import type { NetLike } from './net-like.js';
import { ConnectionSet, measureClients, serveTracked } from './session.js';
import { num, type ServerSide, type Workload } from './workload.js';
import type { Params } from '../report/format.js';

export function serveBulk(net: NetLike, host: string, params: Params): Promise<ServerSide> {
  const chunk = Buffer.alloc(num(params, 'chunkBytes'), 0x62);
  const conns = new ConnectionSet();
  const server = net.createServer((s) => {
    conns.add(s);
    let open = true;
    const pump = (): void => {
      while (open && s.write(chunk));
    };
    s.on('drain', pump);
    s.on('error', () => {});
    s.on('close', () => (open = false));
    pump();
  });
  return serveTracked(server, host, conns);
}

export const driveBulk: Workload['drive'] = (net, host, port, params, env, budget) => {
  const plan = { connections: num(params, 'connections'), concurrency: 64 };
  return measureClients(net, host, port, env, budget, plan, (win) => {
    let bytes = 0;
    let errors = 0;
    return {
      reset: () => (bytes = 0),
      attach(sock) {
        sock.on('data', (chunk) => {
          if (win.phase === 'measure') bytes += chunk.length;
          win.tick();
        });
        sock.on('error', (err) => {
          if (win.phase === 'done') return;
          errors++;
          win.fail(new Error(`bulk connection failed: ${err.message}`));
        });
      },
      counts: () => ({ requests: null, bytes, latency: null, errors }),
    };
  });
};

export const bulk: Workload = { name: 'bulk', serve: serveBulk, drive: driveBulk };
