/**
 * The congestion-control contract of the host control plane (FlexTOE, NSDI 2022; TAS, EuroSys 2019).
 *
 * Every control interval (2 RTTs, at least 50 us: `controlIntervalUs`) the control plane reads the
 * per-flow counters the NIC data path accumulated, fills one `CcSample` and calls
 * `onInterval(state, sample)`. The algorithm writes its decision into the flow's `CcFlowState`:
 *
 * - `rateBps`: transmit rate the NIC queue manager enforces, in BYTES per second; 0 = unlimited.
 * - `cwndBytes`: congestion window the protocol stage enforces, in bytes; 0 = unlimited.
 *
 * Rate-based algorithms (dctcp-rate, timely, const-rate) leave `cwndBytes` at 0; window-based ones
 * (dctcp-window, newreno) leave `rateBps` at 0. Algorithms are stateless objects bound to resolved
 * parameters; all per-flow state lives in the plain numeric `CcFlowState` the control plane owns, so it
 * can be mirrored into typed memory. `onInterval` and `onRetransmit` do not allocate.
 *
 * Loss accounting (one reduction per retransmit event, never two):
 * - The control plane calls `onRetransmit(state, kind)` for each retransmit it triggers or learns of
 *   before the next interval (FlexTOE: host timeouts); the algorithm reacts immediately.
 * - `CcSample.retransmits` / `.timeouts` count every retransmit the data path performed in the interval
 *   (fast retransmits by the NIC included). Those already announced through `onRetransmit` since the
 *   previous interval are subtracted; any left over ("unseen") cause ONE loss reaction for the interval
 *   (TAS slow path cc.c: one halving per interval with drops or retransmits).
 */
import { constRate } from './const-rate.js';
import { dctcpRate } from './dctcp-rate.js';
import { dctcpWindow } from './dctcp-window.js';
import { newReno } from './newreno.js';
import { timely } from './timely.js';

/** Every algorithm name, in the order error messages list them. */
export const CC_NAMES = ['dctcp-rate', 'dctcp-window', 'timely', 'const-rate', 'newreno'] as const;
export type CcName = (typeof CC_NAMES)[number];

/** FlexTOE's default (DESIGN.md 1: "DCTCP rate-based by default"). */
export const DEFAULT_CC_NAME: CcName = 'dctcp-rate';

/** Megabits per second to bytes per second (the unit of every `...Bps` field here). */
export function mbps(megabits: number): number {
  return (megabits * 1e6) / 8;
}

/** Gigabits per second to bytes per second. */
export function gbps(gigabits: number): number {
  return (gigabits * 1e9) / 8;
}

/**
 * Per-flow congestion-control state. Plain mutable object, numeric fields only (flags are 0/1), owned
 * by the control plane; create with `createCcFlowState()` and set up with `CongestionControl.init`.
 */
export interface CcFlowState {
  // ---- Outputs the data path enforces --------------------------------------------------------------
  /** Transmit rate for the NIC queue manager, bytes per second; 0 = unlimited. */
  rateBps: number;
  /** Congestion window for the protocol stage, bytes; 0 = unlimited. */
  cwndBytes: number;

  // ---- Window algorithms ---------------------------------------------------------------------------
  /** Slow-start threshold, bytes (RFC 5681 3.1). Initialised "arbitrarily high" = `maxCwndBytes`. */
  ssthreshBytes: number;
  /** Sender maximum segment size, bytes (FlexTOE: 1448). */
  mss: number;
  /** RFC 3465 bytes_acked counter for congestion avoidance (bytes acked not yet turned into cwnd). */
  caBytesAcked: number;
  /** 1 while in loss recovery (RFC 6582 "recover" not yet passed): further fast retransmits don't cut. */
  inRecovery: number;
  /** Retransmission timeouts in a row without progress (RFC 5681 3.1: ssthresh is cut only once). */
  timeoutsInRow: number;

  // ---- Rate algorithms -----------------------------------------------------------------------------
  /** 1 while in slow-start-like doubling (dctcp-rate, timely: TAS), until the first congestion signal. */
  slowStart: number;
  /** DCTCP.Alpha, the EWMA of the fraction of ECN-marked bytes, in [0, 1] (RFC 8257 3.3). */
  alpha: number;
  /** TIMELY: previous raw RTT sample, us (0 = none yet). */
  prevRttUs: number;
  /** TIMELY: EWMA of successive RTT differences, us (the RTT gradient before normalisation). */
  rttDiffUs: number;
  /** TIMELY: consecutive non-positive gradients seen (hyperactive increase, HAI, after a threshold). */
  haiCount: number;

