/**
 * FlexTOE's queue manager / transmit scheduler (DESIGN.md 1, stage 6): decides which flow may
 * send its next segment.
 *
 * - Each flow has a transmit rate as `nsPerByte` (0 = unlimited). The NFP keeps cycles per byte;
 *   we keep nanoseconds of the backend clock, so 8 Gbit/s is 1 ns/B and 10 Gbit/s is 0.8 ns/B.
 *   Congestion control (host control plane) sets it; the scheduler only enforces it.
 * - Unlimited flows wait in one FIFO and are served round robin. Rate-limited flows wait in a
 *   timer wheel (FlexTOE: 512 slots) until their next-allowed time, then join the same FIFO.
 * - One scheduling event is ONE transmit opportunity of at most one MSS (FlexTOE), after which
 *   the flow goes to the back of the line (or into the wheel), so a bulk flow cannot starve
 *   others.
 * - Events are bounded by a pool of TX credits (FlexTOE: in-flight segments between the
 *   scheduler and the wire are bounded). `poll` takes one; the caller returns it with
 *   `returnCredit` once the segment has been handed to the wire (or was not produced). No
 *   credit -> no event, counted as `noCredit`: back-pressure, not loss.
 *
 * The contract per event: `poll(now)` returns a flow id, and the caller then calls exactly one
 * of `sent(flowId, bytes, now)` (bytes actually sent, 0 if it could not build a segment: the
 * flow keeps its place in line) or `deactivate(flowId)`; independently it returns the credit.
 * `activate(flowId, bytesReady)` is TAS/FlexTOE's "set available bytes": the absolute number of
 * bytes the flow could send now (data and window); `sent` subtracts from it and the flow stays
 * scheduled while it is above zero, so a caller that learns of more data calls `activate` again.
 *
 * Timer wheel: slot k holds flows whose next-allowed time falls in ((k-1) x slotNs, k x slotNs],
 * so a flow is never released before its time and at most one slot late. Times beyond the
 * wheel's horizon (wheelSlots x slotNs) go to the last slot and are re-inserted when it fires.
 * Lateness does not accumulate: the next-allowed time advances from the previous one, not from
 * the time of sending, but from no earlier than `now - maxLagNs` (default one slot), so a flow
 * that was idle or starved restarts near `now` instead of bursting to catch up.
 *
 * Per-flow state lives in typed arrays indexed by flow id (optionally in a region from the
 * memory tiers); queues are intrusive doubly linked lists over those arrays, so activate,
 * deactivate and poll are O(1) and nothing allocates after construction.
 */

export interface QueueManagerOptions {
  /** Timer wheel slots, a power of two (FlexTOE: 512). */
  wheelSlots?: number;
  /** Wheel slot granularity in ns (default 1000: 1 us; 512 slots then span 512 us). */
  slotNs?: number;
  /** In-flight transmit credits (default 128). */
  credits?: number;
  /** Largest segment payload one event may send (default 1448, FlexTOE's MSS). */
  mss?: number;
  /**
   * How far behind its schedule a rate-limited flow may fall and still catch up (default: one
   * slot). This absorbs the wheel's rounding so the long-run rate is exact, and it is also the
   * largest head start a flow gets after idling: consecutive segments of a flow are never closer
   * than bytes x nsPerByte - maxLagNs.
   */
  maxLagNs?: number;
  /** Memory to live in (from `MemoryTiers.allocate`, see `bytesFor`); private when absent. */
  buffer?: ArrayBufferLike;
  /** Byte offset in `buffer`, a multiple of 8. */
  byteOffset?: number;
}

