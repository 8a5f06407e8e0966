/**
 * Bulk transfer: every connection's server end writes `chunkBytes` chunks as fast as the
 * socket accepts them (honouring backpressure: write() false -> wait for 'drain'); the client
 * end counts what arrives. Goodput is payload bytes received per second, measured at the
 * receiver so both halves may live in different processes.
 */
import { summarise } from '../metrics/summarise.js';
import type { Metrics, Params } from '../report/format.js';
import { closeServer, listen, type NetLike, type SocketLike } from './net-like.js';
import { connectMany } from './rpc-echo.js';
import {
  MeasureWindow,
  within,
  num,
  type Budget,
  type ServerSide,
  type Workload,
  type WorkloadEnv,
} from './workload.js';

export async function serveBulk(net: NetLike, host: string, params: Params): Promise<ServerSide> {
  const chunk = Buffer.alloc(num(params, 'chunkBytes'), 0x62);
  const sockets = new Set<SocketLike>();
  const server = net.createServer((s) => {
    sockets.add(s);
    let open = true;
    const pump = (): void => {
      while (open && s.write(chunk));
    };
    s.on('drain', pump);
    s.on('error', () => {});
    s.on('close', () => {
      open = false;
      sockets.delete(s);
    });
    pump();
  });
  const port = await listen(server, 0, host);
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

export async function driveBulk(
  net: NetLike,
  host: string,
  port: number,
  params: Params,
  env: WorkloadEnv,
  budget: Budget,
): Promise<Metrics> {
  const connections = num(params, 'connections');
  const { sockets } = await within(
    connectMany(net, host, port, connections, 64, env, () => {}),
    budget.wallCapMs,
    'connecting',
  );
  let bytes = 0;
  let errors = 0;
  const win = new MeasureWindow(env, budget, () => {
    bytes = 0;
  });
  for (const s of sockets) {
    s.on('data', (chunk) => {
      if (win.phase === 'measure') bytes += chunk.length;
      win.tick();
    });
    s.on('error', (err) => {
      if (win.phase === 'done') return;
      errors++;
      win.fail(new Error(`bulk connection failed: ${err.message}`));
    });
  }
  win.start();
  try {
    const w = await win.finished;
    return summarise(w, { requests: null, bytes, latency: null, errors }, env);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

export const bulk: Workload = { name: 'bulk', serve: serveBulk, drive: driveBulk };
