/**
 * Memcached-style key-value service (FlexTOE's memcached benchmark, text protocol): `get` and
 * `set` of `valueBytes` values on `keys` keys chosen uniformly with a seeded PRNG, `getRatio`
 * of them gets, `depth` requests pipelined per connection. The client speaks the memcached text
 * protocol (get with one key, set), so a real memcached could stand in for the server.
 */
import { Prng } from '@flextoe/core';
import { createKvServer, type NetLike as AppNetLike } from '@flextoe/sockets';
import type { Params } from '../report/format.js';
import type { NetLike, ServerLike, SocketLike } from './net-like.js';
import { ConnectionSet, measureClients, Outstanding, RequestLoop, serveTracked } from './session.js';
import { num, type ServerSide, type Workload } from './workload.js';

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
export function serveKv(net: NetLike, host: string, params: Params): Promise<ServerSide> {
  const kv = createKvServer(net as unknown as AppNetLike, { maxConnections: 1 << 20 });
  const value = Buffer.alloc(num(params, 'valueBytes'), 0x76);
  for (let i = 0; i < num(params, 'keys'); i++) kv.store.store('set', keyName(i), value, 0, 0);
  const conns = new ConnectionSet();
  (kv.server as unknown as { on(e: 'connection', l: (s: SocketLike) => void): void }).on('connection', (s) =>
    conns.add(s),
  );
  return serveTracked(kv.server as unknown as ServerLike, host, conns);
}

interface KvConn {
  readonly sock: SocketLike;
  readonly input: StreamBuffer;
  readonly q: Outstanding;
  /** Whether each outstanding request is a get, by its slot in `q`. */
  readonly isGet: Uint8Array;
  /** Inside a get's VALUE block: bytes of data + CRLF still to skip, else -1. */
  valueLeft: number;
}

export const driveKv: Workload['drive'] = (net, host, port, params, env, budget) => {
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
  const getBytes = gets[0]!.length + getResponseBytes;
  const setBytes = sets[0]!.length + STORED.length;
  const prng = new Prng(budget.seed);
  const getThreshold = Math.round(getRatio * 2 ** 32);
  return measureClients(net, host, port, env, budget, { connections, concurrency: 64 }, (win) => {
    const loop = new RequestLoop(env, win);
    const send = (c: KvConn): void => {
      const isGet = prng.nextU32() < getThreshold;
      const req = (isGet ? gets : sets)[prng.nextInt(keys)]!;
      c.isGet[c.q.push(env.now())] = isGet ? 1 : 0;
      c.sock.write(req);
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
          const get = line === 'END';
          if (c.q.count === 0 || c.isGet[c.q.oldest] !== (get ? 1 : 0))
            throw new KvProtocolError(`unexpected "${line}"`);
          if (loop.complete(c.q, get ? getBytes : setBytes)) send(c);
        } else if (line.startsWith('VALUE ')) {
          c.valueLeft = Number(line.split(' ')[3]) + 2;
        } else throw new KvProtocolError(`server said "${line}"`);
      }
    };
    return {
      reset: () => loop.reset(),
      attach(sock) {
        const c: KvConn = {
          sock,
          input: new StreamBuffer(),
          q: new Outstanding(depth),
          isGet: new Uint8Array(depth),
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
          if (win.phase === 'done') return;
          loop.errors++;
          win.fail(new Error(`kv connection failed: ${err.message}`));
        });
        return c;
      },
      begin(conns) {
        for (const c of conns) for (let i = 0; i < depth; i++) send(c);
      },
      counts: (connected) => loop.counts(connected),
    };
  });
};

export const kv: Workload = { name: 'kv', serve: serveKv, drive: driveKv };
