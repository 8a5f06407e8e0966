/**
 * Per-flow state in fixed-layout records, split by the stage that owns it (FlexTOE, DESIGN.md
 * 1): protocol 64 B, connection identity 32 B, host buffer info 32 B, congestion-control
 * counters 32 B. Each table lives in a `MemoryRegion` from the backend's memory tiers, so the
 * same bytes serve one thread (simulators) or several (x86, SharedArrayBuffer).
 *
 * Stages read and write through a cursor: `table.at(flowId)` points the cursor at a record
 * (and, where the memory tiers time accesses, records one bulk access, as an NFP thread reading
 * a record from CLS/EMEM), then plain accessors read words. No allocation.
 */
import type { MemoryRegion, MemoryTiers } from '../hw/memory-tiers.js';
import type { SeqNumber } from '../wire/seq.js';

export const PROTOCOL_RECORD_BYTES = 64;
export const IDENTITY_RECORD_BYTES = 32;
export const BUFFERS_RECORD_BYTES = 32;
export const CC_RECORD_BYTES = 32;

/** Bits of `ProtocolRecord.flags`. */
export const FlowFlag = {
  /** The flow is installed and the data path may process it. */
  Valid: 1 << 0,
  /** RFC 7323: timestamps negotiated (FlexTOE requires them; we accept flows without). */
  Timestamps: 1 << 1,
  /** RFC 3168: ECN negotiated; data segments carry ECT(0), CE is echoed with ECE. */
  Ecn: 1 << 2,
  /** The application closed its side: send FIN once all data is sent. */
  TxFinPending: 1 << 3,
  /** Our FIN has been sent (it occupies sequence number txFinSeq = end of data). */
  TxFinSent: 1 << 4,
  /** Our FIN was acknowledged. */
  TxFinAcked: 1 << 5,
  /** The peer's FIN was received in order (RCV.NXT covers it). */
  RxFin: 1 << 6,
  /** Last advertised window was zero: force a window update when the buffer frees (FlexTOE). */
  RxZeroWindow: 1 << 7,
  /** An ACK is owed (delayed-ACK mode). */
  AckPending: 1 << 8,
  /** Received a CE-marked segment not yet echoed (delayed-ACK mode keeps it for the ACK). */
  CePending: 1 << 9,
  /** Send CWR on the next data segment (RFC 3168 6.1.2: after reducing the window on ECE). */
  CwrPending: 1 << 10,
  /** Zero-window probe requested by the control plane (RFC 9293 3.8.6.1). */
  PersistProbe: 1 << 11,
  /** `rcvAdv` holds the right edge of a window this flow advertised (the data path has sent one). */
  RcvAdvValid: 1 << 12,
} as const;

// The flags word: flag bits 0..15, window scales 16..23, duplicate-ACK counter 24..31.
const enum FlagsWord {
  WscaleShift = 16,
  DupackShift = 24,
}

/**
 * Protocol state, 64 B = 16 words; only the protocol stage writes it (FlexTOE). Names follow
 * RFC 9293 where the field is an RFC variable, FlexTOE's otherwise.
 */
export const ProtocolWord = {
  flags: 0,
  /** SND.NXT */
  sndNxt: 1,
  /** Offset of SND.NXT in the host TX ring (FlexTOE tx_next_pos). */
  txNextPos: 2,
  /** SND.NXT - SND.UNA: bytes sent and not acknowledged (FlexTOE tx_sent). */
  txSent: 3,
  /** Bytes the application appended that were not sent yet (FlexTOE tx_avail). */
  txAvail: 4,
  /** SND.WND in bytes (already scaled), relative to SND.UNA. */
  sndWnd: 5,
  /** TS.Recent: the peer's TSval we echo (RFC 7323 4.3). */
  tsRecent: 6,
  /** RCV.NXT */
  rcvNxt: 7,
  /** Offset of RCV.NXT in the host RX ring (FlexTOE rx_next_pos). */
  rxNextPos: 8,
  /** Free bytes in the host RX ring beyond RCV.NXT: RCV.WND (FlexTOE rx_avail). */
  rxAvail: 9,
  /** First out-of-order interval: start sequence and length (FlexTOE rx_ooo_start/len). */
  oooStart: 10,
  oooLen: 11,
  /**
   * RCV.NXT + RCV.WND as last advertised (BSD rcv_adv): the right edge of the receive window we
   * promised, which must never move left (RFC 9293 3.8.6, RFC 7323 2.4). Valid with
   * FlowFlag.RcvAdvValid. (The duplicate-ACK counter lives in the flags word.)
   */
  rcvAdv: 12,
  /** Highest sequence number sent (BSD snd_max): go-back-N rewinds SND.NXT, not this. */
  sndMax: 13,
  /** SND.WL1 / SND.WL2 folded: the ack number of the last window update (RFC 9293 3.10.7.4). */
  sndWl2: 14,
  /** SND.WL1: the sequence number of the last window update. */
  sndWl1: 15,
} as const;

