/**
 * `Socket`: Node's `net.Socket` on a FlexTOE connection. A real `stream.Duplex` whose two
 * halves are the connection's libTOE rings (packages/core/src/runtime/connection.ts):
 *
 *  - RX: `_read()` copies bytes out of the RX ring and `push()`es them; when `push()` returns
 *    false (the application is not reading) it stops and leaves the rest in the ring, so the
 *    advertised window closes and the peer stops (TCP flow control is the backpressure). Bytes
 *    are `consume()`d only once they are delivered to the stream.
 *  - TX: `_write()`/`_writev()` copy into the TX ring and call back when all of the chunk is in
 *    it; a full ring defers the callback until `onWritable` (freed by ACKs), so the Writable's
 *    buffer fills, `write()` returns false past `writableHighWaterMark` and 'drain' follows. The
 *    memory a slow reader can cost is the ring plus the high-water mark, never more.
 *  - `_final()` sends FIN after every queued byte (RFC 9293 3.10.4), `_destroy()` closes like
 *    close(2) would (see orphan.ts), `resetAndDestroy()` sends RST.
 *
 * Events and errors follow Node 20's lib/net.js: 'connect' then 'ready'; 'data'...; 'end' after
 * the peer's FIN and the data before it; 'finish' after our FIN is queued; 'close(hadError)'
 * last, after 'error' when there is one. One difference, on purpose: after both FINs, 'close'
 * waits for the peer to acknowledge ours (a LAST-ACK round trip), so a clean 'close' means every
 * byte written arrived; if it never does, 'error' (ETIMEDOUT/ECONNRESET) precedes 'close(true)'.
 */
import { Duplex, addAbortSignal } from 'node:stream';
import { isIPv4, isIPv6 } from 'node:net';
import { TcpError, TcpState, type Connection, type ConnectionHandlers } from '@flextoe/core';
import {
  normalizeArgs,
  u32ToIpv4,
  validateConnect,
  validateTimeout,
  type ConnectOptions,
  type ConnectTarget,
} from './args.js';
import { kConnection, kContext, type NetContext } from './context.js';
import {
  errnoException,
  errors,
  exceptionWithHostPort,
  fromTcpError,
  nodeError,
  notFoundError,
  type Endpoint,
  type NetError,
} from './errors.js';
import { Hold } from './liveness.js';
import { orphanConnection, resetConnection } from './orphan.js';
import type { Server } from './server.js';

/** Bytes per `push()`: Node reads 64 KiB at a time from a TCP handle. */
const READ_CHUNK_BYTES = 64 * 1024;

export interface SocketConstructorOpts {
  /** Keep the writable side open after the peer's FIN (default false: end() follows 'end'). */
  allowHalfOpen?: boolean;
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  signal?: AbortSignal;
  /** Accepted for compatibility and ignored (a FlexTOE socket is always both). */
  readable?: boolean;
  writable?: boolean;
  /** Not supported: a FlexTOE socket cannot wrap a file descriptor or a libuv handle. */
  fd?: number;
  handle?: unknown;
}

/** Internal construction options (symbols: never confused with Node's). */
interface InternalOpts extends SocketConstructorOpts {
  [kContext]?: NetContext;
  [kConnection]?: Connection;
  pauseOnCreate?: boolean;
}

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

type Cb = (err?: Error | null) => void;
type WriteChunk = { chunk: Buffer; encoding: BufferEncoding };

export class Socket extends Duplex {
  /** True from connect() until the handshake completes or fails (Node's `socket.connecting`). */
  connecting = false;
  /** The server that accepted this socket; Node's http server reads and sets it. */
  server: Server | null = null;
  _server: Server | null = null;
  /** The idle timeout last given to setTimeout(), in ms. */
  timeout: number | undefined = undefined;

