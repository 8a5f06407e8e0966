/**
 * Single-producer / single-consumer ring of fixed-size entries (`entryWords` u32 words each),
 * the hand-off between two pipeline stages (DESIGN.md 3: "SharedArrayBuffer rings between
 * stages" on x86; NFP work queues play this role on the Agilio). Lamport's lock-free SPSC queue
 * with free-running indices:
 *
 * - `tail` counts entries ever published; only the producer writes it.
 * - `head` counts entries ever consumed; only the consumer writes it.
 * - Both are u32 counters kept in Int32 words and compared by wrap-safe subtraction, so every one
 *   of the `capacity` slots is usable (no "one slot empty" rule) and capacity may be any power of
 *   two up to 2^30.
 *
 * Ordering across worker_threads: the producer writes an entry's words with plain stores and
 * then publishes it with `Atomics.store(tail)`; the consumer reads `tail` with `Atomics.load`
 * before it reads the words. Atomics are sequentially consistent in the ECMAScript memory model,
 * which includes the release/acquire pairing this needs (a plain write before an atomic store is
 * visible to a thread whose atomic load observes that store). The same holds in reverse for
 * `head`, which hands a slot back to the producer. Each side caches the other side's index and
 * re-reads it only when the cached value says "full"/"empty", so the common case touches only
 * memory it owns.
 *
 * Memory (all in the buffer given, so `attach` in another thread sees the same ring):
 *
 *   header, 128 B = 32 Int32 words: the producer's words and the consumer's words sit on
 *   separate 64-byte lines so the two cores do not bounce one cache line (false sharing).
 *     word 0  magic        word 1  entryWords   word 2  capacity
 *     word 4  tail         word 5  full drops   word 6  producer sleeping
 *     word 20 head         word 22 consumer sleeping
 *   then capacity x entryWords u32 words of entries.
 *
 * Sleeping: `waitForData` parks an idle consumer with `Atomics.wait` instead of spinning a core
 * (FlexTOE raises interrupts only after idleness; same idea). A producer calls `Atomics.notify`
 * only when the consumer has announced it is going to sleep, so a busy ring pays one extra
 * atomic load per publish, not a notify. `waitForSpace` is the producer's mirror image.
 *
 * Nothing allocates after construction; a full ring is a failure value plus the `full` counter.
 */

const MAGIC = 0x5350_5343; // 'SPSC'
const HEADER_BYTES = 128;
const HEADER_WORDS = HEADER_BYTES / 4;
const W_MAGIC = 0;
const W_ENTRY_WORDS = 1;
const W_CAPACITY = 2;
// Producer-owned line.
const W_TAIL = 4;
const W_FULL = 5;
const W_PRODUCER_SLEEPING = 6;
// Consumer-owned line.
const W_HEAD = 20;
const W_CONSUMER_SLEEPING = 22;

export interface SpscRingCounters {
  /** Entries published since initialisation (mod 2^32). */
  pushed: number;
  /** Entries consumed since initialisation (mod 2^32). */
  popped: number;
  /** Push or reserve attempts refused because the ring was full (the drop counter). */
  full: number;
}

/** Set by `attach` around its `new`: check the header instead of initialising it. */
let attaching = false;

export class SpscRing {
  /** Bytes a ring of `capacity` entries of `entryWords` words needs (128 B header included). */
  static bytesFor(entryWords: number, capacity: number): number {
    check(entryWords, capacity);
    return HEADER_BYTES + capacity * entryWords * 4;
  }

  /**
   * A view of a ring another thread initialised in `buffer` at `byteOffset`. Throws a
   * RangeError when there is no ring there or its geometry differs from the one given.
   */
  static attach(buffer: ArrayBufferLike, byteOffset: number, entryWords: number, capacity: number): SpscRing {
    attaching = true;
    try {
      return new SpscRing(buffer, byteOffset, entryWords, capacity);
    } finally {
      attaching = false;
    }
  }

  readonly entryWords: number;
  readonly capacity: number;
  /**
   * The entry words, `capacity * entryWords` long. Entry storage for `reserve`/`peek`: the slot
   * they return is a word offset into this array.
   */
  readonly data: Uint32Array;
  private readonly ctl: Int32Array;
  private readonly mask: number;
  private readonly canWait: boolean;
  // Producer-local: next index to publish (>= published tail while reservations are open) and
  // the last head it saw. Consumer-local: its head and the last tail it saw.
  private pTail: number;
  private pHeadCache: number;
  private cHead: number;
  private cTailCache: number;

