/**
 * Sequencing and re-sequencing: how FlexTOE keeps per-flow-group order while the stages around
 * the protocol stage run replicated (DESIGN.md 1, "Fine-grained parallelism"):
 *
 * - Ingress: each work item takes the next sequence number of its flow group (`Sequencer`) as
 *   it enters pre-processing. Pre-processing replicas finish out of order; a `ReorderBuffer` per
 *   group releases the items to the protocol stage strictly in sequence order.
 * - Egress: the protocol stage numbers what it emits, post-processing replicas finish out of
 *   order, and another `ReorderBuffer` releases segments to the wire in protocol order.
 *
 * Either way, every sequence number handed out must come back exactly once, as `insert` (an
 * item) or `skip` (the item was dropped, e.g. a malformed segment, a slow-path exception or a
 * failed allocation): "a dropped packet still consumes its slot". A number that never comes back
 * stalls its group; that is the contract, not a bug to paper over with timeouts here.
 *
 * Items are u32 handles (indexes into a work-item pool), so nothing here allocates. Sequence
 * numbers are u32 and wrap (RFC 1982-style serial arithmetic: distances are taken mod 2^32).
 *
 * Threads: insert/skip are safe from several producers at once (each sequence number has one
 * producer); release has one consumer. A buffer used by one thread only (the inline runner's
 * data path, where every stage instance runs on the caller's thread) is built with
 * `shared: false`: the same algorithm with plain loads and stores, because V8 runs each Atomics
 * operation as a builtin call, several per work item. A slot is claimed with a compare-and-swap, filled, and
 * then marked ready; the consumer empties a slot before it advances `next`, and a producer only
 * writes a slot whose number is inside [next, next + capacity), so it never overwrites an
 * unreleased item. All of this state lives in the buffer given (a SharedArrayBuffer region from
 * the memory tiers on x86), so `attach` in another thread sees the same buffer.
 */

const MAGIC = 0x524f_4246; // 'ROBF'
const HEADER_BYTES = 16;
const H_MAGIC = 0;
const H_CAPACITY = 1;
const H_NEXT = 2;
const H_PENDING = 3;

/** Slot states (Uint8, accessed with Atomics). */
const EMPTY = 0;
const WRITING = 1;
const FILLED = 2;
const SKIPPED = 3;

const TWO_POW_31 = 0x8000_0000;

export interface ReorderBufferCounters {
  inserted: number;
  skipped: number;
  released: number;
  /** Items (or skips) dropped because seq >= next + capacity: the producer ran too far ahead. */
  beyondWindow: number;
  /** Items (or skips) for a number already released (seq < next): a duplicate or a bug. */
  stale: number;
  /** Items (or skips) for a number already inserted or skipped and not yet released. */
  duplicate: number;
}

export interface ReorderBufferOptions {
  /** First sequence number expected (default 0); the matching `Sequencer` starts there too. */
  initialSeq?: number;
  /** Memory to live in (from `MemoryTiers.allocate`); a private ArrayBuffer when absent. */
  buffer?: ArrayBufferLike;
  /** Byte offset in `buffer`, a multiple of 4. */
  byteOffset?: number;
  /** Used from several threads (default true): Atomics for every access; false: plain accesses. */
  shared?: boolean;
}

let attachingReorder = false;

/**
 * Releases u32 handles in sequence order from out-of-order arrivals within a window of
 * `capacity` numbers (FlexTOE's reorder queues: 8192 entries).
 */
export class ReorderBuffer {
  /** Bytes for a buffer of `capacity` slots: 16 B header, 4 B handle and 1 B state per slot. */
  static bytesFor(capacity: number): number {
    checkPow2('reorder buffer: capacity', capacity, 1 << 30);
    return HEADER_BYTES + capacity * 5;
  }

  /** A view of a reorder buffer already initialised in `buffer` (e.g. from another thread). */
  static attach(buffer: ArrayBufferLike, byteOffset: number): ReorderBuffer {
    const header = new Int32Array(buffer, byteOffset, 4);
    if (Atomics.load(header, H_MAGIC) !== MAGIC) {
      throw new RangeError(`reorder buffer: none at byte offset ${byteOffset}`);
    }
    attachingReorder = true;
    try {
      return new ReorderBuffer(header[H_CAPACITY]!, { buffer, byteOffset });
    } finally {
      attachingReorder = false;
    }
  }

  readonly capacity: number;
  private readonly mask: number;
  private readonly shared: boolean;
  private readonly header: Int32Array;
  private readonly handles: Uint32Array;
  private readonly states: Uint8Array;
  private readonly _counters: ReorderBufferCounters = {
    inserted: 0,
    skipped: 0,
    released: 0,
    beyondWindow: 0,
    stale: 0,
    duplicate: 0,
  };

