/**
 * One connection of the low-level API: FlexTOE's libTOE view. The payload lives in two
 * per-connection circular buffers in host memory that the NIC reads and writes; the
 * application reads received bytes in place and tells the NIC "I consumed N bytes", writes
 * outgoing bytes in place and tells it "I appended N bytes". Nothing is copied unless the
 * application asks for a copy (`read`/`write`).
 */
import {
  ipv4ToString,
  TcpState,
  type Connection,
  type ConnectionHandlers,
  type TcpError,
} from '@flextoe/core';
import { ToeEvent, type ToeEventFlags } from './events.js';

const EMPTY = new Uint8Array(0);

/** Where a poller keeps a target; the target only needs to tell it "something changed". */
export interface ReadinessSink {
  signal(): void;
}

/** Something a `Poller` can watch: a connection or a listener. */
export interface Pollable {
  /** Level readiness now (a `ToeEvent` mask). */
  readiness(): ToeEventFlags;
  /** The poller this target is registered with, if any (one at a time, like a libTOE context). */
  registration: ReadinessSink | null;
}

export class ToeConnection implements Pollable {
  registration: ReadinessSink | null = null;
  /** The peer's FIN, in notification order (after every byte before it was delivered). */
  private finSeen = false;
  private closedFlag = false;
  /** TIME-WAIT was reported; the close completes once this poll round's notifications land. */
  private closing = false;
  private closeError: TcpError | undefined;
  /**
   * Bytes still unread when the connection closed. The stack returns the rings to its pool at
   * close, so the tail is copied out then: closing never loses received data.
   */
  private tail: Uint8Array | null = null;
  private tailPos = 0;
  private readonly handlers: ConnectionHandlers = {
    onConnect: () => this.changed(),
    onReadable: () => this.changed(),
    onWritable: () => this.changed(),
    onEnd: () => {
      this.finSeen = true;
      this.changed();
    },
    onClose: (_c, err) => this.closedByStack(err),
  };

  /** @internal Built by `Toe.connect` and `ToeListener`; takes over the connection's handlers. */
  constructor(readonly raw: Connection) {
    raw.handlers = this.handlers;
    raw.owner = this;
    // An active open can fail before `connect` returns (no route, no free port).
    if (raw.state === TcpState.Closed) this.closedByStack(raw.closeError);
  }

  get localPort(): number {
    return this.raw.localPort;
  }
  get remoteAddress(): string {
    return ipv4ToString(this.raw.remoteIp);
  }
  get remotePort(): number {
    return this.raw.remotePort;
  }
  /** RFC 9293 state name, e.g. 'ESTABLISHED'. */
  get state(): TcpState {
    return this.raw.state;
  }
  /** The handshake completed (data may flow at least one way). */
  get connected(): boolean {
    const s = this.raw.state;
    return s !== TcpState.Closed && s !== TcpState.SynSent && s !== TcpState.SynReceived;
  }
  /** The peer sent FIN. */
  get peerClosed(): boolean {
    return this.finSeen;
  }
  /** Nothing more will ever be readable: the peer's FIN, and every byte before it consumed. */
  get eof(): boolean {
    return (this.finSeen || this.closedFlag) && this.rxAvailable === 0;
  }
  get closed(): boolean {
    return this.closedFlag;
  }
  /** Why the connection ended abnormally (ECONNRESET, ETIMEDOUT, ECONNREFUSED, ...). */
  get error(): TcpError | undefined {
    return this.closeError;
  }

  // ------------------------------------------------------------------ receive (RX ring)

  /** Received in-order bytes not yet consumed. */
  get rxAvailable(): number {
    if (this.tail) return this.tail.length - this.tailPos;
    return this.closedFlag ? 0 : this.raw.readableLength;
  }

  /**
   * The whole RX ring and the read position: `rxAvailable` bytes start at `rxHead` and wrap at
   * `rxRing.length` (a power of two). For applications that index the shared buffer themselves,
   * allocation-free. Valid until `consumed`.
   */
  get rxRing(): Uint8Array {
    if (this.tail) return this.tail;
    return this.closedFlag ? EMPTY : this.raw.rxRing;
  }
  get rxHead(): number {
    if (this.tail) return this.tailPos;
    return this.closedFlag ? 0 : this.raw.rxReadPos;
  }

  /** The readable bytes as one or two views of the RX ring (two when they wrap). Valid until `consumed`. */
  rxBuffers(): [Uint8Array, Uint8Array | null] {
    if (this.tail) return [this.tail.subarray(this.tailPos), null];
    if (this.closedFlag) return [EMPTY, null];
    return this.raw.peek();
  }

