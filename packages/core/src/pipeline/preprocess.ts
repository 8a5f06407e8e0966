/**
 * Pre-processing (FlexTOE stage 1): validate headers, decide data path vs control plane, look
 * the flow up in the 4-tuple hash table, assign the flow group (hash mod G) and summarise the
 * segment for the protocol stage. Replicated: it touches no per-flow TCP state.
 *
 * Two parsers, one verdict. The common segment of an established flow has ONE shape: untagged
 * Ethernet II to our MAC, IPv4 without options to our address, TCP with no options or NOP NOP
 * Timestamps (what every FlexTOE peer sends once timestamps are negotiated). `preprocessFast`
 * recognises exactly that shape reading each header word once, and verifies both checksums by
 * adding the words it read (RFC 1071: the sum is over 16-bit words, in any order) plus the
 * payload. Anything else, including every malformed frame, falls through to the checked parser
 * (`wire/frame.ts`), which alone decides drops and exceptions, so both paths give the same
 * verdict and the same summary for every frame (preprocess.spec.ts checks this).
 */
import { WireError } from '../wire/drop-reason.js';
import { MAC_BROADCAST } from '../wire/ethernet.js';
import { checksumVerifies, sumWords, sumWordsVia } from '../wire/checksum.js';
import { wasmPayload } from '../util/wasm-payload.js';
import { L4Kind, ParsedFrame, ParseFlag, parseFrame } from '../wire/frame.js';
import { Ecn } from '../wire/ipv4.js';
import type { SeqNumber } from '../wire/seq.js';
import { TcpFlag } from '../wire/tcp.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import type { FlowTable } from '../state/flow-table.js';
import { SlowPathReason } from './slow-path.js';
import type { RxSummary } from './work-items.js';

/** The WebAssembly payload passes (`frameWasm` is only set when they exist). */
const WASM = wasmPayload();

export enum PreVerdict {
  /** A segment of an installed flow: `RxSummary` is filled. */
  DataPath = 0,
  /** Hand the frame to the control plane; `slowPathReason` says why. */
  SlowPath = 1,
  /** Malformed or not for us; `wireError` or `notForUs` says why. */
  Drop = 2,
}

/** Flags a data-path segment may carry; anything else is an exception (FlexTOE). */
const DATA_PATH_FLAGS = TcpFlag.ACK | TcpFlag.PSH | TcpFlag.ECE | TcpFlag.CWR | TcpFlag.FIN;

/** One pre-processing instance: its parse scratch and what it decided last. */
export class PreprocessContext {
  readonly parsed = new ParsedFrame();
  wireError = WireError.None;
  slowPathReason = SlowPathReason.None;
  /** The frame was well formed but addressed to another host. */
  notForUs = false;
  /**
   * The words of the frame's ArrayBuffer (`wordsOf(frame.data)`) and where the frame starts in
   * them (`frame.data.byteOffset`) when the runner has them at hand (its own receive buffers),
   * else null: the payload checksum then finds the view itself.
   */
  frameWords: Int32Array | null = null;
  frameBase = 0;
  /**
   * `frameWords` lie over the WebAssembly payload memory (`util/wasm-payload.ts`): the payload
   * sum runs there, at address `frameBase` + offset in the frame.
   */
  frameWasm = false;
  /** Our MAC's high 16 bits and low 32 bits (int32), as the fast path compares them. */
  readonly macHi: number;
  readonly macLo: number;
  /** Our address as an int32 (no boxed number on the fast path). */
  readonly ipWord: number;

  constructor(
    readonly localIp: number,
    readonly localMac: number,
    readonly flowTable: FlowTable,
    readonly flowGroups: number,
    /** ParseFlag bits: checks the port hardware already did. */
    readonly parseFlags: number,
  ) {
    this.macHi = Math.floor(localMac / 0x1_0000_0000) & 0xffff;
    this.macLo = (localMac % 0x1_0000_0000) | 0;
    this.ipWord = localIp | 0;
  }
}

export function preprocess(frame: PacketBuffer, ctx: PreprocessContext, out: RxSummary): PreVerdict {
  if (preprocessFast(frame, ctx, out)) return PreVerdict.DataPath;
  return preprocessChecked(frame, ctx, out);
}