  /** `capacity` is the window: a power of two from 1 to 2^30. */
  constructor(capacity: number, options?: ReorderBufferOptions) {
    const attach = attachingReorder;
    attachingReorder = false;
    const bytes = ReorderBuffer.bytesFor(capacity);
    const buffer = options?.buffer ?? new ArrayBuffer(bytes);
    const off = options?.byteOffset ?? 0;
    if (off % 4 !== 0) throw new RangeError(`reorder buffer: byte offset ${off} is not a multiple of 4`);
    if (off + bytes > buffer.byteLength) {
      throw new RangeError(
        `reorder buffer: needs ${bytes} bytes at offset ${off} but the buffer has ${buffer.byteLength}`,
      );
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.shared = options?.shared ?? true;
    this.header = new Int32Array(buffer, off, 4);
    this.handles = new Uint32Array(buffer, off + HEADER_BYTES, capacity);
    this.states = new Uint8Array(buffer, off + HEADER_BYTES + capacity * 4, capacity);
    if (attach) return;
    this.states.fill(EMPTY);
    this.header[H_CAPACITY] = capacity;
    Atomics.store(this.header, H_NEXT, (options?.initialSeq ?? 0) | 0);
    Atomics.store(this.header, H_PENDING, 0);
    Atomics.store(this.header, H_MAGIC, MAGIC);
  }

  /** The next sequence number to be released. */
  get next(): number {
    return Atomics.load(this.header, H_NEXT) >>> 0;
  }

  /** Items and skips held, waiting for an earlier number. */
  get pending(): number {
    return Atomics.load(this.header, H_PENDING);
  }

  /** True when `release` would make progress now (the next number has arrived or was skipped). */
  get ready(): boolean {
    const st = Atomics.load(this.states, Atomics.load(this.header, H_NEXT) & this.mask);
    return st === FILLED || st === SKIPPED;
  }

  /** This thread's counters (each view counts what it did). */
  get counters(): Readonly<ReorderBufferCounters> {
    return this._counters;
  }

  /**
   * Holds `handle` as item `seq`. False, counted, when seq is outside [next, next + capacity)
   * (`beyondWindow` ahead, `stale` behind: numbers at distance >= 2^31 count as behind) or the
   * number is already held (`duplicate`). The caller owns the handle again on false.
   */
  insert(seq: number, handle: number): boolean {
    const slot = this.claim(seq);
    if (slot < 0) return false;
    this.handles[slot] = handle;
    if (this.shared) {
      Atomics.add(this.header, H_PENDING, 1); // before the slot becomes visible as ready
      Atomics.store(this.states, slot, FILLED);
    } else {
      this.header[H_PENDING]!++;
      this.states[slot] = FILLED;
    }
    this._counters.inserted++;
    return true;
  }

  /** Marks `seq` as dropped so release passes over it. Same window rules as `insert`. */
  skip(seq: number): boolean {
    const slot = this.claim(seq);
    if (slot < 0) return false;
    if (this.shared) {
      Atomics.add(this.header, H_PENDING, 1);
      Atomics.store(this.states, slot, SKIPPED);
    } else {
      this.header[H_PENDING]!++;
      this.states[slot] = SKIPPED;
    }
    this._counters.skipped++;
    return true;
  }

  /**
   * Writes up to `max` (and at most `out.length`) handles that are next in sequence to `out`,
   * oldest first, passing over skipped numbers, and returns how many. Single consumer.
   */
  release(out: Uint32Array, max: number = out.length): number {
    if (!this.shared) return this.releaseLocal(out, max);
    const header = this.header;
    const states = this.states;
    const mask = this.mask;
    const lim = max < out.length ? max : out.length;
    let next = Atomics.load(header, H_NEXT);
    let n = 0;
    let taken = 0;
    while (n < lim) {
      const slot = next & mask;
      const st = Atomics.load(states, slot);
      if (st === FILLED) out[n++] = this.handles[slot]!;
      else if (st !== SKIPPED) break;
      // Empty the slot before `next` moves past it: a producer that sees the new `next` may
      // claim this slot for seq + capacity straight away.
      Atomics.store(states, slot, EMPTY);
      next = (next + 1) | 0;
      taken++;
    }
    if (taken > 0) {
      Atomics.store(header, H_NEXT, next);
      Atomics.sub(header, H_PENDING, taken);
      this._counters.released += n;
    }
    return n;
  }

  /** `release` for a buffer of one thread: the same steps with plain accesses. */
  private releaseLocal(out: Uint32Array, max: number): number {
    const header = this.header;
    const states = this.states;
    const mask = this.mask;
    const lim = max < out.length ? max : out.length;
    let next = header[H_NEXT]!;
    let n = 0;
    let taken = 0;
    while (n < lim) {
      const slot = next & mask;
      const st = states[slot]!;
      if (st === FILLED) out[n++] = this.handles[slot]!;
      else if (st !== SKIPPED) break;
      states[slot] = EMPTY;
      next = (next + 1) | 0;
      taken++;
    }
    if (taken > 0) {
      header[H_NEXT] = next;
      header[H_PENDING] = header[H_PENDING]! - taken;
      this._counters.released += n;
    }
    return n;
  }

  /**
   * Restarts at `seq` with nothing held (control plane: a group re-initialised). Not safe while
   * producers are active.
   */
  reset(seq: number): void {
    this.states.fill(EMPTY);
    Atomics.store(this.header, H_PENDING, 0);
    Atomics.store(this.header, H_NEXT, seq | 0);
  }

  /** Window check and slot claim shared by insert and skip: the slot index, or -1 (counted). */
  private claim(seq: number): number {
    const shared = this.shared;
    const next = shared ? Atomics.load(this.header, H_NEXT) : this.header[H_NEXT]!;
    const d = (seq - next) >>> 0;
    if (d >= this.capacity) {
      if (d >= TWO_POW_31) this._counters.stale++;
      else this._counters.beyondWindow++;
      return -1;
    }
    const slot = seq & this.mask;
    if (shared) {
      if (Atomics.compareExchange(this.states, slot, EMPTY, WRITING) !== EMPTY) {
        this._counters.duplicate++;
        return -1;
      }
    } else {
      if (this.states[slot] !== EMPTY) {
        this._counters.duplicate++;
        return -1;
      }
      this.states[slot] = WRITING;
    }
    return slot;
  }
}

export interface SequencerOptions {
  /** First number of every group (default 0). */
  initialSeq?: number;
  buffer?: ArrayBufferLike;
  byteOffset?: number;
  /** Shared by several threads (default true): `next` is an atomic fetch-and-add. */
  shared?: boolean;
}

/**
 * Hands out per-group u32 sequence numbers (FlexTOE: at ingress per flow group; at egress per
 * protocol instance). `next` is an atomic fetch-and-add, so replicated stages may share one
 * Sequencer over a SharedArrayBuffer.
 */
export class Sequencer {
  /** Bytes for `groups` counters. */
  static bytesFor(groups: number): number {
    checkGroups(groups);
    return groups * 4;
  }

