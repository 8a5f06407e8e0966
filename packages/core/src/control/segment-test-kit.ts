/**
 * Test kit for segment-level protocol specs (smoltcp style): ONE `TcpStack` under test on a
 * `VirtualNetwork`, and a raw peer port the spec drives by hand. The spec emits segments built
 * from templates (`{ ...SYN, seq, options }`) and reads back what the stack sent, parsed into
 * plain objects so `expect(...).to.deep.include(...)` states the fields that matter.
 * The peer answers the stack's ARP requests by itself; time only moves when the spec says so.
 */
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { VirtualNetwork, type VirtualPort } from '../port/virtual-network.js';
import { HeapMemoryTiers } from '../runtime/heap-memory.js';
import type { TcpStackOptions } from '../runtime/tcp-stack.js';
import { buildStackUnderTest, type StackUnderTest } from '../runtime/stack-under-test.js';
import { ManualClock } from '../util/manual-clock.js';
import { ArpOp, ArpPacket } from '../wire/arp.js';
import { WireError } from '../wire/drop-reason.js';
import {
  emitArpFrame,
  emitTcpFrame,
  L4Kind,
  ParsedFrame,
  parseFrame,
  TcpFrameTemplate,
  tcpFrameHeaderLength,
} from '../wire/frame.js';
import { Ecn, ipv4FromString } from '../wire/ipv4.js';
import type { SeqNumber } from '../wire/seq.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptionFlag, TcpOptions } from '../wire/tcp-options.js';
import { LinkHeader } from '../wire/vlan.js';
import { fixedIsn } from './isn.js';

/** Options of a segment, as the peer sends them or as the stack sent them. Absent = not present. */
export interface SegOptions {
  mss?: number;
  wscale?: number;
  tsVal?: number;
  tsEcr?: number;
}

/** One segment the peer sends: a template spread with the fields of the moment. */
export interface SegmentTemplate {
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  readonly window: number;
  readonly payload?: Uint8Array;
  readonly options?: SegOptions;
  /** IPv4 ECN field (default Not-ECT). */
  readonly ecn?: number;
  /** Default: the kit's peer port. */
  readonly srcPort?: number;
  /** Default: the kit's listening port. */
  readonly dstPort?: number;
}

export const SYN: SegmentTemplate = { flags: TcpFlag.SYN, seq: 0, ack: 0, window: 65535 };
export const SYN_ACK: SegmentTemplate = { flags: TcpFlag.SYN | TcpFlag.ACK, seq: 0, ack: 0, window: 65535 };
export const ACK: SegmentTemplate = { flags: TcpFlag.ACK, seq: 0, ack: 0, window: 65535 };
export const FIN_ACK: SegmentTemplate = { flags: TcpFlag.FIN | TcpFlag.ACK, seq: 0, ack: 0, window: 65535 };
export const RST: SegmentTemplate = { flags: TcpFlag.RST, seq: 0, ack: 0, window: 0 };
export const RST_ACK: SegmentTemplate = { flags: TcpFlag.RST | TcpFlag.ACK, seq: 0, ack: 0, window: 0 };

/** A segment the stack sent, reduced to plain fields. */
export interface SentSegment {
  flags: number;
  seq: number;
  ack: number;
  window: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  options: SegOptions;
  /** IPv4 ECN field. */
  ecn: number;
}

export const STACK_IP = '10.0.0.1';
export const PEER_IP = '10.0.0.2';
/** The port the stack listens on in passive-open fixtures. */
export const LISTEN_PORT = 80;
/** The peer's port (its source port in passive opens). */
export const PEER_PORT = 40000;
/** The stack's ISS in every kit (pinned). */
export const STACK_ISS = 1000;

export const KIT_DEFAULTS: Partial<TcpStackOptions> = {
  maxFlows: 16,
  cc: 'newreno',
  rxBufferBytes: 16384,
  txBufferBytes: 16384,
  minRtoMs: 200,
  synRtoMs: 1000,
  synRetries: 3,
  timeWaitMs: 100,
  controlTickUs: 1000,
  isn: fixedIsn(STACK_ISS),
};

