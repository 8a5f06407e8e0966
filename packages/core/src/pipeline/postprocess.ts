/**
 * Post-processing (FlexTOE stage 3): build ACK and data segment headers from the protocol
 * stage's result (seq, ack, window, timestamps, ECN), and update the congestion-control
 * counters. Replicated: reads the flow's identity, writes only CC counters and the frame.
 */
import { finishChecksum, foldSum, sumWords, sumWordsVia } from '../wire/checksum.js';
import { wasmPayload } from '../util/wasm-payload.js';
import { EtherType } from '../wire/ethernet.js';
import { Ecn } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptionKind } from '../wire/tcp-options.js';
import type { CcRecord, IdentityRecord } from '../state/flow-records.js';
import { ProtocolAction as A, type ProtocolResult } from './work-items.js';

/** The WebAssembly payload passes (`frameWasm` is only set when they exist). */
const WASM = wasmPayload();

/** RTT EWMA on the NIC: rtt = 7/8 rtt + 1/8 sample (RFC 6298 2.3's alpha). */
function ewmaRtt(old: number, sample: number): number {
  return old === 0 ? sample : (old * 7 + sample) >>> 3;
}

/** Ethernet II (14) + IPv4 without options (20) + TCP (20): every segment post-processing builds. */
const IP = 14;
const TCP = 34;
const TCP_OPTIONS = TCP + 20;
/** NOP NOP Timestamps: the established-state option block (RFC 7323 Appendix A layout). */
const TIMESTAMPS_BLOCK = 12;
/** IPv4 version 4, IHL 5; flags DF (we never fragment); TTL 64, protocol TCP. */
const IPV4_VERSION_IHL = 0x45;
const IPV4_DF = 0x4000;
const IPV4_TTL_TCP = (64 << 8) | 6;

/** One post-processing instance: its IPv4 identification counter and the current burst's clock. */
export class PostprocessContext {
  /** Header bytes of an established-state segment with / without timestamps. */
  readonly headerLengthTs = TCP_OPTIONS + TIMESTAMPS_BLOCK;
  readonly headerLengthNoTs = TCP_OPTIONS;
  /** Our timestamp clock (RFC 7323 TSval, us, u32) for the segments of the current burst. */
  tsNow = 0;
  /**
   * The words of the frame's ArrayBuffer (`wordsOf(frame)`) and where the frame starts in them
   * (`frame.byteOffset`) when the runner has them at hand (its own transmit buffers), else null:
   * for the payload's share of the TCP checksum without a lookup.
   */
  frameWords: Int32Array | null = null;
  frameBase = 0;
  /**
   * `frameWords` lie over the WebAssembly payload memory (`util/wasm-payload.ts`): the payload
   * sum runs there, at address `frameBase` + offset in the frame.
   */
  frameWasm = false;
  /**
   * The payload's RFC 1071 sum (folded, 0..0xffff) when the DMA stage summed it while copying it
   * into the frame (`DmaEngine.submitSummed`), for the next `buildSegment` only (it resets it);
   * -1: `buildSegment` sums the frame's payload bytes.
   */
  payloadSum = -1;
  /**
   * The port fills TCP checksums on transmit (`PortCapabilities.txChecksumOffload`): the TCP
   * checksum field then carries the pseudo-header sum, as DPDK's PKT_TX_TCP_CKSUM expects
   * (`rte_ipv4_phdr_cksum`), and the payload is not read at all. The IPv4 header checksum is
   * still ours (five header words).
   */
  txChecksumOffload = false;
  private ipId = 0;

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }
}

/** Where the payload of a data segment goes in the frame (the DMA stage fills it). */
export function payloadOffset(ctx: PostprocessContext, timestamps: boolean): number {
  return timestamps ? ctx.headerLengthTs : ctx.headerLengthNoTs;
}