export interface QueueManagerCounters {
  /** Transmit opportunities granted (credits taken). */
  events: number;
  /** Polls that found a flow ready but no credit (back-pressure). */
  noCredit: number;
  /** `returnCredit` calls beyond the pool size (ignored; a caller bug). */
  creditOverflow: number;
  /** Flows placed in the timer wheel. */
  wheelInserts: number;
  /** Of those, next-allowed times beyond the horizon, parked in the last slot. */
  wheelClamped: number;
  /** Calls with a flow id outside 0..maxFlows-1, or a rate that is not a finite number >= 0. */
  invalid: number;
  /** `sent` with more than one MSS (accounted in full; the caller overran its opportunity). */
  oversized: number;
}

/** Where a flow is: -1 nowhere (idle), -2 handed out by `poll`; else a list index. */
const NOWHERE = -1;
const IN_FLIGHT = -2;

const DEFAULTS = { wheelSlots: 512, slotNs: 1000, credits: 128, mss: 1448 } as const;

export class QueueManager {
  /** Bytes of memory for `maxFlows` flows and a wheel of `wheelSlots` slots. */
  static bytesFor(maxFlows: number, wheelSlots: number = DEFAULTS.wheelSlots): number {
    checkArgs(maxFlows, wheelSlots);
    const lists = wheelSlots + 1;
    // 3 Float64 + 3 Int32 + 1 Uint8 per flow; heads and tails per list; Uint8s last.
    return maxFlows * 24 + maxFlows * 12 + lists * 8 + alignUp(maxFlows, 8);
  }

  readonly maxFlows: number;
  readonly wheelSlots: number;
  readonly slotNs: number;
  readonly mss: number;
  readonly maxLagNs: number;
  /** Size of the credit pool. */
  readonly totalCredits: number;

  private readonly nsPerByte: Float64Array;
  private readonly nextTx: Float64Array;
  private readonly avail: Float64Array;
  private readonly linkNext: Int32Array;
  private readonly linkPrev: Int32Array;
  private readonly where: Int32Array;
  private readonly active: Uint8Array;
  /** List heads/tails: 0..wheelSlots-1 are wheel slots, `ready` (= wheelSlots) is the FIFO. */
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  private readonly ready: number;
  private readonly mask: number;
  /** Absolute wheel slot (floor(now / slotNs)) processed up to. */
  private curSlot = 0;
  private now = 0;
  private inWheel = 0;
  private queued = 0;
  private creditsLeft: number;
  private readonly _counters: QueueManagerCounters = {
    events: 0,
    noCredit: 0,
    creditOverflow: 0,
    wheelInserts: 0,
    wheelClamped: 0,
    invalid: 0,
    oversized: 0,
  };

  constructor(maxFlows: number, opts: QueueManagerOptions = {}) {
    const wheelSlots = opts.wheelSlots ?? DEFAULTS.wheelSlots;
    const slotNs = opts.slotNs ?? DEFAULTS.slotNs;
    const credits = opts.credits ?? DEFAULTS.credits;
    const mss = opts.mss ?? DEFAULTS.mss;
    const maxLagNs = opts.maxLagNs ?? slotNs;
    checkArgs(maxFlows, wheelSlots);
    if (!(slotNs > 0 && Number.isFinite(slotNs))) {
      throw new RangeError(`queue manager: slotNs ${slotNs} must be > 0`);
    }
    if (!Number.isInteger(credits) || credits < 1) {
      throw new RangeError(`queue manager: credits ${credits} must be >= 1`);
    }
    if (!Number.isInteger(mss) || mss < 1) throw new RangeError(`queue manager: mss ${mss} must be >= 1`);
    if (!(maxLagNs >= 0 && maxLagNs < Infinity)) {
      throw new RangeError(`queue manager: maxLagNs ${maxLagNs} must be >= 0`);
    }
    const bytes = QueueManager.bytesFor(maxFlows, wheelSlots);
    const buffer = opts.buffer ?? new ArrayBuffer(bytes);
    let off = opts.byteOffset ?? 0;
    if (off % 8 !== 0) throw new RangeError(`queue manager: byte offset ${off} is not a multiple of 8`);
    if (off + bytes > buffer.byteLength) {
      throw new RangeError(
        `queue manager: needs ${bytes} bytes at offset ${off} but the buffer has ${buffer.byteLength}`,
      );
    }
    const f64 = (n: number): Float64Array => {
      const a = new Float64Array(buffer, off, n);
      off += n * 8;
      return a;
    };
    const i32 = (n: number): Int32Array => {
      const a = new Int32Array(buffer, off, n);
      off += n * 4;
      return a;
    };
    this.nsPerByte = f64(maxFlows);
    this.nextTx = f64(maxFlows);
    this.avail = f64(maxFlows);
    this.linkNext = i32(maxFlows);
    this.linkPrev = i32(maxFlows);
    this.where = i32(maxFlows);
    this.heads = i32(wheelSlots + 1);
    this.tails = i32(wheelSlots + 1);
    this.active = new Uint8Array(buffer, off, maxFlows);

    this.maxFlows = maxFlows;
    this.wheelSlots = wheelSlots;
    this.slotNs = slotNs;
    this.mss = mss;
    this.maxLagNs = maxLagNs;
    this.totalCredits = credits;
    this.creditsLeft = credits;
    this.ready = wheelSlots;
    this.mask = wheelSlots - 1;
    this.nsPerByte.fill(0);
    this.nextTx.fill(0);
    this.avail.fill(0);
    this.active.fill(0);
    this.where.fill(NOWHERE);
    this.heads.fill(-1);
    this.tails.fill(-1);
  }