/** Renders flags for failure messages: 'SYN|ACK'. */
export function flagNames(flags: number): string {
  const names: string[] = [];
  for (const [k, v] of Object.entries(TcpFlag)) if ((flags & v) !== 0) names.push(k);
  return names.join('|') || '-';
}

export class SegmentKit {
  readonly clock = new ManualClock(1_000_000_000);
  readonly net = new VirtualNetwork({ clock: this.clock, timers: this.clock });
  readonly peer: VirtualPort;
  readonly stack: StackUnderTest;
  private readonly stackPort: VirtualPort;
  readonly stackIp = ipv4FromString(STACK_IP);
  readonly peerIp = ipv4FromString(PEER_IP);
  /** Segments the stack sent that the spec has not taken yet, oldest first. */
  readonly inbox: SentSegment[] = [];
  /** ARP requests the stack broadcast (answered by the peer). */
  arpRequests = 0;
  /** When false the peer ignores ARP requests. */
  answerArp = true;
  private readonly rxBufs: PacketBuffer[] = [];
  private readonly txBuf: PacketBuffer;
  private readonly parsed = new ParsedFrame();
  private readonly template = new TcpFrameTemplate();
  private readonly tcpOptions = new TcpOptions();

  constructor(options: Partial<TcpStackOptions> = {}) {
    const port = this.net.attach();
    this.peer = this.net.attach();
    this.stackPort = port;
    this.stack = buildStackUnderTest(
      { port, dma: new MemcpyDma(), clock: this.clock, timers: this.clock, tiers: new HeapMemoryTiers() },
      { ...KIT_DEFAULTS, ...options, ip: `${STACK_IP}/24` },
    );
    for (let i = 0; i < 32; i++) this.rxBufs.push(new PacketBuffer(this.net.maxFrameBytes));
    this.txBuf = new PacketBuffer(this.net.maxFrameBytes);
  }

  get stackMac(): number {
    return this.stackPort.mac;
  }

  /** The peer emits one segment to the stack, then the stack runs until idle. */
  send(seg: SegmentTemplate): void {
    this.emit(seg);
    this.settle();
  }

  /** The peer emits segments back to back (one receive burst for the stack), then it settles. */
  sendBurst(segs: readonly SegmentTemplate[]): void {
    for (const seg of segs) this.emit(seg);
    this.settle();
  }

  private emit(seg: SegmentTemplate): void {
    const h = this.template;
    h.link.dst = this.stackMac;
    h.link.src = this.peer.mac;
    h.ipv4.src = this.peerIp;
    h.ipv4.dst = this.stackIp;
    h.ipv4.ttl = 64;
    h.ipv4.flags = 0x2;
    h.ipv4.ecn = seg.ecn ?? Ecn.NotEct;
    h.tcp.srcPort = seg.srcPort ?? PEER_PORT;
    h.tcp.dstPort = seg.dstPort ?? LISTEN_PORT;
    h.tcp.seq = (seg.seq >>> 0) as SeqNumber;
    h.tcp.ack = (seg.ack >>> 0) as SeqNumber;
    h.tcp.flags = seg.flags;
    h.tcp.window = seg.window;
    h.tcp.urgentPointer = 0;
    const o = seg.options ? this.toOptions(seg.options) : null;
    const payload = seg.payload ?? new Uint8Array(0);
    const buf = this.txBuf;
    buf.data.set(payload, tcpFrameHeaderLength(h, o));
    buf.length = Math.max(60, emitTcpFrame(buf.data, 0, h, o, payload.length));
    if (this.peer.txBurst([buf], 1) !== 1) throw new Error('peer port refused the frame');
  }

  /** Polls the stack until it is idle, collecting what it sent and answering ARP. */
  settle(): void {
    for (let round = 0; round < 10_000; round++) {
      const work = this.stack.poll() + this.drainPeer();
      if (work === 0) return;
    }
    throw new Error('stack did not go idle');
  }