/** The checked path alone: every frame the fast path does not take. */
export function preprocessChecked(frame: PacketBuffer, ctx: PreprocessContext, out: RxSummary): PreVerdict {
  ctx.slowPathReason = SlowPathReason.None;
  ctx.notForUs = false;
  const p = ctx.parsed;
  const err = parseFrame(frame.data, 0, frame.length, p, ctx.parseFlags);
  ctx.wireError = err;
  if (err !== WireError.None) return PreVerdict.Drop;
  if (p.link.dst !== ctx.localMac && p.link.dst !== MAC_BROADCAST) {
    ctx.notForUs = true;
    return PreVerdict.Drop;
  }
  if (p.l4 === L4Kind.Arp) {
    ctx.slowPathReason = SlowPathReason.Arp;
    return PreVerdict.SlowPath;
  }
  const ip = p.ipv4;
  if (ip.dst !== ctx.localIp) {
    ctx.notForUs = true;
    return PreVerdict.Drop;
  }
  const tcp = p.tcp;
  if ((tcp.flags & ~DATA_PATH_FLAGS) !== 0) {
    ctx.slowPathReason = SlowPathReason.ControlFlags;
    return PreVerdict.SlowPath;
  }
  const flowId = ctx.flowTable.lookup(ip.dst, ip.src, tcp.dstPort, tcp.srcPort);
  if (flowId < 0) {
    ctx.slowPathReason = SlowPathReason.NoFlow;
    return PreVerdict.SlowPath;
  }
  out.flowId = flowId;
  out.group = ctx.flowTable.lastHash % ctx.flowGroups;
  // 32-bit fields as int32 bits (see RxSummary).
  out.seq = (tcp.seq | 0) as SeqNumber;
  out.ack = (tcp.ack | 0) as SeqNumber;
  out.window = tcp.window;
  out.tcpFlags = tcp.flags;
  const o = p.tcpOptions;
  out.hasTimestamp = o.hasTimestamps;
  out.tsVal = o.tsVal | 0;
  out.tsEcr = o.tsEcr | 0;
  out.ce = ip.ecn === Ecn.Ce;
  out.payloadOffset = tcp.payloadStart;
  out.payloadLength = tcp.payloadLength;
  out.frame = frame;
  return PreVerdict.DataPath;
}

// Offsets of the one shape the fast path takes: Ethernet II (14) + IPv4 IHL 5 (20) + TCP.
const IP = 14;
const TCP = 34;
/** NOP NOP, then kind 8 length 10 (RFC 7323 3.2 / Appendix A layout). */
const NOP_NOP = 0x0101;
const TS_KIND_LENGTH = 0x080a;

/**
 * True (and `out` filled) when the frame has the common established-flow shape, is intact and
 * belongs to an installed flow; false sends it to the checked path, which decides everything
 * else. Reads each 16-bit header word once; the checksums add up the words read.
 */
