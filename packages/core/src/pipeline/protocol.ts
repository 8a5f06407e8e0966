/**
 * The protocol stage: the ONLY writer of per-flow TCP state (FlexTOE). One instance per flow
 * group processes, strictly in order, received segments, transmit opportunities from the
 * queue manager, application bumps and retransmit requests. Every function is a pure
 * function of (work item, the flow's protocol record) that fills a `ProtocolResult`;
 * side effects (DMA, transmit, notifications) are applied by the runner.
 */
import { seq, type SeqNumber } from '../wire/seq.js';
import { TcpFlag } from '../wire/tcp.js';
import { FlowFlag, type ProtocolRecord } from '../state/flow-records.js';
import type { OooIntervals } from './ooo-intervals.js';
import { DataPathDrop, ProtocolAction as A, type ProtocolResult, type RxSummary } from './work-items.js';

/** Per-stack constants the protocol stage needs, and the clock of the current burst. */
export interface ProtocolConfig {
  /** Payload bytes per segment (FlexTOE: 1448 = 1500 - 40 - 12 bytes of timestamps). */
  readonly mss: number;
  /** Delay ACKs: acknowledge every second segment (RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2). */
  readonly delayedAck: boolean;
  readonly ooo: OooIntervals;
  /**
   * Our timestamp clock (us, u32) for the RTT sample from the echo, set by the runner once per
   * burst; a field rather than an argument because V8 boxes a u32 from 2^31 up that crosses a
   * call it did not inline (wire/bytes.ts).
   */
  nowTs: number;
}

/** Largest window field value (RFC 9293 3.1). */
const MAX_WINDOW_FIELD = 0xffff;

/**
 * The window field to advertise now (RFC 7323 2.3: RCV.WND >> Rcv.Wind.Shift, clamped to 16
 * bits), applying receiver silly-window-syndrome avoidance and never moving the right edge of a
 * window advertised before to the left.
 *
 * SWS avoidance (RFC 9293 3.8.6.2.2, MUST-39): "keep RCV.NXT+RCV.WND fixed until the reduction
 * satisfies RCV.BUFF - RCV.USER - RCV.WND >= min(Fr * RCV.BUFF, Eff.snd.MSS)" with Fr = 1/2.
 * Here RCV.BUFF - RCV.USER is the free host buffer (`rxAvail`) and RCV.WND the window still
 * promised (RCV.ADV - RCV.NXT). The RFC then offers all the free buffer; we advance the edge by
 * whole steps of min(rxSize / 2, mss) instead ("the general effect of this algorithm is to
 * advance RCV.WND in increments of Eff.snd.MSS", ibid.; Linux __tcp_select_window rounds to
 * the MSS alike): a free buffer of 1.03 MSS offered whole would be filled by one full segment
 * and a silly 0.03 MSS one. `rxSize` 0 turns the rule off (every byte freed is offered at once).
 *
 * The kept edge and the scale: RCV.NXT moves by segment lengths, the window field only in units
 * of 2^shift, so the old edge is often not expressible (RFC 7323 2.4 and Appendix F). It is
 * rounded up (the window does not shrink, RFC 9293 3.8.6 SHLD-14) when the free buffer holds the
 * rounded edge, and down otherwise: a retraction of less than 2^shift bytes, which Appendix F
 * describes and a sender must tolerate (RFC 9293 3.8.6: "robust against window shrinking",
 * MUST-34). Never the other way: rounding up on every ACK let the edge creep past the free
 * buffer by up to 2^shift - 1 bytes per segment received while the application was not reading
 * (Linux's default does the same and covers it with buffer slack; its tcp_shrink_window=1 is
 * this rule), and a ring has no slack: the peer's bytes past it were refused and went again
 * after a timeout. With the edge inside the free buffer, every byte the peer was ever allowed to
 * send fits. Pure: the protocol stage records the edge with `advertiseWindow`.
 */
