/**
 * `Server`: Node's `net.Server` on a FlexTOE stack's passive opens. `listen()` registers a
 * listener with the control plane (RFC 9293 3.10.1 passive OPEN); every completed handshake
 * becomes a `Socket` and a 'connection' event. Argument forms, event order and errors follow
 * Node 20's lib/net.js: 'listening' and listen errors on the next tick, EADDRINUSE as an
 * 'error' event, `close()` stops accepting at once and emits 'close' when the last accepted
 * socket has closed, `maxConnections` drops excess connections with a 'drop' event.
 */
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { TcpError, type Connection, type Listener } from '@flextoe/core';
import { u32ToIpv4, validateListen, type ListenRequest } from './args.js';
import { kConnection, kContext, kSocketClass, type NetContext } from './context.js';
import { errors, notFoundError, uvExceptionWithHostPort, type NetError } from './errors.js';
import { Hold } from './liveness.js';
import { orphanConnection } from './orphan.js';
import { Socket, type AddressInfo, type SocketConstructorOpts } from './socket.js';

export interface ServerOpts {
  /** Accepted sockets keep their writable side open after the peer's FIN (default false). */
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused: nothing is read (the window closes) until they are resumed. */
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

/** What a 'drop' event carries (Node 20). */
export interface DropArgument {
  localAddress: string;
  localPort: number;
  localFamily: string;
  remoteAddress: string;
  remotePort: number;
  remoteFamily: string;
}

/** Linux's ip_local_port_range, where listen(0) picks from (as the kernel does for Node). */
type SocketClass = new (o: SocketConstructorOpts) => Socket;

const EPHEMERAL_FIRST = 32768;
const EPHEMERAL_LAST = 60999;
/** Node's default backlog. */
const DEFAULT_BACKLOG = 511;

export class Server extends EventEmitter {
  /** Above this many open connections, new ones are dropped ('drop'); unset = unlimited. */
  maxConnections: number | undefined = undefined;

  readonly #ctx: NetContext;
  readonly #socketClass: SocketClass;
  readonly #options: ServerOpts;
  readonly #hold: Hold;
  #listener: Listener | null = null;
  #bound: { address: string; port: number } | null = null;
  #connections = 0;
  #abort: { signal: AbortSignal; onAbort: () => void } | null = null;

  /** Build servers with `stack.net.createServer()` or `new stack.net.Server()`: they know their stack. */
  constructor(
    options?: ServerOpts | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    let opts: ServerOpts = {};
    let listener = connectionListener;
    if (typeof options === 'function') listener = options;
    else if (options !== null && typeof options === 'object') opts = options;
    else if (options !== undefined) throw errors.invalidArgType('options', 'of type object', options);
    const internal = opts as ServerOpts & { [kContext]?: NetContext; [kSocketClass]?: SocketClass };
    const ctx = internal[kContext];
    if (ctx === undefined) {
      throw new TypeError('a FlexTOE Server belongs to a stack: create it with stack.net.createServer()');
    }
    this.#ctx = ctx;
    this.#socketClass = internal[kSocketClass] ?? Socket;
    this.#hold = new Hold(ctx.liveness);
    if (listener !== undefined) {
      if (typeof listener !== 'function')
        throw errors.invalidArgType('connectionListener', 'of type function', listener);
      this.on('connection', listener);
    }
    this.#options = {
      allowHalfOpen: Boolean(opts.allowHalfOpen),
      pauseOnConnect: Boolean(opts.pauseOnConnect),
      noDelay: Boolean(opts.noDelay),
      keepAlive: Boolean(opts.keepAlive),
      keepAliveInitialDelay: Number(opts.keepAliveInitialDelay) || 0,
      ...(opts.highWaterMark !== undefined ? { highWaterMark: opts.highWaterMark } : {}),
    };
  }

  /** True while accepting connections. */
  get listening(): boolean {
    return this.#listener !== null;
  }

