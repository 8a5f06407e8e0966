/**
 * Small pure helpers the algorithms share: sample intake (sanitised, allocation-free), loss
 * bookkeeping, clamping, the RFC 5681 / RFC 3465 window growth and the RFC 5681 / RFC 6582 window
 * loss response. Internal to `control/cc`; the algorithms are the public surface.
 */
import type { CcFlowInit, CcFlowState, CcParams, CcSample } from './congestion-control.js';

/** What `recordSample` found about losses the algorithm has not reacted to yet. */
export enum UnseenLoss {
  /** Every retransmit of the interval was already announced through `onRetransmit` (or none). */
  None = 0,
  /** Unannounced fast retransmits (go-back-N after three duplicate ACKs). */
  Fast = 1,
  /** Unannounced timeouts (possibly with fast retransmits too). */
  Timeout = 2,
}

/** `x` if it is a finite number > 0, else 0: counters from the data path are not trusted blindly. */
export function nonNegative(x: number): number {
  return x > 0 && x < Infinity ? x : 0;
}

/** Largest MSS an IPv4 segment can carry (65535 - 20 - 20). */
const MAX_MSS = 65495;

/** Throws a RangeError unless `mss` is a usable sender MSS. */
export function checkMss(mss: number): void {
  if (!Number.isInteger(mss) || mss < 1 || mss > MAX_MSS) {
    throw new RangeError(`congestion control: mss is ${mss} but must be an integer from 1 to ${MAX_MSS}`);
  }
}

/** Shared part of every `init`: all fields back to their idle values, MSS and RTT set. */
export function initCommon(s: CcFlowState, p: Readonly<CcParams>, mss: number, flow?: CcFlowInit): void {
  checkMss(mss);
  const handshakeRtt = flow?.rttUs !== undefined ? nonNegative(flow.rttUs) : 0;
  s.rateBps = 0;
  s.cwndBytes = 0;
  s.ssthreshBytes = 0;
  s.mss = mss;
  s.caBytesAcked = 0;
  s.inRecovery = 0;
  s.timeoutsInRow = 0;
  s.slowStart = 0;
  s.alpha = 0;
  s.prevRttUs = 0;
  s.rttDiffUs = 0;
  s.haiCount = 0;
  s.rttUs = handshakeRtt > 0 ? handshakeRtt : p.initialRttUs;
  s.minRttUs = 0;
  s.rttSamples = 0;
  s.retxAnnounced = 0;
  s.timeoutsAnnounced = 0;
  s.lastAckedBytes = 0;
  s.lastEcnBytes = 0;
  s.lastRetransmits = 0;
  s.lastTimeouts = 0;
  s.lastRttUs = 0;
  s.lastIntervalUs = 0;
  s.lastInFlightBytes = 0;
  s.lastCcLimited = 0;
  s.intervals = 0;
}

/** Counts an `onRetransmit` call so the next sample's retransmits are not reacted to twice. */
export function announceRetransmit(s: CcFlowState, kind: 'fast' | 'timeout'): void {
  s.retxAnnounced++;
  if (kind === 'timeout') s.timeoutsAnnounced++;
}

/**
 * Copies the sample into `s.last*` (sanitised: negative, NaN or infinite counters read as 0; ECN bytes
 * at most the acked bytes; timeouts at most the retransmits), updates the smoothed and minimum RTT, and
 * settles the retransmit announcements. Leaves `lastInFlightBytes` alone: the loss response of this
 * interval uses the FlightSize from before the loss; `endInterval` records the new one.
 */