export function advertisedWindow(tcp: ProtocolRecord, rxSize = 0, mss = 0): number {
  const shift = tcp.rcvWscale;
  const avail = tcp.rxAvail;
  let w = avail >>> shift;
  if (tcp.has(FlowFlag.RcvAdvValid)) {
    let promised = seq.diff(tcp.rcvAdv, tcp.rcvNxt); // bytes of the old offer beyond RCV.NXT
    if (promised < 0) promised = 0;
    const step = rxSize >>> 1 < mss ? rxSize >>> 1 : mss;
    if (step > 0) {
      const grow = avail - promised;
      // Below one step the old right edge stays where it is; above, it moves by whole steps.
      w = grow >= step ? (promised + grow - (grow % step)) >>> shift : 0;
    }
    let keep = (promised + (1 << shift) - 1) >>> shift;
    if (keep << shift > avail) keep = avail >>> shift;
    if (keep > w) w = keep;
  }
  return w > MAX_WINDOW_FIELD ? MAX_WINDOW_FIELD : w;
}

/** `advertisedWindow`, remembering the right edge it promises (RCV.NXT + field << shift). */
function advertiseWindow(tcp: ProtocolRecord, rxSize: number, mss: number): number {
  const w = advertisedWindow(tcp, rxSize, mss);
  tcp.rcvAdv = seq.add32(tcp.rcvNxt, w << tcp.rcvWscale);
  tcp.set(FlowFlag.RcvAdvValid);
  // FlexTOE: remember a closed window so that freeing the buffer forces an update.
  if (w === 0 || tcp.rxAvail === 0) tcp.set(FlowFlag.RxZeroWindow);
  return w;
}

/**
 * Fills the ACK fields of `out` from the current state (RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT>).
 * `rxSize` (the host RX ring) and `mss` size the receiver's SWS step (`advertisedWindow`).
 */
export function fillAck(tcp: ProtocolRecord, out: ProtocolResult, rxSize = 0, mss = 0): void {
  // After go-back-N, SND.NXT lies below data the peer may already hold; a pure ACK carries the
  // highest sequence sent (BSD tcp_output: snd_max), so it stays acceptable to the peer
  // (RFC 9293 3.10.7.4 first check) instead of provoking an ACK in reply.
  out.seq = tcp.sndMax;
  out.ack = tcp.rcvNxt;
  out.window = advertiseWindow(tcp, rxSize, mss);
  out.tsEcr = tcp.tsRecent;
}

function sendAck(tcp: ProtocolRecord, rxSize: number, mss: number, out: ProtocolResult): void {
  out.actions |= A.SendAck;
  tcp.unset(FlowFlag.AckPending);
  fillAck(tcp, out, rxSize, mss);
}

/**
 * RFC 9293 3.10.7.4, first check: is the segment acceptable?
 *   len = 0, RCV.WND = 0: SEG.SEQ = RCV.NXT
 *   len = 0, RCV.WND > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   len > 0, RCV.WND = 0: not acceptable
 *   len > 0, RCV.WND > 0: either end of the segment falls in the window
 */
export function segmentAcceptable(
  segSeq: SeqNumber,
  segLen: number,
  rcvNxt: SeqNumber,
  rcvWnd: number,
): boolean {
  if (segLen === 0) return rcvWnd === 0 ? seq.eq(segSeq, rcvNxt) : seq.inWindow(segSeq, rcvNxt, rcvWnd);
  if (rcvWnd === 0) return false;
  return seq.inWindow(segSeq, rcvNxt, rcvWnd) || seq.inWindow(seq.add32(segSeq, segLen - 1), rcvNxt, rcvWnd);
}

/**
 * RCV.WND for the acceptability test (RFC 9293 3.3.1, 3.10.7.4): the window we offered, up to
 * the right edge last advertised (RCV.ADV), or the free host buffer when that is larger (freed
 * since the last advertisement, or an edge retracted by the scale's rounding, `advertisedWindow`).
 * Bytes beyond the free buffer would be trimmed by `processData`; the segment itself, and the
 * ACK it carries, are acceptable.
 */
export function receiveWindow(tcp: ProtocolRecord): number {
  let w = tcp.rxAvail;
  if (tcp.has(FlowFlag.RcvAdvValid)) {
    const promised = seq.diff(tcp.rcvAdv, tcp.rcvNxt);
    if (promised > w) w = promised;
  }
  return w;
}