/**
 * Writes the Ethernet/IPv4/TCP headers of an ACK or data segment into `frame` (payload of
 * `payloadLength` bytes already at `payloadOffset`). Returns the frame length. Every header
 * word is written from a value in hand, so both checksums are sums of those values (RFC 1071)
 * plus the payload's words: nothing written is read back. Timestamps use `ctx.tsNow` (set by
 * the runner once per burst: a u32 is never passed as an argument here). The bytes equal
 * `emitTcpFrame`'s for the same fields (postprocess.spec.ts).
 */
export function buildSegment(
  ctx: PostprocessContext,
  frame: Uint8Array,
  id: IdentityRecord,
  res: ProtocolResult,
  tcpFlags: number,
  timestamps: boolean,
  ecn: boolean,
  payloadLength: number,
): number {
  const addressSum = id.writeAddresses(frame);
  const optionsLength = timestamps ? TIMESTAMPS_BLOCK : 0;
  const tcpLength = 20 + optionsLength + payloadLength;
  const totalLength = 20 + tcpLength;
  // Ethernet II, ethertype IPv4 (the MACs are written above).
  frame[12] = EtherType.Ipv4 >>> 8;
  frame[13] = EtherType.Ipv4 & 0xff;
  // IPv4 (RFC 791 3.1). RFC 3168 6.1.4: pure ACKs are not ECN-capable; data segments are ECT(0).
  const tos = ecn && payloadLength > 0 ? Ecn.Ect0 : Ecn.NotEct;
  const ipId = ctx.nextIpId();
  frame[IP] = IPV4_VERSION_IHL;
  frame[IP + 1] = tos;
  frame[IP + 2] = totalLength >>> 8;
  frame[IP + 3] = totalLength;
  frame[IP + 4] = ipId >>> 8;
  frame[IP + 5] = ipId;
  frame[IP + 6] = IPV4_DF >>> 8;
  frame[IP + 7] = 0;
  frame[IP + 8] = IPV4_TTL_TCP >>> 8;
  frame[IP + 9] = IPV4_TTL_TCP & 0xff;
  const ipChecksum = finishChecksum(
    ((IPV4_VERSION_IHL << 8) | tos) + totalLength + ipId + IPV4_DF + IPV4_TTL_TCP + addressSum,
  );
  frame[IP + 10] = ipChecksum >>> 8;
  frame[IP + 11] = ipChecksum;
  // TCP (RFC 9293 3.1); the ports are written above.
  const seq = res.seq;
  const ack = res.ack;
  const seqHi = seq >>> 16;
  const seqLo = seq & 0xffff;
  const ackHi = ack >>> 16;
  const ackLo = ack & 0xffff;
  const offsetFlags = ((5 + (optionsLength >>> 2)) << 12) | ((TcpFlag.ACK | tcpFlags) & 0xff);
  const window = res.window & 0xffff;
  frame[TCP + 4] = seqHi >>> 8;
  frame[TCP + 5] = seqHi;
  frame[TCP + 6] = seqLo >>> 8;
  frame[TCP + 7] = seqLo;
  frame[TCP + 8] = ackHi >>> 8;
  frame[TCP + 9] = ackHi;
  frame[TCP + 10] = ackLo >>> 8;
  frame[TCP + 11] = ackLo;
  frame[TCP + 12] = offsetFlags >>> 8;
  frame[TCP + 13] = offsetFlags;
  frame[TCP + 14] = window >>> 8;
  frame[TCP + 15] = window;
  frame[TCP + 18] = 0; // urgent pointer
  frame[TCP + 19] = 0;
  if (ctx.txChecksumOffload) {
    const pseudo = foldSum(addressSum + 6 + tcpLength);
    frame[TCP + 16] = pseudo >>> 8;
    frame[TCP + 17] = pseudo;
    if (timestamps) writeTimestamps(frame, ctx, res);
    return IP + totalLength;
  }
  // Pseudo-header (addresses, protocol, TCP length) and the header words (RFC 9293 3.1).
  let sum = addressSum + 6 + tcpLength + id.portSum + seqHi + seqLo + ackHi + ackLo + offsetFlags + window;
  if (timestamps) {
    const tsVal = ctx.tsNow;
    const tsEcr = res.tsEcr;
    const valHi = tsVal >>> 16;
    const valLo = tsVal & 0xffff;
    const ecrHi = tsEcr >>> 16;
    const ecrLo = tsEcr & 0xffff;
    frame[TCP_OPTIONS] = TcpOptionKind.Nop;
    frame[TCP_OPTIONS + 1] = TcpOptionKind.Nop;
    frame[TCP_OPTIONS + 2] = TcpOptionKind.Timestamps;
    frame[TCP_OPTIONS + 3] = 10;
    frame[TCP_OPTIONS + 4] = valHi >>> 8;
    frame[TCP_OPTIONS + 5] = valHi;
    frame[TCP_OPTIONS + 6] = valLo >>> 8;
    frame[TCP_OPTIONS + 7] = valLo;
    frame[TCP_OPTIONS + 8] = ecrHi >>> 8;
    frame[TCP_OPTIONS + 9] = ecrHi;
    frame[TCP_OPTIONS + 10] = ecrLo >>> 8;
    frame[TCP_OPTIONS + 11] = ecrLo;
    sum += ((TcpOptionKind.Nop << 8) | TcpOptionKind.Nop) + ((TcpOptionKind.Timestamps << 8) | 10);
    sum += valHi + valLo + ecrHi + ecrLo;
  }
  if (ctx.payloadSum >= 0) {
    sum += ctx.payloadSum;
    ctx.payloadSum = -1;
  } else if (payloadLength > 0) {
    const start = TCP_OPTIONS + optionsLength;
    const words = ctx.frameWords;
    sum =
      words !== null
        ? ctx.frameWasm
          ? sum + WASM!.sum(ctx.frameBase + start, payloadLength)
          : sumWordsVia(words, ctx.frameBase, frame, start, start + payloadLength, sum)
        : sumWords(frame, start, start + payloadLength, sum);
  }
  const tcpChecksum = finishChecksum(sum);
  frame[TCP + 16] = tcpChecksum >>> 8;
  frame[TCP + 17] = tcpChecksum;
  return IP + totalLength;
}