  get counters(): Readonly<QueueManagerCounters> {
    return this._counters;
  }

  /** Credits available for new events. */
  get credits(): number {
    return this.creditsLeft;
  }

  /** Flows waiting (FIFO and wheel), not counting those handed out by `poll`. */
  get waiting(): number {
    return this.queued;
  }

  /** Sets a flow's rate in ns per byte; 0 = unlimited. False (counted) if invalid. */
  setRate(flowId: number, nsPerByte: number): boolean {
    if (!this.valid(flowId) || !(nsPerByte >= 0 && nsPerByte < Infinity)) {
      this._counters.invalid++;
      return false;
    }
    this.nsPerByte[flowId] = nsPerByte;
    // A flow waiting in the wheel whose limit was lifted is due now.
    if (nsPerByte === 0 && this.where[flowId]! >= 0 && this.where[flowId] !== this.ready) {
      this.unlink(flowId);
      this.pushTail(this.ready, flowId);
    }
    return true;
  }

  /** The flow's rate (ns per byte). */
  rate(flowId: number): number {
    return this.valid(flowId) ? this.nsPerByte[flowId]! : 0;
  }

  /**
   * The flow can send `bytesReady` bytes (absolute, so calling again is idempotent): queue it
   * unless it is already queued or handed out. `bytesReady <= 0` is `deactivate`.
   */
  activate(flowId: number, bytesReady: number): boolean {
    if (!this.valid(flowId)) {
      this._counters.invalid++;
      return false;
    }
    if (!(bytesReady > 0)) {
      this.deactivate(flowId);
      return true;
    }
    this.avail[flowId] = bytesReady;
    this.active[flowId] = 1;
    if (this.where[flowId] === NOWHERE) this.schedule(flowId);
    return true;
  }

  /** The flow has nothing to send: drop it from the FIFO or wheel, or don't re-queue it. */
  deactivate(flowId: number): boolean {
    if (!this.valid(flowId)) {
      this._counters.invalid++;
      return false;
    }
    this.active[flowId] = 0;
    this.avail[flowId] = 0;
    const w = this.where[flowId]!;
    if (w >= 0) this.unlink(flowId);
    this.where[flowId] = NOWHERE;
    return true;
  }

  /**
   * The backend clock in ns for `pollAtClock` and `sentAtClock`: a runner sets it once per
   * burst. A field store rather than an argument because V8 boxes a double that crosses a call
   * it did not inline (ns clocks pass 2^31 within seconds), or that meets an argument in a
   * default parameter.
   */
  clockNs = 0;