/** Go-back-N (FlexTOE): resume sending at SND.UNA; everything in flight becomes unsent again. */
export function goBackN(tcp: ProtocolRecord, txSize: number): void {
  const finInFlight = tcp.has(FlowFlag.TxFinSent) && !tcp.has(FlowFlag.TxFinAcked) ? 1 : 0;
  const dataInFlight = tcp.txSent - finInFlight;
  tcp.sndNxt = seq.sub32(tcp.sndNxt, tcp.txSent);
  tcp.txNextPos = (tcp.txNextPos - dataInFlight) & (txSize - 1);
  tcp.txAvail += dataInFlight;
  tcp.txSent = 0;
  if (finInFlight) tcp.unset(FlowFlag.TxFinSent);
  tcp.dupAcks = 0;
}

/** RFC 5681 3.2: the third duplicate ACK triggers (here: go-back-N) fast retransmit. */
const DUPACK_THRESHOLD = 3;

/**
 * Processes one received data-path segment. `rxSize`/`txSize` are the host ring sizes (powers
 * of two).
 */
export function protocolRx(
  s: RxSummary,
  tcp: ProtocolRecord,
  cfg: ProtocolConfig,
  rxSize: number,
  txSize: number,
  out: ProtocolResult,
): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) {
    out.actions = A.Drop;
    out.dropReason = DataPathDrop.FlowNotValid;
    return;
  }
  const flags = s.tcpFlags;
  const fin = (flags & TcpFlag.FIN) !== 0 ? 1 : 0;
  const segLen = s.payloadLength + fin;
  const rcvNxt = tcp.rcvNxt;

  // RFC 7323 5.3 (PAWS): a timestamp older than TS.Recent marks an old duplicate.
  if (
    tcp.has(FlowFlag.Timestamps) &&
    s.hasTimestamp &&
    seq.lt(s.tsVal as SeqNumber, tcp.tsRecent as SeqNumber)
  ) {
    out.actions = A.Drop;
    out.dropReason = DataPathDrop.Paws;
    sendAck(tcp, rxSize, cfg.mss, out);
    return;
  }

  const rcvWnd = receiveWindow(tcp);
  if (!segmentAcceptable(s.seq, segLen, rcvNxt, rcvWnd)) {
    // RFC 9293 3.10.7.4: "If an incoming segment is not acceptable, an acknowledgment should
    // be sent in reply (unless the RST bit is set)".
    out.actions = A.Drop;
    out.dropReason = DataPathDrop.NotAcceptable;
    // Ibid.: "If the RCV.WND is zero, no segments will be acceptable, but special allowance
    // should be made to accept valid ACKs". A segment from RCV.NXT up to the right edge we
    // offered is the peer's current one (a zero-window probe at RCV.NXT; a pure ACK whose
    // SEG.SEQ is the peer's SND.NXT, past bytes we had to trim): its ACK field is processed,
    // its text is not. Dropping those ACKs deadlocked a bidirectional transfer: the peer's
    // bytes waited for our receive buffer, our application waited for TX ring space, and the
    // ACKs that would free it were discarded with the probes (Linux accepts SEG.SEQ up to
    // RCV.NXT + RCV.WND inclusive for the same reason, tcp_sequence). Old duplicates
    // (SEG.SEQ < RCV.NXT) are not looked at.
    if ((flags & TcpFlag.ACK) !== 0 && seq.ge(s.seq, rcvNxt) && seq.le(s.seq, seq.add32(rcvNxt, rcvWnd))) {
      processAck(s, tcp, rxSize, txSize, cfg, out);
    }
    // The peer did not get our ACK of its FIN and said it again: the host restarts TIME-WAIT.
    if (
      fin === 1 &&
      tcp.has(FlowFlag.RxFin) &&
      seq.eq(seq.add32(s.seq, s.payloadLength), seq.sub32(rcvNxt, 1))
    ) {
      out.actions |= A.FinRepeated;
    }
    sendAck(tcp, rxSize, cfg.mss, out);
    return;
  }

  // RFC 9293 3.10.7.4 fifth check: "if the ACK bit is off, drop the segment".
  if ((flags & TcpFlag.ACK) === 0) {
    out.actions = A.Drop;
    out.dropReason = DataPathDrop.NoAck;
    return;
  }

  // RFC 7323 4.3: remember the peer's timestamp if the segment covers Last.ACK.sent (RCV.NXT).
  if (s.hasTimestamp && seq.le(s.seq, rcvNxt) && seq.ge(s.tsVal as SeqNumber, tcp.tsRecent as SeqNumber)) {
    tcp.tsRecent = s.tsVal;
  }

  if (!processAck(s, tcp, rxSize, txSize, cfg, out)) return;
  processData(s, tcp, cfg, rxSize, fin, out);
}