  readonly #ctx: NetContext;
  readonly #hold: Hold;
  readonly #handlers: ConnectionHandlers;
  #conn: Connection | null = null;
  #accepted = false;
  #remote: Endpoint | null = null;
  #localPort: number | undefined = undefined;
  #bytesRead = 0;
  #bytesAccepted = 0;
  #inFlightBytes = 0;

  // RX: what the stream asked for and what is left once the connection's rings are gone.
  #readWanted = false;
  #pulling = false;
  #inRead = false;
  #rxFin = false;
  #rxDetached = false;
  #stash: Buffer | null = null;
  /** The connection closed gracefully before its FIN notification arrived (#afterTcpClose). */
  #finPending = false;
  #peerEnded = false;

  // TX: the one write in progress (Writable serialises _write/_writev), without allocating per chunk.
  #wBuf: Buffer | null = null;
  #wList: WriteChunk[] | null = null;
  #wIndex = 0;
  #wOff = 0;
  #wCb: Cb | null = null;
  #finalCb: Cb | null = null;
  #finSent = false;

  // Lifecycle.
  #tcpClosed = false;
  /** The connection's failure as Node reports it, once the stack has reported one. */
  #tcpFailure: NetError | null = null;
  #lingering = false;
  #closeEmitted = false;
  #resetOnDestroy = false;
  #everOpened = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #noDelay = false;
  #keepAlive = false;
  #keepAliveDelayMs = 0;

  constructor(options: SocketConstructorOpts = {}) {
    const o = options as InternalOpts;
    const ctx = o[kContext];
    if (ctx === undefined) {
      throw new TypeError(
        'a FlexTOE Socket belongs to a stack: create it with stack.net.connect() or new stack.net.Socket()',
      );
    }
    if (o.fd !== undefined || o.handle !== undefined)
      throw errors.notTcp('a Socket over a file descriptor or handle');
    super({
      // As Node's net.Socket: half-open is decided per socket (Duplex ends the writable side
      // after 'end' unless allowHalfOpen), the stream is destroyed once both sides are done,
      // and 'close' is ours to emit (with hadError) when the connection is really gone.
      allowHalfOpen: Boolean(o.allowHalfOpen),
      autoDestroy: true,
      emitClose: false,
      decodeStrings: true,
      ...(o.highWaterMark !== undefined ? { highWaterMark: o.highWaterMark } : {}),
      ...(o.readableHighWaterMark !== undefined ? { readableHighWaterMark: o.readableHighWaterMark } : {}),
      ...(o.writableHighWaterMark !== undefined ? { writableHighWaterMark: o.writableHighWaterMark } : {}),
    });
    this.#ctx = ctx;
    this.#hold = new Hold(ctx.liveness);
    // Bound once per socket: the connection calls these for its whole life.
    this.#handlers = {
      onConnect: (c) => this.#onConnect(c),
      onReadable: () => {
        if (this.#readWanted) this.#pull();
      },
      onWritable: () => {
        this.#touch();
        this.#continueWrite();
      },
      onEnd: (c) => this.#onFin(c),
      onClose: (c, err) => this.#onTcpClose(c, err),
    };
    this.#noDelay = Boolean(o.noDelay);
    this.#keepAlive = Boolean(o.keepAlive);
    this.#keepAliveDelayMs = Math.max(0, Math.trunc(Number(o.keepAliveInitialDelay) || 0));
    // Node replaces write() with writeAfterFIN on 'end' when half-open is not allowed.
    this.on('end', () => {
      this.#peerEnded = true;
    });
    // Wired after the fields exist: an already-aborted signal destroys synchronously.
    if (o.signal !== undefined) addAbortSignal(o.signal, this);
    const accepted = o[kConnection];
    if (accepted !== undefined) {
      this.#accepted = true;
      this.#attach(accepted);
      this.#open();
      if (o.pauseOnCreate) this.pause();
      else this.read(0); // start reading into the buffer, as Node does for accepted sockets
    }
  }

  // ------------------------------------------------------------------ connect

