/**
 * Retransmission timer: the RFC 6298 estimator as pure functions on a plain `RtoState`, a thin
 * `RtoEstimator` class over them, and FlexTOE's own "no progress" retransmit rule.
 * All times are microseconds (the backends' clocks are nanoseconds: multiply by 1000 for `Timers`).
 */

/** Parameters of the RFC 6298 estimator. */
export interface RtoParams {
  /** RTO before any RTT sample, us. RFC 6298 2.1: "the sender SHOULD set RTO <- 1 second". */
  initialRtoUs: number;
  /**
   * Lower bound on a computed RTO, us. RFC 6298 2.4 says 1 s; the default is 200 ms like Linux
   * (TCP_RTO_MIN), because FlexTOE targets LANs and data centres. Lower it for us-scale RTOs.
   */
  minRtoUs: number;
  /** Upper bound, us. RFC 6298 2.5: "A maximum value MAY be placed on RTO provided it is at least 60 s". */
  maxRtoUs: number;
  /**
   * Clock granularity G, us (RFC 6298 2.2: RTO = SRTT + max(G, K*RTTVAR)). Default 1 ms, a coarse
   * timer tick (Linux HZ=1000); the backends' clocks are finer, but control-plane timers fire from a
   * poll loop.
   */
  clockGranularityUs: number;
}

/** RFC 6298's K (2.2). */
const K = 4;
/** RFC 6298 2.3: alpha = 1/8 (SRTT gain). */
const ALPHA = 1 / 8;
/** RFC 6298 2.3: beta = 1/4 (RTTVAR gain). */
const BETA = 1 / 4;
/** RFC 6298 2.5: a maximum, if any, is at least 60 seconds. */
const RFC6298_MIN_MAX_RTO_US = 60_000_000;

export const DEFAULT_RTO_PARAMS: Readonly<RtoParams> = Object.freeze({
  initialRtoUs: 1_000_000,
  minRtoUs: 200_000,
  maxRtoUs: 60_000_000,
  clockGranularityUs: 1_000,
});

/** Estimator state; plain numbers so it can live in typed memory. */
export interface RtoState {
  /** Smoothed RTT, us (valid once `samples > 0`). */
  srttUs: number;
  /** RTT variation, us. */
  rttvarUs: number;
  /** Current RTO including back-off, us: what the retransmission timer should be armed with. */
  rtoUs: number;
  /** Back-offs (timer expiries) since the last valid sample. */
  backoffs: number;
  /** Valid RTT samples taken. */
  samples: number;
}

/** Defaults merged with `overrides`, validated. Throws RangeError naming the first bad field. */
export function resolveRtoParams(overrides: Partial<RtoParams> = {}): Readonly<RtoParams> {
  const p: RtoParams = { ...DEFAULT_RTO_PARAMS };
  for (const key of Object.keys(overrides) as (keyof RtoParams)[]) {
    if (!(key in DEFAULT_RTO_PARAMS)) throw new RangeError(`rto: unknown parameter "${String(key)}"`);
    const v = overrides[key];
    if (v !== undefined) p[key] = v;
  }
  for (const key of ['initialRtoUs', 'minRtoUs', 'maxRtoUs'] as const) {
    if (!Number.isFinite(p[key]) || p[key] <= 0) {
      throw new RangeError(`rto: ${key} is ${p[key]} but must be a finite number > 0`);
    }
  }
  if (!Number.isFinite(p.clockGranularityUs) || p.clockGranularityUs < 0) {
    throw new RangeError(
      `rto: clockGranularityUs is ${p.clockGranularityUs} but must be a finite number >= 0`,
    );
  }
  if (p.maxRtoUs < RFC6298_MIN_MAX_RTO_US) {
    throw new RangeError(
      `rto: maxRtoUs is ${p.maxRtoUs} but must be >= ${RFC6298_MIN_MAX_RTO_US} (RFC 6298 2.5)`,
    );
  }
  if (p.minRtoUs > p.maxRtoUs) throw new RangeError(`rto: minRtoUs is ${p.minRtoUs} but must be <= maxRtoUs`);
  if (p.initialRtoUs < p.minRtoUs || p.initialRtoUs > p.maxRtoUs) {
    throw new RangeError(`rto: initialRtoUs is ${p.initialRtoUs} but must be within [minRtoUs, maxRtoUs]`);
  }
  return Object.freeze(p);
}

/** A fresh estimator state: no samples, RTO = initial (RFC 6298 2.1). */
export function createRtoState(p: Readonly<RtoParams> = DEFAULT_RTO_PARAMS): RtoState {
  return { srttUs: 0, rttvarUs: 0, rtoUs: p.initialRtoUs, backoffs: 0, samples: 0 };
}

/**
 * RTO from SRTT and RTTVAR: SRTT + max(G, K*RTTVAR) (RFC 6298 2.2/2.3), rounded up to the minimum
 * (2.4) and capped at the maximum (2.5).
 */
export function computeRtoUs(srttUs: number, rttvarUs: number, p: Readonly<RtoParams>): number {
  const v = K * rttvarUs;
  const rto = srttUs + (v > p.clockGranularityUs ? v : p.clockGranularityUs);
  if (rto < p.minRtoUs) return p.minRtoUs;
  return rto > p.maxRtoUs ? p.maxRtoUs : rto;
}

