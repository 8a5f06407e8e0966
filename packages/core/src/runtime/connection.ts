/**
 * One TCP connection as the application and the host control plane see it: the RFC 9293
 * state, the negotiated options, and the two host rings the NIC reads and writes. The
 * application side is FlexTOE's libTOE model: data is in shared rings, and the application
 * tells the NIC "I appended N bytes" / "I consumed N bytes" through its context queue.
 */
import { TcpState, type TcpError } from '../control/tcp-state.js';
import type { CcFlowState, CongestionControl } from '../control/cc/congestion-control.js';
import type { RtoEstimator } from '../control/rto.js';
import type { SeqNumber } from '../wire/seq.js';
import { copyBytes } from '../util/copy-frame.js';

export interface ConnectionHandlers {
  /** Handshake completed (active open) or accepted (passive open). */
  onConnect?(c: Connection): void;
  /** New bytes are readable (`c.readableLength`). */
  onReadable?(c: Connection): void;
  /** TX ring space was freed (`c.writableLength`). */
  onWritable?(c: Connection): void;
  /** The peer's FIN: no more data will arrive. */
  onEnd?(c: Connection): void;
  /** Fully closed; `err` when it ended abnormally (reset, timeout, refused). */
  onClose?(c: Connection, err?: TcpError): void;
}

/** What a connection needs from its stack (implemented by `TcpStack`). */
export interface ConnectionHost {
  appended(c: Connection, n: number): void;
  consumed(c: Connection, n: number): void;
  shutdown(c: Connection): void;
  abort(c: Connection): void;
}

export class Connection {
  state = TcpState.Closed;
  /** NIC flow slot once installed, else -1. */
  flowId = -1;
  handlers: ConnectionHandlers = {};
  /** Application data for whoever owns the connection (e.g. the net.Socket). */
  owner: unknown = null;

  // Negotiated at the handshake (RFC 9293 3.7.1 MSS, RFC 7323 WS/TS, RFC 3168 ECN).
  iss = 0 as SeqNumber;
  irs = 0 as SeqNumber;
  peerMss = 536;
  peerWscale = -1;
  ourWscale = 0;
  timestamps = false;
  ecn = false;
  peerTsVal = 0;
  peerWindow = 0;
  remoteMac = -1;

  // Host rings (libTOE): the NIC writes RX at its position, the app reads at rxReadPos.
  rxRing: Uint8Array = new Uint8Array(0);
  txRing: Uint8Array = new Uint8Array(0);
  rxReadPos = 0;
  /** In-order bytes the NIC delivered that the application has not read. */
  readableLength = 0;
  txWritePos = 0;
  /** Bytes in the TX ring not yet acknowledged (appended - freed). */
  txQueued = 0;
  rxEnded = false;
  txShut = false;

  // Control-plane bookkeeping.
  timer = -1;
  synRetries = 0;
  dataRetries = 0;
  rto: RtoEstimator | null = null;
  cc: CcFlowState | null = null;
  ccAlg: CongestionControl | null = null;
  lastCcNs = 0;
  prevAcked = 0;
  prevEcn = 0;
  prevFastRetx = 0;
  lastUna = 0 as SeqNumber;
  lastProgressNs = 0;
  persistSinceNs = -1;
  listener: unknown = null;
  closeError: TcpError | undefined;

  constructor(
    readonly id: number,
    readonly host: ConnectionHost,
    readonly localIp: number,
    readonly localPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
  ) {}

  get txSize(): number {
    return this.txRing.length;
  }

  /** Bytes the application may append now. */
  get writableLength(): number {
    return this.txRing.length - this.txQueued;
  }

  /** Data may be sent: the handshake is done and our side is not shut. */
  get canWrite(): boolean {
    return (this.state === TcpState.Established || this.state === TcpState.CloseWait) && !this.txShut;
  }

  /**
   * Copies as much of `data` as fits into the TX ring and tells the NIC; returns bytes taken
   * (0 when the ring is full: wait for `onWritable`). Throws if the connection cannot send.
   */
  write(data: Uint8Array, offset = 0, length = data.length - offset): number {
    if (!this.canWrite)
      throw new Error(`write on a connection in ${this.state}${this.txShut ? ' after shutdown' : ''}`);
    const n = Math.min(length, this.writableLength);
    if (n === 0) return 0;
    const ring = this.txRing;
    const first = Math.min(n, ring.length - this.txWritePos);
    copyInto(ring, this.txWritePos, data, offset, first);
    if (first < n) copyInto(ring, 0, data, offset + first, n - first);
    this.commit(n);
    return n;
  }