  // ---- RTT -------------------------------------------------------------------------------------------
  /** Smoothed RTT, us: EWMA (`rttGain`) of the NIC's estimates; `initialRttUs` until the first one. */
  rttUs: number;
  /** Smallest RTT estimate seen on this flow, us (0 = none yet). */
  minRttUs: number;
  /** Valid RTT estimates seen so far. */
  rttSamples: number;

  // ---- Loss bookkeeping between intervals ----------------------------------------------------------
  /** `onRetransmit` calls since the last `onInterval` (subtracted from the next sample's count). */
  retxAnnounced: number;
  /** Of those, kind 'timeout'. */
  timeoutsAnnounced: number;

  // ---- The last interval, for reporting (sanitised copies of the sample) ----------------------------
  lastAckedBytes: number;
  lastEcnBytes: number;
  lastRetransmits: number;
  lastTimeouts: number;
  lastRttUs: number;
  lastIntervalUs: number;
  lastInFlightBytes: number;
  /** 1 if the flow had data but congestion control held it back during the last interval. */
  lastCcLimited: number;
  /** `onInterval` calls so far. */
  intervals: number;
}

/** What the data path accumulated for one flow during one control interval. */
export interface CcSample {
  /** Bytes newly acknowledged (cumulative ACK advance). */
  ackedBytes: number;
  /** Of `ackedBytes`, bytes acknowledged by ACKs carrying ECN-Echo. */
  ecnBytes: number;
  /** Retransmit events (go-back-N after 3 duplicate ACKs, plus timeouts) since the last interval. */
  retransmits: number;
  /** Of `retransmits`, those triggered by a timeout. */
  timeouts: number;
  /** Latest NIC RTT estimate from TCP timestamps, us; 0 if none. */
  rttUs: number;
  /** Length of the interval this sample covers, us. */
  intervalUs: number;
  /** Bytes sent and not yet acknowledged when the sample was taken (RFC 5681 FlightSize). */
  inFlightBytes: number;
  /** Whether the flow had data to send but was held back by its rate or window. */
  sendBlockedByCc: boolean;
}

/** Parameters for every algorithm (one flat record; each algorithm reads its own prefix). */
export interface CcParams {
  // ---- Control loop (FlexTOE / TAS) ----------------------------------------------------------------
  /** RTT assumed before the first estimate, us. FlexTOE: 50. */
  initialRttUs: number;
  /** Control interval in RTTs. FlexTOE: 2. */
  controlIntervalRtts: number;
  /** Shortest control interval, us. FlexTOE: 50. */
  minControlIntervalUs: number;
  /** Weight of a new NIC RTT estimate in `rttUs` (RFC 6298 alpha = 1/8). 1 = take the latest. */
  rttGain: number;
  /**
   * Grow rate/window only in intervals where the flow was limited by congestion control
   * (`sample.sendBlockedByCc`), so an application-limited flow does not build up a rate or window it
   * never tested (RFC 7661's concern; TAS bounds the rate by 1.2 x the measured rate instead).
   */
  growOnlyWhenCcLimited: boolean;

  // ---- Rate bounds (rate-based algorithms) ---------------------------------------------------------
  /** Rate ceiling, bytes/s: the link rate. Default 40 Gb/s (Agilio CX40 port). */
  linkRateBps: number;
  /** Rate floor, bytes/s; > 0 because 0 means unlimited. Default 1 Mb/s. */
  minRateBps: number;

  // ---- dctcp-rate (TAS) / dctcp-window (RFC 8257) ---------------------------------------------------
  /** EWMA gain g for DCTCP.Alpha (RFC 8257 3.3, DCTCP paper 3.1: 1/16). */
  dctcpG: number;
  /** Initial DCTCP.Alpha (RFC 8257 3.3: 1, conservative; TAS uses 0). */
  dctcpInitialAlpha: number;
  /** dctcp-rate: initial rate, bytes/s. FlexTOE/TAS: 10 Mb/s. */
  dctcpInitRateBps: number;
  /** dctcp-rate: additive increase per interval without marks, bytes/s. FlexTOE/TAS: 10 Mb/s. */
  dctcpStepBps: number;
  /** dctcp-rate: double the rate each interval until the first congestion signal (TAS). */
  dctcpSlowStart: boolean;

