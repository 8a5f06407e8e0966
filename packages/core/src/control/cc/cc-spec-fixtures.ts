/**
 * Sample templates and fast-check arbitraries shared by the congestion-control specs (test-only; not
 * exported from the package).
 */
import fc from 'fast-check';
import {
  createCcFlowState,
  createCongestionControl,
  type CcFlowState,
  type CcName,
  type CcParams,
  type CcSample,
  type CongestionControl,
} from './congestion-control.js';

/** FlexTOE's MSS. */
export const MSS = 1448;

/** An interval of exactly one RTT at the initial RTT (50 us), flow held back by CC, nothing else. */
export const SAMPLE: Readonly<CcSample> = Object.freeze({
  ackedBytes: 0,
  ecnBytes: 0,
  retransmits: 0,
  timeouts: 0,
  rttUs: 0,
  intervalUs: 50,
  inFlightBytes: 0,
  sendBlockedByCc: true,
});

/** `SAMPLE` with overrides. */
export function sample(overrides: Partial<CcSample> = {}): CcSample {
  return { ...SAMPLE, ...overrides };
}

/** A congestion control and one initialised flow. */
export function flow(
  name: CcName,
  params: Partial<CcParams> = {},
  mss = MSS,
): { cc: CongestionControl; s: CcFlowState } {
  const cc = createCongestionControl(name, params);
  const s = createCcFlowState();
  cc.init(s, mss);
  return { cc, s };
}

/** Numbers a broken or hostile data path might report: mostly plausible, sometimes garbage. */
const counter = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 64 * 1024 * 1024 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE) },
);

const smallCount = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 1, arbitrary: fc.double() },
);

const rtt = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 2000 }) },
  { weight: 1, arbitrary: fc.double() },
);

export const arbSample: fc.Arbitrary<CcSample> = fc.record({
  ackedBytes: counter,
  ecnBytes: counter,
  retransmits: smallCount,
  timeouts: smallCount,
  rttUs: rtt,
  intervalUs: rtt,
  inFlightBytes: counter,
  sendBlockedByCc: fc.boolean(),
});

/** One control-plane event: an interval, or a retransmit between intervals. */
export type CcEvent = { interval: CcSample } | { retransmit: 'fast' | 'timeout' };

export const arbEvent: fc.Arbitrary<CcEvent> = fc.oneof(
  { weight: 6, arbitrary: arbSample.map((s) => ({ interval: s })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('fast' as const, 'timeout' as const).map((k) => ({ retransmit: k })),
  },
);

export function apply(cc: CongestionControl, s: CcFlowState, e: CcEvent): void {
  if ('interval' in e) cc.onInterval(s, e.interval);
  else cc.onRetransmit(s, e.retransmit);
}
