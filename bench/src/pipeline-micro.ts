/**
 * The pipeline micro-benchmark (core issue 3): segments per second per core through ONE FlexTOE
 * data path, for 64 B and MSS-sized payloads, and bytes allocated per segment. Target: 2M
 * segments/s per core, zero allocations per segment.
 *
 * What runs, and what one "segment" is. One `DataPath` (one NIC core's worth of stages) runs
 * on this thread; its peer is a traffic generator behind its port, not a second stack:
 *
 *  - RX path: one segment = one data segment of `payloadBytes` that the generator hands to the
 *    data path's receive burst, taken through port receive, pre-processing (header checks, IPv4
 *    and TCP checksum verification unless the port offers receive offload, flow lookup, flow
 *    group), ingress sequencing and reorder, protocol, DMA of the payload into the host RX ring,
 *    the RX notification on the context queue, and the ACK it causes (post-processing: headers,
 *    checksums unless the port offers transmit offload; egress re-sequencing; port transmit).
 *    The host's "I consumed N bytes" requests (one per poll round) also go through the data path.
 *  - TX path: one segment = one data segment of `payloadBytes` the data path sends after the
 *    host's "I appended N bytes" requests: queue manager, protocol, DMA of the payload out of the
 *    host TX ring, post-processing (headers, checksums), egress, port transmit; and the ACK the
 *    generator returns for it (one per segment, as FlexTOE's receiver does), through the whole
 *    receive pipeline to the TX-freed notification.
 *  - both ends (the earlier figure, kept so nothing is hidden): two complete stacks on this one
 *    thread over the in-process virtual wire; one segment = one frame through a receive
 *    pipeline (data segments and ACKs), so each is charged its sender's transmit pass, the
 *    wire's copies, its receiver's pass, both poll loops and the application callbacks.
 *
 * The loop under measurement is one NIC core's: `pollRx`, the host side, `pollRequests`,
 * `pollTx`, round after round; figures are segments per second of this thread's CPU time
 * (`process.cpuUsage`; V8's helper threads are included, so the figure errs low).
 *
 * The generator and the host side are in the measured loop, and their cost is measured and
 * reported apart (`harnessNsPerSegment`, wall time of their calls): the generator's frames are
 * built once (the captured frame of a real peer stack as template, payload written once per
 * receive slot); per segment it patches the sequence or acknowledgment number and the TCP
 * checksum in place (RFC 1624); it parses what the data path transmits (sequence, length,
 * acknowledgment, window) and acknowledges or respects it like a peer would. The host side pops
 * notifications and pushes one request per round; the TX ring is filled once with a pattern.
 *
 * Honesty checks (any failure throws): before the timed run, a verified run of the same loop
 * in which the generator writes every frame whole and checks every transmitted segment's TCP
 * checksum and payload bytes against the TX ring's pattern, and the host checks every received
 * byte in the RX ring; after the timed run, the data path's counters must show no drop, no
 * exception, no retransmission, exactly `segments x payloadBytes` DMA'd, the generator must
 * have seen every byte in order, and the RX ring must hold the stream's last bytes.
 */
import {
  allocatedBy,
  copyFrame,
  DelegatingPort,
  HeapMemoryTiers,
  ManualClock,
  MemcpyDma,
  Notification,
  Request,
  runVirtual,
  TcpStack,
  VirtualNetwork,
  type Connection,
  type DataPath,
  type NicPort,
  type PacketBuffer,
  type PortCapabilities,
} from '@flextoe/core';

/** One measured path at one payload size. */
export interface PathFigures {
  readonly path: 'rx' | 'tx' | 'both-ends';
  /** Checksums in software (the port offers no offload) or left to the port. */
  readonly checksums: 'software' | 'offload';
  readonly segments: number;
  readonly cpuMs: number;
  /** Segments per second of CPU time of the thread: the whole measured loop on one core. */
  readonly segmentsPerSecPerCore: number;
  /** CPU nanoseconds per segment (the inverse of the above). */
  readonly nsPerSegment: number;
  /**
   * Of `nsPerSegment`, the traffic generator's and the host side's share (wall time of their
   * calls; null for both-ends, where the peer is a full stack).
   */
  readonly harnessNsPerSegment: number | null;
  /** Heap bytes allocated during the measured run, per segment (harness included). */
  readonly bytesAllocatedPerSegment: number;
}