  /**
   * Initialises an empty ring in `buffer` (ArrayBuffer or SharedArrayBuffer) at `byteOffset`
   * (a multiple of 4; 64 keeps the header lines apart), using `SpscRing.bytesFor(entryWords, capacity)` bytes. Capacity is a
   * power of two from 1 to 2^30. Give the same buffer, offset and geometry to `attach` in the
   * other thread.
   */
  constructor(buffer: ArrayBufferLike, byteOffset: number, entryWords: number, capacity: number) {
    const attach = attaching;
    attaching = false;
    check(entryWords, capacity);
    if (byteOffset % 4 !== 0) {
      throw new RangeError(`spsc ring: byte offset ${byteOffset} is not a multiple of 4`);
    }
    const bytes = HEADER_BYTES + capacity * entryWords * 4;
    if (byteOffset + bytes > buffer.byteLength) {
      throw new RangeError(
        `spsc ring: needs ${bytes} bytes at offset ${byteOffset} but the buffer has ${buffer.byteLength}`,
      );
    }
    this.ctl = new Int32Array(buffer, byteOffset, HEADER_WORDS);
    this.data = new Uint32Array(buffer, byteOffset + HEADER_BYTES, capacity * entryWords);
    this.entryWords = entryWords;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.canWait = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
    const ctl = this.ctl;
    if (attach) {
      if (Atomics.load(ctl, W_MAGIC) !== MAGIC) {
        throw new RangeError(`spsc ring: no ring at byte offset ${byteOffset}`);
      }
      const ew = ctl[W_ENTRY_WORDS]!;
      const cap = ctl[W_CAPACITY]!;
      if (ew !== entryWords || cap !== capacity) {
        throw new RangeError(
          `spsc ring: the ring at byte offset ${byteOffset} has ${cap} entries of ${ew} words, not ${capacity} of ${entryWords}`,
        );
      }
    } else {
      ctl.fill(0);
      ctl[W_ENTRY_WORDS] = entryWords;
      ctl[W_CAPACITY] = capacity;
      Atomics.store(ctl, W_MAGIC, MAGIC); // last: an attach that sees the magic sees the geometry
    }
    this.pTail = Atomics.load(ctl, W_TAIL);
    this.pHeadCache = Atomics.load(ctl, W_HEAD);
    this.cHead = this.pHeadCache;
    this.cTailCache = this.pTail;
  }

  // ---------------------------------------------------------------- producer side

  /**
   * Copies one entry (`entryWords` words of `words` from `offset`) into the ring and publishes
   * it, together with any open reservations. False, counted as `full`, when there is no room.
   */
  tryPush(words: Uint32Array | ArrayLike<number>, offset = 0): boolean {
    const slot = this.reserve();
    if (slot < 0) return false;
    const d = this.data;
    const n = this.entryWords;
    for (let k = 0; k < n; k++) d[slot + k] = words[offset + k]!;
    this.commit();
    return true;
  }

  /**
   * Claims the next free slot for the producer to fill in place and returns its word offset in
   * `data` (entry words are `data[slot] .. data[slot + entryWords - 1]`), or -1 (counted as
   * `full`). Several reservations may be open; `commit` publishes them all in order with one
   * atomic store, which is how a stage hands over a burst.
   */
  reserve(): number {
    const t = this.pTail;
    if (((t - this.pHeadCache) | 0) >= this.capacity) {
      this.pHeadCache = Atomics.load(this.ctl, W_HEAD);
      if (((t - this.pHeadCache) | 0) >= this.capacity) {
        this.ctl[W_FULL] = (this.ctl[W_FULL]! + 1) | 0; // producer-owned word, read with Atomics.load
        return -1;
      }
    }
    this.pTail = (t + 1) | 0;
    return (t & this.mask) * this.entryWords;
  }

  /** Publishes every open reservation and wakes a consumer parked in `waitForData`. */
  commit(): void {
    const ctl = this.ctl;
    Atomics.store(ctl, W_TAIL, this.pTail);
    if (Atomics.load(ctl, W_CONSUMER_SLEEPING) !== 0) Atomics.notify(ctl, W_TAIL, 1);
  }

  /** Abandons open reservations (their slots were not published and will be reused). */
  cancel(): void {
    this.pTail = Atomics.load(this.ctl, W_TAIL);
  }

  /** Free slots (open reservations count as used). Exact for the producer; a snapshot elsewhere. */
  get free(): number {
    const t = Atomics.load(this.ctl, W_TAIL);
    const used = ((this.pTail - t) | 0) > 0 ? this.pTail : t; // a consumer's pTail is stale
    return this.capacity - ((used - Atomics.load(this.ctl, W_HEAD)) | 0);
  }