/** The NOP NOP Timestamps block (RFC 7323 Appendix A) at TCP_OPTIONS, for offloaded checksums. */
function writeTimestamps(frame: Uint8Array, ctx: PostprocessContext, res: ProtocolResult): void {
  // Read here, not passed: a 32-bit value crossing a call V8 did not inline is boxed (bytes.ts).
  const tsVal = ctx.tsNow;
  const tsEcr = res.tsEcr;
  frame[TCP_OPTIONS] = TcpOptionKind.Nop;
  frame[TCP_OPTIONS + 1] = TcpOptionKind.Nop;
  frame[TCP_OPTIONS + 2] = TcpOptionKind.Timestamps;
  frame[TCP_OPTIONS + 3] = 10;
  frame[TCP_OPTIONS + 4] = tsVal >>> 24;
  frame[TCP_OPTIONS + 5] = tsVal >>> 16;
  frame[TCP_OPTIONS + 6] = tsVal >>> 8;
  frame[TCP_OPTIONS + 7] = tsVal;
  frame[TCP_OPTIONS + 8] = tsEcr >>> 24;
  frame[TCP_OPTIONS + 9] = tsEcr >>> 16;
  frame[TCP_OPTIONS + 10] = tsEcr >>> 8;
  frame[TCP_OPTIONS + 11] = tsEcr;
}

/** Accumulates the congestion-control counters the control plane reads (FlexTOE). */
export function updateCcCounters(cc: CcRecord, res: ProtocolResult, ctx: PostprocessContext): void {
  if (res.ackedBytes > 0) {
    cc.ackedBytes = (cc.ackedBytes + res.ackedBytes) >>> 0;
    cc.ecnBytes = (cc.ecnBytes + res.ecnBytes) >>> 0;
    cc.lastProgressUs = ctx.tsNow; // int32 bits of the u32 clock: the record keeps 32 bits
  }
  if ((res.actions & A.Retransmitted) !== 0) cc.fastRetransmits = cc.fastRetransmits + 1;
  if (res.rttUs >= 0) cc.rttUs = ewmaRtt(cc.rttUs, res.rttUs);
}