  readonly groups: number;
  /** Calls to `next` with a group outside 0..groups-1 (answered with -1). */
  invalidGroup = 0;
  private readonly counters: Int32Array;
  private readonly shared: boolean;

  constructor(groups: number, options?: SequencerOptions) {
    const bytes = Sequencer.bytesFor(groups);
    const buffer = options?.buffer ?? new ArrayBuffer(bytes);
    const off = options?.byteOffset ?? 0;
    if (off % 4 !== 0 || off + bytes > buffer.byteLength) {
      throw new RangeError(
        `sequencer: needs ${bytes} bytes at a multiple of 4; offset ${off} in ${buffer.byteLength}`,
      );
    }
    this.groups = groups;
    this.shared = options?.shared ?? true;
    this.counters = new Int32Array(buffer, off, groups);
    this.counters.fill((options?.initialSeq ?? 0) | 0);
  }

  /** Takes the next sequence number of `group` (u32, wraps), or -1 for an unknown group. */
  next(group: number): number {
    if (group >>> 0 !== group || group >= this.groups) {
      this.invalidGroup++;
      return -1;
    }
    if (this.shared) return Atomics.add(this.counters, group, 1) >>> 0;
    const n = this.counters[group]!;
    this.counters[group] = (n + 1) | 0;
    return n >>> 0;
  }

  /** The number `next(group)` would return, without taking it (-1 for an unknown group). */
  peek(group: number): number {
    if (group >>> 0 !== group || group >= this.groups) return -1;
    return Atomics.load(this.counters, group) >>> 0;
  }
}

function checkPow2(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max || (v & (v - 1)) !== 0) {
    throw new RangeError(`${what} ${v} must be a power of two from 1 to ${max}`);
  }
}

function checkGroups(groups: number): void {
  if (!Number.isInteger(groups) || groups < 1 || groups > 65536) {
    throw new RangeError(`sequencer: groups ${groups} must be an integer from 1 to 65536`);
  }
}