  /** Moves virtual time by `ms`, running each timer at its due time and settling after each. */
  advance(ms: number): void {
    const end = this.clock.now() + ms * 1e6;
    this.settle();
    for (;;) {
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > end) break;
      this.clock.advanceTo(Math.max(next, this.clock.now()));
      this.settle();
    }
    this.clock.advanceTo(end);
    this.settle();
  }

  /** Takes every segment the stack sent since the last call. */
  sent(): SentSegment[] {
    this.settle();
    return this.inbox.splice(0, this.inbox.length);
  }

  /** Takes exactly one sent segment; throws with the list when there are more or none. */
  one(): SentSegment {
    const s = this.sent();
    if (s.length !== 1)
      throw new Error(`expected one segment, got ${s.length}: ${s.map(describeSegment).join(', ')}`);
    return s[0]!;
  }

  private drainPeer(): number {
    const n = this.peer.rxBurst(this.rxBufs, this.rxBufs.length);
    const p = this.parsed;
    for (let i = 0; i < n; i++) {
      const f = this.rxBufs[i]!;
      if (parseFrame(f.data, 0, f.length, p) !== WireError.None)
        throw new Error('stack sent a malformed frame');
      if (p.l4 === L4Kind.Arp) {
        if (p.arp.op === ArpOp.Request && p.arp.targetIp === this.peerIp) {
          this.arpRequests++;
          if (this.answerArp) this.replyArp(p.arp.senderMac, p.arp.senderIp);
        }
        continue;
      }
      const t = p.tcp;
      const o = p.tcpOptions;
      const options: SegOptions = {};
      if (o.hasMss) options.mss = o.mss;
      if (o.hasWindowScale) options.wscale = o.wscale;
      if (o.hasTimestamps) {
        options.tsVal = o.tsVal;
        options.tsEcr = o.tsEcr;
      }
      this.inbox.push({
        flags: t.flags,
        seq: t.seq,
        ack: t.ack,
        window: t.window,
        srcPort: t.srcPort,
        dstPort: t.dstPort,
        payload: Buffer.from(f.data.subarray(t.payloadStart, t.payloadEnd)),
        options,
        ecn: p.ipv4.ecn,
      });
    }
    return n;
  }

  private replyArp(targetMac: number, targetIp: number): void {
    const a = new ArpPacket();
    a.op = ArpOp.Reply;
    a.senderMac = this.peer.mac;
    a.senderIp = this.peerIp;
    a.targetMac = targetMac;
    a.targetIp = targetIp;
    const link = new LinkHeader();
    link.dst = targetMac;
    link.src = this.peer.mac;
    const buf = this.txBuf;
    buf.length = Math.max(60, emitArpFrame(buf.data, 0, link, a));
    this.peer.txBurst([buf], 1);
  }

  private toOptions(s: SegOptions): TcpOptions {
    const o = this.tcpOptions;
    o.reset();
    if (s.mss !== undefined) {
      o.present |= TcpOptionFlag.Mss;
      o.mss = s.mss;
    }
    if (s.wscale !== undefined) {
      o.present |= TcpOptionFlag.WindowScale;
      o.wscale = s.wscale;
    }
    if (s.tsVal !== undefined) {
      o.present |= TcpOptionFlag.Timestamps;
      o.tsVal = s.tsVal >>> 0;
      o.tsEcr = (s.tsEcr ?? 0) >>> 0;
    }
    return o;
  }
}

/** One line per segment for failure messages. */
export function describeSegment(s: SentSegment): string {
  return `<${flagNames(s.flags)} seq=${s.seq} ack=${s.ack} win=${s.window} len=${s.payload.length}>`;
}

/** Only the fields a spec usually asserts: flags, seq, ack (and window when asked). */
export function fields(
  s: SentSegment,
  withWindow = false,
): { flags: number; seq: number; ack: number; window?: number; len: number } {
  return withWindow
    ? { flags: s.flags, seq: s.seq, ack: s.ack, window: s.window, len: s.payload.length }
    : { flags: s.flags, seq: s.seq, ack: s.ack, len: s.payload.length };
}

/** `n` bytes 0, 1, 2, ... (mod 256) from `start`. */
export function bytes(n: number, start = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}
