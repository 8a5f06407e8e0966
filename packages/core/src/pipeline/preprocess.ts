/**
 * Pre-processing (FlexTOE stage 1): validate headers, decide data path vs control plane, look
 * the flow up in the 4-tuple hash table, assign the flow group (hash mod G) and summarise the
 * segment for the protocol stage. Replicated: it touches no per-flow TCP state.
 */
import { WireError } from '../wire/drop-reason.js';
import { MAC_BROADCAST } from '../wire/ethernet.js';
import { L4Kind, ParsedFrame, parseFrame } from '../wire/frame.js';
import { Ecn } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import type { FlowTable } from '../state/flow-table.js';
import { SlowPathReason } from './slow-path.js';
import type { RxSummary } from './work-items.js';

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

  constructor(
    readonly localIp: number,
    readonly localMac: number,
    readonly flowTable: FlowTable,
    readonly flowGroups: number,
    /** ParseFlag bits: checks the port hardware already did. */
    readonly parseFlags: number,
  ) {}
}

export function preprocess(frame: PacketBuffer, ctx: PreprocessContext, out: RxSummary): PreVerdict {
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
  out.seq = tcp.seq;
  out.ack = tcp.ack;
  out.window = tcp.window;
  out.tcpFlags = tcp.flags;
  const o = p.tcpOptions;
  out.hasTimestamp = o.hasTimestamps;
  out.tsVal = o.tsVal;
  out.tsEcr = o.tsEcr;
  out.ce = ip.ecn === Ecn.Ce;
  out.payloadOffset = tcp.payloadStart;
  out.payloadLength = tcp.payloadLength;
  out.frame = frame;
  return PreVerdict.DataPath;
}
