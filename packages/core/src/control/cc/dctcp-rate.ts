/**
 * Rate-based DCTCP: FlexTOE's default congestion control, inherited from the TAS slow path
 * (tas/slow/cc.c, dctcp_rate_update). DCTCP's estimator and multiplicative decrease applied to a
 * transmit rate instead of a window:
 *
 * - alpha = (1 - g) * alpha + g * F per interval, F = ECN-marked bytes / acked bytes
 *   (RFC 8257 3.3; Alizadeh et al., "Data Center TCP", SIGCOMM 2010, eq. 1), g = 1/16.
 * - Marks in the interval: rate *= (1 - alpha / 2) (RFC 8257 3.3 / DCTCP eq. 2, on a rate).
 * - No marks: rate += step (10 Mb/s) per interval (TAS additive increase).
 * - Slow start (TAS, on by default, `dctcpSlowStart`): the rate doubles per interval until the first
 *   congestion signal (a mark or a retransmit), then never again for this flow.
 * - Retransmit: the rate halves (FlexTOE, DESIGN.md 1: "the rate halves on each retransmit");
 *   unannounced retransmits found in a sample halve it once for the interval (TAS).
 * - Growth happens only in intervals where congestion control held the flow back
 *   (`growOnlyWhenCcLimited`); the rate stays in [minRateBps, linkRateBps].
 *
 * Differences from TAS, on purpose: alpha is updated in every interval with acknowledged data, slow
 * start included (RFC 8257 3.3 updates it once per window regardless of phase); the initial alpha is a
 * parameter (RFC 8257 default 1; TAS starts at 0); TAS's "at least 50 ACKs per update" batching and its
 * 1.2 x measured-rate cap are not reproduced (the CC-limited gate plays the cap's role).
 */
import type { CcFlowInit, CcFlowState, CcParams, CcSample, CongestionControl } from './congestion-control.js';
import {
  UnseenLoss,
  announceRetransmit,
  clampRate,
  endInterval,
  halveRate,
  initCommon,
  mayGrow,
  recordSample,
  updateDctcpAlpha,
} from './cc-shared.js';

export function dctcpRateInit(s: CcFlowState, p: Readonly<CcParams>, mss: number, flow?: CcFlowInit): void {
  initCommon(s, p, mss, flow);
  s.alpha = p.dctcpInitialAlpha;
  s.slowStart = p.dctcpSlowStart ? 1 : 0;
  s.rateBps = clampRate(p.dctcpInitRateBps, p);
}

export function dctcpRateOnInterval(s: CcFlowState, p: Readonly<CcParams>, sample: CcSample): void {
  const unseen = recordSample(s, p, sample);
  updateDctcpAlpha(s, p);
  if (s.lastRetransmits > 0) {
    // Losses this interval: halve once for those not yet reacted to; never grow in a loss interval.
    if (unseen !== UnseenLoss.None) halveRate(s, p);
    s.slowStart = 0;
  } else if (s.lastEcnBytes > 0) {
    s.slowStart = 0;
    s.rateBps = clampRate(s.rateBps * (1 - s.alpha / 2), p);
  } else if (mayGrow(s, p)) {
    s.rateBps = clampRate(s.slowStart === 1 ? s.rateBps * 2 : s.rateBps + p.dctcpStepBps, p);
  }
  endInterval(s, sample);
}

export function dctcpRateOnRetransmit(s: CcFlowState, p: Readonly<CcParams>, kind: 'fast' | 'timeout'): void {
  announceRetransmit(s, kind);
  halveRate(s, p);
}

/** The `CongestionControl` object for resolved parameters `p`. */
export function dctcpRate(p: Readonly<CcParams>): CongestionControl {
  return {
    name: 'dctcp-rate',
    params: p,
    init: (s, mss, flow) => dctcpRateInit(s, p, mss, flow),
    onInterval: (s, sample) => dctcpRateOnInterval(s, p, sample),
    onRetransmit: (s, kind) => dctcpRateOnRetransmit(s, p, kind),
  };
}