/**
 * `ProtocolWord` as a const enum for the accessors: tsc writes the numbers in place, where a
 * property of the object costs each accessor a context load and a property load in bytecode;
 * that pushed the setters past V8's small-function inlining size (27 B of bytecode), so every
 * record store in `protocolTx` was a call (their own samples in a profile).
 */
const enum P {
  flags = 0,
  sndNxt = 1,
  txNextPos = 2,
  txSent = 3,
  txAvail = 4,
  sndWnd = 5,
  tsRecent = 6,
  rcvNxt = 7,
  rxNextPos = 8,
  rxAvail = 9,
  oooStart = 10,
  oooLen = 11,
  rcvAdv = 12,
  sndMax = 13,
  sndWl2 = 14,
  sndWl1 = 15,
}

/**
 * A cursor over one table of fixed-size records: `at(flowId)` points it at a record. It records
 * nothing: its `at` is 20 B of bytecode, under V8's small-function inlining size (27 B), so
 * every cursor move on the data path's hot loops is inlined (with the `recordAccess` call in it,
 * `at` was a call at each of its sites once the loops' inlining budget ran out). Where the
 * memory tiers time accesses (simulated NICs), `FlowStateTables` builds the `Recording*`
 * subclasses, whose `at` also records the access: the same calls in the same order as before.
 */
abstract class RecordCursor {
  protected readonly w: Uint32Array;
  protected base = 0;
  /** Flow id the cursor points at. */
  flowId = -1;
  /** 32-bit words per record. */
  private readonly words: number;

  constructor(
    protected readonly region: MemoryRegion,
    protected readonly tiers: MemoryTiers | null,
    protected readonly recordBytes: number,
    protected readonly writes: boolean,
  ) {
    this.w = new Uint32Array(region.buffer, region.byteOffset, region.byteLength >>> 2);
    this.words = recordBytes >>> 2;
  }

  /** Points the cursor at `flowId`'s record. */
  at(flowId: number): this {
    this.flowId = flowId;
    this.base = flowId * this.words;
    return this;
  }

  /** Records one bulk access to the record the cursor points at (the recording subclasses). */
  protected record(): void {
    this.tiers?.recordAccess(this.region, this.recordBytes, this.writes, this.flowId);
  }

  /** Zeroes the record (flow removal / install). */
  clear(): void {
    this.w.fill(0, this.base, this.base + this.words);
  }
}

export class ProtocolRecord extends RecordCursor {
  /**
   * The same words as int32: sequence-number and timestamp fields read back through it, so the
   * protocol stage never holds a u32 from 2^31 up, which V8 boxes (one heap number) whenever it
   * crosses a call that was not inlined (wire/bytes.ts). `seq` treats both forms alike.
   */
  private readonly bits: Int32Array;

  constructor(region: MemoryRegion, tiers: MemoryTiers | null) {
    super(region, tiers, PROTOCOL_RECORD_BYTES, true);
    this.bits = new Int32Array(region.buffer, region.byteOffset, region.byteLength >>> 2);
  }

