/**
 * Fault injection on receive, around any port (smoltcp's FaultInjector, netem for our wires).
 * Frames pulled from the inner port in `rxBurst` pass, in order:
 *   loss -> corruption -> duplication -> reordering -> delay and rate -> the caller.
 * Each fault draws from its own PRNG stream forked from the seed, so switching one fault on or
 * off leaves the decisions of the others unchanged, and the same seed with the same input
 * sequence gives the same output sequence.
 *
 * Frames are held in a bounded pool of preallocated slots (the netem `limit`): the port pulls
 * from the inner port only while it has free slots (the inner queue absorbs the rest, and
 * counts its own overflow); a duplicate that finds no slot is a counted drop.
 *
 * Transmit passes straight through: wrap each end of a wire to impair both directions.
 *
 * Per frame nothing is allocated; times live in a Float64Array rather than travelling as
 * arguments, because V8 boxes a double that crosses a call it did not inline.
 */
import type { Clock, Timers } from '../hw/clock.js';
import type { NicPort, PortCapabilities, PortStats } from '../hw/nic-port.js';
import { PacketBuffer } from '../hw/packet-buffer.js';
import { Prng, type Coin, type Seed } from '../util/prng.js';
import { copyFrame } from '../util/copy-frame.js';
import { realTime } from '../util/real-time.js';
import { checksummedRegion } from './checksummed-region.js';
import { DelegatingPort } from './delegating-port.js';
import { RxWakeup } from './rx-wakeup.js';
import { nsPerByte, wireBytes } from './wire-time.js';

export interface FaultOptions {
  /** Probability a frame is dropped. */
  readonly loss?: number;
  /** Probability a frame is delivered twice (the copy right behind the original). */
  readonly duplicate?: number;
  /** Probability a frame is held back until `reorderDepth` later frames have passed it. */
  readonly reorder?: number;
  /** Later frames that overtake a reordered one (default 3, a fast-retransmit's worth). */
  readonly reorderDepth?: number;
  /** A held-back frame is released after this long even if too few frames followed (default 1 ms). */
  readonly reorderTimeoutNs?: number;
  /**
   * Probability a frame is corrupted: 1-3 bits flipped inside the part of an IPv4 frame that
   * the IPv4 header and TCP checksums cover, at distinct bit positions of a 16-bit word so the
   * ones' complement sum always changes (two flips of the same word bit in opposite directions
   * would cancel). Frames with no such region (ARP, IPv6, runts) are left intact.
   */
  readonly corrupt?: number;
  /** Extra one-way delay in ns before a frame is receivable. */
  readonly delayNs?: number;
  /** Bottleneck rate in Gbit/s: frames leave one after another at this rate. */
  readonly rateGbps?: number;
  /** PRNG seed (default 1). */
  readonly seed?: Seed;
  /** Frames the port can hold (default 1024); must cover rate x delay at full load. */
  readonly queueFrames?: number;
  /** Slot size in bytes (default: the inner port's maxFrameBytes, at most 9216). */
  readonly frameCapacity?: number;
  /** Time base for delay, rate and reorder timeouts (default: the wall clock). */
  readonly clock?: Clock;
  /** Timers on `clock` (default: `clock` if it has timers). */
  readonly timers?: Timers;
}

/** What the injector did, by fault; also summed into `stats()`. */
export interface FaultCounters {
  'injected-loss': number;
  'injected-duplicate': number;
  'injected-reorder': number;
  'injected-corrupt': number;
  /** Frames dropped because every slot was in use (a counted drop, like netem's limit). */
  'fault-queue-full': number;
}

export interface FaultPortStats extends PortStats {
  readonly faults: FaultCounters;
}

/** Frames pulled from the inner port per inner `rxBurst`. */
const STAGING_FRAMES = 32;
/** Jumbo frames at most unless asked: a 64 KiB inner limit would make 64 MiB of slots. */
const MAX_DEFAULT_FRAME_CAPACITY = 9216;
// Slots of `times`: the clock when frames were last pulled in, and the due time of the last
// frame sent on (the bottleneck is busy until then).
const NOW = 0;
const LAST_DUE = 1;

export class FaultInjectingPort extends DelegatingPort {
  private readonly caps: PortCapabilities;
  private readonly clock: Clock;
  private readonly timed: boolean;
  private readonly p: Required<Pick<FaultOptions, 'loss' | 'duplicate' | 'reorder' | 'corrupt'>>;
  private readonly reorderDepth: number;
  private readonly reorderTimeoutNs: number;
  private readonly delayNs: number;
  private readonly rateGbps: number;
  private readonly nsPerByte: number;

