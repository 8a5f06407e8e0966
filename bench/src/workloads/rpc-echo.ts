/**
 * RPC echo (FlexTOE's RPC benchmark shape): every connection keeps `depth` requests of
 * `messageBytes` outstanding; the server writes back what it reads; a request completes when its
 * whole echo has arrived, and its round-trip time goes into the latency histogram. Closed loop:
 * a completion sends the next request on the same connection.
 *
 * `many-connections` is the same workload with many connections at depth 1, where the connect
 * rate (handshakes per second, `connectConcurrency` at a time) is part of the result.
 */
import { LatencyHistogram } from '../metrics/histogram.js';
import { summarise } from '../metrics/summarise.js';
import type { Metrics, Params, WorkloadName } from '../report/format.js';
import { closeServer, listen, type NetLike, type SocketLike } from './net-like.js';
import {
  MeasureWindow,
  within,
  num,
  type Budget,
  type ServerSide,
  type Workload,
  type WorkloadEnv,
} from './workload.js';

export async function serveEcho(net: NetLike, host: string): Promise<ServerSide> {
  const sockets = new Set<SocketLike>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.setNoDelay?.(true);
    s.on('data', (chunk) => s.write(chunk));
    s.on('error', () => {}); // the client destroys its end when the run is over
    s.on('close', () => sockets.delete(s));
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

interface ClientConn {
  readonly sock: SocketLike;
  /** Send times of outstanding requests, a ring of `depth` slots. */
  readonly sent: Float64Array;
  head: number;
  outstanding: number;
  /** Echo bytes received toward the oldest outstanding request. */
  rx: number;
  alive: boolean;
}

export interface ConnectResult {
  sockets: SocketLike[];
  /** Handshakes per second over the whole connect phase, in the target's time base. */
  connectsPerSec: number;
}

/** Opens `n` connections, at most `concurrency` handshakes at a time. */
export function connectMany(
  net: NetLike,
  host: string,
  port: number,
  n: number,
  concurrency: number,
  env: WorkloadEnv,
  onProgress: (f: number) => void,
): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const sockets: SocketLike[] = [];
    const t0 = env.now();
    let started = 0;
    let done = 0;
    let failed = false;
    const next = (): void => {
      while (!failed && started < n && started - done < concurrency) {
        started++;
        const s = net.connect({ port, host }, () => {
          s.setNoDelay?.(true);
          sockets.push(s);
          done++;
          onProgress(done / n);
          if (done === n) {
            const seconds = (env.now() - t0) / 1e9;
            resolve({ sockets, connectsPerSec: seconds > 0 ? n / seconds : 0 });
          } else next();
        });
        s.on('error', (err) => {
          if (done < n && !failed) {
            failed = true;
            for (const x of sockets) x.destroy();
            s.destroy();
            reject(new Error(`connect ${done + 1}/${n} failed: ${err.message}`));
          }
        });
      }
    };
    next();
  });
}

export async function driveEcho(
  net: NetLike,
  host: string,
  port: number,
  params: Params,
  env: WorkloadEnv,
  budget: Budget,
): Promise<Metrics> {
  const size = num(params, 'messageBytes');
  const depth = num(params, 'depth');
  const connections = num(params, 'connections');
  const concurrency = typeof params.connectConcurrency === 'number' ? params.connectConcurrency : 256;
  const connectShare = connections > 100 ? 0.3 : 0.02;
  const { sockets, connectsPerSec } = await within(
    connectMany(net, host, port, connections, concurrency, env, (f) => budget.onProgress(f * connectShare)),
    budget.wallCapMs,
    'connecting',
  );
  const request = Buffer.alloc(size, 0x61);
  const latency = new LatencyHistogram();
  let requests = 0;
  let errors = 0;
  let running = true;
  const win = new MeasureWindow(
    env,
    { ...budget, onProgress: (f) => budget.onProgress(connectShare + (1 - connectShare) * f) },
    () => {
      latency.reset();
      requests = 0;
    },
  );
  const send = (c: ClientConn): void => {
    c.sent[(c.head + c.outstanding) % depth] = env.now();
    c.outstanding++;
    c.sock.write(request);
  };
  const conns: ClientConn[] = sockets.map((sock) => {
    const c: ClientConn = {
      sock,
      sent: new Float64Array(depth),
      head: 0,
      outstanding: 0,
      rx: 0,
      alive: true,
    };
    sock.on('data', (chunk) => {
      c.rx += chunk.length;
      while (c.rx >= size && c.outstanding > 0) {
        c.rx -= size;
        const t = env.now();
        if (win.phase === 'measure') {
          latency.record(t - c.sent[c.head]!);
          requests++;
        }
        c.head = (c.head + 1) % depth;
        c.outstanding--;
        if (running && (running = win.tick())) send(c);
      }
      if (c.rx > 0 && c.outstanding === 0)
        win.fail(new Error(`echo returned ${c.rx} bytes more than was sent`));
    });
    const lost = (why: string) => (): void => {
      if (!c.alive || !running) return;
      c.alive = false;
      errors++;
      if (conns.every((x) => !x.alive)) win.fail(new Error(`every connection failed (last: ${why})`));
    };
    sock.on('error', (err) => lost(err.message)());
    sock.on('close', lost('closed by the peer'));
    return c;
  });
  win.start();
  for (const c of conns) for (let i = 0; i < depth; i++) send(c);
  try {
    const w = await win.finished;
    return summarise(w, { requests, bytes: requests * size * 2, latency, errors, connectsPerSec }, env);
  } finally {
    running = false;
    for (const c of conns) c.sock.destroy();
  }
}

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