  get flags(): number {
    return this.w[this.base + P.flags]! & 0xffff;
  }
  set flags(v: number) {
    const i = this.base + P.flags;
    this.w[i] = (this.w[i]! & 0xffff0000) | (v & 0xffff);
  }
  has(flag: number): boolean {
    return (this.w[this.base]! & flag) !== 0;
  }
  // Compound assignments: 25 and 27 B of bytecode, within V8's small-function inlining size.
  set(flag: number): void {
    this.w[this.base] |= flag;
  }
  unset(flag: number): void {
    this.w[this.base] &= ~flag;
  }

  /** RFC 7323 2.3: shift count the peer applies to windows it advertises (we scale its windows). */
  get sndWscale(): number {
    return (this.w[this.base]! >>> FlagsWord.WscaleShift) & 0xf;
  }
  /** RFC 7323 2.3: shift count we apply to windows we advertise. */
  get rcvWscale(): number {
    return (this.w[this.base]! >>> (FlagsWord.WscaleShift + 4)) & 0xf;
  }
  setWscale(snd: number, rcv: number): void {
    const i = this.base;
    this.w[i] =
      (this.w[i]! & 0xff00ffff) |
      ((snd & 0xf) << FlagsWord.WscaleShift) |
      ((rcv & 0xf) << (FlagsWord.WscaleShift + 4));
  }

  get sndNxt(): SeqNumber {
    return this.bits[this.base + P.sndNxt]! as SeqNumber;
  }
  set sndNxt(v: SeqNumber) {
    this.w[this.base + P.sndNxt] = v;
  }
  get sndMax(): SeqNumber {
    return this.bits[this.base + P.sndMax]! as SeqNumber;
  }
  set sndMax(v: SeqNumber) {
    this.w[this.base + P.sndMax] = v;
  }
  get txNextPos(): number {
    return this.w[this.base + P.txNextPos]!;
  }
  set txNextPos(v: number) {
    this.w[this.base + P.txNextPos] = v;
  }
  get txSent(): number {
    return this.w[this.base + P.txSent]!;
  }
  set txSent(v: number) {
    this.w[this.base + P.txSent] = v;
  }
  get txAvail(): number {
    return this.w[this.base + P.txAvail]!;
  }
  set txAvail(v: number) {
    this.w[this.base + P.txAvail] = v;
  }
  get sndWnd(): number {
    return this.w[this.base + P.sndWnd]!;
  }
  set sndWnd(v: number) {
    this.w[this.base + P.sndWnd] = v;
  }
  /** int32 bits of the u32 timestamp (compare with `seq`, as RFC 7323 5.3 does). */
  get tsRecent(): number {
    return this.bits[this.base + P.tsRecent]!;
  }
  set tsRecent(v: number) {
    this.w[this.base + P.tsRecent] = v;
  }
  get rcvNxt(): SeqNumber {
    return this.bits[this.base + P.rcvNxt]! as SeqNumber;
  }
  set rcvNxt(v: SeqNumber) {
    this.w[this.base + P.rcvNxt] = v;
  }
  get rxNextPos(): number {
    return this.w[this.base + P.rxNextPos]!;
  }
  set rxNextPos(v: number) {
    this.w[this.base + P.rxNextPos] = v;
  }
  get rxAvail(): number {
    return this.w[this.base + P.rxAvail]!;
  }
  set rxAvail(v: number) {
    this.w[this.base + P.rxAvail] = v;
  }
  get oooStart(): SeqNumber {
    return this.bits[this.base + P.oooStart]! as SeqNumber;
  }
  set oooStart(v: SeqNumber) {
    this.w[this.base + P.oooStart] = v;
  }
  get oooLen(): number {
    return this.w[this.base + P.oooLen]!;
  }
  set oooLen(v: number) {
    this.w[this.base + P.oooLen] = v;
  }
  /** Duplicate-ACK counter (RFC 5681 3.2), saturating at 255 (the threshold is 3). */
  get dupAcks(): number {
    return this.w[this.base]! >>> FlagsWord.DupackShift;
  }
  set dupAcks(v: number) {
    const i = this.base;
    this.w[i] = (this.w[i]! & 0x00ffffff) | ((v > 0xff ? 0xff : v) << FlagsWord.DupackShift);
  }
  get rcvAdv(): SeqNumber {
    return this.bits[this.base + P.rcvAdv]! as SeqNumber;
  }
  set rcvAdv(v: SeqNumber) {
    this.w[this.base + P.rcvAdv] = v;
  }
  get sndWl1(): SeqNumber {
    return this.bits[this.base + P.sndWl1]! as SeqNumber;
  }
  set sndWl1(v: SeqNumber) {
    this.w[this.base + P.sndWl1] = v;
  }
  get sndWl2(): SeqNumber {
    return this.bits[this.base + P.sndWl2]! as SeqNumber;
  }
  set sndWl2(v: SeqNumber) {
    this.w[this.base + P.sndWl2] = v;
  }
}