  /**
   * Producer: blocks up to `timeoutMs` until at least one slot is free. True when there is room.
   * Only a SharedArrayBuffer ring can block (`Atomics.wait`); otherwise this just checks.
   */
  waitForSpace(timeoutMs: number): boolean {
    const ctl = this.ctl;
    if (((this.pTail - Atomics.load(ctl, W_HEAD)) | 0) < this.capacity) return true;
    if (!this.canWait || timeoutMs <= 0) return false;
    Atomics.store(ctl, W_PRODUCER_SLEEPING, 1);
    // Re-check after announcing: either the consumer's next head store is seen here, or the
    // consumer sees the flag and notifies; Atomics.wait itself re-checks `head` atomically.
    const h = Atomics.load(ctl, W_HEAD);
    if (((this.pTail - h) | 0) >= this.capacity) Atomics.wait(ctl, W_HEAD, h, timeoutMs);
    Atomics.store(ctl, W_PRODUCER_SLEEPING, 0);
    return ((this.pTail - Atomics.load(ctl, W_HEAD)) | 0) < this.capacity;
  }

  // ---------------------------------------------------------------- consumer side

  /**
   * Copies the oldest entry into `out` (from `outOffset`) and frees its slot. False when empty.
   */
  tryPop(out: Uint32Array, outOffset = 0): boolean {
    const slot = this.peek();
    if (slot < 0) return false;
    const d = this.data;
    const n = this.entryWords;
    for (let k = 0; k < n; k++) out[outOffset + k] = d[slot + k]!;
    this.consume();
    return true;
  }

  /**
   * Word offset in `data` of the oldest published entry, or -1 when empty. The entry stays
   * owned by the consumer (the producer cannot overwrite it) until `consume`.
   */
  peek(): number {
    const h = this.cHead;
    if (h === this.cTailCache) {
      this.cTailCache = Atomics.load(this.ctl, W_TAIL);
      if (h === this.cTailCache) return -1;
    }
    return (h & this.mask) * this.entryWords;
  }

  /** Frees the oldest entry (after `peek`); wakes a producer parked in `waitForSpace`. */
  consume(): void {
    const ctl = this.ctl;
    if (this.cHead === this.cTailCache) return; // nothing peeked
    this.cHead = (this.cHead + 1) | 0;
    Atomics.store(ctl, W_HEAD, this.cHead);
    if (Atomics.load(ctl, W_PRODUCER_SLEEPING) !== 0) Atomics.notify(ctl, W_HEAD, 1);
  }

  /** Published entries not yet consumed (exact for the consumer; a snapshot elsewhere). */
  get size(): number {
    return (Atomics.load(this.ctl, W_TAIL) - Atomics.load(this.ctl, W_HEAD)) | 0;
  }

  /**
   * Consumer: blocks up to `timeoutMs` until an entry is available. True when one is. Only a
   * SharedArrayBuffer ring can block (`Atomics.wait`); otherwise this just checks. Callers that
   * poll several rings use a short timeout and poll again.
   */
  waitForData(timeoutMs: number): boolean {
    const ctl = this.ctl;
    if (this.cHead !== Atomics.load(ctl, W_TAIL)) return true;
    if (!this.canWait || timeoutMs <= 0) return false;
    Atomics.store(ctl, W_CONSUMER_SLEEPING, 1);
    // Dekker-style handshake with `commit`: the producer stores tail then loads the flag; we
    // store the flag then load tail. Sequential consistency means at least one side sees the
    // other's store, so a publish is never missed; Atomics.wait re-checks tail atomically.
    const t = Atomics.load(ctl, W_TAIL);
    if (t === this.cHead) Atomics.wait(ctl, W_TAIL, t, timeoutMs);
    Atomics.store(ctl, W_CONSUMER_SLEEPING, 0);
    return this.cHead !== Atomics.load(ctl, W_TAIL);
  }

  // ---------------------------------------------------------------- either side

  /** A snapshot of the counters (allocates: for statistics, not for the data path). */
  get counters(): SpscRingCounters {
    const ctl = this.ctl;
    return {
      pushed: Atomics.load(ctl, W_TAIL) >>> 0,
      popped: Atomics.load(ctl, W_HEAD) >>> 0,
      full: Atomics.load(ctl, W_FULL) >>> 0,
    };
  }
}

function check(entryWords: number, capacity: number): void {
  if (!Number.isInteger(entryWords) || entryWords < 1 || entryWords > 1024) {
    throw new RangeError(`spsc ring: entryWords ${entryWords} must be an integer from 1 to 1024`);
  }
  if (
    !Number.isInteger(capacity) ||
    capacity < 1 ||
    capacity > 1 << 30 ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new RangeError(`spsc ring: capacity ${capacity} must be a power of two from 1 to 2^30`);
  }
}