export interface PipelineMicroResult {
  readonly payloadBytes: number;
  /**
   * The headline, `segments` .. `bytesAllocatedPerSegment`: the slower of the RX and TX paths
   * with software checksums (one data path, one core; see `rx`, `tx` for both).
   */
  readonly segments: number;
  readonly dataSegments: number;
  readonly cpuMs: number;
  readonly segmentsPerSecPerCore: number;
  readonly nsPerSegment: number;
  readonly dataSegmentsPerSecPerCore: number;
  readonly bytesAllocatedPerSegment: number;
  readonly rx: PathFigures;
  readonly tx: PathFigures;
  /** RX and TX paths with a port that offers checksum offload in both directions. */
  readonly rxOffload: PathFigures;
  readonly txOffload: PathFigures;
  /** Both stacks and the virtual wire on one thread (the earlier figure). */
  readonly bothEnds: PathFigures;
}

/**
 * CPU time spent warming up before each measured run. The paths share stage code, so the path
 * measured before leaves V8 feedback that the next one invalidates: measured after 400 ms the
 * second path (TX after RX) still ran re-optimised code part of the time (TX 1448 B ~505 ns a
 * segment, ~420 ns alone or in a second run; `--trace-deopt` showed pollTx, submit and
 * buildSegment deoptimised once the RX run had been). 1.5 s reaches the steady state a
 * long-running data path is in (TX 1448 B 1.95M -> 2.06-2.16M segments/s in three runs).
 */
const WARM_UP_CPU_US = 1_500_000;
/** Segments the verified run checks byte by byte before each timed run. */
const VERIFIED_SEGMENTS = 4096;

/** One poll round in this many has its harness calls timed (a power of two). */
const HARNESS_SAMPLE = 16;

/** Runs every path at `payloadBytes`, each moving about `totalBytes`. */
export function runPipelineMicro(payloadBytes: number, totalBytes: number): PipelineMicroResult {
  const segments = Math.max(1024, Math.ceil(totalBytes / payloadBytes));
  const rx = runDataPathOnly('rx', payloadBytes, segments, false);
  const tx = runDataPathOnly('tx', payloadBytes, segments, false);
  const rxOffload = runDataPathOnly('rx', payloadBytes, segments, true);
  const txOffload = runDataPathOnly('tx', payloadBytes, segments, true);
  const bothEnds = runBothEnds(payloadBytes, totalBytes);
  const head = rx.segmentsPerSecPerCore <= tx.segmentsPerSecPerCore ? rx : tx;
  return {
    payloadBytes,
    segments: head.segments,
    dataSegments: head.segments,
    cpuMs: head.cpuMs,
    segmentsPerSecPerCore: head.segmentsPerSecPerCore,
    nsPerSegment: head.nsPerSegment,
    dataSegmentsPerSecPerCore: head.segmentsPerSecPerCore,
    bytesAllocatedPerSegment: head.bytesAllocatedPerSegment,
    rx,
    tx,
    rxOffload,
    txOffload,
    bothEnds,
  };
}

// ------------------------------------------------------------------ one data path, a generator