  /**
   * Zero-copy write: the TX ring's free bytes as at most two views (a ring wrap splits them).
   * Fill a prefix, then `commit` it; the views stay valid until then.
   */
  txFree(): [Uint8Array, Uint8Array | null] {
    const ring = this.txRing;
    const n = this.writableLength;
    const first = Math.min(n, ring.length - this.txWritePos);
    const a = ring.subarray(this.txWritePos, this.txWritePos + first);
    return [a, first < n ? ring.subarray(0, n - first) : null];
  }

  /** Hands the next `n` bytes of the `txFree` views to the NIC ("I appended N bytes"). */
  commit(n: number): void {
    if (n <= 0) return;
    if (!this.canWrite)
      throw new Error(`commit on a connection in ${this.state}${this.txShut ? ' after shutdown' : ''}`);
    if (n > this.writableLength)
      throw new RangeError(`commit(${n}) beyond ${this.writableLength} free bytes in the TX ring`);
    this.txWritePos = (this.txWritePos + n) & (this.txRing.length - 1);
    this.txQueued += n;
    this.host.appended(this, n);
  }

  /** Copies up to `max` readable bytes out and tells the NIC they were consumed. */
  read(max = this.readableLength): Buffer | null {
    const n = Math.min(max, this.readableLength);
    if (n === 0) return null;
    const out = Buffer.allocUnsafe(n);
    const ring = this.rxRing;
    const first = Math.min(n, ring.length - this.rxReadPos);
    out.set(ring.subarray(this.rxReadPos, this.rxReadPos + first), 0);
    if (first < n) out.set(ring.subarray(0, n - first), first);
    this.consume(n);
    return out;
  }

  /**
   * Zero-copy read: the readable bytes as at most two views of the RX ring (valid until
   * `consume`). FlexTOE's applications read straight from the shared buffer.
   */
  peek(): [Uint8Array, Uint8Array | null] {
    const ring = this.rxRing;
    const n = this.readableLength;
    const first = Math.min(n, ring.length - this.rxReadPos);
    const a = ring.subarray(this.rxReadPos, this.rxReadPos + first);
    return [a, first < n ? ring.subarray(0, n - first) : null];
  }

  /** Releases `n` bytes of the RX ring to the NIC ("I consumed N bytes"). */
  consume(n: number): void {
    if (n <= 0) return;
    if (n > this.readableLength)
      throw new RangeError(`consume(${n}) beyond ${this.readableLength} readable bytes`);
    this.rxReadPos = (this.rxReadPos + n) & (this.rxRing.length - 1);
    this.readableLength -= n;
    this.host.consumed(this, n);
  }

  /** Half-close: FIN after the queued data (RFC 9293 3.10.4 CLOSE). */
  shutdown(): void {
    this.host.shutdown(this);
  }

  /** Abort: RST now, queued data discarded (RFC 9293 3.10.5 ABORT). */
  abort(): void {
    this.host.abort(this);
  }
}

/**
 * Below this many bytes a write copies without a view of the source (`copyBytes`, a word loop
 * in JavaScript). As `copyFrameVia`'s bound for short frames: beyond a few hundred bytes the
 * native copy wins even with its view (both-ends pipeline-micro rows, 1448 B partial writes).
 */
const VIEWLESS_COPY_MAX = 256;

/**
 * `ring[at, at + len) = data[offset, offset + len)`. A whole source is one native copy; a part
 * of one would need a view (`subarray`, about 100 B of garbage per write: an RPC's every
 * write), so short parts are copied by `copyBytes` and only long ones, where a view is little
 * per byte and a native copy much faster, take a view.
 */
function copyInto(ring: Uint8Array, at: number, data: Uint8Array, offset: number, len: number): void {
  if (offset === 0 && len === data.length) ring.set(data, at);
  else if (len < VIEWLESS_COPY_MAX) copyBytes(data, offset, ring, at, len);
  else ring.set(data.subarray(offset, offset + len), at);
}