  // ---- timely (Mittal et al., SIGCOMM 2015) --------------------------------------------------------
  /** Below this RTT, additive increase regardless of gradient, us. FlexTOE: 30. */
  timelyTlowUs: number;
  /** Above this RTT, multiplicative decrease regardless of gradient, us. FlexTOE: 150. */
  timelyThighUs: number;
  /** Multiplicative decrease factor beta. FlexTOE: 0.8. */
  timelyBeta: number;
  /** Additive increase step delta, bytes/s. TAS: 10 Mb/s. */
  timelyStepBps: number;
  /** Initial rate, bytes/s. TAS: 10 Mb/s. */
  timelyInitRateBps: number;
  /** EWMA weight of the newest RTT difference in the gradient (paper: alpha). Default 0.875. */
  timelyEwmaAlpha: number;
  /** minRTT that normalises the gradient, us; 0 = the smallest RTT seen on the flow. */
  timelyMinRttUs: number;
  /** Consecutive non-positive gradients before hyperactive increase (paper: N = 5); 0 disables HAI. */
  timelyHaiThreshold: number;
  /** Step multiplier in HAI mode (paper: 5). */
  timelyHaiMultiplier: number;
  /** Double the rate each interval until RTT exceeds (Tlow + Thigh) / 2 or a loss (TAS). */
  timelySlowStart: boolean;

  // ---- const-rate ------------------------------------------------------------------------------------
  /** Fixed rate, bytes/s; 0 = unlimited (TAS default). */
  constRateBps: number;

  // ---- Window algorithms (newreno, dctcp-window) -----------------------------------------------------
  /** Initial window in segments (RFC 6928: 10 -> min(10*MSS, max(2*MSS, 14600))). */
  initialWindowSegments: number;
  /** Window ceiling, bytes (set to the flow's TX buffer size when known). Default 64 MiB. */
  maxCwndBytes: number;
}

/** Documented defaults; `createCongestionControl(name, overrides)` merges overrides over these. */
export const DEFAULT_CC_PARAMS: Readonly<CcParams> = Object.freeze({
  initialRttUs: 50,
  controlIntervalRtts: 2,
  minControlIntervalUs: 50,
  rttGain: 1 / 8,
  growOnlyWhenCcLimited: true,

  linkRateBps: gbps(40),
  minRateBps: mbps(1),

  dctcpG: 1 / 16,
  dctcpInitialAlpha: 1,
  dctcpInitRateBps: mbps(10),
  dctcpStepBps: mbps(10),
  dctcpSlowStart: true,

  timelyTlowUs: 30,
  timelyThighUs: 150,
  timelyBeta: 0.8,
  timelyStepBps: mbps(10),
  timelyInitRateBps: mbps(10),
  timelyEwmaAlpha: 0.875,
  timelyMinRttUs: 0,
  timelyHaiThreshold: 5,
  timelyHaiMultiplier: 5,
  timelySlowStart: true,

  constRateBps: 0,

  initialWindowSegments: 10,
  maxCwndBytes: 64 * 1024 * 1024,
});

/** Per-flow facts known when the flow is installed. */
export interface CcFlowInit {
  /** RTT measured during the handshake, us (overrides `initialRttUs` for this flow). */
  rttUs?: number;
}

/** One congestion-control algorithm, bound to its parameters. Stateless: all state is in `s`. */
export interface CongestionControl {
  readonly name: CcName;
  readonly params: Readonly<CcParams>;
  /** Resets `s` for a new flow with sender MSS `mss` (bytes). Throws RangeError for a bad MSS. */
  init(s: CcFlowState, mss: number, flow?: CcFlowInit): void;
  /** One control interval: consume the data path's counters, update `rateBps` / `cwndBytes`. */
  onInterval(s: CcFlowState, sample: CcSample): void;
  /** A retransmit the control plane triggered or learned of between intervals. */
  onRetransmit(s: CcFlowState, kind: 'fast' | 'timeout'): void;
}

/** A zeroed flow state (allocates; once per flow). Call `init` before use. */
export function createCcFlowState(): CcFlowState {
  return {
    rateBps: 0,
    cwndBytes: 0,
    ssthreshBytes: 0,
    mss: 0,
    caBytesAcked: 0,
    inRecovery: 0,
    timeoutsInRow: 0,
    slowStart: 0,
    alpha: 0,
    prevRttUs: 0,
    rttDiffUs: 0,
    haiCount: 0,
    rttUs: 0,
    minRttUs: 0,
    rttSamples: 0,
    retxAnnounced: 0,
    timeoutsAnnounced: 0,
    lastAckedBytes: 0,
    lastEcnBytes: 0,
    lastRetransmits: 0,
    lastTimeouts: 0,
    lastRttUs: 0,
    lastIntervalUs: 0,
    lastInFlightBytes: 0,
    lastCcLimited: 0,
    intervals: 0,
  };
}