  /** "I consumed N bytes": returns them to the NIC, which reopens the receive window. */
  consumed(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`consumed(${n}): not a byte count`);
    if (this.tail) {
      if (n > this.tail.length - this.tailPos)
        throw new RangeError(`consumed(${n}) beyond ${this.tail.length - this.tailPos} readable bytes`);
      this.tailPos += n;
      return;
    }
    if (this.closedFlag) {
      if (n > 0) throw new RangeError(`consumed(${n}) on a closed connection with nothing to read`);
      return;
    }
    this.raw.consume(n);
  }

  /** Copies up to `dst.length` readable bytes into `dst` and consumes them; returns the count. */
  read(dst: Uint8Array): number {
    const [a, b] = this.rxBuffers();
    const first = Math.min(a.length, dst.length);
    dst.set(a.subarray(0, first), 0);
    let n = first;
    if (b && n < dst.length) {
      const second = Math.min(b.length, dst.length - n);
      dst.set(b.subarray(0, second), n);
      n += second;
    }
    this.consumed(n);
    return n;
  }

  // ------------------------------------------------------------------ transmit (TX ring)

  /** May the application append data (established, not shut down, not closed)? */
  get writable(): boolean {
    return !this.closedFlag && this.raw.canWrite;
  }

  /** Free bytes in the TX ring (0 when not writable). */
  get txSpace(): number {
    return this.writable ? this.raw.writableLength : 0;
  }

  /** The whole TX ring and the append position: `txSpace` free bytes start at `txTail`, wrapping. */
  get txRing(): Uint8Array {
    return this.closedFlag ? EMPTY : this.raw.txRing;
  }
  get txTail(): number {
    return this.closedFlag ? 0 : this.raw.txWritePos;
  }

  /** The free space as one or two views of the TX ring. Fill a prefix, then `appended(n)`. */
  txBuffers(): [Uint8Array, Uint8Array | null] {
    if (!this.writable) return [EMPTY, null];
    return this.raw.txFree();
  }

  /** "I appended N bytes": the next N bytes of `txBuffers()` go to the NIC for sending. */
  appended(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`appended(${n}): not a byte count`);
    if (n > 0 && !this.writable)
      throw new Error(`appended(${n}) on a connection that cannot send (${this.raw.state})`);
    this.raw.commit(n);
  }

  /** Copies as much of `src` as fits into the TX ring and appends it; returns the count. */
  write(src: Uint8Array): number {
    if (!this.writable) throw new Error(`write on a connection that cannot send (${this.raw.state})`);
    return this.raw.write(src);
  }

  // ------------------------------------------------------------------ teardown

  /** FIN after everything appended (RFC 9293 3.10.4 CLOSE); receiving continues. */
  shutdown(): void {
    if (!this.closedFlag) this.raw.shutdown();
  }

  /** RST now; queued data is discarded (RFC 9293 3.10.5 ABORT). */
  abort(): void {
    if (!this.closedFlag) this.raw.abort();
  }

  // ------------------------------------------------------------------ readiness

  readiness(): ToeEventFlags {
    let ev = 0;
    if (this.rxAvailable > 0 || this.finSeen) ev |= ToeEvent.Readable;
    if (this.finSeen) ev |= ToeEvent.ReadHangup;
    if (this.writable && this.raw.writableLength > 0) ev |= ToeEvent.Writable;
    if (this.closedFlag) {
      ev |= ToeEvent.Hangup;
      if (this.closeError) ev |= ToeEvent.Error | ToeEvent.Readable;
    }
    return ev;
  }

  private changed(): void {
    this.registration?.signal();
  }

  private closedByStack(err: TcpError | undefined): void {
    if (this.closedFlag || this.closing) return;
    if (err !== undefined || this.raw.flowId < 0) {
      this.finishClose(err);
      return;
    }
    // TIME-WAIT: the control plane reports it before the data path's notifications of the same
    // poll round (the last bytes, the FIN) are dispatched, and the rings stay this flow's until
    // 2 MSL. Let those notifications land, then close.
    this.closing = true;
    queueMicrotask(() => this.finishClose(undefined));
  }

  private finishClose(err: TcpError | undefined): void {
    // The stack reuses the rings once the flow is gone; keep what the application has not read.
    // An abnormal close discards it, as a reset does (RFC 9293 3.10.7.2: "all segment queues
    // should be flushed").
    if (err === undefined && this.raw.readableLength > 0) {
      this.tail = this.raw.read() ?? null;
      this.tailPos = 0;
    }
    if (err === undefined && this.raw.rxEnded) this.finSeen = true;
    this.closedFlag = true;
    this.closeError = err;
    this.changed();
  }
}