/**
 * RFC 9293 3.10.7.4 fifth check, ESTABLISHED and later: advance SND.UNA, update the send
 * window, count duplicate ACKs. Returns false when the segment must not be processed further.
 */
function processAck(
  s: RxSummary,
  tcp: ProtocolRecord,
  rxSize: number,
  txSize: number,
  cfg: ProtocolConfig,
  out: ProtocolResult,
): boolean {
  const sndUna = seq.sub32(tcp.sndNxt, tcp.txSent);
  const ack = s.ack;

  if (seq.gt(ack, tcp.sndMax)) {
    // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the
    // segment, and return." Go-back-N rewinds SND.NXT, so "sent" is judged against the
    // highest sequence ever sent (RFC 9293's SND.NXT; BSD snd_max).
    out.actions |= A.Drop;
    out.dropReason = DataPathDrop.AckTooNew;
    sendAck(tcp, rxSize, cfg.mss, out);
    return false;
  }
  if (seq.gt(ack, tcp.sndNxt)) {
    // The peer already holds data beyond our rewound SND.NXT: skip it (BSD: snd_nxt follows
    // snd_una up) rather than resending it; the bytes count as sent and are acked below.
    const skip = seq.diff(ack, tcp.sndNxt);
    let dataSkip = skip;
    if (dataSkip > tcp.txAvail) {
      // Only our FIN can lie beyond the data (RFC 9293 3.5): it was sent before the rewind.
      dataSkip = tcp.txAvail;
      tcp.set(FlowFlag.TxFinSent);
    }
    tcp.sndNxt = ack;
    tcp.txNextPos = (tcp.txNextPos + dataSkip) & (txSize - 1);
    tcp.txAvail -= dataSkip;
    tcp.txSent += skip;
  }
  const sndNxt = tcp.sndNxt;

  const segWnd = s.window << tcp.sndWscale;
  if (seq.gt(ack, sndUna)) {
    let acked = seq.diff(ack, sndUna);
    tcp.txSent -= acked;
    if (tcp.has(FlowFlag.TxFinSent) && seq.eq(ack, sndNxt) && !tcp.has(FlowFlag.TxFinAcked)) {
      // Our FIN occupies the last sequence number (RFC 9293 3.5).
      tcp.set(FlowFlag.TxFinAcked);
      out.actions |= A.FinAcked;
      acked -= 1;
    }
    out.txFreed = acked;
    out.ackedBytes = acked;
    if (acked > 0) out.actions |= A.NotifyTxFreed;
    if ((s.tcpFlags & TcpFlag.ECE) !== 0) {
      out.ecnBytes = acked;
      // RFC 3168 6.1.2: the congestion-control loop reduces; we confirm with CWR.
      tcp.set(FlowFlag.CwrPending);
    }
    tcp.dupAcks = 0;
    // FlexTOE measures RTT on the NIC from the timestamp echo (RFC 7323 4.1).
    if (s.hasTimestamp && s.tsEcr !== 0) out.rttUs = (cfg.nowTs - s.tsEcr) >>> 0;
  } else if (
    seq.eq(ack, sndUna) &&
    tcp.txSent > 0 &&
    s.payloadLength === 0 &&
    (s.tcpFlags & TcpFlag.FIN) === 0 &&
    segWnd === tcp.sndWnd &&
    segWnd !== 0
  ) {
    // RFC 5681 2: a duplicate ACK carries no data, does not move the window, and arrives
    // while data is outstanding. Not while the window is zero: then the outstanding byte is our
    // zero-window probe (RFC 9293 3.8.6.1, one byte of new data) and each reply repeats SND.UNA
    // with the same zero window; three of them are no sign of loss (BSD counts duplicate ACKs
    // only while the retransmission timer, not the persist timer, runs).
    tcp.dupAcks = tcp.dupAcks + 1;
    if (tcp.dupAcks === DUPACK_THRESHOLD) {
      goBackN(tcp, txSize);
      out.actions |= A.Retransmitted | A.TxReady;
    }
  }

  // RFC 9293 3.10.7.4: update the window if SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and
  // SND.WL2 =< SEG.ACK); only for acceptable ACKs (SND.UNA =< SEG.ACK).
  if (
    seq.ge(ack, sndUna) &&
    (seq.lt(tcp.sndWl1, s.seq) || (seq.eq(tcp.sndWl1, s.seq) && seq.le(tcp.sndWl2, ack)))
  ) {
    const opened = segWnd > tcp.sndWnd;
    tcp.sndWnd = segWnd;
    tcp.sndWl1 = s.seq;
    tcp.sndWl2 = ack;
    if (opened && tcp.txAvail > 0) out.actions |= A.TxReady;
  }
  if ((out.actions & A.NotifyTxFreed) !== 0 && (tcp.txAvail > 0 || tcp.has(FlowFlag.TxFinPending))) {
    out.actions |= A.TxReady;
  }
  return true;
}

