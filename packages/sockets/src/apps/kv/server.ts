/**
 * `createKvServer(net)`: a memcached-protocol (text) key-value server on any `net`-like
 * module. The store and protocol are ours; the sockets are whatever the module gives, so the
 * same server runs on Linux TCP (`node:net`) and on FlexTOE (`stack.net`).
 */
import type { AppServer, AppSocket, NetLike } from '../net-like.js';
import { KvSession, KV_PROTOCOL_VERSION, type KvServerContext, type KvSessionOptions } from './protocol.js';
import { KvStore, type KvStoreOptions } from './store.js';

export interface KvServerOptions extends KvStoreOptions, KvSessionOptions {
  /** Connections served at once (memcached -c); more are told so and closed. Default 1024. */
  maxConnections?: number;
  /** Replies queued unread per connection before it stops parsing its input; default 4 MiB. */
  replyHighWaterBytes?: number;
}

export interface KvServerCounters {
  curr_connections: number;
  total_connections: number;
  rejected_connections: number;
  bytes_read: number;
  bytes_written: number;
}

export interface KvServer {
  /** The `net` server: `listen` it where you like. */
  readonly server: AppServer;
  readonly store: KvStore;
  readonly counters: KvServerCounters;
  /** Serves one connection (the server does this for each of its own). */
  serve(socket: AppSocket): void;
}

const TOO_MANY = Buffer.from('SERVER_ERROR too many open connections\r\n', 'latin1');

export function createKvServer(net: NetLike, options: KvServerOptions = {}): KvServer {
  const store = new KvStore(options);
  const maxConnections = options.maxConnections ?? 1024;
  const highWater = options.replyHighWaterBytes ?? 4 * 1024 * 1024;
  const started = Date.now();
  const counters: KvServerCounters = {
    curr_connections: 0,
    total_connections: 0,
    rejected_connections: 0,
    bytes_read: 0,
    bytes_written: 0,
  };
  const ctx: KvServerContext = {
    store,
    *serverStats() {
      const now = Date.now();
      yield ['pid', process.pid];
      yield ['uptime', Math.floor((now - started) / 1000)];
      yield ['time', Math.floor(now / 1000)];
      yield ['version', options.version ?? KV_PROTOCOL_VERSION];
      yield ['pointer_size', 64];
      yield ['max_connections', maxConnections];
      yield ['threads', 1];
      for (const [k, v] of Object.entries(counters)) yield [k, v];
    },
    resetServerStats() {
      counters.total_connections = counters.rejected_connections = 0;
      counters.bytes_read = counters.bytes_written = 0;
    },
  };

  function serve(socket: AppSocket): void {
    counters.total_connections++;
    // Peers reset and vanish; that ends their session, it is not the server's error.
    socket.on('error', () => {});
    if (counters.curr_connections >= maxConnections) {
      counters.rejected_connections++;
      socket.end(TOO_MANY);
      return;
    }
    counters.curr_connections++;
    socket.setNoDelay?.(true);
    const session = new KvSession(
      ctx,
      {
        write(chunk) {
          counters.bytes_written += chunk.length;
          socket.write(chunk);
        },
        congested: () => socket.writableLength > highWater,
        end: () => {
          socket.end();
        },
      },
      options,
    );
    socket.on('data', (chunk: Buffer) => {
      counters.bytes_read += chunk.length;
      session.feed(chunk);
      if (session.stalled) socket.pause();
    });
    socket.on('drain', () => {
      if (!session.stalled) return;
      session.resume();
      if (!session.stalled && !session.ended) socket.resume();
    });
    socket.once('close', () => {
      counters.curr_connections--;
    });
  }

  const server = net.createServer(serve);
  return { server, store, counters, serve };
}