  listen(
    port?: number | string | null,
    host?: string,
    backlog?: number,
    listeningListener?: () => void,
  ): this;
  listen(port?: number | string | null, host?: string, listeningListener?: () => void): this;
  listen(port?: number | string | null, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number | string | null, listeningListener?: () => void): this;
  listen(options: import('./args.js').ListenOptions, listeningListener?: () => void): this;
  listen(listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const req = validateListen(args);
    if (this.#listener !== null) throw errors.serverAlreadyListen();
    if (req.cb !== null) this.once('listening', req.cb as () => void);
    if (req.signal?.aborted) {
      process.nextTick(() => this.close());
      return this;
    }
    const failure = this.#bind(req);
    if (failure !== null) {
      process.nextTick(() => this.emit('error', failure));
      return this;
    }
    if (req.signal !== undefined) {
      const signal = req.signal;
      const onAbort = (): void => {
        this.close();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#abort = { signal, onAbort };
    }
    this.#hold.setOpen(true);
    this.#ctx.servers.add(this);
    process.nextTick(() => {
      if (this.#listener !== null) this.emit('listening');
    });
    return this;
  }

  /** Registers the listener; returns the error Node would emit instead of 'listening'. */
  #bind(req: ListenRequest): NetError | null {
    const ctx = this.#ctx;
    const host = req.host;
    let address = '0.0.0.0';
    if (host !== undefined) {
      if (host === '::' || host === '0.0.0.0') address = '0.0.0.0';
      else if (host === ctx.localAddress) address = host;
      else if (isIPv4(host) || host.includes(':'))
        return uvExceptionWithHostPort(
          'EADDRNOTAVAIL',
          'listen',
          host,
          req.port,
          `the stack's address is ${ctx.localAddress}`,
        );
      else
        return notFoundError(
          host,
          'a FlexTOE stack resolves no names: listen on its IPv4 address or omit the host',
        );
    }
    if (ctx.closing)
      return uvExceptionWithHostPort('ENETDOWN', 'listen', address, req.port, 'the FlexTOE stack is closed');
    const backlog = req.backlog ?? DEFAULT_BACKLOG;
    const onConnection = (c: Connection): void => this.#onConnection(c);
    try {
      if (req.port !== 0) {
        this.#listener = ctx.api.listen(req.port, onConnection, backlog);
      } else {
        this.#listener = this.#listenEphemeral(onConnection, backlog);
        if (this.#listener === null)
          return uvExceptionWithHostPort('EADDRINUSE', 'listen', address, 0, 'no free port in 32768..60999');
      }
    } catch (e) {
      if (e instanceof TcpError) return uvExceptionWithHostPort(e.code, 'listen', address, req.port);
      return uvExceptionWithHostPort('ENETDOWN', 'listen', address, req.port, (e as Error).message);
    }
    this.#bound = { address, port: this.#listener.port };
    return null;
  }

  /** listen(0): the first free port from a random start in the ephemeral range, as Linux picks. */
  #listenEphemeral(onConnection: (c: Connection) => void, backlog: number): Listener | null {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_FIRST + ((start + i) % span);
      try {
        return this.#ctx.api.listen(port, onConnection, backlog);
      } catch (e) {
        if (!(e instanceof TcpError && e.code === 'EADDRINUSE')) throw e;
      }
    }
    return null;
  }

  /** A completed handshake (called by the control plane from the poll loop). */
  #onConnection(c: Connection): void {
    const ctx = this.#ctx;
    if (this.maxConnections != null && this.#connections >= this.maxConnections) {
      ctx.counters.dropped++;
      const drop: DropArgument = {
        localAddress: ctx.localAddress,
        localPort: c.localPort,
        localFamily: 'IPv4',
        remoteAddress: u32ToIpv4(c.remoteIp),
        remotePort: c.remotePort,
        remoteFamily: 'IPv4',
      };
      // Node closes the accepted handle: FIN (or RST if the peer already sent data).
      orphanConnection(ctx, c, false);
      this.emit('drop', drop);
      return;
    }
    ctx.counters.accepted++;
    const o = this.#options;
    const socket = new this.#socketClass({
      allowHalfOpen: o.allowHalfOpen,
      noDelay: o.noDelay,
      keepAlive: o.keepAlive,
      keepAliveInitialDelay: o.keepAliveInitialDelay,
      ...(o.highWaterMark !== undefined ? { highWaterMark: o.highWaterMark } : {}),
      [kConnection]: c,
      pauseOnCreate: o.pauseOnConnect,
    } as SocketConstructorOpts);
    socket.server = this;
    socket._server = this;
    this.#connections++;
    this.emit('connection', socket);
  }

  /** Called by an accepted socket when it emits 'close'. @internal */
  _connectionClosed(): void {
    this.#connections--;
    this.#emitCloseIfDrained();
  }

  /**
   * Stops accepting now; 'close' (and `cb`) once every accepted socket has closed. Without a
   * listener, `cb` receives ERR_SERVER_NOT_RUNNING, as in Node.
   */
  close(cb?: (err?: Error) => void): this {
    if (typeof cb === 'function') {
      if (this.#listener === null) this.once('close', () => cb(errors.serverNotRunning()));
      else this.once('close', cb);
    }
    if (this.#listener !== null) {
      this.#ctx.api.unlisten(this.#listener);
      this.#listener = null;
      this.#ctx.servers.delete(this);
      this.#hold.setOpen(false);
      if (this.#abort !== null) this.#abort.signal.removeEventListener('abort', this.#abort.onAbort);
      this.#abort = null;
    }
    this.#emitCloseIfDrained();
    return this;
  }

  #emitCloseIfDrained(): void {
    if (this.#listener !== null || this.#connections > 0) return;
    process.nextTick(() => this.emit('close'));
  }

  address(): AddressInfo | null {
    if (this.#listener === null || this.#bound === null) return null;
    return { address: this.#bound.address, family: 'IPv4', port: this.#bound.port };
  }

  /** The number of accepted sockets not yet closed, asynchronously as Node gives it. */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.#connections);
    return this;
  }

  /** Let the process exit while this server listens (its open sockets still hold it). */
  unref(): this {
    this.#hold.setRefed(false);
    return this;
  }

  /** Keep the process alive while this server listens (the default). */
  ref(): this {
    this.#hold.setRefed(true);
    return this;
  }
}