/**
 * Connection identity, 32 B: what post-processing needs to build headers and pre-processing
 * to confirm a lookup. MACs are 48-bit numbers split into a high 16 and low 32 bits.
 */
const enum Id {
  localIp = 0,
  remoteIp = 1,
  ports = 2,
  localMacHi = 3,
  localMacLo = 4,
  remoteMacHi = 5,
  remoteMacLo = 6,
  group = 7,
}

export class IdentityRecord extends RecordCursor {
  constructor(region: MemoryRegion, tiers: MemoryTiers | null) {
    super(region, tiers, IDENTITY_RECORD_BYTES, false);
  }

  write(
    localIp: number,
    remoteIp: number,
    localPort: number,
    remotePort: number,
    localMac: number,
    remoteMac: number,
    group: number,
  ): void {
    const b = this.base;
    this.w[b + Id.localIp] = localIp;
    this.w[b + Id.remoteIp] = remoteIp;
    this.w[b + Id.ports] = ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
    this.w[b + Id.localMacHi] = Math.floor(localMac / 0x100000000);
    this.w[b + Id.localMacLo] = localMac >>> 0;
    this.w[b + Id.remoteMacHi] = Math.floor(remoteMac / 0x100000000);
    this.w[b + Id.remoteMacLo] = remoteMac >>> 0;
    this.w[b + Id.group] = group;
  }

  get localIp(): number {
    return this.w[this.base + Id.localIp]!;
  }
  get remoteIp(): number {
    return this.w[this.base + Id.remoteIp]!;
  }
  get localPort(): number {
    return this.w[this.base + Id.ports]! >>> 16;
  }
  get remotePort(): number {
    return this.w[this.base + Id.ports]! & 0xffff;
  }
  get localMac(): number {
    return this.w[this.base + Id.localMacHi]! * 0x100000000 + this.w[this.base + Id.localMacLo]!;
  }
  get remoteMac(): number {
    return this.w[this.base + Id.remoteMacHi]! * 0x100000000 + this.w[this.base + Id.remoteMacLo]!;
  }
  get group(): number {
    return this.w[this.base + Id.group]!;
  }

  /**
   * Writes the addresses of a segment to the peer into an untagged Ethernet/IPv4/TCP frame:
   * destination and source MAC (0..11), IPv4 source and destination (26..33), TCP source and
   * destination port (34..37), ours as source. Returns the ones' complement sum of the two
   * addresses' 16-bit words (both checksums cover them); `portSum` has the ports'. Straight
   * from the record's words, so no 32- or 48-bit value crosses a call as a (boxable) number.
   */
  writeAddresses(frame: Uint8Array): number {
    const w = this.w;
    const b = this.base;
    this.writeMacs(frame, 0);
    const src = w[b + Id.localIp]!;
    const dst = w[b + Id.remoteIp]!;
    const ports = w[b + Id.ports]!;
    frame[26] = src >>> 24;
    frame[27] = src >>> 16;
    frame[28] = src >>> 8;
    frame[29] = src;
    frame[30] = dst >>> 24;
    frame[31] = dst >>> 16;
    frame[32] = dst >>> 8;
    frame[33] = dst;
    frame[34] = ports >>> 24;
    frame[35] = ports >>> 16;
    frame[36] = ports >>> 8;
    frame[37] = ports;
    return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  }

  /** Local port + remote port: their share of the TCP checksum. */
  get portSum(): number {
    const ports = this.w[this.base + Id.ports]!;
    return (ports >>> 16) + (ports & 0xffff);
  }