/** RFC 9293 3.10.7.4 seventh check: place segment text, advance RCV.NXT, merge intervals. */
function processData(
  s: RxSummary,
  tcp: ProtocolRecord,
  cfg: ProtocolConfig,
  rxSize: number,
  fin: number,
  out: ProtocolResult,
): void {
  if (s.payloadLength === 0 && fin === 0) return; // a pure ACK is not acknowledged
  if (s.ce) out.actions |= A.EchoCe;
  const rcvNxt = tcp.rcvNxt;
  // Trim to the window: bytes before RCV.NXT were received already; bytes beyond
  // RCV.NXT + RCV.WND do not fit the host buffer (RFC 9293 3.10.7.4 "trim").
  let start = s.seq;
  let skip = 0;
  if (seq.lt(start, rcvNxt)) {
    skip = seq.diff(rcvNxt, start);
    start = rcvNxt;
  }
  let len = s.payloadLength - skip;
  if (len < 0) len = 0; // only a FIN (or nothing) is new
  const offset = seq.diff(start, rcvNxt);
  const room = tcp.rxAvail - offset;
  let finFits = fin;
  if (len > room) {
    len = room > 0 ? room : 0;
    finFits = 0; // the FIN lies beyond what we can accept
  }

  if (offset === 0) {
    if (len > 0) {
      out.actions |= A.DmaPayload | A.NotifyRx;
      out.rxPos = tcp.rxNextPos;
      out.payloadSkip = skip;
      out.payloadCopy = len;
    }
    let newNxt = seq.add32(rcvNxt, len);
    // An in-order segment may close the gap to out-of-order data (FlexTOE merges).
    if (tcp.oooLen !== 0) newNxt = cfg.ooo.mergeAt(tcp, newNxt);
    const advanced = seq.diff(newNxt, rcvNxt);
    tcp.rcvNxt = newNxt;
    tcp.rxNextPos = (tcp.rxNextPos + advanced) & (rxSize - 1);
    tcp.rxAvail -= advanced;
    out.rxBytes = advanced;
    if (advanced > 0) out.actions |= A.NotifyRx;
    // The FIN counts only when all data before it is in (RFC 9293 3.10.7.4 eighth check).
    const finSeq = seq.add32(s.seq, s.payloadLength);
    if (finFits && seq.eq(finSeq, newNxt) && !tcp.has(FlowFlag.RxFin)) {
      tcp.rcvNxt = seq.add32(newNxt, 1);
      tcp.set(FlowFlag.RxFin);
      out.actions |= A.FinReceived;
    }
    if (cfg.delayedAck && (out.actions & A.FinReceived) === 0 && tcp.oooLen === 0 && !s.ce) {
      // RFC 9293 3.8.6.3: ACK at least every second full-sized segment.
      if (tcp.has(FlowFlag.AckPending)) sendAck(tcp, rxSize, cfg.mss, out);
      else tcp.set(FlowFlag.AckPending);
      return;
    }
    sendAck(tcp, rxSize, cfg.mss, out);
    return;
  }

  // Out of order: place the payload directly in the host buffer at its offset (FlexTOE) if
  // an interval can record it; otherwise drop it. Either way a duplicate ACK goes out at once
  // (RFC 5681 4.2) so the sender learns of the gap.
  if (len > 0 && cfg.ooo.add(tcp, start, len)) {
    out.actions |= A.DmaPayload;
    out.rxPos = (tcp.rxNextPos + offset) & (rxSize - 1);
    out.payloadSkip = skip;
    out.payloadCopy = len;
  } else if (len > 0) {
    out.dropReason = DataPathDrop.OooNoInterval;
  } else {
    out.dropReason = DataPathDrop.BeyondWindow;
  }
  sendAck(tcp, rxSize, cfg.mss, out);
}