  private readonly lossCoin: Coin;
  private readonly corruptCoin: Coin;
  private readonly corruptBitsRng: Prng;
  private readonly duplicateCoin: Coin;
  private readonly reorderCoin: Coin;

  private readonly staging: PacketBuffer[];
  // Slot pool: one backing buffer; free slots on a stack.
  private readonly slots: Buffer[];
  private readonly slotLen: Int32Array;
  private readonly slotTs: Float64Array;
  private readonly freeStack: Int32Array;
  private freeTop: number;
  // Frames on their way out: FIFO of slots with non-decreasing due times.
  private readonly outSlot: Int32Array;
  private readonly outDue: Float64Array;
  private outHead = 0;
  private outCount = 0;
  private readonly times = new Float64Array(2);
  // Frames held back for reordering: FIFO (both release conditions grow with arrival order).
  private readonly parkedSlot: Int32Array;
  private readonly parkedAfter: Float64Array;
  private readonly parkedDeadline: Float64Array;
  private parkedHead = 0;
  private parkedCount = 0;
  /** Frames that have passed the reorder point without being held (overtakers). */
  private passed = 0;

  private rxPackets = 0;
  private rxBytes = 0;
  private dropRxBufferTooSmall = 0;
  private readonly faults: FaultCounters = {
    'injected-loss': 0,
    'injected-duplicate': 0,
    'injected-reorder': 0,
    'injected-corrupt': 0,
    'fault-queue-full': 0,
  };

  private readonly wakeup: RxWakeup;
  private readonly onInnerWake = (): void => {
    this.ingest();
  };

  constructor(inner: NicPort, opts: FaultOptions = {}) {
    super(inner);
    this.p = {
      loss: probability(opts.loss, 'loss'),
      duplicate: probability(opts.duplicate, 'duplicate'),
      reorder: probability(opts.reorder, 'reorder'),
      corrupt: probability(opts.corrupt, 'corrupt'),
    };
    this.reorderDepth = count(opts.reorderDepth ?? 3, 'reorderDepth', 0);
    this.reorderTimeoutNs = nonNegative(opts.reorderTimeoutNs ?? 1_000_000, 'reorderTimeoutNs');
    this.delayNs = nonNegative(opts.delayNs ?? 0, 'delayNs');
    this.rateGbps = opts.rateGbps ?? Infinity;
    if (!(this.rateGbps > 0))
      throw new RangeError(`FaultInjectingPort: rateGbps must be > 0, got ${this.rateGbps}`);
    this.nsPerByte = nsPerByte(this.rateGbps);
    this.timed =
      this.delayNs > 0 || this.rateGbps !== Infinity || (this.p.reorder > 0 && this.reorderDepth > 0);

    this.clock = opts.clock ?? realTime;
    const timers = opts.timers ?? (opts.clock === undefined ? realTime : asTimers(opts.clock));
    if (this.timed && timers === undefined) {
      throw new TypeError('FaultInjectingPort: delay, rate or reorder with a custom clock needs `timers`');
    }

    const root = new Prng(opts.seed ?? 1);
    this.lossCoin = root.fork('loss').coin(this.p.loss);
    this.corruptCoin = root.fork('corrupt').coin(this.p.corrupt);
    this.corruptBitsRng = root.fork('corrupt-bits');
    this.duplicateCoin = root.fork('duplicate').coin(this.p.duplicate);
    this.reorderCoin = root.fork('reorder').coin(this.p.reorder);

    const capacity = count(
      opts.frameCapacity ?? Math.min(inner.capabilities.maxFrameBytes, MAX_DEFAULT_FRAME_CAPACITY),
      'frameCapacity',
      1,
    );
    const frames = count(opts.queueFrames ?? 1024, 'queueFrames', 1);
    this.staging = Array.from({ length: STAGING_FRAMES }, () => new PacketBuffer(capacity));
    const backing = Buffer.alloc(frames * capacity);
    this.slots = Array.from({ length: frames }, (_, i) => backing.subarray(i * capacity, (i + 1) * capacity));
    this.slotLen = new Int32Array(frames);
    this.slotTs = new Float64Array(frames);
    this.freeStack = Int32Array.from({ length: frames }, (_, i) => frames - 1 - i);
    this.freeTop = frames;
    this.outSlot = new Int32Array(frames);
    this.outDue = new Float64Array(frames);
    this.parkedSlot = new Int32Array(frames);
    this.parkedAfter = new Float64Array(frames);
    this.parkedDeadline = new Float64Array(frames);

    const caps = inner.capabilities;
    this.caps = Object.freeze({
      ...caps,
      driver: `fault(${caps.driver})`,
      maxFrameBytes: Math.min(caps.maxFrameBytes, capacity),
      // A device-verified checksum says nothing about bytes we corrupt after it looked.
      rxChecksumOffload: caps.rxChecksumOffload && this.p.corrupt === 0,
      linkGbps: Math.min(caps.linkGbps, this.rateGbps),
    });
    this.wakeup = new RxWakeup(this.clock, timers, () => this.nextEventNs());
  }

