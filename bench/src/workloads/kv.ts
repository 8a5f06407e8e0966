/**
 * Memcached-style key-value service (FlexTOE's memcached benchmark, text protocol): `get` and
 * `set` of `valueBytes` values on `keys` keys chosen uniformly with a seeded PRNG, `getRatio`
 * of them gets, `depth` requests pipelined per connection. The client speaks the memcached text
 * protocol (get with one key, set), so a real memcached could stand in for the server.
 */
import { Prng } from '@flextoe/core';
import { createKvServer, type NetLike as AppNetLike } from '@flextoe/sockets';
import { LatencyHistogram } from '../metrics/histogram.js';
import { summarise } from '../metrics/summarise.js';
import type { Metrics, Params } from '../report/format.js';
import { closeServer, listen, type NetLike, type ServerLike, type SocketLike } from './net-like.js';
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

const CRLF = Buffer.from('\r\n');
const END = Buffer.from('END\r\n');
const STORED = Buffer.from('STORED\r\n');
const keyName = (i: number): string => `key:${String(i).padStart(8, '0')}`;

/**
 * One connection's incoming bytes: chunks are appended and consumed from the front; compaction
 * copies only the unconsumed tail, so a pipelined stream costs one copy per byte.
 */
class StreamBuffer {
  private buf = Buffer.alloc(4096);
  start = 0;
  end = 0;

  append(chunk: Buffer): void {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const next = live + chunk.length > this.buf.length ? Buffer.alloc(2 * (live + chunk.length)) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /** Index just past the next CRLF-terminated line, or -1 if the line is incomplete. */
  lineEnd(): number {
    const i = this.buf.indexOf(CRLF, this.start);
    return i === -1 || i + 2 > this.end ? -1 : i + 2;
  }

  text(from: number, to: number): string {
    return this.buf.toString('latin1', from, to);
  }

  get available(): number {
    return this.end - this.start;
  }
}

export class KvProtocolError extends Error {}

/**
 * The server is the product's own memcached-protocol server (`createKvServer` from
 * @flextoe/sockets), on whichever `net` the target gives: the same server code on Linux and on
 * FlexTOE. Keys are stored before the run, so every get hits.
 */
export async function serveKv(net: NetLike, host: string, params: Params): Promise<ServerSide> {
  const kv = createKvServer(net as unknown as AppNetLike, { maxConnections: 1 << 20 });
  const value = Buffer.alloc(num(params, 'valueBytes'), 0x76);
  for (let i = 0; i < num(params, 'keys'); i++) kv.store.store('set', keyName(i), value, 0, 0);
  const sockets = new Set<SocketLike>();
  const server = kv.server as unknown as ServerLike;
  (kv.server as unknown as { on(e: 'connection', l: (s: SocketLike) => void): void }).on(
    'connection',
    (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    },
  );
  const port = await listen(server, 0, host);
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

interface KvConn {
  readonly sock: SocketLike;
  readonly input: StreamBuffer;
  /** Outstanding requests: send time and whether it was a get, rings of `depth` slots. */
  readonly sent: Float64Array;
  readonly isGet: Uint8Array;
  head: number;
  outstanding: number;
  /** Inside a get's VALUE block: bytes of data + CRLF still to skip, else -1. */
  valueLeft: number;
}

export async function driveKv(
  net: NetLike,
  host: string,
  port: number,
  params: Params,
  env: WorkloadEnv,
  budget: Budget,
): Promise<Metrics> {
  const keys = num(params, 'keys');
  const valueBytes = num(params, 'valueBytes');
  const getRatio = num(params, 'getRatio');
  const depth = num(params, 'depth');
  const connections = num(params, 'connections');
  const value = Buffer.alloc(valueBytes, 0x77);
  const gets = Array.from({ length: keys }, (_, i) => Buffer.from(`get ${keyName(i)}\r\n`));
  const sets = Array.from({ length: keys }, (_, i) =>
    Buffer.concat([Buffer.from(`set ${keyName(i)} 0 0 ${valueBytes}\r\n`), value, CRLF]),
  );
  const getResponseBytes = `VALUE ${keyName(0)} 0 ${valueBytes}\r\n`.length + valueBytes + 2 + END.length;
  const prng = new Prng(budget.seed);
  const getThreshold = Math.round(getRatio * 2 ** 32);
  const { sockets, connectsPerSec } = await within(
    connectMany(net, host, port, connections, 64, env, () => {}),
    budget.wallCapMs,
    'connecting',
  );
  const latency = new LatencyHistogram();
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  let running = true;
  const win = new MeasureWindow(env, budget, () => {
    latency.reset();
    requests = 0;
    bytes = 0;
  });
  const send = (c: KvConn): void => {
    const slot = (c.head + c.outstanding) % depth;
    const isGet = prng.nextU32() < getThreshold;
    const req = (isGet ? gets : sets)[prng.nextInt(keys)]!;
    c.sent[slot] = env.now();
    c.isGet[slot] = isGet ? 1 : 0;
    c.outstanding++;
    c.sock.write(req);
  };
  const complete = (c: KvConn): void => {
    const t = env.now();
    if (win.phase === 'measure') {
      latency.record(t - c.sent[c.head]!);
      requests++;
      bytes += c.isGet[c.head] ? gets[0]!.length + getResponseBytes : sets[0]!.length + STORED.length;
    }
    c.head = (c.head + 1) % depth;
    c.outstanding--;
    if (running && (running = win.tick())) send(c);
  };
  /** Consumes every complete response line/block in `c.input`. */
  const parse = (c: KvConn): void => {
    const input = c.input;
    for (;;) {
      if (c.valueLeft >= 0) {
        if (input.available < c.valueLeft) return;
        input.start += c.valueLeft;
        c.valueLeft = -1;
      }
      const eol = input.lineEnd();
      if (eol === -1) return;
      const line = input.text(input.start, eol - 2);
      input.start = eol;
      if (line === 'END' || line === 'STORED') {
        if (c.outstanding === 0 || c.isGet[c.head] !== (line === 'END' ? 1 : 0))
          throw new KvProtocolError(`unexpected "${line}"`);
        complete(c);
      } else if (line.startsWith('VALUE ')) {
        c.valueLeft = Number(line.split(' ')[3]) + 2;
      } else throw new KvProtocolError(`server said "${line}"`);
    }
  };
  const conns = sockets.map((sock) => {
    const c: KvConn = {
      sock,
      input: new StreamBuffer(),
      sent: new Float64Array(depth),
      isGet: new Uint8Array(depth),
      head: 0,
      outstanding: 0,
      valueLeft: -1,
    };
    sock.on('data', (chunk) => {
      c.input.append(chunk);
      try {
        parse(c);
      } catch (e) {
        win.fail(e as Error);
      }
    });
    sock.on('error', (err) => {
      if (!running) return;
      errors++;
      win.fail(new Error(`kv connection failed: ${err.message}`));
    });
    return c;
  });
  win.start();
  for (const c of conns) for (let i = 0; i < depth; i++) send(c);
  try {
    const w = await win.finished;
    return summarise(w, { requests, bytes, latency, errors, connectsPerSec }, env);
  } finally {
    running = false;
    for (const c of conns) c.sock.destroy();
  }
}

export const kv: Workload = { name: 'kv', serve: serveKv, drive: driveKv };