export function preprocessFast(frame: PacketBuffer, ctx: PreprocessContext, out: RxSummary): boolean {
  const b = frame.data;
  const len = frame.length;
  if (len < TCP + 20 || len > b.length) return false;
  // Ethernet: our unicast MAC, ethertype IPv4, no VLAN tag.
  if (
    ((b[0]! << 8) | b[1]!) !== ctx.macHi ||
    ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) !== ctx.macLo ||
    b[12] !== 0x08 ||
    b[13] !== 0x00
  ) {
    return false;
  }
  // IPv4 (RFC 791 3.1): version 4, IHL 5, not a fragment, TCP, to our address.
  const verTos = (b[IP]! << 8) | b[IP + 1]!;
  const totalLength = (b[IP + 2]! << 8) | b[IP + 3]!;
  const ident = (b[IP + 4]! << 8) | b[IP + 5]!;
  const fragment = (b[IP + 6]! << 8) | b[IP + 7]!;
  const ttlProto = (b[IP + 8]! << 8) | b[IP + 9]!;
  const ipChecksum = (b[IP + 10]! << 8) | b[IP + 11]!;
  const srcHi = (b[IP + 12]! << 8) | b[IP + 13]!;
  const srcLo = (b[IP + 14]! << 8) | b[IP + 15]!;
  const dstHi = (b[IP + 16]! << 8) | b[IP + 17]!;
  const dstLo = (b[IP + 18]! << 8) | b[IP + 19]!;
  const segmentEnd = IP + totalLength;
  if (
    verTos >>> 8 !== 0x45 ||
    totalLength < 40 ||
    segmentEnd > len ||
    (fragment & 0x3fff) !== 0 ||
    (ttlProto & 0xff) !== 6 ||
    ((dstHi << 16) | dstLo) !== ctx.ipWord
  ) {
    return false;
  }
  const flags = ctx.parseFlags;
  if (
    (flags & ParseFlag.SkipIpv4Checksum) === 0 &&
    !checksumVerifies(
      verTos + totalLength + ident + fragment + ttlProto + ipChecksum + srcHi + srcLo + dstHi + dstLo,
    )
  ) {
    return false;
  }
  // TCP (RFC 9293 3.1): data-path flags only, no options or exactly NOP NOP Timestamps.
  const offsetFlags = (b[TCP + 12]! << 8) | b[TCP + 13]!;
  const dataOffset = offsetFlags >>> 12;
  const payloadStart = TCP + dataOffset * 4;
  if (payloadStart > segmentEnd || (offsetFlags & 0xff & ~DATA_PATH_FLAGS) !== 0) return false;
  let optionSum = 0;
  let tsValHi = 0;
  let tsValLo = 0;
  let tsEcrHi = 0;
  let tsEcrLo = 0;
  if (dataOffset === 8) {
    if (
      ((b[TCP + 20]! << 8) | b[TCP + 21]!) !== NOP_NOP ||
      ((b[TCP + 22]! << 8) | b[TCP + 23]!) !== TS_KIND_LENGTH
    )
      return false;
    tsValHi = (b[TCP + 24]! << 8) | b[TCP + 25]!;
    tsValLo = (b[TCP + 26]! << 8) | b[TCP + 27]!;
    tsEcrHi = (b[TCP + 28]! << 8) | b[TCP + 29]!;
    tsEcrLo = (b[TCP + 30]! << 8) | b[TCP + 31]!;
    optionSum = NOP_NOP + TS_KIND_LENGTH + tsValHi + tsValLo + tsEcrHi + tsEcrLo;
  } else if (dataOffset !== 5) {
    return false;
  }
  const srcPort = (b[TCP]! << 8) | b[TCP + 1]!;
  const dstPort = (b[TCP + 2]! << 8) | b[TCP + 3]!;
  const seqHi = (b[TCP + 4]! << 8) | b[TCP + 5]!;
  const seqLo = (b[TCP + 6]! << 8) | b[TCP + 7]!;
  const ackHi = (b[TCP + 8]! << 8) | b[TCP + 9]!;
  const ackLo = (b[TCP + 10]! << 8) | b[TCP + 11]!;
  const window = (b[TCP + 14]! << 8) | b[TCP + 15]!;
  if ((flags & ParseFlag.SkipTcpChecksum) === 0) {
    // RFC 9293 3.1: pseudo-header (addresses, protocol, TCP length), header, options, data.
    const headerSum =
      srcHi +
      srcLo +
      dstHi +
      dstLo +
      6 +
      (totalLength - 20) +
      srcPort +
      dstPort +
      seqHi +
      seqLo +
      ackHi +
      ackLo +
      offsetFlags +
      window +
      ((b[TCP + 16]! << 8) | b[TCP + 17]!) +
      ((b[TCP + 18]! << 8) | b[TCP + 19]!) +
      optionSum;
    const words = ctx.frameWords;
    // A pure ACK has no payload to add (every ACK on a sending flow's path).
    const sum =
      payloadStart === segmentEnd
        ? headerSum
        : words !== null
          ? ctx.frameWasm
            ? headerSum + WASM!.sum(ctx.frameBase + payloadStart, segmentEnd - payloadStart)
            : sumWordsVia(words, ctx.frameBase, b, payloadStart, segmentEnd, headerSum)
          : sumWords(b, payloadStart, segmentEnd, headerSum);
    if (!checksumVerifies(sum)) return false;
  }
  const flowId = ctx.flowTable.lookup(ctx.ipWord, (srcHi << 16) | srcLo, dstPort, srcPort);
  if (flowId < 0) return false;
  ctx.wireError = WireError.None;
  ctx.slowPathReason = SlowPathReason.None;
  ctx.notForUs = false;
  out.flowId = flowId;
  out.group = ctx.flowTable.lastHash % ctx.flowGroups;
  out.seq = ((seqHi << 16) | seqLo) as SeqNumber;
  out.ack = ((ackHi << 16) | ackLo) as SeqNumber;
  out.window = window;
  out.tcpFlags = offsetFlags & 0xff;
  out.hasTimestamp = dataOffset === 8;
  out.tsVal = (tsValHi << 16) | tsValLo;
  out.tsEcr = (tsEcrHi << 16) | tsEcrLo;
  out.ce = (verTos & 3) === Ecn.Ce;
  out.payloadOffset = payloadStart;
  out.payloadLength = segmentEnd - payloadStart;
  out.frame = frame;
  return true;
}
