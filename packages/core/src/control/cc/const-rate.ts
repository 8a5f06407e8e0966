/**
 * Constant rate (TAS `const-rate`): every flow sends at `constRateBps` (0 = unlimited), whatever the
 * network says. It still "reports": each interval's sample is recorded into the state (RTT estimate,
 * last-interval counters) so the control plane and statistics see the same fields as with any other
 * algorithm. Retransmits do not change the rate. No window (0 = unlimited).
 */
import type { CcFlowInit, CcFlowState, CcParams, CcSample, CongestionControl } from './congestion-control.js';
import { announceRetransmit, clampRate, endInterval, initCommon, recordSample } from './cc-shared.js';

export function constRateInit(s: CcFlowState, p: Readonly<CcParams>, mss: number, flow?: CcFlowInit): void {
  initCommon(s, p, mss, flow);
  s.rateBps = p.constRateBps === 0 ? 0 : clampRate(p.constRateBps, p);
}

export function constRateOnInterval(s: CcFlowState, p: Readonly<CcParams>, sample: CcSample): void {
  recordSample(s, p, sample);
  endInterval(s, sample);
}

export function constRateOnRetransmit(s: CcFlowState, kind: 'fast' | 'timeout'): void {
  announceRetransmit(s, kind);
}

/** The `CongestionControl` object for resolved parameters `p`. */
export function constRate(p: Readonly<CcParams>): CongestionControl {
  return {
    name: 'const-rate',
    params: p,
    init: (s, mss, flow) => constRateInit(s, p, mss, flow),
    onInterval: (s, sample) => constRateOnInterval(s, p, sample),
    onRetransmit: (s, kind) => constRateOnRetransmit(s, kind),
  };
}