export function recordSample(s: CcFlowState, p: Readonly<CcParams>, sample: CcSample): UnseenLoss {
  const acked = nonNegative(sample.ackedBytes);
  const ecn = nonNegative(sample.ecnBytes);
  const timeouts = Math.floor(nonNegative(sample.timeouts));
  const retx = Math.max(Math.floor(nonNegative(sample.retransmits)), timeouts);
  s.lastAckedBytes = acked;
  s.lastEcnBytes = ecn < acked ? ecn : acked;
  s.lastRetransmits = retx;
  s.lastTimeouts = timeouts;
  s.lastIntervalUs = nonNegative(sample.intervalUs);
  s.lastCcLimited = sample.sendBlockedByCc === true ? 1 : 0;
  s.intervals++;

  const rtt = nonNegative(sample.rttUs);
  s.lastRttUs = rtt;
  if (rtt > 0) {
    // Smoothing as RFC 6298 2.3's SRTT with alpha = rttGain; the first estimate is taken as is.
    s.rttUs = s.rttSamples === 0 ? rtt : s.rttUs + p.rttGain * (rtt - s.rttUs);
    if (s.minRttUs === 0 || rtt < s.minRttUs) s.minRttUs = rtt;
    s.rttSamples++;
  }

  const unseenTimeouts = timeouts - s.timeoutsAnnounced;
  const unseenRetx = retx - s.retxAnnounced;
  s.retxAnnounced = 0;
  s.timeoutsAnnounced = 0;
  if (unseenTimeouts > 0) return UnseenLoss.Timeout;
  return unseenRetx > 0 ? UnseenLoss.Fast : UnseenLoss.None;
}

/** Records what must survive to the next interval's loss response (RFC 5681 FlightSize). */
export function endInterval(s: CcFlowState, sample: CcSample): void {
  s.lastInFlightBytes = nonNegative(sample.inFlightBytes);
}

/** Whether this interval may grow rate or window (`growOnlyWhenCcLimited`). */
export function mayGrow(s: CcFlowState, p: Readonly<CcParams>): boolean {
  return !p.growOnlyWhenCcLimited || s.lastCcLimited === 1;
}

/** `rate` floored to whole bytes/s and clamped to [minRateBps, linkRateBps] (NaN -> floor). */
export function clampRate(rate: number, p: Readonly<CcParams>): number {
  const r = Math.floor(rate);
  if (!(r >= p.minRateBps)) return p.minRateBps;
  return r > p.linkRateBps ? p.linkRateBps : r;
}

/** `cwnd` floored to whole bytes and clamped to [1 MSS, maxCwndBytes] (NaN -> 1 MSS). */
export function clampCwnd(cwnd: number, s: CcFlowState, p: Readonly<CcParams>): number {
  const c = Math.floor(cwnd);
  if (!(c >= s.mss)) return s.mss;
  const hi = p.maxCwndBytes > s.mss ? p.maxCwndBytes : s.mss;
  return c > hi ? hi : c;
}

/**
 * DCTCP.Alpha = (1 - g) * DCTCP.Alpha + g * M, M = marked bytes / acked bytes of the observation
 * window (RFC 8257 3.3; DCTCP paper, SIGCOMM 2010, eq. 1). Our observation window is one control
 * interval (>= 2 RTTs); intervals without acknowledged bytes carry no information and leave alpha.
 */
export function updateDctcpAlpha(s: CcFlowState, p: Readonly<CcParams>): void {
  const acked = s.lastAckedBytes;
  if (acked <= 0) return;
  const m = s.lastEcnBytes / acked;
  const a = (1 - p.dctcpG) * s.alpha + p.dctcpG * m;
  s.alpha = a < 0 ? 0 : a > 1 ? 1 : a;
}

/** RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)), generalised to n segments as n * 1460. */
export function initialWindow(mss: number, p: Readonly<CcParams>): number {
  const n = p.initialWindowSegments;
  return Math.min(n * mss, Math.max(2 * mss, n * 1460));
}

/** How many RTTs one interval spans (>= 1), for "per RTT" bounds on per-interval growth. */
function rttsInInterval(s: CcFlowState): number {
  const rtt = s.rttUs;
  const k = rtt > 0 ? s.lastIntervalUs / rtt : 1;
  return k > 1 ? k : 1;
}

/**
 * Window growth for `acked` newly acknowledged bytes over one interval.
 * - Slow start (cwnd < ssthresh), RFC 5681 3.1 with RFC 3465 byte counting: cwnd += acked, but the
 *   increase is bounded by cwnd per RTT of the interval so the window at most doubles per RTT however
 *   inflated the ACK count is (RFC 3465 2.2's concern), and stops at ssthresh; bytes past ssthresh
 *   continue in congestion avoidance.
 * - Congestion avoidance, RFC 5681 3.1 eq. 3 in RFC 3465 2.1's byte-counting form: every cwnd bytes
 *   acknowledged add one MSS (= MSS * acked / cwnd on average); "MUST NOT be increased by more than
 *   SMSS bytes per RTT" bounds it to one MSS per RTT of the interval.
 */