  /**
   * The next flow allowed to send one segment (at most `mss` bytes) at `nowNs`, taking a
   * credit; -1 when no flow is due or no credit is left. `nowNs` is the backend clock; time
   * that goes backwards is treated as the latest time seen.
   */
  poll(nowNs: number): number {
    this.clockNs = nowNs;
    return this.pollAtClock();
  }

  /** `poll` at `clockNs`. */
  pollAtClock(): number {
    const nowNs = this.clockNs;
    if (nowNs > this.now) {
      this.now = nowNs;
      this.advance(nowNs);
    }
    const f = this.heads[this.ready]!;
    if (f < 0) return -1;
    if (this.creditsLeft === 0) {
      this._counters.noCredit++;
      return -1;
    }
    this.unlink(f);
    this.where[f] = IN_FLIGHT;
    this.creditsLeft--;
    this._counters.events++;
    return f;
  }

  /**
   * `pollAtClock`'s first step alone: brings the wheel to `clockNs` (due flows join the FIFO)
   * and says whether a flow waits in the FIFO, i.e. whether `pollAtClock` would hand one out
   * (or, with no credit left, count `noCredit`). Nothing is taken.
   */
  readyAtClock(): boolean {
    const nowNs = this.clockNs;
    if (nowNs > this.now) {
      this.now = nowNs;
      this.advance(nowNs);
    }
    return this.heads[this.ready]! >= 0;
  }

  /**
   * After `poll` returned `flowId`: it sent `bytes` at `nowNs`. Charges the bytes to its rate
   * (next-allowed time += bytes x nsPerByte), subtracts them from its ready bytes and re-queues
   * it if it is still active with bytes left. `bytes = 0` puts it back in line uncharged.
   */
  sent(flowId: number, bytes: number, nowNs: number): void {
    this.clockNs = nowNs;
    this.sentAtClock(flowId, bytes);
  }

  /** `sent` at `clockNs`. */
  sentAtClock(flowId: number, bytes: number): void {
    const nowNs = this.clockNs;
    if (!this.valid(flowId)) {
      this._counters.invalid++;
      return;
    }
    if (nowNs > this.now) this.now = nowNs;
    if (bytes > this.mss) this._counters.oversized++;
    if (bytes > 0) {
      const left = this.avail[flowId]! - bytes;
      this.avail[flowId] = left > 0 ? left : 0;
      const r = this.nsPerByte[flowId]!;
      if (r > 0) {
        // Advance from the schedule, not from the send time, so slot rounding and short queueing
        // delays do not lower the rate; but never from further back than maxLagNs, so a flow
        // that was idle (or starved) does not burst to catch up.
        const prev = this.nextTx[flowId]!;
        const floor = nowNs - this.maxLagNs;
        this.nextTx[flowId] = (prev > floor ? prev : floor) + bytes * r;
      }
    }
    if (this.where[flowId] === IN_FLIGHT) this.where[flowId] = NOWHERE;
    if (this.active[flowId] === 1 && this.avail[flowId]! > 0 && this.where[flowId] === NOWHERE) {
      this.schedule(flowId);
    } else if (this.avail[flowId] === 0) {
      this.active[flowId] = 0;
    }
  }

  /** A segment from an earlier event reached the wire (or was never built): one credit back. */
  returnCredit(): void {
    if (this.creditsLeft >= this.totalCredits) {
      this._counters.creditOverflow++;
      return;
    }
    this.creditsLeft++;
  }

  /**
   * When the queue manager next has a flow to hand out (ns): the last time seen when the FIFO
   * holds one, the start of the first occupied wheel slot otherwise, Infinity when nothing waits.
   * A simulated NIC sleeps until then instead of polling every slot.
   */
  nextDueNs(): number {
    if (this.heads[this.ready]! >= 0) return this.now;
    if (this.inWheel === 0) return Infinity;
    for (let k = 1; k <= this.wheelSlots; k++) {
      if (this.heads[(this.curSlot + k) & this.mask]! >= 0) return (this.curSlot + k) * this.slotNs;
    }
    return Infinity;
  }

