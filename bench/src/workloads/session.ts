/**
 * What every socket workload does around its own protocol, written once: a server that remembers
 * the connections it accepted (closing it ends them), a client run that connects, measures one
 * window and tears down, and the closed-loop bookkeeping of request/response workloads (each
 * connection keeps `depth` requests outstanding; an answer records a round trip and sends the
 * next request).
 */
import { LatencyHistogram } from '../metrics/histogram.js';
import { summarise, type Counts } from '../metrics/summarise.js';
import type { Metrics } from '../report/format.js';
import { closeServer, listen, type NetLike, type ServerLike, type SocketLike } from './net-like.js';
import { MeasureWindow, within, type Budget, type ServerSide, type WorkloadEnv } from './workload.js';

/** The connections a server accepted and has not seen close. */
export class ConnectionSet {
  private readonly sockets = new Set<SocketLike>();

  add(s: SocketLike): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}

/** Listens on an ephemeral port; `close` destroys the accepted connections, then the server. */
export async function serveTracked(
  server: ServerLike,
  host: string,
  connections: ConnectionSet,
): Promise<ServerSide> {
  const port = await listen(server, 0, host);
  return {
    port,
    async close() {
      connections.destroyAll();
      await closeServer(server);
    },
  };
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

/** How a client run connects. */
export interface ConnectPlan {
  readonly connections: number;
  /** Handshakes in flight at a time. */
  readonly concurrency: number;
  /** Share of the run's progress the connect phase shows (many connections take a while). */
  readonly connectShare?: number;
}

/** A workload's client half, given the run's window. */
export interface ClientSession<C> {
  /** The window opened: forget what the warm-up counted. */
  reset(): void;
  /** Wires one connected socket and returns its state. */
  attach(sock: SocketLike): C;
  /** The window has started: the first requests go out. */
  begin?(conns: readonly C[]): void;
  /** What the window counted, once it closed. */
  counts(connected: ConnectResult): Counts;
}

/**
 * Connects, runs the session through warm-up and the measured window, and destroys every
 * client socket whatever happened. A socket error ends the run through `win.fail`.
 */
export async function measureClients<C>(
  net: NetLike,
  host: string,
  port: number,
  env: WorkloadEnv,
  budget: Budget,
  plan: ConnectPlan,
  session: (win: MeasureWindow) => ClientSession<C>,
): Promise<Metrics> {
  const share = plan.connectShare ?? 0;
  const connected = await within(
    connectMany(net, host, port, plan.connections, plan.concurrency, env, (f) =>
      budget.onProgress(f * share),
    ),
    budget.wallCapMs,
    'connecting',
  );
  let s: ClientSession<C> | null = null;
  const win = new MeasureWindow(
    env,
    { ...budget, onProgress: (f) => budget.onProgress(share + (1 - share) * f) },
    () => s!.reset(),
  );
  s = session(win);
  try {
    const conns = connected.sockets.map((sock) => s.attach(sock));
    win.start();
    s.begin?.(conns);
    return summarise(await win.finished, s.counts(connected), env);
  } finally {
    for (const sock of connected.sockets) sock.destroy();
  }
}

/** One connection's outstanding requests, oldest first: their send times in a ring of `depth` slots. */
export class Outstanding {
  private readonly sentAt: Float64Array;
  private head = 0;
  count = 0;

  constructor(readonly depth: number) {
    this.sentAt = new Float64Array(depth);
  }

  /** A request goes out at `t`; returns its slot (for what else the caller keeps per request). */
  push(t: number): number {
    const slot = (this.head + this.count) % this.depth;
    this.sentAt[slot] = t;
    this.count++;
    return slot;
  }

  /** The oldest outstanding request's slot. */
  get oldest(): number {
    return this.head;
  }

  /** The oldest request was answered: retires it and returns when it was sent. */
  shift(): number {
    const t = this.sentAt[this.head]!;
    this.head = (this.head + 1) % this.depth;
    this.count--;
    return t;
  }
}

/**
 * The counts of a closed-loop request/response run: round trips in a latency histogram,
 * requests and payload bytes completed inside the window.
 */
export class RequestLoop {
  readonly latency = new LatencyHistogram();
  requests = 0;
  bytes = 0;
  errors = 0;

  constructor(
    private readonly env: WorkloadEnv,
    private readonly win: MeasureWindow,
  ) {}

  reset(): void {
    this.latency.reset();
    this.requests = 0;
    this.bytes = 0;
  }

  /**
   * The oldest request of `q` was answered (`bytes` of payload both ways): counted if the
   * window is open. True while the run goes on, i.e. the connection should send another.
   */
  complete(q: Outstanding, bytes: number): boolean {
    const sent = q.shift();
    if (this.win.phase === 'measure') {
      this.latency.record(this.env.now() - sent);
      this.requests++;
      this.bytes += bytes;
    }
    return this.win.tick();
  }

  counts(connected: ConnectResult): Counts {
    const { requests, bytes, latency, errors } = this;
    return { requests, bytes, latency, errors, connectsPerSec: connected.connectsPerSec };
  }
}
