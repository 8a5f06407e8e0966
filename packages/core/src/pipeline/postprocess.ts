/**
 * Post-processing (FlexTOE stage 3): build ACK and data segment headers from the protocol
 * stage's result (seq, ack, window, timestamps, ECN), and update the congestion-control
 * counters. Replicated: reads the flow's identity, writes only CC counters and the frame.
 */
import { ETHERNET_HEADER_LENGTH, EtherType } from '../wire/ethernet.js';
import { Ecn, emitIpv4, IPV4_MIN_HEADER_LENGTH, IpProtocol } from '../wire/ipv4.js';
import { emitTcp, TcpFlag, tcpHeaderLength } from '../wire/tcp.js';
import { TcpOptionFlag, TcpOptions } from '../wire/tcp-options.js';
import { tcpFrameHeaderLength, TcpFrameTemplate } from '../wire/frame.js';
import type { CcRecord, IdentityRecord } from '../state/flow-records.js';
import { ProtocolAction as A, type ProtocolResult } from './work-items.js';

/** RTT EWMA on the NIC: rtt = 7/8 rtt + 1/8 sample (RFC 6298 2.3's alpha). */
function ewmaRtt(old: number, sample: number): number {
  return old === 0 ? sample : (old * 7 + sample) >>> 3;
}

/** One post-processing instance: a header template and options scratch. */
export class PostprocessContext {
  readonly headers = new TcpFrameTemplate();
  readonly options = new TcpOptions();
  /** Header bytes of an established-state segment with / without timestamps. */
  readonly headerLengthTs: number;
  readonly headerLengthNoTs: number;
  /** Our timestamp clock (RFC 7323 TSval, us, u32) for the segments of the current burst. */
  tsNow = 0;
  private ipId = 0;

  constructor() {
    this.options.present = TcpOptionFlag.Timestamps;
    this.headerLengthTs = tcpFrameHeaderLength(this.headers, this.options);
    this.headerLengthNoTs = tcpFrameHeaderLength(this.headers, null);
  }

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
 * `payloadLength` bytes already at `payloadOffset`). Returns the frame length. Timestamps use
 * `ctx.tsNow` (set by the runner once per burst: a u32 is never passed as an argument here).
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
  const h = ctx.headers;
  const ip = h.ipv4;
  const t = h.tcp;
  id.loadHeaders(ip, t);
  // Untagged Ethernet II (flows carry no VLAN); the MACs go from the record to the frame.
  id.writeMacs(frame, 0);
  frame[12] = EtherType.Ipv4 >>> 8;
  frame[13] = EtherType.Ipv4 & 0xff;
  ip.ihl = 5;
  ip.protocol = IpProtocol.Tcp;
  ip.id = ctx.nextIpId();
  ip.flags = 0x2; // DF: we never fragment
  ip.ttl = 64;
  // RFC 3168 6.1.4: pure ACKs are not ECN-capable; data segments are ECT(0).
  ip.ecn = ecn && payloadLength > 0 ? Ecn.Ect0 : Ecn.NotEct;
  t.seq = res.seq;
  t.ack = res.ack;
  t.flags = TcpFlag.ACK | tcpFlags;
  t.window = res.window;
  t.urgentPointer = 0;
  let options: TcpOptions | null = null;
  if (timestamps) {
    options = ctx.options;
    options.tsVal = ctx.tsNow;
    options.tsEcr = res.tsEcr;
  }
  ip.totalLength = IPV4_MIN_HEADER_LENGTH + tcpHeaderLength(options) + payloadLength;
  const l4 = ETHERNET_HEADER_LENGTH + emitIpv4(frame, ETHERNET_HEADER_LENGTH, ip);
  emitTcp(frame, l4, t, options, payloadLength, ip);
  return ETHERNET_HEADER_LENGTH + ip.totalLength;
}

/** Accumulates the congestion-control counters the control plane reads (FlexTOE). */
export function updateCcCounters(cc: CcRecord, res: ProtocolResult, ctx: PostprocessContext): void {
  if (res.ackedBytes > 0) {
    cc.ackedBytes = (cc.ackedBytes + res.ackedBytes) >>> 0;
    cc.ecnBytes = (cc.ecnBytes + res.ecnBytes) >>> 0;
    cc.lastProgressUs = ctx.tsNow >>> 0;
  }
  if ((res.actions & A.Retransmitted) !== 0) cc.fastRetransmits = cc.fastRetransmits + 1;
  if (res.rttUs >= 0) cc.rttUs = ewmaRtt(cc.rttUs, res.rttUs);
}