/** A zeroed sample, to be filled and reused by the control loop (allocates once). */
export function createCcSample(): CcSample {
  return {
    ackedBytes: 0,
    ecnBytes: 0,
    retransmits: 0,
    timeouts: 0,
    rttUs: 0,
    intervalUs: 0,
    inFlightBytes: 0,
    sendBlockedByCc: false,
  };
}

/** When this flow's next control interval is due: `controlIntervalRtts` RTTs, at least the minimum. */
export function controlIntervalUs(s: CcFlowState, p: Readonly<CcParams>): number {
  const rtt = s.rttUs > 0 ? s.rttUs : p.initialRttUs;
  return Math.max(p.minControlIntervalUs, p.controlIntervalRtts * rtt);
}

/** True for a name `createCongestionControl` accepts. */
export function isCcName(name: string): name is CcName {
  return (CC_NAMES as readonly string[]).includes(name);
}

/** Defaults merged with `overrides`, validated. Throws RangeError naming the first bad field. */
export function resolveCcParams(overrides: Partial<CcParams> = {}): Readonly<CcParams> {
  const p: CcParams = { ...DEFAULT_CC_PARAMS };
  for (const key of Object.keys(overrides) as (keyof CcParams)[]) {
    if (!(key in DEFAULT_CC_PARAMS)) {
      throw new RangeError(`congestion control: unknown parameter "${String(key)}"`);
    }
    const v = overrides[key];
    if (v !== undefined) (p as unknown as Record<string, unknown>)[key] = v;
  }
  validateCcParams(p);
  return Object.freeze(p);
}

function fail(field: keyof CcParams, value: unknown, rule: string): never {
  throw new RangeError(`congestion control: ${field} is ${String(value)} but must be ${rule}`);
}

function validateCcParams(p: CcParams): void {
  const positive: (keyof CcParams)[] = [
    'initialRttUs',
    'controlIntervalRtts',
    'linkRateBps',
    'minRateBps',
    'dctcpInitRateBps',
    'dctcpStepBps',
    'timelyTlowUs',
    'timelyThighUs',
    'timelyStepBps',
    'timelyInitRateBps',
    'timelyHaiMultiplier',
    'maxCwndBytes',
  ];
  for (const key of positive) {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(key, v, 'a finite number > 0');
  }
  const nonNegative: (keyof CcParams)[] = [
    'minControlIntervalUs',
    'timelyMinRttUs',
    'timelyHaiThreshold',
    'constRateBps',
  ];
  for (const key of nonNegative) {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(key, v, 'a finite number >= 0');
  }
  const unitInterval: (keyof CcParams)[] = ['rttGain', 'dctcpG', 'timelyBeta', 'timelyEwmaAlpha'];
  for (const key of unitInterval) {
    const v = p[key];
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) fail(key, v, 'in (0, 1]');
  }
  if (!(p.dctcpInitialAlpha >= 0 && p.dctcpInitialAlpha <= 1)) {
    fail('dctcpInitialAlpha', p.dctcpInitialAlpha, 'in [0, 1]');
  }
  for (const key of ['growOnlyWhenCcLimited', 'dctcpSlowStart', 'timelySlowStart'] as const) {
    if (typeof p[key] !== 'boolean') fail(key, p[key], 'a boolean');
  }
  if (p.minRateBps > p.linkRateBps) fail('minRateBps', p.minRateBps, `<= linkRateBps (${p.linkRateBps})`);
  if (p.timelyTlowUs >= p.timelyThighUs) {
    fail('timelyTlowUs', p.timelyTlowUs, `< timelyThighUs (${p.timelyThighUs})`);
  }
  if (!Number.isInteger(p.initialWindowSegments) || p.initialWindowSegments < 1) {
    fail('initialWindowSegments', p.initialWindowSegments, 'an integer >= 1');
  }
  if (!Number.isInteger(p.timelyHaiThreshold)) fail('timelyHaiThreshold', p.timelyHaiThreshold, 'an integer');
}

/**
 * The algorithm called `name` with defaults overridden by `params`.
 * Throws an Error listing the valid names for an unknown name, a RangeError for a bad parameter.
 */
export function createCongestionControl(name: string, params: Partial<CcParams> = {}): CongestionControl {
  if (!isCcName(name)) {
    throw new Error(`unknown congestion control "${name}"; valid choices: ${CC_NAMES.join(', ')}`);
  }
  const p = resolveCcParams(params);
  switch (name) {
    case 'dctcp-rate':
      return dctcpRate(p);
    case 'dctcp-window':
      return dctcpWindow(p);
    case 'timely':
      return timely(p);
    case 'const-rate':
      return constRate(p);
    case 'newreno':
      return newReno(p);
  }
}