  override get capabilities(): PortCapabilities {
    return this.caps;
  }

  override async stop(): Promise<void> {
    this.wakeup.dispose();
    await this.inner.stop();
  }

  override stats(): FaultPortStats {
    const s = this.inner.stats();
    const drops = { ...s.drops };
    const add = (key: string, n: number): void => {
      drops[key] = (drops[key] ?? 0) + n;
    };
    add('injected-loss', this.faults['injected-loss']);
    add('fault-queue-full', this.faults['fault-queue-full']);
    add('rx-buffer-too-small', this.dropRxBufferTooSmall);
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      txPackets: s.txPackets,
      txBytes: s.txBytes,
      drops,
      faults: { ...this.faults },
    };
  }

  /** Frames held (waiting for their time, or held back for reordering). */
  get held(): number {
    return this.outCount + this.parkedCount;
  }

  override setRxWakeup(wakeup: (() => void) | null): void {
    // Pull frames as they arrive at the inner port, so delays count from arrival.
    this.inner.setRxWakeup(wakeup === null ? null : this.onInnerWake);
    this.wakeup.set(wakeup);
  }

  override rxBurst(bufs: PacketBuffer[], max: number): number {
    this.ingest();
    const n = Math.min(max, bufs.length);
    const now = this.timed ? this.clock.now() : 0;
    let got = 0;
    while (got < n && this.outCount > 0 && this.outDue[this.outHead]! <= now) {
      if (this.copyOut(this.outHead, bufs[got]!)) got++;
      this.outHead = this.outHead + 1 === this.outSlot.length ? 0 : this.outHead + 1;
      this.outCount--;
    }
    if (this.outCount === 0 || this.outDue[this.outHead]! > now) this.wakeup.idle();
    return got;
  }

  override txBurst(bufs: PacketBuffer[], count: number): number {
    return this.inner.txBurst(bufs, count);
  }

  /** Pulls what the inner port has (while slots are free) and passes it through the faults. */
  private ingest(): void {
    if (this.timed) this.times[NOW] = this.clock.now();
    this.releaseExpired();
    for (;;) {
      const want = Math.min(STAGING_FRAMES, this.freeTop);
      if (want === 0) return;
      const got = this.inner.rxBurst(this.staging, want);
      for (let i = 0; i < got; i++) this.admit(this.staging[i]!);
      if (got < want) return;
    }
  }

  /** One frame from the inner port. Every stream draws once per frame, whatever happens. */
  private admit(buf: PacketBuffer): void {
    const lose = this.lossCoin.flip();
    const corrupt = this.corruptCoin.flip();
    const duplicate = this.duplicateCoin.flip();
    const park = this.reorderCoin.flip() && this.reorderDepth > 0;
    if (lose) {
      this.faults['injected-loss']++;
      return;
    }
    const slot = this.take(buf.data, buf.length);
    if (slot < 0) return;
    this.slotTs[slot] = buf.timestampNs;
    if (corrupt && this.corruptSlot(slot)) this.faults['injected-corrupt']++;
    this.place(slot, park);
    if (!duplicate) return;
    const copy = this.take(this.slots[slot]!, this.slotLen[slot]!);
    if (copy < 0) return;
    this.slotTs[copy] = this.slotTs[slot]!;
    this.faults['injected-duplicate']++;
    this.place(copy, park);
  }

  /** A free slot holding a copy of the frame, or -1 (counted) when all are in use. */
  private take(data: Buffer, length: number): number {
    if (this.freeTop === 0) {
      this.faults['fault-queue-full']++;
      return -1;
    }
    const slot = this.freeStack[--this.freeTop]!;
    const len = Math.min(length, this.slots[slot]!.length);
    copyFrame(data, this.slots[slot]!, len);
    this.slotLen[slot] = len;
    return slot;
  }

  /** Either holds the frame back for reordering or sends it on; an overtaker may release held ones. */
  private place(slot: number, park: boolean): void {
    if (park) {
      this.park(slot);
      return;
    }
    this.send(slot);
    this.passed++;
    while (this.parkedCount > 0 && this.parkedAfter[this.parkedHead]! <= this.passed) this.unpark();
  }

  private park(slot: number): void {
    let tail = this.parkedHead + this.parkedCount;
    if (tail >= this.parkedSlot.length) tail -= this.parkedSlot.length;
    this.parkedSlot[tail] = slot;
    this.parkedAfter[tail] = this.passed + this.reorderDepth;
    this.parkedDeadline[tail] = this.times[NOW]! + this.reorderTimeoutNs;
    this.parkedCount++;
    this.faults['injected-reorder']++;
  }

  private unpark(): void {
    const slot = this.parkedSlot[this.parkedHead]!;
    this.parkedHead = this.parkedHead + 1 === this.parkedSlot.length ? 0 : this.parkedHead + 1;
    this.parkedCount--;
    this.send(slot);
  }

  /** Held-back frames whose timeout passed go on (too few frames came to overtake them). */
  private releaseExpired(): void {
    while (this.parkedCount > 0 && this.parkedDeadline[this.parkedHead]! <= this.times[NOW]!) this.unpark();
  }

  /** Queues a frame for the caller, receivable after the delay and its turn on the bottleneck. */
  private send(slot: number): void {
    let tail = this.outHead + this.outCount;
    if (tail >= this.outSlot.length) tail -= this.outSlot.length;
    const t = this.times;
    this.outDue[tail] = t[NOW]! + this.delayNs;
    if (this.rateGbps !== Infinity) {
      t[LAST_DUE] =
        Math.max(this.outDue[tail]!, t[LAST_DUE]!) + wireBytes(this.slotLen[slot]!) * this.nsPerByte;
      this.outDue[tail] = t[LAST_DUE]!;
    }
    this.outSlot[tail] = slot;
    this.outCount++;
    if (this.wakeup.isArmed) this.wakeup.queued(this.outDue[tail]!);
  }

  /** Hands the frame at position `out` of the outgoing FIFO to the caller and frees its slot. */
  private copyOut(out: number, buf: PacketBuffer): boolean {
    const slot = this.outSlot[out]!;
    const len = this.slotLen[slot]!;
    this.freeStack[this.freeTop++] = slot;
    if (len > buf.data.length) {
      this.dropRxBufferTooSmall++;
      return false;
    }
    copyFrame(this.slots[slot]!, buf.data, len);
    buf.length = len;
    // With delay or rate the frame is received when it becomes due; otherwise as the inner port said.
    buf.timestampNs = this.delayNs > 0 || this.rateGbps !== Infinity ? this.outDue[out]! : this.slotTs[slot]!;
    this.rxPackets++;
    this.rxBytes += len;
    return true;
  }

  /** Flips 1-3 bits the checksums must catch; false when the frame has no checksummed region. */
  private corruptSlot(slot: number): boolean {
    const frame = this.slots[slot]!;
    const region = checksummedRegion(frame, this.slotLen[slot]!);
    if (region < 0) return false;
    const start = region >>> 16;
    const span = (region & 0xffff) - start;
    const rng = this.corruptBitsRng;
    const flips = 1 + rng.nextInt(3);
    let usedWordBits = 0;
    for (let done = 0; done < flips;) {
      const off = rng.nextInt(span);
      const bit = rng.nextInt(8);
      // Words are big-endian from the region start (even offsets are the high byte).
      const wordBit = (off & 1) === 0 ? bit + 8 : bit;
      if (usedWordBits & (1 << wordBit)) continue;
      usedWordBits |= 1 << wordBit;
      frame[start + off] ^= 1 << bit;
      done++;
    }
    return true;
  }

  /** For the wakeup: releases timed-out held frames, then the next time anything can change. */
  private nextEventNs(): number {
    if (!this.timed) return this.outCount > 0 ? 0 : Infinity;
    this.times[NOW] = this.clock.now();
    this.releaseExpired();
    const out = this.outCount > 0 ? this.outDue[this.outHead]! : Infinity;
    const parked = this.parkedCount > 0 ? this.parkedDeadline[this.parkedHead]! : Infinity;
    return Math.min(out, parked);
  }
}

function probability(p: number | undefined, name: string): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new RangeError(`FaultInjectingPort: ${name} must be in [0, 1], got ${p}`);
  return v;
}

function nonNegative(v: number, name: string): number {
  if (!(v >= 0 && Number.isFinite(v)))
    throw new RangeError(`FaultInjectingPort: ${name} must be finite and >= 0, got ${v}`);
  return v;
}

function count(v: number, name: string, min: number): number {
  if (!(Number.isInteger(v) && v >= min))
    throw new RangeError(`FaultInjectingPort: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

function asTimers(clock: Clock): Timers | undefined {
  const c = clock as Partial<Timers>;
  return typeof c.schedule === 'function' && typeof c.cancel === 'function'
    ? (clock as Clock & Timers)
    : undefined;
}