  /** The earliest time the flow may send again (ns; in the past when it may send now). */
  nextAllowedNs(flowId: number): number {
    return this.valid(flowId) ? this.nextTx[flowId]! : 0;
  }

  // ---------------------------------------------------------------- internals

  private valid(flowId: number): boolean {
    return flowId >>> 0 === flowId && flowId < this.maxFlows;
  }

  /** Into the FIFO if due at `now`, else into the wheel slot of its next-allowed time. */
  /** Queues flow `f` by its next-allowed time against the latest time seen (`now`). */
  private schedule(f: number): void {
    const now = this.now;
    const t = this.nextTx[f]!;
    if (this.nsPerByte[f] === 0 || t <= now) {
      this.pushTail(this.ready, f);
      return;
    }
    let slot = Math.ceil(t / this.slotNs);
    if (slot <= this.curSlot) {
      this.pushTail(this.ready, f);
      return;
    }
    if (slot - this.curSlot >= this.wheelSlots) {
      slot = this.curSlot + this.wheelSlots - 1;
      this._counters.wheelClamped++;
    }
    this.pushTail(slot & this.mask, f);
    this.inWheel++;
    this._counters.wheelInserts++;
  }

  /** Moves the wheel to `now`: every slot passed releases its due flows into the FIFO. */
  private advance(now: number): void {
    const nowSlot = Math.floor(now / this.slotNs);
    if (nowSlot <= this.curSlot) return;
    const start = this.curSlot;
    this.curSlot = nowSlot; // re-insertions below are relative to now
    if (this.inWheel === 0) return;
    // After a full turn every slot has been visited once; a longer gap needs no more steps.
    const steps = nowSlot - start < this.wheelSlots ? nowSlot - start : this.wheelSlots;
    const heads = this.heads;
    const tails = this.tails;
    for (let k = 1; k <= steps && this.inWheel > 0; k++) {
      const idx = (start + k) & this.mask;
      let f = heads[idx]!;
      if (f < 0) continue;
      heads[idx] = -1;
      tails[idx] = -1;
      while (f >= 0) {
        const nxt = this.linkNext[f]!;
        this.inWheel--;
        this.queued--;
        this.where[f] = NOWHERE;
        this.schedule(f); // due -> FIFO; parked beyond the horizon -> wheel again
        f = nxt;
      }
    }
  }

  private pushTail(list: number, f: number): void {
    const t = this.tails[list]!;
    this.linkPrev[f] = t;
    this.linkNext[f] = -1;
    if (t < 0) this.heads[list] = f;
    else this.linkNext[t] = f;
    this.tails[list] = f;
    this.where[f] = list;
    this.queued++;
  }

  private unlink(f: number): void {
    const list = this.where[f]!;
    const p = this.linkPrev[f]!;
    const n = this.linkNext[f]!;
    if (p < 0) this.heads[list] = n;
    else this.linkNext[p] = n;
    if (n < 0) this.tails[list] = p;
    else this.linkPrev[n] = p;
    if (list !== this.ready) this.inWheel--;
    this.where[f] = NOWHERE;
    this.queued--;
  }
}

function checkArgs(maxFlows: number, wheelSlots: number): void {
  if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 1 << 26) {
    throw new RangeError(`queue manager: maxFlows ${maxFlows} must be an integer from 1 to 2^26`);
  }
  if (
    !Number.isInteger(wheelSlots) ||
    wheelSlots < 2 ||
    wheelSlots > 1 << 20 ||
    (wheelSlots & (wheelSlots - 1)) !== 0
  ) {
    throw new RangeError(`queue manager: wheelSlots ${wheelSlots} must be a power of two from 2 to 2^20`);
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
