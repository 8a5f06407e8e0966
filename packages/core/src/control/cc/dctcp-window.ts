/**
 * Window-based DCTCP, RFC 8257 (Alizadeh et al., "Data Center TCP", SIGCOMM 2010), adapted to
 * per-interval updates. The window is enforced by the protocol stage; the rate is left unlimited.
 *
 * - alpha = (1 - g) * alpha + g * M once per observation window (RFC 8257 3.3); ours is one interval.
 * - Marks in the interval: cwnd = cwnd * (1 - alpha / 2) (RFC 8257 3.3), at most once per window of
 *   data (RFC 8257 3.3 / RFC 3168 6.1.2) = once per interval, and ssthresh follows the new cwnd
 *   (RFC 3168 6.1.2 sets both), at least 2 MSS.
 * - No marks: standard growth, slow start below ssthresh and congestion avoidance above
 *   (RFC 8257 3.3 leaves growth to the standard algorithm; RFC 5681 3.1).
 * - Loss: "DCTCP ... SHOULD react to loss as standard TCP" (RFC 8257 3.5): fast retransmit halves
 *   (ssthresh = max(FlightSize/2, 2 MSS), cwnd = ssthresh), timeout collapses cwnd to 1 MSS.
 * - Initial window per RFC 6928 (`initialWindowSegments`), initial alpha `dctcpInitialAlpha`
 *   (RFC 8257 3.3: 1).
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
  updateDctcpAlpha,
  windowLoss,
} from './cc-shared.js';

export function dctcpWindowInit(s: CcFlowState, p: Readonly<CcParams>, mss: number, flow?: CcFlowInit): void {
  initCommon(s, p, mss, flow);
  s.alpha = p.dctcpInitialAlpha;
  s.ssthreshBytes = Math.max(p.maxCwndBytes, mss); // RFC 5681 3.1: "arbitrarily high"
  s.cwndBytes = clampCwnd(initialWindow(mss, p), s, p);
}

export function dctcpWindowOnInterval(s: CcFlowState, p: Readonly<CcParams>, sample: CcSample): void {
  const unseen = recordSample(s, p, sample);
  updateDctcpAlpha(s, p);
  if (unseen !== UnseenLoss.None) windowLoss(s, p, unseen === UnseenLoss.Timeout ? 'timeout' : 'fast');
  if (s.lastRetransmits === 0) {
    noteProgress(s);
    if (s.lastEcnBytes > 0) {
      s.cwndBytes = clampCwnd(s.cwndBytes * (1 - s.alpha / 2), s, p);
      s.ssthreshBytes = Math.max(s.cwndBytes, 2 * s.mss);
      s.caBytesAcked = 0;
    } else if (mayGrow(s, p)) {
      renoGrow(s, p, s.lastAckedBytes);
    }
  }
  endInterval(s, sample);
}

export function dctcpWindowOnRetransmit(
  s: CcFlowState,
  p: Readonly<CcParams>,
  kind: 'fast' | 'timeout',
): void {
  announceRetransmit(s, kind);
  windowLoss(s, p, kind);
}

/** The `CongestionControl` object for resolved parameters `p`. */
export function dctcpWindow(p: Readonly<CcParams>): CongestionControl {
  return {
    name: 'dctcp-window',
    params: p,
    init: (s, mss, flow) => dctcpWindowInit(s, p, mss, flow),
    onInterval: (s, sample) => dctcpWindowOnInterval(s, p, sample),
    onRetransmit: (s, kind) => dctcpWindowOnRetransmit(s, p, kind),
  };
}