  connect(options: ConnectOptions, connectListener?: () => void): this;
  connect(port: number | string, host?: string, connectListener?: () => void): this;
  connect(port: number | string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, cb] = normalizeArgs<ConnectOptions>(args);
    const target = validateConnect(options);
    if (this.destroyed)
      throw nodeError(
        'ERR_SOCKET_CLOSED',
        'Socket is closed: a destroyed FlexTOE socket cannot be reconnected',
      );
    if (this.#conn !== null || this.connecting || this.#accepted)
      throw nodeError('ERR_INVALID_STATE', 'Invalid state: the socket is already connecting or connected');
    if (cb !== null) this.once('connect', cb as () => void);
    this.connecting = true;
    this.#open();
    this.#touch();
    this.#ctx.counters.connects++;
    this.#resolve(target);
    return this;
  }

  /** Node skips DNS for IP literals (one tick); names go through `lookup` or fail ENOTFOUND. */
  #resolve(target: ConnectTarget): void {
    const host = target.host;
    if (isIPv4(host)) {
      process.nextTick(() => this.#connectTo(host, target));
      return;
    }
    if (isIPv6(host)) {
      process.nextTick(() => {
        if (this.connecting)
          this.destroy(
            exceptionWithHostPort(
              'EAFNOSUPPORT',
              'connect',
              host,
              target.port,
              'a FlexTOE stack speaks IPv4 only',
            ),
          );
      });
      return;
    }
    const lookup = target.lookup;
    if (lookup === undefined) {
      const why =
        host === 'localhost'
          ? 'a FlexTOE stack has no loopback: pass the IPv4 address of a peer on its network'
          : 'a FlexTOE stack resolves no names: pass an IPv4 address or a lookup function';
      const err = notFoundError(host, why);
      process.nextTick(() => {
        this.emit('lookup', err, undefined, undefined, host);
        if (this.connecting) this.destroy(err);
      });
      return;
    }
    lookup(host, { family: 4 }, (err, address, family) => {
      this.emit('lookup', err, address, family, host);
      if (!this.connecting) return;
      if (err) this.destroy(err);
      else if (typeof address !== 'string' || !isIPv4(address))
        this.destroy(notFoundError(host, `lookup gave ${String(address)}, not an IPv4 address`));
      else this.#connectTo(address, target);
    });
  }

  #connectTo(ip: string, target: ConnectTarget): void {
    if (!this.connecting || this.destroyed) return;
    const ctx = this.#ctx;
    const port = target.port;
    this.#remote = { address: ip, port };
    if (ctx.closing) {
      this.destroy(exceptionWithHostPort('ENETDOWN', 'connect', ip, port, 'the FlexTOE stack is closed'));
      return;
    }
    if (ip === ctx.localAddress || ip.startsWith('127.') || ip === '0.0.0.0') {
      this.destroy(
        exceptionWithHostPort(
          'ENETUNREACH',
          'connect',
          ip,
          port,
          'a FlexTOE stack has no loopback: connect to a peer on its network',
        ),
      );
      return;
    }
    const local = target.localAddress;
    if (local !== undefined && local !== ctx.localAddress && local !== '0.0.0.0') {
      this.destroy(
        exceptionWithHostPort(
          'EADDRNOTAVAIL',
          'bind',
          local,
          target.localPort,
          `the stack's address is ${ctx.localAddress}`,
        ),
      );
      return;
    }
    let c: Connection;
    try {
      c = ctx.api.connect(ip, port, this.#handlers, target.localPort);
    } catch (e) {
      this.destroy(
        e instanceof TcpError
          ? fromTcpError(e, true, this.#remote)
          : exceptionWithHostPort('ENETDOWN', 'connect', ip, port, (e as Error).message),
      );
      return;
    }
    this.#attach(c);
  }

  #attach(c: Connection): void {
    this.#conn = c;
    c.owner = this;
    c.handlers = this.#handlers;
    this.#localPort = c.localPort;
    this.#remote ??= { address: u32ToIpv4(c.remoteIp), port: c.remotePort };
  }