/**
 * Feeds one RTT measurement. Returns whether it was used.
 *
 * Karn's algorithm (RFC 6298 3): a measurement for a segment that was retransmitted is ambiguous and
 * is discarded, unless it comes from a timestamp echo, which identifies the transmission it measures
 * (RFC 7323 4.1, RTTM). Negative or non-finite measurements are discarded too.
 *
 * First sample (RFC 6298 2.2): SRTT = R, RTTVAR = R/2. Later ones (2.3), in this order:
 * RTTVAR = (1 - beta) * RTTVAR + beta * |SRTT - R'|, then SRTT = (1 - alpha) * SRTT + alpha * R'.
 * A valid sample also ends any back-off: the RTO is recomputed from SRTT and RTTVAR, "collapsing" it
 * after exponential back-off (RFC 6298 5, note after 5.7).
 */
export function rtoSample(
  st: RtoState,
  p: Readonly<RtoParams>,
  rttUs: number,
  fromTimestamp: boolean,
  retransmitted: boolean,
): boolean {
  if (retransmitted && !fromTimestamp) return false;
  if (!(rttUs >= 0 && rttUs < Infinity)) return false;
  if (st.samples === 0) {
    st.srttUs = rttUs;
    st.rttvarUs = rttUs / 2;
  } else {
    const err = st.srttUs > rttUs ? st.srttUs - rttUs : rttUs - st.srttUs;
    st.rttvarUs = (1 - BETA) * st.rttvarUs + BETA * err;
    st.srttUs = (1 - ALPHA) * st.srttUs + ALPHA * rttUs;
  }
  st.samples++;
  st.backoffs = 0;
  st.rtoUs = computeRtoUs(st.srttUs, st.rttvarUs, p);
  return true;
}

/**
 * The retransmission timer expired: RTO <- RTO * 2, at most the maximum (RFC 6298 5.5; 5.6 re-arms
 * the timer with it). Returns the new RTO.
 */
export function rtoBackoff(st: RtoState, p: Readonly<RtoParams>): number {
  const doubled = st.rtoUs * 2;
  st.rtoUs = doubled > p.maxRtoUs ? p.maxRtoUs : doubled;
  st.backoffs++;
  return st.rtoUs;
}

/** RFC 6298 estimator for one connection: public plain state, methods that call the functions above. */
export class RtoEstimator {
  readonly params: Readonly<RtoParams>;
  readonly state: RtoState;

  constructor(params: Partial<RtoParams> = {}) {
    this.params = resolveRtoParams(params);
    this.state = createRtoState(this.params);
  }

  /** Current RTO (with back-off), us. */
  get rtoUs(): number {
    return this.state.rtoUs;
  }

  /** Smoothed RTT, us; 0 before the first sample. */
  get srttUs(): number {
    return this.state.srttUs;
  }

  /** See `rtoSample`: Karn's rule, RFC 6298 2.2/2.3, back-off reset. */
  sample(rttUs: number, fromTimestamp: boolean, retransmitted: boolean): boolean {
    return rtoSample(this.state, this.params, rttUs, fromTimestamp, retransmitted);
  }

  /** See `rtoBackoff`: doubles the RTO up to the maximum. */
  backoff(): number {
    return rtoBackoff(this.state, this.params);
  }
}

// ---- FlexTOE's control-plane retransmit rule -----------------------------------------------------------

/** Parameters of FlexTOE's "no progress" retransmit rule. */
export interface FlextoeTimeoutParams {
  /** Consecutive control intervals without progress before a retransmit. FlexTOE/TAS: 4. */
  intervals: number;
  /** ...and at least this many RTTs since the first of them. FlexTOE/TAS: 2. */
  rtts: number;
  /** RTT to assume when the flow has no estimate, us. FlexTOE: 50. */
  initialRttUs: number;
}

export const DEFAULT_FLEXTOE_TIMEOUT_PARAMS: Readonly<FlextoeTimeoutParams> = Object.freeze({
  intervals: 4,
  rtts: 2,
  initialRttUs: 50,
});

/** Per-flow state of the rule; plain numbers. */
export interface FlextoeTimeoutState {
  /** Consecutive intervals with data outstanding and nothing acknowledged. */
  stalledIntervals: number;
  /** When the first of them was seen, us. */
  stallStartUs: number;
}

export function createFlextoeTimeoutState(): FlextoeTimeoutState {
  return { stalledIntervals: 0, stallStartUs: 0 };
}

/**
 * FlexTOE's host retransmit rule (TAS slow path, cc.c issue_retransmits), called once per control
 * interval: returns true when a go-back-N retransmit is due, i.e. this is the `intervals`-th
 * consecutive interval with data outstanding and no bytes acknowledged, and at least `rtts` RTTs have
 * passed since the first of them. Progress, or nothing outstanding, resets the count, and so does
 * firing. TAS resets only once the NIC accepted the retransmit: if it was refused, set
 * `st.stalledIntervals = p.intervals - 1` and the next stalled interval fires again.
 *
 * @param nowUs       control-plane time of this interval, us
 * @param outstanding whether the flow has sent data that is not yet acknowledged
 * @param ackedBytes  bytes acknowledged during the interval
 * @param rttUs       the flow's RTT estimate, us (0 = none: `initialRttUs`)
 */
export function flextoeTimeoutDue(
  st: FlextoeTimeoutState,
  nowUs: number,
  outstanding: boolean,
  ackedBytes: number,
  rttUs: number,
  p: Readonly<FlextoeTimeoutParams> = DEFAULT_FLEXTOE_TIMEOUT_PARAMS,
): boolean {
  if (!outstanding || ackedBytes > 0) {
    st.stalledIntervals = 0;
    return false;
  }
  if (st.stalledIntervals === 0) st.stallStartUs = nowUs;
  st.stalledIntervals++;
  const rtt = rttUs > 0 ? rttUs : p.initialRttUs;
  if (st.stalledIntervals >= p.intervals && nowUs - st.stallStartUs >= p.rtts * rtt) {
    st.stalledIntervals = 0;
    return true;
  }
  return false;
}
