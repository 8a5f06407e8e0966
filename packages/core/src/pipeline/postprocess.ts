/**
 * Post-processing (FlexTOE stage 3): build ACK and data segment headers from the protocol
 * stage's result (seq, ack, window, timestamps, ECN), and update the congestion-control
 * counters. Replicated: reads the flow's identity, writes only CC counters and the frame.
 */
import { Ecn } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptionFlag, TcpOptions } from '../wire/tcp-options.js';
import { emitTcpFrame, tcpFrameHeaderLength, TcpFrameTemplate } from '../wire/frame.js';
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
 * `payloadLength` bytes already at `payloadOffset`). Returns the frame length.
 */
export function buildSegment(
  ctx: PostprocessContext,
  frame: Uint8Array,
  id: IdentityRecord,
  res: ProtocolResult,
  tcpFlags: number,
  timestamps: boolean,
  ecn: boolean,
  tsNow: number,
  payloadLength: number,
): number {
  const h = ctx.headers;
  h.link.dst = id.remoteMac;
  h.link.src = id.localMac;
  const ip = h.ipv4;
  ip.src = id.localIp;
  ip.dst = id.remoteIp;
  ip.id = ctx.nextIpId();
  ip.flags = 0x2; // DF: we never fragment
  ip.ttl = 64;
  // RFC 3168 6.1.4: pure ACKs are not ECN-capable; data segments are ECT(0).
  ip.ecn = ecn && payloadLength > 0 ? Ecn.Ect0 : Ecn.NotEct;
  const t = h.tcp;
  t.srcPort = id.localPort;
  t.dstPort = id.remotePort;
  t.seq = res.seq;
  t.ack = res.ack;
  t.flags = TcpFlag.ACK | tcpFlags;
  t.window = res.window;
  t.urgentPointer = 0;
  let options: TcpOptions | null = null;
  if (timestamps) {
    options = ctx.options;
    options.tsVal = tsNow;
    options.tsEcr = res.tsEcr;
  }
  return emitTcpFrame(frame, 0, h, options, payloadLength);
}

/** Accumulates the congestion-control counters the control plane reads (FlexTOE). */
export function updateCcCounters(cc: CcRecord, res: ProtocolResult, nowUs: number): void {
  if (res.ackedBytes > 0) {
    cc.ackedBytes = (cc.ackedBytes + res.ackedBytes) >>> 0;
    cc.ecnBytes = (cc.ecnBytes + res.ecnBytes) >>> 0;
    cc.lastProgressUs = nowUs >>> 0;
  }
  if ((res.actions & A.Retransmitted) !== 0) cc.fastRetransmits = cc.fastRetransmits + 1;
  if (res.rttUs >= 0) cc.rttUs = ewmaRtt(cc.rttUs, res.rttUs);
}
