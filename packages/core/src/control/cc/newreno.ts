/**
 * NewReno (RFC 5681 congestion control, RFC 6582 recovery) adapted to per-interval updates, for peers
 * and paths without ECN: a lossy path is then handled by the standard window response instead of a
 * rate that only ever halves. The window is enforced by the protocol stage; the rate is unlimited (0).
 *
 * - Initial window: RFC 6928 2, min(10*MSS, max(2*MSS, 14600)) (`initialWindowSegments`).
 * - ssthresh starts "arbitrarily high" (RFC 5681 3.1) = `maxCwndBytes`.
 * - Slow start (cwnd < ssthresh): cwnd += acked bytes (RFC 5681 3.1 with RFC 3465 byte counting),
 *   bounded so the window at most doubles per RTT, and stopping at ssthresh.
 * - Congestion avoidance: cwnd += MSS * acked / cwnd (RFC 5681 3.1 eq. 3, byte-counted per RFC 3465
 *   2.1), at most one MSS per RTT.
 * - Fast retransmit: ssthresh = max(FlightSize/2, 2*MSS) (RFC 5681 3.2 eq. 4), cwnd = ssthresh; no
 *   further cut until an interval acknowledges data without retransmitting (RFC 6582 3.2 "recover").
 * - Timeout: cwnd = 1 MSS, the loss window (RFC 5681 3.1); ssthresh cut on the first timeout only.
 * - Growth only in CC-limited intervals (`growOnlyWhenCcLimited`); cwnd stays in [MSS, maxCwndBytes].
 *
 * Not modelled: window inflation by duplicate ACKs during fast recovery (FlexTOE recovers go-back-N;
 * the NIC resends from SND.UNA), and limited transmit (RFC 3042).
 */
import type { CcFlowInit, CcFlowState, CcParams, CcSample, CongestionControl } from './congestion-control.js';
import {
  UnseenLoss,
  announceRetransmit,
  clampCwnd,
  endInterval,
  initCommon,
  initialWindow,
  mayGrow,
  noteProgress,
  recordSample,
  renoGrow,
  windowLoss,
} from './cc-shared.js';

export function newRenoInit(s: CcFlowState, p: Readonly<CcParams>, mss: number, flow?: CcFlowInit): void {
  initCommon(s, p, mss, flow);
  s.ssthreshBytes = Math.max(p.maxCwndBytes, mss);
  s.cwndBytes = clampCwnd(initialWindow(mss, p), s, p);
}

export function newRenoOnInterval(s: CcFlowState, p: Readonly<CcParams>, sample: CcSample): void {
  const unseen = recordSample(s, p, sample);
  if (unseen !== UnseenLoss.None) windowLoss(s, p, unseen === UnseenLoss.Timeout ? 'timeout' : 'fast');
  if (s.lastRetransmits === 0) {
    noteProgress(s);
    if (mayGrow(s, p)) renoGrow(s, p, s.lastAckedBytes);
  }
  endInterval(s, sample);
}

export function newRenoOnRetransmit(s: CcFlowState, p: Readonly<CcParams>, kind: 'fast' | 'timeout'): void {
  announceRetransmit(s, kind);
  windowLoss(s, p, kind);
}

/** The `CongestionControl` object for resolved parameters `p`. */
export function newReno(p: Readonly<CcParams>): CongestionControl {
  return {
    name: 'newreno',
    params: p,
    init: (s, mss, flow) => newRenoInit(s, p, mss, flow),
    onInterval: (s, sample) => newRenoOnInterval(s, p, sample),
    onRetransmit: (s, kind) => newRenoOnRetransmit(s, p, kind),
  };
}