/**
 * A transmit opportunity from the queue manager: build at most one segment (one MSS per
 * scheduling event, FlexTOE). Sets `TxSegment` and the TX fields, or nothing if the flow
 * cannot send (window closed, nothing to send, or a silly window). `cwnd` is the congestion
 * window the control plane set in the flow's CC record (bytes; 0 = unlimited); `rxSize` sizes
 * the window the segment advertises (`advertisedWindow`); `maxSndWnd` is Max(SND.WND), the
 * largest window the peer offered (`BuffersRecord.maxSndWnd`; 0: only the current one is known).
 */
export function protocolTx(
  tcp: ProtocolRecord,
  cfg: ProtocolConfig,
  rxSize: number,
  txSize: number,
  cwnd: number,
  out: ProtocolResult,
  maxSndWnd = 0,
): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) return;
  const limit = cwnd !== 0 && cwnd < tcp.sndWnd ? cwnd : tcp.sndWnd;
  let usable = limit - tcp.txSent;
  if (usable < 0) usable = 0;
  let len = tcp.txAvail;
  if (len > cfg.mss) len = cfg.mss;
  if (len > usable) {
    len = usable;
    // Sender SWS avoidance (RFC 9293 3.8.6.2.1, MUST-38): a segment the window cuts below both
    // the MSS (rule 1) and the data queued (rule 2; every append counts as pushed, there is no
    // Nagle: FlexTOE sends at once, as TCP_NODELAY) goes out only if it is at least
    // Fs = 1/2 of Max(SND.WND) (rule 3), the largest window the peer offered (a window that
    // shrinks as the receiver falls behind does not lower the bar), or of the congestion
    // window when that is smaller (a rate-limited flow is not held beyond its own window).
    // While data is in flight its ACK reopens the window; with nothing in flight no ACK is
    // coming, so the segment goes now: that is rule 4's override, without a timer.
    const offered = maxSndWnd > tcp.sndWnd ? maxSndWnd : tcp.sndWnd;
    const bar = cwnd !== 0 && cwnd < offered ? cwnd : offered;
    if (len < cfg.mss && tcp.txSent > 0 && len < bar >>> 1) len = 0;
  }
  if (len === 0 && tcp.txAvail > 0 && tcp.has(FlowFlag.PersistProbe) && tcp.txSent === 0) {
    // RFC 9293 3.8.6.1: probe a zero window with one byte of new data.
    len = 1;
  }
  tcp.unset(FlowFlag.PersistProbe);
  // Our FIN follows the last byte of data once the application closed (RFC 9293 3.10.4).
  const sendFin =
    tcp.has(FlowFlag.TxFinPending) && !tcp.has(FlowFlag.TxFinSent) && len === tcp.txAvail ? 1 : 0;
  if (len === 0 && !sendFin) return;

  out.actions = A.TxSegment;
  out.seq = tcp.sndNxt;
  out.txPos = tcp.txNextPos;
  out.txLength = len;
  out.txFlags = sendFin ? TcpFlag.FIN : 0;
  if (len > 0 && len === tcp.txAvail) out.txFlags |= TcpFlag.PSH;
  if (tcp.has(FlowFlag.CwrPending) && len > 0) {
    out.txFlags |= TcpFlag.CWR;
    tcp.unset(FlowFlag.CwrPending);
  }
  tcp.sndNxt = seq.add32(tcp.sndNxt, len + sendFin);
  if (seq.gt(tcp.sndNxt, tcp.sndMax)) tcp.sndMax = tcp.sndNxt;
  tcp.txNextPos = (tcp.txNextPos + len) & (txSize - 1);
  tcp.txAvail -= len;
  tcp.txSent += len + sendFin;
  if (sendFin) tcp.set(FlowFlag.TxFinSent);
  // Every segment carries the current ACK (RFC 9293 3.10.7.4), so a pending ACK is sent.
  out.ack = tcp.rcvNxt;
  out.window = advertiseWindow(tcp, rxSize, cfg.mss);
  out.tsEcr = tcp.tsRecent;
  tcp.unset(FlowFlag.AckPending);
  // More to send right away? Then the queue manager keeps the flow active.
  if (tcp.txAvail > 0 && limit - tcp.txSent > 0) out.actions |= A.TxReady;
}