  /**
   * Writes the Ethernet addresses of a segment to the peer at `off`: destination (remote MAC)
   * then source (local MAC), 12 octets. Straight from the record's words, so the 48-bit values
   * never exist as (boxable) numbers on the per-segment path.
   */
  writeMacs(frame: Uint8Array, off: number): void {
    const w = this.w;
    const b = this.base;
    const remoteHi = w[b + Id.remoteMacHi]!;
    const remoteLo = w[b + Id.remoteMacLo]!;
    const localHi = w[b + Id.localMacHi]!;
    const localLo = w[b + Id.localMacLo]!;
    frame[off] = remoteHi >>> 8;
    frame[off + 1] = remoteHi;
    frame[off + 2] = remoteLo >>> 24;
    frame[off + 3] = remoteLo >>> 16;
    frame[off + 4] = remoteLo >>> 8;
    frame[off + 5] = remoteLo;
    frame[off + 6] = localHi >>> 8;
    frame[off + 7] = localHi;
    frame[off + 8] = localLo >>> 24;
    frame[off + 9] = localLo >>> 16;
    frame[off + 10] = localLo >>> 8;
    frame[off + 11] = localLo;
  }
}

/** Host buffer info, 32 B: where the flow's RX and TX rings live in host memory. */
const enum Buf {
  rxSize = 0,
  txSize = 1,
  context = 2,
  opaque = 3,
  txHeadPos = 4,
  maxSndWnd = 5,
}

export class BuffersRecord extends RecordCursor {
  constructor(region: MemoryRegion, tiers: MemoryTiers | null) {
    super(region, tiers, BUFFERS_RECORD_BYTES, false);
  }

  write(rxSize: number, txSize: number, context: number, opaque: number): void {
    const b = this.base;
    this.w[b + Buf.rxSize] = rxSize;
    this.w[b + Buf.txSize] = txSize;
    this.w[b + Buf.context] = context;
    this.w[b + Buf.opaque] = opaque;
    this.w[b + Buf.maxSndWnd] = 0; // a new connection in this slot: no window seen yet
  }

  /**
   * Max(SND.WND) (RFC 9293 3.8.6.2.1): the largest send window the peer has offered, in bytes,
   * for the sender's SWS avoidance; 0 until the data path saw one. Here rather than in the
   * protocol record, whose 16 words are all taken; the data path raises it after each ACK.
   */
  get maxSndWnd(): number {
    return this.w[this.base + Buf.maxSndWnd]!;
  }
  set maxSndWnd(v: number) {
    this.w[this.base + Buf.maxSndWnd] = v;
  }

  /** RX ring size in bytes (a power of two). */
  get rxSize(): number {
    return this.w[this.base + Buf.rxSize]!;
  }
  get txSize(): number {
    return this.w[this.base + Buf.txSize]!;
  }
  /** Application context whose queue gets this flow's notifications. */
  get context(): number {
    return this.w[this.base + Buf.context]!;
  }
  /** The application's id for the connection, echoed in notifications. */
  get opaque(): number {
    return this.w[this.base + Buf.opaque]!;
  }
}

/**
 * Congestion-control counters, 32 B: the data path accumulates, the control plane reads and
 * resets them each control interval and writes the rate (FlexTOE, DESIGN.md 1).
 */
const enum Cc {
  nsPerByte = 0,
  cwnd = 1,
  rttUs = 2,
  ackedBytes = 3,
  ecnBytes = 4,
  fastRetransmits = 5,
  lastProgressUs = 6,
  txSegments = 7,
}

export class CcRecord extends RecordCursor {
  private readonly f: Float32Array;

  constructor(region: MemoryRegion, tiers: MemoryTiers | null) {
    super(region, tiers, CC_RECORD_BYTES, true);
    this.f = new Float32Array(region.buffer, region.byteOffset, region.byteLength >>> 2);
  }

