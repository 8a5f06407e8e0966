/**
 * TIMELY (Mittal et al., "TIMELY: RTT-based Congestion Control for the Datacenter", SIGCOMM 2015,
 * Algorithm 1), once per control interval on the NIC's latest RTT estimate, as in the TAS slow path
 * (tas/slow/cc.c, timely_update):
 *
 *   new_rtt_diff = new_rtt - prev_rtt;  prev_rtt = new_rtt
 *   rtt_diff = (1 - alpha) * rtt_diff + alpha * new_rtt_diff        (EWMA of the RTT gradient)
 *   normalized_gradient = rtt_diff / minRTT
 *   new_rtt < Tlow:   rate += delta                                  (additive increase)
 *   new_rtt > Thigh:  rate *= 1 - beta * (1 - Thigh / new_rtt)       (multiplicative decrease)
 *   gradient <= 0:    rate += N * delta, N = 5 after 5 consecutive such intervals (HAI), else 1
 *   gradient > 0:     rate *= 1 - beta * normalized_gradient
 *
 * Defaults: Tlow 30 us, Thigh 150 us, beta 0.8 (FlexTOE), delta 10 Mb/s (TAS), HAI after 5 with N = 5
 * (paper). The EWMA weight alpha defaults to 0.875 (weight of the newest difference; this project's
 * choice, one sample per >= 2 RTTs being far sparser than the paper's per-completion samples); TAS and
 * eRPC, after the authors' published code snippet, use 0.02, so set `timelyEwmaAlpha: 0.02` to match
 * TAS. minRTT is `timelyMinRttUs` or, when 0, the smallest RTT seen on the flow.
 *
 * Additions, as in TAS: any single update at most halves the rate (the gradient formula can otherwise
 * go negative); slow start (`timelySlowStart`) doubles the rate per interval until the RTT exceeds
 * (Tlow + Thigh) / 2; intervals without an RTT estimate change nothing. FlexTOE's loss rule applies:
 * a retransmit halves the rate, and a loss interval makes no other change.
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
} from './cc-shared.js';

/** No single TIMELY update cuts the rate by more than this fraction (TAS: at most halves). */
const MAX_DECREASE = 0.5;

function decrease(rate: number, fraction: number): number {
  return rate * (1 - (fraction > MAX_DECREASE ? MAX_DECREASE : fraction));
}

export function timelyInit(s: CcFlowState, p: Readonly<CcParams>, mss: number, flow?: CcFlowInit): void {
  initCommon(s, p, mss, flow);
  s.slowStart = p.timelySlowStart ? 1 : 0;
  s.rateBps = clampRate(p.timelyInitRateBps, p);
}

export function timelyOnInterval(s: CcFlowState, p: Readonly<CcParams>, sample: CcSample): void {
  const unseen = recordSample(s, p, sample);
  const loss = s.lastRetransmits > 0;
  if (loss) {
    if (unseen !== UnseenLoss.None) halveRate(s, p);
    s.slowStart = 0;
    s.haiCount = 0;
  }
  const rtt = s.lastRttUs;
  if (rtt > 0) {
    if (s.prevRttUs > 0) {
      const a = p.timelyEwmaAlpha;
      s.rttDiffUs = (1 - a) * s.rttDiffUs + a * (rtt - s.prevRttUs);
    }
    s.prevRttUs = rtt;
    if (!loss) applyTimely(s, p, rtt);
  }
  endInterval(s, sample);
}

/** Algorithm 1 of the paper for one RTT sample (after the gradient EWMA was updated). */
function applyTimely(s: CcFlowState, p: Readonly<CcParams>, rtt: number): void {
  const grow = mayGrow(s, p);
  if (s.slowStart === 1 && rtt > (p.timelyTlowUs + p.timelyThighUs) / 2) s.slowStart = 0;
  if (s.slowStart === 1) {
    if (grow) s.rateBps = clampRate(s.rateBps * 2, p);
    return;
  }
  if (rtt < p.timelyTlowUs) {
    s.haiCount = 0;
    if (grow) s.rateBps = clampRate(s.rateBps + p.timelyStepBps, p);
    return;
  }
  if (rtt > p.timelyThighUs) {
    s.haiCount = 0;
    s.rateBps = clampRate(decrease(s.rateBps, p.timelyBeta * (1 - p.timelyThighUs / rtt)), p);
    return;
  }
  const minRtt = p.timelyMinRttUs > 0 ? p.timelyMinRttUs : s.minRttUs;
  const gradient = s.rttDiffUs / minRtt;
  if (gradient <= 0) {
    const hai = p.timelyHaiThreshold;
    if (hai > 0 && s.haiCount < hai) s.haiCount++;
    const n = hai > 0 && s.haiCount >= hai ? p.timelyHaiMultiplier : 1;
    if (grow) s.rateBps = clampRate(s.rateBps + n * p.timelyStepBps, p);
  } else {
    s.haiCount = 0;
    s.rateBps = clampRate(decrease(s.rateBps, p.timelyBeta * gradient), p);
  }
}

export function timelyOnRetransmit(s: CcFlowState, p: Readonly<CcParams>, kind: 'fast' | 'timeout'): void {
  announceRetransmit(s, kind);
  halveRate(s, p);
  s.haiCount = 0;
}

/** The `CongestionControl` object for resolved parameters `p`. */
export function timely(p: Readonly<CcParams>): CongestionControl {
  return {
    name: 'timely',
    params: p,
    init: (s, mss, flow) => timelyInit(s, p, mss, flow),
    onInterval: (s, sample) => timelyOnInterval(s, p, sample),
    onRetransmit: (s, kind) => timelyOnRetransmit(s, p, kind),
  };
}