/** Application bump: `n` more bytes appended to the TX ring ("I appended N bytes"). */
export function protocolTxAppended(tcp: ProtocolRecord, n: number, out: ProtocolResult): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) return;
  tcp.txAvail += n;
  out.actions = A.TxReady;
}

/**
 * Application bump: `n` bytes of the RX ring consumed ("I consumed N bytes"). Sends a window
 * update when the peer's view of the window is closed (FlexTOE: forced when the buffer frees
 * from zero) or below one MSS, and only once the window can grow by the SWS step
 * min(rxSize / 2, MSS) (receiver SWS avoidance, RFC 9293 3.8.6.2.2): a wider window otherwise
 * rides on the next ACK.
 */
export function protocolRxConsumed(
  tcp: ProtocolRecord,
  cfg: ProtocolConfig,
  rxSize: number,
  n: number,
  out: ProtocolResult,
): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) return;
  const before = tcp.rxAvail;
  tcp.rxAvail = before + n;
  // What the peer may still send: the promised edge, or (none recorded yet) the old free space.
  let promised = before;
  if (tcp.has(FlowFlag.RcvAdvValid)) {
    promised = seq.diff(tcp.rcvAdv, tcp.rcvNxt);
    if (promised < 0) promised = 0;
  }
  const step = rxSize >>> 1 < cfg.mss ? rxSize >>> 1 : cfg.mss;
  if (
    (tcp.has(FlowFlag.RxZeroWindow) || promised < cfg.mss) &&
    tcp.rxAvail - promised >= step &&
    tcp.rxAvail - promised > 0
  ) {
    tcp.unset(FlowFlag.RxZeroWindow);
    sendAck(tcp, rxSize, cfg.mss, out);
  }
}

/** The application closed its side: FIN goes out after the data (RFC 9293 3.10.4 CLOSE). */
export function protocolClose(tcp: ProtocolRecord, out: ProtocolResult): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) return;
  tcp.set(FlowFlag.TxFinPending);
  out.actions = A.TxReady;
}

/** Host timeout: go-back-N from SND.UNA (FlexTOE: the control plane requests retransmission). */
export function protocolRetransmit(tcp: ProtocolRecord, txSize: number, out: ProtocolResult): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) return;
  if (tcp.txSent === 0) return;
  goBackN(tcp, txSize);
  out.actions = A.Retransmitted | A.TxReady;
}

/** Host persist timer: probe a zero window (RFC 9293 3.8.6.1). */
export function protocolPersistProbe(tcp: ProtocolRecord, out: ProtocolResult): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid)) return;
  tcp.set(FlowFlag.PersistProbe);
  out.actions = A.TxReady;
}

/** Delayed-ACK timer fired: send the owed ACK (`rxSize`, `mss`: the SWS step, `advertisedWindow`). */
export function protocolAckTimeout(tcp: ProtocolRecord, out: ProtocolResult, rxSize = 0, mss = 0): void {
  out.reset();
  if (!tcp.has(FlowFlag.Valid) || !tcp.has(FlowFlag.AckPending)) return;
  sendAck(tcp, rxSize, mss, out);
}