  /** Transmit pacing in ns per byte (FlexTOE: cycles per byte); 0 = unlimited. */
  get nsPerByte(): number {
    return this.f[this.base + Cc.nsPerByte]!;
  }
  set nsPerByte(v: number) {
    this.f[this.base + Cc.nsPerByte] = v;
  }
  /** Congestion window in bytes set by the control plane (window-based CC); 0 = unlimited. */
  get cwnd(): number {
    return this.w[this.base + Cc.cwnd]!;
  }
  set cwnd(v: number) {
    this.w[this.base + Cc.cwnd] = v;
  }
  /** RTT estimate measured on the NIC from timestamp echoes (FlexTOE rtt_est), us. */
  get rttUs(): number {
    return this.w[this.base + Cc.rttUs]!;
  }
  set rttUs(v: number) {
    this.w[this.base + Cc.rttUs] = v;
  }
  /** Bytes newly acknowledged since the control plane last read (wraps; read as a difference). */
  get ackedBytes(): number {
    return this.w[this.base + Cc.ackedBytes]!;
  }
  set ackedBytes(v: number) {
    this.w[this.base + Cc.ackedBytes] = v;
  }
  /** Of those, bytes acknowledged with ECE (DCTCP's marked fraction). */
  get ecnBytes(): number {
    return this.w[this.base + Cc.ecnBytes]!;
  }
  set ecnBytes(v: number) {
    this.w[this.base + Cc.ecnBytes] = v;
  }
  get fastRetransmits(): number {
    return this.w[this.base + Cc.fastRetransmits]!;
  }
  set fastRetransmits(v: number) {
    this.w[this.base + Cc.fastRetransmits] = v;
  }
  /** Clock (us, u32) when SND.UNA last advanced: the control plane's timeout reference. */
  get lastProgressUs(): number {
    return this.w[this.base + Cc.lastProgressUs]!;
  }
  set lastProgressUs(v: number) {
    this.w[this.base + Cc.lastProgressUs] = v;
  }
  get txSegments(): number {
    return this.w[this.base + Cc.txSegments]!;
  }
  set txSegments(v: number) {
    this.w[this.base + Cc.txSegments] = v;
  }
}

// Cursors that also record each record access with the memory tiers (simulated NICs time it).
export class RecordingProtocolRecord extends ProtocolRecord {
  override at(flowId: number): this {
    super.at(flowId);
    this.record();
    return this;
  }
}
export class RecordingIdentityRecord extends IdentityRecord {
  override at(flowId: number): this {
    super.at(flowId);
    this.record();
    return this;
  }
}
export class RecordingBuffersRecord extends BuffersRecord {
  override at(flowId: number): this {
    super.at(flowId);
    this.record();
    return this;
  }
}
export class RecordingCcRecord extends CcRecord {
  override at(flowId: number): this {
    super.at(flowId);
    this.record();
    return this;
  }
}

/**
 * The four tables for `maxFlows` flows, allocated from the backend's memory tiers. The cursors
 * record each record access unless the tiers say they only count (`MemoryTiers.countOnly`).
 */
export class FlowStateTables {
  readonly protocol: ProtocolRecord;
  readonly identity: IdentityRecord;
  readonly buffers: BuffersRecord;
  readonly cc: CcRecord;

  constructor(
    readonly maxFlows: number,
    tiers: MemoryTiers,
  ) {
    const protocol = tiers.allocate('protocol-state', maxFlows * PROTOCOL_RECORD_BYTES);
    const identity = tiers.allocate('flow-identity', maxFlows * IDENTITY_RECORD_BYTES);
    const buffers = tiers.allocate('flow-buffers', maxFlows * BUFFERS_RECORD_BYTES);
    const cc = tiers.allocate('cc-state', maxFlows * CC_RECORD_BYTES);
    if (tiers.countOnly === true) {
      this.protocol = new ProtocolRecord(protocol, null);
      this.identity = new IdentityRecord(identity, null);
      this.buffers = new BuffersRecord(buffers, null);
      this.cc = new CcRecord(cc, null);
    } else {
      this.protocol = new RecordingProtocolRecord(protocol, tiers);
      this.identity = new RecordingIdentityRecord(identity, tiers);
      this.buffers = new RecordingBuffersRecord(buffers, tiers);
      this.cc = new RecordingCcRecord(cc, tiers);
    }
  }
}