  #onConnect(c: Connection): void {
    if (this.#accepted) return; // a passive open is connected from the start; Node emits nothing
    this.#conn ??= c;
    if (!this.connecting) return;
    this.connecting = false;
    this.#touch();
    this.emit('connect');
    this.emit('ready');
    if (this.destroyed) return;
    this.#continueWrite(); // what was written while connecting
    const final = this.#finalCb;
    if (final !== null) {
      this.#finalCb = null;
      this._final(final);
    }
    if (!this.isPaused()) this.read(0);
  }

  // ------------------------------------------------------------------ RX

  override _read(): void {
    this.#readWanted = true;
    this.#inRead = true;
    try {
      this.#pull();
    } finally {
      this.#inRead = false;
    }
  }

  /** Moves bytes from the RX ring (or what was saved of it) into the stream until push() says stop. */
  #pull(): void {
    if (this.#pulling) return; // push() can re-enter through a 'data' handler calling read()
    this.#pulling = true;
    try {
      while (this.#readWanted && !this.destroyed) {
        const chunk = this.#takeChunk();
        if (chunk === null) {
          if (this.#rxFin) {
            this.#readWanted = false;
            this.push(null);
            // As Node's onStreamRead at EOF: read(0) lets 'end' fire even with no consumer
            // attached, so a socket nobody reads from still closes once both sides are done.
            if (this.#inRead) process.nextTick(readZero, this);
            else this.read(0);
          }
          return;
        }
        this.#bytesRead += chunk.length;
        this.#touch();
        if (!this.push(chunk)) this.#readWanted = false;
      }
    } finally {
      this.#pulling = false;
    }
  }

  #takeChunk(): Buffer | null {
    const stash = this.#stash;
    if (stash !== null) {
      this.#stash = null;
      return stash;
    }
    const c = this.#conn;
    if (c === null || this.#rxDetached || c.readableLength === 0) return null;
    // Copies out and tells the NIC "consumed": the window reopens by what the app took.
    return c.read(Math.min(c.readableLength, READ_CHUNK_BYTES));
  }

  /**
   * The connection is closing: its RX ring goes back to the stack's pool (now, or when
   * TIME-WAIT ends), so copy what the application has not read yet out of it.
   */
  #detachRx(c: Connection): void {
    if (this.#rxDetached) return;
    this.#rxDetached = true;
    const n = c.readableLength;
    if (n === 0) return;
    const [a, b] = c.peek();
    const saved = Buffer.allocUnsafe(n);
    saved.set(a, 0);
    if (b !== null) saved.set(b, a.length);
    this.#stash = saved;
  }

  // ------------------------------------------------------------------ TX

  override write(chunk: unknown, encoding?: BufferEncoding | Cb, cb?: Cb): boolean {
    // Node's net.Socket takes any ArrayBufferView; Writable alone takes only Uint8Array.
    if (ArrayBuffer.isView(chunk) && !(chunk instanceof Uint8Array))
      chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array))
      throw errors.invalidArgType(
        'chunk',
        'of type string or an instance of Buffer, TypedArray, or DataView',
        chunk,
      );
    if (this.#peerEnded && !this.allowHalfOpen && this.writableEnded) {
      // Node's writeAfterFIN: the peer ended and so did we (allowHalfOpen false).
      const callback = typeof encoding === 'function' ? encoding : cb;
      const er = errors.writeAfterFin();
      if (typeof callback === 'function') process.nextTick(callback, er);
      this.destroy(er);
      return false;
    }
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: Cb): void {
    this.#beginWrite(chunk, null, chunk.length, cb);
  }

  override _writev(chunks: WriteChunk[], cb: Cb): void {
    let bytes = 0;
    for (const c of chunks) bytes += c.chunk.length;
    this.#beginWrite(null, chunks, bytes, cb);
  }

  #beginWrite(buf: Buffer | null, list: WriteChunk[] | null, bytes: number, cb: Cb): void {
    this.#bytesAccepted += bytes;
    this.#inFlightBytes = bytes;
    this.#wBuf = buf;
    this.#wList = list;
    this.#wIndex = 0;
    this.#wOff = 0;
    this.#wCb = cb;
    if (this.connecting) return; // #onConnect continues it
    this.#continueWrite();
  }

  /** Copies as much of the write in progress as the TX ring takes; completes it when all is in. */
  #continueWrite(): void {
    const cb = this.#wCb;
    if (cb === null) return;
    const c = this.#conn;
    if (c === null || this.#tcpClosed || !c.canWrite) {
      this.#clearWrite();
      // The connection's own failure (ECONNRESET...) when there is one, as Node reports it.
      cb(this.#tcpFailure ?? errors.socketClosed());
      return;
    }
    for (;;) {
      const b = this.#wBuf ?? this.#wList![this.#wIndex]!.chunk;
      const left = b.length - this.#wOff;
      if (left > 0) {
        const n = c.write(b, this.#wOff, left);
        this.#wOff += n;
        if (n < left) return; // the ring is full: onWritable continues once ACKs free it
      }
      if (this.#wBuf !== null || ++this.#wIndex === this.#wList!.length) break;
      this.#wOff = 0;
    }
    this.#clearWrite();
    this.#touch();
    cb();
  }

  #clearWrite(): void {
    this.#wBuf = null;
    this.#wList = null;
    this.#wCb = null;
    this.#inFlightBytes = 0;
  }

  override _final(cb: Cb): void {
    // As Node: a socket still connecting (or not yet asked to) sends its FIN once connected.
    if (this.connecting || (this.#conn === null && !this.#tcpClosed)) {
      this.#finalCb = cb;
      return;
    }
    const c = this.#conn;
    if (c !== null && !this.#tcpClosed) {
      this.#finSent = true;
      c.shutdown(); // FIN after every byte already in the TX ring (RFC 9293 3.10.4)
    }
    cb();
  }

  // ------------------------------------------------------------------ close

  #onTcpClose(c: Connection, err: TcpError | undefined): void {
    this.#conn ??= c;
    if (this.#tcpClosed) return;
    this.#tcpClosed = true;
    const remote = this.#remote ?? unknownEndpoint;
    if (err !== undefined) this.#tcpFailure = fromTcpError(err, this.connecting, remote);
    else if (!(c.rxEnded && c.txShut) && !this.#ctx.closing) {
      // Closed without a FIN exchange and without an error: the stack went away underneath.
      this.#tcpFailure = this.connecting
        ? exceptionWithHostPort('ECONNABORTED', 'connect', remote.address, remote.port)
        : errnoException('ECONNABORTED', 'read');
    }
    // A closed flow's rings return to the pool and the next connection reuses them: save the
    // unread bytes first. (In TIME-WAIT the ring stays ours until 2 MSL: see #afterTcpClose.)
    if (err === undefined && c.flowId < 0) this.#detachRx(c);
    // Reported from inside the poll loop: act once it has finished its round (the control plane
    // reports TIME-WAIT before the same round's data notifications are dispatched).
    queueMicrotask(() => this.#afterTcpClose(c));
  }

  #afterTcpClose(c: Connection): void {
    const failure = this.#tcpFailure;
    if (this.#lingering) {
      this.#lingering = false;
      if (failure !== null && !this.#ctx.closing) this.emit('error', failure);
      this.#emitClose(failure !== null && !this.#ctx.closing);
      return;
    }
    if (this.destroyed) return;
    if (failure !== null) {
      this.destroy(failure);
      return;
    }
    // A graceful close. The data path notifies the FIN after the data before it, and in
    // TIME-WAIT the RX ring stays ours until 2 MSL, so wait for that notification (a threaded
    // data path may deliver it a poll round after the control plane reported the close).
    if (!this.#rxFin) {
      this.#finPending = true;
      return;
    }
    this.#detachRx(c);
    this.#pull();
  }

  #onFin(c: Connection): void {
    this.#rxFin = true;
    if (this.#finPending) {
      this.#finPending = false;
      this.#detachRx(c);
    }
    if (this.#readWanted) this.#pull();
  }

  override _destroy(err: Error | null, cb: Cb): void {
    this.#closeConnection(err, cb);
    // As Node: the server's count drops when the socket is destroyed, not at its 'close'
    // (so a server's 'close' can precede its last socket's).
    this._server?._connectionClosed();
  }

  #closeConnection(err: Error | null, cb: Cb): void {
    this.connecting = false;
    this.#clearTimer();
    const wcb = this.#wCb;
    if (wcb !== null) {
      // As Node (stream_base_commons onWriteComplete on a destroyed stream): the write in
      // progress completes without an error on a later tick. What reached the TX ring is still
      // delivered (see orphan.ts); the rest is discarded, as destroy() promises.
      this.#clearWrite();
      process.nextTick(wcb, null);
    }
    this.#finalCb = null;
    const hadError = err !== null && err !== undefined;
    const c = this.#conn;
    if (c === null || this.#tcpClosed) {
      cb(err);
      // A socket that never had a connection closes like Node's handle-less one: 'close' without hadError.
      this.#emitCloseSoon(c === null && !this.#everOpened ? undefined : hadError);
      return;
    }
    const ctx = this.#ctx;
    if (c.state === TcpState.SynSent) {
      // Still handshaking: forget it (nothing to reset; a late SYN-ACK is answered with RST
      // by the control plane, RFC 9293 3.10.7.1).
      this.#tcpClosed = true;
      c.handlers = {};
      c.owner = null;
      c.abort();
      cb(err);
      this.#emitCloseSoon(hadError);
      return;
    }
    if (this.#resetOnDestroy || ctx.closing) {
      this.#tcpClosed = true;
      resetConnection(ctx, c);
      cb(err);
      this.#emitCloseSoon(hadError);
      return;
    }
    if (!hadError && this.#finSent && c.rxEnded && c.readableLength === 0) {
      // Both FINs are out (LAST-ACK or CLOSING): 'close' waits for the peer to acknowledge
      // ours, so a clean 'close' means every byte arrived (errors come through #afterTcpClose).
      this.#lingering = true;
      cb(null);
      return;
    }
    // Destroyed while open: as close(2) on a kernel socket, finish in the background.
    this.#tcpClosed = true;
    orphanConnection(ctx, c, this.#hold.isRefed);
    cb(err);
    this.#emitCloseSoon(hadError);
  }

  /** Node emits 'close' from the handle's close callback: a later turn, after 'error'. */
  #emitCloseSoon(hadError: boolean | undefined): void {
    setImmediate(() => this.#emitClose(hadError));
  }

  #emitClose(hadError: boolean | undefined): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#hold.setOpen(false);
    this.#ctx.sockets.delete(this);
    if (hadError === undefined) this.emit('close');
    else this.emit('close', hadError);
  }

  /** Node's destroySoon(): end, then destroy once the writable side finished. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes with RST instead of FIN (RFC 9293 3.10.5 ABORT); the peer sees ECONNRESET. */
  resetAndDestroy(): this {
    if (this.#conn !== null && !this.#tcpClosed) {
      this.#resetOnDestroy = true;
      if (this.connecting) this.once('connect', () => this.destroy());
      else this.destroy();
    } else if (this.connecting) {
      this.#resetOnDestroy = true;
      this.once('connect', () => this.destroy());
    } else {
      this.destroy(errors.socketClosed());
    }
    return this;
  }

  // ------------------------------------------------------------------ timers, options

  /**
   * Emits 'timeout' after `msecs` without activity (bytes delivered, bytes taken into the TX
   * ring, or ACKs freeing it); 0 disables. As in Node, the socket is not closed for you. The
   * timer is unref'd: it never keeps the process alive.
   */
  setTimeout(msecs: number, callback?: () => void): this {
    if (this.destroyed) return this;
    const ms = validateTimeout(msecs);
    if (callback !== undefined && typeof callback !== 'function')
      throw errors.invalidArgType('callback', 'of type function', callback);
    this.timeout = msecs;
    this.#clearTimer();
    if (ms === 0) {
      if (callback !== undefined) this.removeListener('timeout', callback);
    } else {
      this.#timer = setTimeout(this.#onTimeout, ms);
      this.#timer.unref();
      if (callback !== undefined) this.once('timeout', callback);
    }
    return this;
  }

  readonly #onTimeout = (): void => {
    this.emit('timeout');
  };

  #touch(): void {
    this.#timer?.refresh();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Recorded for compatibility. The FlexTOE data path never delays small segments (there is no
   * Nagle algorithm to disable), so every socket already behaves as with noDelay true.
   */
  setNoDelay(noDelay = true): this {
    this.#noDelay = Boolean(noDelay);
    return this;
  }

  /**
   * Recorded for compatibility; keepalive probes are not implemented by the control plane yet,
   * so an idle connection to a vanished peer is only noticed when data is sent (retransmission
   * timeout, ETIMEDOUT). Use setTimeout() for idle detection.
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = Boolean(enable);
    this.#keepAliveDelayMs = Math.max(0, Math.trunc(Number(initialDelay) || 0));
    return this;
  }

  /** What setNoDelay/setKeepAlive recorded (for tests and diagnostics). */
  get socketOptions(): { noDelay: boolean; keepAlive: boolean; keepAliveInitialDelay: number } {
    return {
      noDelay: this.#noDelay,
      keepAlive: this.#keepAlive,
      keepAliveInitialDelay: this.#keepAliveDelayMs,
    };
  }

  /** Let the process exit while this socket is open (Node's handle unref). */
  unref(): this {
    this.#hold.setRefed(false);
    return this;
  }

  /** Keep the process alive while this socket is open (the default). */
  ref(): this {
    this.#hold.setRefed(true);
    return this;
  }

  #open(): void {
    if (this.#everOpened) return;
    this.#everOpened = true;
    this.#ctx.sockets.add(this);
    this.#hold.setOpen(true);
  }

  // ------------------------------------------------------------------ addresses and counters

  address(): AddressInfo | Record<string, never> {
    if (this.#localPort === undefined) return {};
    return { address: this.#ctx.localAddress, family: 'IPv4', port: this.#localPort };
  }

  get remoteAddress(): string | undefined {
    return this.connecting ? undefined : this.#remote?.address;
  }

  get remotePort(): number | undefined {
    return this.connecting ? undefined : this.#remote?.port;
  }

  get remoteFamily(): string | undefined {
    return this.remoteAddress === undefined ? undefined : 'IPv4';
  }

  get localAddress(): string | undefined {
    return this.#localPort === undefined ? undefined : this.#ctx.localAddress;
  }

  get localPort(): number | undefined {
    return this.#localPort;
  }

  get localFamily(): string | undefined {
    return this.#localPort === undefined ? undefined : 'IPv4';
  }

  /** Bytes delivered to the stream. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes handed to write() so far, including those still buffered (as Node counts them). */
  get bytesWritten(): number {
    return this.#bytesAccepted + this.writableLength - this.#inFlightBytes;
  }

  /** Node's deprecated bufferSize: bytes buffered by the stream, not yet in the TX ring. */
  get bufferSize(): number {
    return this.writableLength;
  }

  /** True until connected (Node: no handle yet, or still connecting). */
  get pending(): boolean {
    return this.#conn === null || this.connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }
}

function readZero(s: Socket): void {
  if (!s.destroyed) s.read(0);
}

const unknownEndpoint: Endpoint = { address: '0.0.0.0', port: 0 };