// Offsets in an untagged Ethernet II + IPv4 (IHL 5) + TCP frame.
const IP = 14;
const TCP = 34;
const TCP_SEQ = TCP + 4;
const TCP_ACK = TCP + 8;
const TCP_WINDOW = TCP + 14;
const TCP_CHECKSUM = TCP + 16;

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
/** A big-endian u32 field as int32 bits (never a boxed number). */
const i32 = (b: Uint8Array, at: number): number =>
  (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;

/**
 * Writes the int32 `values[index]` at `at` and patches the TCP checksum for it (RFC 1624 eqn. 3).
 * The value is read here, not passed: an int32 outside the small-integer range crossing a call
 * V8 did not inline is boxed (an allocation the harness would add to every other segment).
 */
function patch32(b: Uint8Array, at: number, values: Int32Array, index: number): void {
  const value = values[index]!;
  const oldHi = u16(b, at);
  const oldLo = u16(b, at + 2);
  const newHi = value >>> 16;
  const newLo = value & 0xffff;
  let sum = (~u16(b, TCP_CHECKSUM) & 0xffff) + (~oldHi & 0xffff) + (~oldLo & 0xffff) + newHi + newLo;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[at] = newHi >>> 8;
  b[at + 1] = newHi;
  b[at + 2] = newLo >>> 8;
  b[at + 3] = newLo;
  b[TCP_CHECKSUM] = c >>> 8;
  b[TCP_CHECKSUM + 1] = c;
}

/** As `patch32` for a 16-bit field. */
function patch16(b: Uint8Array, at: number, value: number): void {
  let sum = (~u16(b, TCP_CHECKSUM) & 0xffff) + (~u16(b, at) & 0xffff) + (value & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[at] = value >>> 8;
  b[at + 1] = value;
  b[TCP_CHECKSUM] = c >>> 8;
  b[TCP_CHECKSUM + 1] = c;
}

/** True when the frame's TCP checksum verifies (RFC 9293 3.1), for the verified run. */
function tcpChecksumOk(b: Uint8Array, frameLength: number): boolean {
  const totalLength = u16(b, IP + 2);
  let sum = u16(b, IP + 12) + u16(b, IP + 14) + u16(b, IP + 16) + u16(b, IP + 18) + 6 + totalLength - 20;
  const end = Math.min(frameLength, IP + totalLength);
  let i = TCP;
  for (; i + 1 < end; i += 2) sum += u16(b, i);
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** Payload byte `j` of the generator's segment with pattern index `k` (RX path). */
const rxPattern = (k: number, j: number): number => (k * 73 + j * 7 + 11) & 0xff;
/** The byte the host keeps at TX ring position `p` (TX path). */
const txPattern = (p: number): number => (p * 13 + (p >>> 8) + 5) & 0xff;

type Mode = 'pass' | 'rx' | 'tx';

/**
 * The data path's port. Until the connection is established it passes frames to and from a
 * virtual-wire port (a real peer stack does the handshake, and its frames become the
 * generator's templates); then it IS the peer: `mode` 'rx' feeds data segments and takes ACKs,
 * 'tx' takes data segments and feeds one ACK per segment. With `offload` it claims checksum
 * offload both ways, and (as such a device does) fills the TCP checksum of what it passes on.
 */
class GeneratorPort extends DelegatingPort {
  private caps: PortCapabilities;
  mode: Mode = 'pass';
  /** Verified run: write every frame whole; check every transmitted segment. */
  verify = false;
  /**
   * Wall time (ms) of the generator's and the host's calls in this round, when it is sampled
   * (a Float64Array: a double in a field or a closure would be a new heap number per update).
   * `performance.now` costs ~70 ns and allocates 16 B, so 1 round in HARNESS_SAMPLE is timed;
   * the median sampled round (robust to a preemption on a shared machine) stands for all.
   */
  readonly spentMs = new Float64Array(1);
  sampled = false;
  /** Captured in pass mode: the last data segment and the last pure ACK the peer sent. */
  dataTemplate: Buffer | null = null;
  ackTemplate: Buffer | null = null;
  dataTemplateLength = 0;
  ackTemplateLength = 0;
  /** The last ACK (ack, window) the data path sent, int32 bits. */
  lastAck = 0;
  lastWindow = 0;

  // RX mode: prebuilt frames by pattern index, what each receive slot holds.
  private frames: Buffer[] = [];
  private frameLength = 0;
  private slotBuf: (PacketBuffer | null)[] = [];
  private slotPattern = new Int32Array(0);
  /** Int32 state: [0] next seq to send, [1] right edge of the data path's window. */
  readonly seqs = new Int32Array(4);
  /** RX mode: data segments handed over; TX mode: ACKs handed over. */
  fed = 0;
  /** Frames the generator had to write whole (slot reused for another pattern). */
  fullWrites = 0;
  rcvWscale = 0;
  payloadBytes = 0;
  patterns = 32;
  limit = 0;

  // TX mode: ACK numbers owed (one per data segment), and what was seen.
  private readonly acksOwed = new Int32Array(1 << 14);
  private owedHead = 0;
  private owedCount = 0;
  /** Data segments seen in order, and bytes; anything else counted as a fault. */
  seen = 0;
  seenBytes = 0;
  faults = 0;
  txRing: Uint8Array | null = null;
  txRingBase = 0;

  constructor(inner: NicPort) {
    super(inner);
    this.caps = { ...inner.capabilities };
  }

  override get capabilities(): PortCapabilities {
    return this.caps;
  }

  offerOffload(): void {
    this.caps = { ...this.inner.capabilities, rxChecksumOffload: true, txChecksumOffload: true };
  }

  override rxBurst(bufs: PacketBuffer[], max: number): number {
    if (this.mode === 'pass') {
      const n = this.inner.rxBurst(bufs, max);
      for (let i = 0; i < n; i++) this.capture(bufs[i]!);
      return n;
    }
    if (!this.sampled) return this.mode === 'rx' ? this.feedData(bufs, max) : this.feedAcks(bufs, max);
    const t0 = performance.now();
    const n = this.mode === 'rx' ? this.feedData(bufs, max) : this.feedAcks(bufs, max);
    this.spentMs[0] += performance.now() - t0;
    return n;
  }

  override txBurst(bufs: PacketBuffer[], count: number): number {
    if (this.mode === 'pass') {
      if (this.capabilities.txChecksumOffload) for (let i = 0; i < count; i++) fillTcpChecksum(bufs[i]!);
      return this.inner.txBurst(bufs, count);
    }
    if (!this.sampled) {
      for (let i = 0; i < count; i++) this.take(bufs[i]!);
      return count;
    }
    const t0 = performance.now();
    for (let i = 0; i < count; i++) this.take(bufs[i]!);
    this.spentMs[0] += performance.now() - t0;
    return count;
  }

  private capture(f: PacketBuffer): void {
    const b = f.data;
    if (f.length < TCP + 20 || u16(b, 12) !== 0x0800 || b[IP + 9] !== 6) return;
    const payload = IP + u16(b, IP + 2) - (TCP + (b[TCP + 12]! >>> 4) * 4);
    const flags = b[TCP + 13]!;
    const copy = Buffer.alloc(b.length);
    copyFrame(b, copy, f.length);
    if (payload === this.payloadBytes) {
      this.dataTemplate = copy;
      this.dataTemplateLength = f.length;
    } else if (payload === 0 && flags === 0x10) {
      this.ackTemplate = copy;
      this.ackTemplateLength = f.length;
    }
  }

  /** Switches to generating data segments from the captured one, the next at `seq`. */
  startRx(seq: number, patterns: number): void {
    const t = this.dataTemplate;
    if (t === null) throw new Error('pipeline-micro: no data segment captured');
    this.patterns = patterns;
    this.frameLength = this.dataTemplateLength;
    const payloadAt = this.frameLength - this.payloadBytes;
    this.frames = [];
    for (let k = 0; k < patterns; k++) {
      const f = Buffer.alloc(t.length);
      copyFrame(t, f, this.frameLength);
      for (let j = 0; j < this.payloadBytes; j++) f[payloadAt + j] = rxPattern(k, j);
      fillTcpChecksum({ data: f, length: this.frameLength } as PacketBuffer);
      this.frames.push(f);
    }
    this.slotBuf = [];
    this.slotPattern = new Int32Array(1024).fill(-1);
    this.seqs[0] = seq | 0;
    this.seqs[1] = (this.lastAck + (this.lastWindow << this.rcvWscale)) | 0;
    this.mode = 'rx';
  }

  /** Switches to acknowledging data segments, starting after `seq`, with the captured ACK. */
  startTx(seq: number, window: number): void {
    const t = this.ackTemplate;
    if (t === null) throw new Error('pipeline-micro: no ACK captured');
    this.frames = [t];
    this.frameLength = this.ackTemplateLength;
    patch16(t, TCP_WINDOW, window);
    this.slotBuf = [];
    this.slotPattern = new Int32Array(1024).fill(-1);
    this.seqs[0] = seq | 0;
    this.mode = 'tx';
  }

  /** RX mode: up to `max` data segments within the data path's window. */
  private feedData(bufs: PacketBuffer[], max: number): number {
    const s = this.seqs;
    const len = this.payloadBytes;
    let n = 0;
    while (n < max && this.fed < this.limit && ((s[1]! - s[0]!) | 0) >= len) {
      const k = this.fed % this.patterns;
      const buf = bufs[n]!;
      const b = buf.data;
      if (this.verify || this.slotBuf[n] !== buf || this.slotPattern[n] !== k) {
        copyFrame(this.frames[k]!, b, this.frameLength);
        this.slotBuf[n] = buf;
        this.slotPattern[n] = k;
        this.fullWrites++;
      }
      patch32(b, TCP_SEQ, s, 0);
      buf.length = this.frameLength;
      buf.timestampNs = 0;
      s[0] = (s[0]! + len) | 0;
      this.fed++;
      n++;
    }
    return n;
  }

  /** TX mode: one ACK per data segment seen, in order. */
  private feedAcks(bufs: PacketBuffer[], max: number): number {
    let n = 0;
    while (n < max && this.owedCount > 0) {
      const buf = bufs[n]!;
      const b = buf.data;
      if (this.verify || this.slotBuf[n] !== buf || this.slotPattern[n] !== 0) {
        copyFrame(this.frames[0]!, b, this.frameLength);
        this.slotBuf[n] = buf;
        this.slotPattern[n] = 0;
        this.fullWrites++;
      }
      patch32(b, TCP_ACK, this.acksOwed, this.owedHead);
      this.owedHead = (this.owedHead + 1) & (this.acksOwed.length - 1);
      this.owedCount--;
      buf.length = this.frameLength;
      buf.timestampNs = 0;
      this.fed++;
      n++;
    }
    return n;
  }

  /** A frame the data path transmitted: ACKs move the RX window; data segments are acked. */
  private take(f: PacketBuffer): void {
    const b = f.data;
    if (f.length < TCP + 20 || b[IP + 9] !== 6) return;
    const payloadAt = TCP + (b[TCP + 12]! >>> 4) * 4;
    const payload = IP + u16(b, IP + 2) - payloadAt;
    if (this.verify && !this.capabilities.txChecksumOffload && !tcpChecksumOk(b, f.length)) this.faults++;
    if (this.mode === 'rx') {
      if (payload !== 0) this.faults++;
      const ack = i32(b, TCP_ACK);
      this.seqs[1] = (ack + (u16(b, TCP_WINDOW) << this.rcvWscale)) | 0;
      return;
    }
    if (payload === 0) return; // a window update
    const seq = i32(b, TCP_SEQ);
    if (seq !== this.seqs[0]) {
      this.faults++;
      return;
    }
    if (this.verify) {
      const ring = this.txRing!;
      const mask = ring.length - 1;
      const pos = this.txRingBase + this.seenBytes;
      for (let j = 0; j < payload; j++) if (b[payloadAt + j] !== txPattern((pos + j) & mask)) this.faults++;
    }
    const next = (seq + payload) | 0;
    this.seqs[0] = next;
    this.seen++;
    this.seenBytes += payload;
    if (this.owedCount === this.acksOwed.length) {
      this.faults++;
      return;
    }
    this.acksOwed[(this.owedHead + this.owedCount) & (this.acksOwed.length - 1)] = next;
    this.owedCount++;
  }
}

/** Fills the TCP checksum in software (what a transmit-offload device does). */
function fillTcpChecksum(f: PacketBuffer): void {
  const b = f.data;
  if (f.length < TCP + 20 || u16(b, 12) !== 0x0800 || b[IP + 9] !== 6) return;
  b[TCP_CHECKSUM] = 0;
  b[TCP_CHECKSUM + 1] = 0;
  const totalLength = u16(b, IP + 2);
  let sum = u16(b, IP + 12) + u16(b, IP + 14) + u16(b, IP + 16) + u16(b, IP + 18) + 6 + totalLength - 20;
  const end = IP + totalLength;
  let i = TCP;
  for (; i + 1 < end; i += 2) sum += u16(b, i);
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[TCP_CHECKSUM] = c >>> 8;
  b[TCP_CHECKSUM + 1] = c;
}

/** Drop, exception and retransmission counters: all must stay still. */
function faultCount(dp: DataPath): number {
  const c = dp.counters;
  let n =
    c.notForUs +
    c.exceptionsDropped +
    c.reorderFull +
    c.fastRetransmits +
    c.timeoutRetransmits +
    c.txDropped +
    c.egressRefused +
    c.dmaRefused +
    c.notificationsDropped +
    c.badRequests;
  for (const x of c.wireErrors) n += x;
  for (const x of c.slowPath) n += x;
  for (const x of c.protocolDrops) n += x;
  return n;
}

/**
 * One data path against the generator: `path` 'rx' (the data path receives) or 'tx' (it
 * sends), `segments` timed segments of `payloadBytes`, after a warm-up and a verified run.
 */
export function runDataPathOnly(
  path: 'rx' | 'tx',
  payloadBytes: number,
  segments: number,
  offload: boolean,
): PathFigures {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, timers: clock });
  // The announced MSS (RFC 9293 3.7.1) counts payload only; 12 B of it go to timestamps.
  const options = { maxFlows: 4, mss: payloadBytes + 12, cc: 'const-rate' as const, controlTickUs: 1000 };
  const port = new GeneratorPort(net.attach());
  if (offload) port.offerOffload();
  port.payloadBytes = payloadBytes;
  const hw = (p: NicPort) => ({
    port: p,
    dma: new MemcpyDma(),
    clock,
    timers: clock,
    tiers: new HeapMemoryTiers(),
  });
  const dut = new TcpStack(hw(port), { ip: '10.0.0.1/24', ...options });
  const peer = new TcpStack(hw(net.attach()), { ip: '10.0.0.2/24', ...options });
  let dutConn: Connection | null = null;
  let peerConn: Connection | null = null;
  const one = Buffer.alloc(payloadBytes, 0x33);
  // The handshake and one segment each way with the real peer stack: the templates.
  if (path === 'rx') {
    dut.listen(9, (c) => (dutConn = c));
    peerConn = peer.connect('10.0.0.1', 9);
    runVirtual([dut, peer], clock, () => dutConn !== null && peerConn!.canWrite, 10e9);
    peerConn.write(one);
    runVirtual([dut, peer], clock, () => dutConn!.readableLength === payloadBytes, 10e9);
    dutConn!.consume(payloadBytes);
  } else {
    peer.listen(9, (c) => (peerConn = c));
    dutConn = dut.connect('10.0.0.2', 9);
    runVirtual([dut, peer], clock, () => peerConn !== null && dutConn!.canWrite, 10e9);
    dutConn.write(one);
    runVirtual([dut, peer], clock, () => peerConn!.readableLength === payloadBytes, 10e9);
  }
  runVirtual([dut, peer], clock, () => dut.poll() + peer.poll() === 0, 10e9);
  const conn = dutConn!;
  const dp = dut.dataPath;
  const flowId = conn.flowId;
  const notes = dut.context.notifications;
  const requests = dut.context.requests;
  const note = new Uint32Array(4);
  const req = new Uint32Array(4);
  const rxRing = conn.rxRing;
  const rxMask = rxRing.length - 1;
  const rxBase = conn.rxReadPos;
  let received = 0;
  let hostFaults = 0;
  if (path === 'rx') {
    const tcp = dp.tables.protocol.at(flowId);
    port.rcvWscale = conn.ourWscale;
    port.lastAck = tcp.rcvNxt | 0;
    port.lastWindow = tcp.rxAvail >>> conn.ourWscale;
    port.startRx(tcp.rcvNxt | 0, 32);
  } else {
    const ring = conn.txRing;
    for (let p = 0; p < ring.length; p++) ring[p] = txPattern(p);
    port.txRing = ring;
    port.txRingBase = conn.txWritePos;
    port.startTx(dp.tables.protocol.at(flowId).sndNxt | 0, 0xffff);
  }
  /** Pushes one request (the ring is sized so it never fills here; a full one is a fault). */
  const push = (kind: Request, n: number): void => {
    req[0] = kind;
    req[1] = flowId;
    req[2] = n;
    if (!requests.tryPush(req)) hostFaults++;
  };
  // The TX path starts with the whole TX ring appended.
  let txOwed = path === 'tx' ? conn.txRing.length : 0;
  /** The host side of one round: notifications in, one request out. */
  const host = (): void => {
    const t0 = port.sampled ? performance.now() : 0;
    let consumed = 0;
    while (notes.tryPop(note)) {
      const n = note[2]!;
      if (note[0] === Notification.RxData) {
        if (port.verify) {
          for (let o = received; o < received + n; o++) {
            const k = Math.floor(o / payloadBytes) % port.patterns;
            if (rxRing[(rxBase + o) & rxMask] !== rxPattern(k, o % payloadBytes)) hostFaults++;
          }
        }
        received += n;
        consumed += n;
      } else if (note[0] === Notification.TxFreed) txOwed += n;
      else hostFaults++;
    }
    if (consumed > 0) push(Request.RxConsumed, consumed);
    if (txOwed > 0) {
      push(Request.TxAppended, txOwed);
      txOwed = 0;
    }
    if (port.sampled) port.spentMs[0] += performance.now() - t0;
  };
  const samples = { ms: new Float64Array(1 << 16), count: 0 };
  const rounds = { n: 0 };
  const progress = (): number => (path === 'rx' ? port.fed : port.seen);
  /** Rounds of one NIC core until `segments` more segments are done. */
  const run = (count: number): void => {
    const goal = progress() + count;
    if (path === 'rx') port.limit = goal;
    let idle = 0;
    let round = 0;
    for (;;) {
      if (port.sampled && samples.count < samples.ms.length) samples.ms[samples.count++] = port.spentMs[0]!;
      port.spentMs[0] = 0;
      port.sampled = (++round & (HARNESS_SAMPLE - 1)) === 0;
      rounds.n++;
      // RX: every segment fed and its bytes at the host; TX: every segment seen by the peer.
      if (path === 'rx' ? received >= goal * payloadBytes : port.seen >= goal) break;
      const work = dp.pollRx();
      host();
      const w2 = dp.pollRequests() + dp.pollTx();
      if (work + w2 === 0 && ++idle > 1000)
        throw new Error(`pipeline-micro ${path}: stalled (${port.fed} fed, ${port.seen} seen)`);
      if (work + w2 > 0) idle = 0;
    }
  };
  const check = (what: string, faults0: number): void => {
    const faults = faultCount(dp) - faults0 + port.faults + hostFaults;
    if (faults !== 0)
      throw new Error(
        `pipeline-micro ${path} ${payloadBytes} B ${what}: ${faults} faults (generator ${port.faults}, host ${hostFaults}); ${JSON.stringify(dp.stats())}`,
      );
  };
  const faults0 = faultCount(dp);
  // Verified run: every frame written whole, every byte checked.
  port.verify = true;
  run(VERIFIED_SEGMENTS);
  check('verified run', faults0);
  port.verify = false;
  // Warm-up (JIT): a fixed share of CPU time.
  const warm0 = process.cpuUsage();
  for (;;) {
    run(4096);
    const w = process.cpuUsage(warm0);
    if (w.user + w.system >= WARM_UP_CPU_US) break;
  }
  check('warm-up', faults0);
  const dma0 = path === 'rx' ? dp.counters.dmaToHostBytes : dp.counters.dmaFromHostBytes;
  const fed0 = progress();
  samples.count = 0;
  rounds.n = 0;
  let cpu = { user: 0, system: 0 };
  const allocated = allocatedBy(() => {
    const cpu0 = process.cpuUsage();
    run(segments);
    cpu = process.cpuUsage(cpu0);
  });
  check('timed run', faults0);
  // The last TX burst may overshoot the goal: the segments are the ones the peer saw.
  const done = progress() - fed0;
  const dma = (path === 'rx' ? dp.counters.dmaToHostBytes : dp.counters.dmaFromHostBytes) - dma0;
  if (done < segments || done > segments + 256 || dma !== done * payloadBytes)
    throw new Error(`pipeline-micro ${path}: ${done} segments and ${dma} B DMA'd, expected ${segments}`);
  if (path === 'rx') {
    // The RX ring holds the stream's last bytes, each where it belongs.
    const total = port.fed * payloadBytes;
    for (let o = Math.max(0, total - rxRing.length); o < total; o++) {
      const k = Math.floor(o / payloadBytes) % port.patterns;
      if (rxRing[(rxBase + o) & rxMask] !== rxPattern(k, o % payloadBytes))
        throw new Error(`pipeline-micro rx: RX ring byte at stream offset ${o} is wrong`);
    }
  }
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const sorted = samples.ms.subarray(0, samples.count).sort();
  const harnessMs = samples.count > 0 ? sorted[samples.count >>> 1]! * rounds.n : 0;
  dut.close();
  peer.close();
  return {
    path,
    checksums: offload ? 'offload' : 'software',
    segments: done,
    cpuMs,
    segmentsPerSecPerCore: done / (cpuMs / 1000),
    nsPerSegment: (cpuMs * 1e6) / done,
    harnessNsPerSegment: (harnessMs * 1e6) / done,
    bytesAllocatedPerSegment: allocated / done,
  };
}

// ------------------------------------------------------------------ both ends, one thread

/**
 * Two stacks on one thread and one virtual wire, one bulk connection moving `totalBytes`; a
 * segment is one frame through a receive pipeline (data segments and ACKs).
 */
export function runBothEnds(payloadBytes: number, totalBytes: number): PathFigures {
  const clock = new ManualClock();
  const net = new VirtualNetwork({ clock, timers: clock });
  const options = { maxFlows: 4, mss: payloadBytes + 12, cc: 'const-rate' as const, controlTickUs: 1000 };
  const mk = (ip: string): TcpStack =>
    new TcpStack(
      { port: net.attach(), dma: new MemcpyDma(), clock, timers: clock, tiers: new HeapMemoryTiers() },
      { ip, ...options },
    );
  const a = mk('10.0.0.1/24');
  const b = mk('10.0.0.2/24');
  let received = 0;
  let server: Connection | null = null;
  a.listen(9, (s) => {
    server = s;
    s.handlers.onReadable = (x) => {
      const n = x.readableLength;
      received += n;
      x.consume(n);
    };
  });
  const c = b.connect('10.0.0.1', 9);
  runVirtual([a, b], clock, () => server !== null && c.canWrite, 10e9);
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let sent = 0;
  let goal = 0;
  // The application refills its TX ring a chunk at a time (a low-water mark, as a streaming
  // writer would), so its own per-write cost is not charged to every segment.
  c.handlers.onWritable = () => {
    while (sent < goal && c.writableLength >= Math.min(chunk.length, goal - sent))
      sent += c.write(chunk, 0, Math.min(chunk.length, goal - sent));
  };
  const pump = (bytes: number): void => {
    goal = sent + bytes;
    c.handlers.onWritable!(c);
    while (received < goal) {
      if (a.poll() + b.poll() > 0) continue;
      if (!runVirtual([a, b], clock, () => received >= goal, 3600e9))
        throw new Error(`pipeline micro-benchmark stalled at ${received} of ${goal} bytes`);
    }
  };
  const warm0 = process.cpuUsage();
  pump(Math.min(totalBytes, 4 << 20));
  for (;;) {
    const w = process.cpuUsage(warm0);
    if (w.user + w.system >= WARM_UP_CPU_US) break;
    pump(1 << 20);
  }
  const rxBefore = a.dataPath.counters.rxFrames + b.dataPath.counters.rxFrames;
  let cpu = { user: 0, system: 0 };
  const allocated = allocatedBy(() => {
    const cpu0 = process.cpuUsage();
    pump(totalBytes);
    cpu = process.cpuUsage(cpu0);
  });
  const segments = a.dataPath.counters.rxFrames + b.dataPath.counters.rxFrames - rxBefore;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  a.close();
  b.close();
  return {
    path: 'both-ends',
    checksums: 'software',
    segments,
    cpuMs,
    segmentsPerSecPerCore: segments / (cpuMs / 1000),
    nsPerSegment: (cpuMs * 1e6) / segments,
    harnessNsPerSegment: null,
    bytesAllocatedPerSegment: allocated / segments,
  };
}
