/**
 * An in-memory `NetLike` for workload specs: connections are pairs of Duplex streams that
 * deliver every write in pieces of at most `fragment` bytes, one piece per turn of the event
 * loop, so parsers see messages split at every possible boundary.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { NetLike, ServerLike, SocketLike } from '../workloads/net-like.js';

class Pipe extends Duplex {
  peer!: Pipe;
  constructor(private readonly fragment: number) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    let off = 0;
    const step = (): void => {
      if (off >= chunk.length) return done();
      const n = Math.min(this.fragment, chunk.length - off);
      this.peer.push(chunk.subarray(off, off + n));
      off += n;
      setImmediate(step);
    };
    step();
  }
  override _final(done: () => void): void {
    this.peer.push(null);
    done();
  }
  setNoDelay(): this {
    return this;
  }
}

export function memoryNet(fragment: number): NetLike & { connections: number } {
  const servers = new Map<number, (s: SocketLike) => void>();
  let nextPort = 40000;
  const net = {
    connections: 0,
    createServer(onConnection: (s: SocketLike) => void): ServerLike {
      const server = new EventEmitter() as EventEmitter & ServerLike;
      let port = 0;
      Object.assign(server, {
        listen(p: number, _host: string, cb: () => void) {
          port = p === 0 ? nextPort++ : p;
          servers.set(port, onConnection);
          setImmediate(cb);
        },
        close(cb?: () => void) {
          servers.delete(port);
          if (cb) setImmediate(cb);
        },
        address: () => ({ port }),
      });
      return server;
    },
    connect(options: { port: number; host: string }, onConnect?: () => void): SocketLike {
      const a = new Pipe(fragment);
      const b = new Pipe(fragment);
      a.peer = b;
      b.peer = a;
      const accept = servers.get(options.port);
      setImmediate(() => {
        if (!accept) {
          a.destroy(
            Object.assign(new Error(`connect ECONNREFUSED ${options.host}:${options.port}`), {
              code: 'ECONNREFUSED',
            }),
          );
          return;
        }
        net.connections++;
        accept(b as unknown as SocketLike);
        onConnect?.();
      });
      return a as unknown as SocketLike;
    },
  };
  return net;
}