export function renoGrow(s: CcFlowState, p: Readonly<CcParams>, acked: number): void {
  let left = acked;
  const k = rttsInInterval(s);
  if (s.cwndBytes < s.ssthreshBytes) {
    const cap = s.cwndBytes * k;
    const inc = left < cap ? left : cap;
    const room = s.ssthreshBytes - s.cwndBytes;
    if (inc <= room) {
      s.cwndBytes = clampCwnd(s.cwndBytes + inc, s, p);
      return;
    }
    s.cwndBytes = clampCwnd(s.ssthreshBytes, s, p);
    left = inc - room;
  }
  const total = s.caBytesAcked + left;
  const cwnd = s.cwndBytes;
  let segments = Math.floor(total / cwnd);
  const maxSegments = Math.floor(k);
  if (segments > maxSegments) segments = maxSegments;
  let rest = total - segments * cwnd;
  if (rest >= cwnd) rest = cwnd - 1; // excess over one MSS per RTT is dropped, not banked
  s.caBytesAcked = rest > 0 ? rest : 0;
  if (segments > 0) s.cwndBytes = clampCwnd(cwnd + segments * s.mss, s, p);
}

/** RFC 5681 FlightSize for the loss response: last interval's in-flight bytes, at most cwnd. */
function flightSize(s: CcFlowState): number {
  const f = s.lastInFlightBytes;
  return f > 0 && f < s.cwndBytes ? f : s.cwndBytes;
}

/**
 * Window response to a retransmit (newreno, dctcp-window: RFC 8257 3.5 defers to standard TCP).
 * - Fast retransmit: ssthresh = max(FlightSize / 2, 2*SMSS) (RFC 5681 3.2 eq. 4) and cwnd = ssthresh
 *   (the window after RFC 6582 3.2 step 3's full acknowledgment; go-back-N needs no inflation). Only
 *   outside recovery (RFC 6582 3.2 step 2: duplicate ACKs below "recover" do not cut again).
 * - Timeout: cwnd = LW = 1 SMSS (RFC 5681 3.1); ssthresh = max(FlightSize / 2, 2*SMSS) only on the
 *   first timeout of a stall, held on back-to-back timeouts (RFC 5681 3.1, eq. 4 note); enters recovery
 *   (RFC 6582 3.2 step 4: recover = highest sequence sent, so go-back-N's duplicate ACKs don't cut).
 */
export function windowLoss(s: CcFlowState, p: Readonly<CcParams>, kind: 'fast' | 'timeout'): void {
  const floor = 2 * s.mss;
  if (kind === 'timeout') {
    if (s.timeoutsInRow === 0) {
      const half = Math.floor(flightSize(s) / 2);
      s.ssthreshBytes = half > floor ? half : floor;
    }
    s.timeoutsInRow++;
    s.cwndBytes = clampCwnd(s.mss, s, p);
  } else {
    if (s.inRecovery === 1) return;
    const half = Math.floor(flightSize(s) / 2);
    s.ssthreshBytes = half > floor ? half : floor;
    s.cwndBytes = clampCwnd(s.ssthreshBytes, s, p);
  }
  s.inRecovery = 1;
  s.caBytesAcked = 0;
}

/** An interval with acknowledged data and no retransmit ends recovery (RFC 6582 3.2 step 3, approx.). */
export function noteProgress(s: CcFlowState): void {
  if (s.lastAckedBytes > 0 && s.lastRetransmits === 0) {
    s.inRecovery = 0;
    s.timeoutsInRow = 0;
  }
}

/** FlexTOE: "the rate halves on each retransmit"; any loss also ends slow start (TAS cc.c). */
export function halveRate(s: CcFlowState, p: Readonly<CcParams>): void {
  s.rateBps = clampRate(s.rateBps / 2, p);
  s.slowStart = 0;
}
