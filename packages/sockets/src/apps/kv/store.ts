/**
 * The key-value store behind the memcached-protocol server: items with flags, expiry and CAS
 * ids, bounded memory with least-recently-used eviction, and memcached's counters. Pure logic
 * on an injected clock; the wire protocol is `protocol.ts`.
 *
 * Semantics follow memcached 1.6 (doc/protocol.txt): expiry times up to 30 days are relative
 * seconds, larger ones are Unix times, negative ones expire at once; append/prepend keep the
 * item's flags and expiry; incr/decr work on decimal 64-bit unsigned values (incr wraps, decr
 * stops at 0); every modification takes a new CAS id.
 */

/** memcached's boundary between relative seconds and absolute Unix times (60*60*24*30). */
export const REALTIME_MAXDELTA = 2_592_000;
/** memcached's KEY_MAX_LENGTH. */
export const KEY_MAX_BYTES = 250;
/**
 * Bytes charged per item beyond key and value: the item header a C server keeps (memcached's
 * is 48-56 B) plus what the hash map and list cost us. Counted so the limit bounds real memory.
 */
export const ITEM_OVERHEAD_BYTES = 64;

const U64_MASK = (1n << 64n) - 1n;

export interface KvStoreOptions {
  /** Memory for items (keys + values + per-item overhead), as memcached -m; default 64 MiB. */
  maxBytes?: number;
  /** Largest value accepted, as memcached -I; default 1 MiB. */
  maxItemBytes?: number;
  /** Wall clock in milliseconds (expiry, flush_all delays); default Date.now. */
  now?: () => number;
}

export class KvItem {
  /** Least recently used neighbours (intrusive list: an LRU bump moves two pointers). */
  newer: KvItem | null = null;
  older: KvItem | null = null;

  constructor(
    readonly key: string,
    /** Never mutated once stored, so replies may hand it to the socket without copying. */
    readonly value: Buffer,
    readonly flags: number,
    /** Absolute expiry in ms, 0 = never. */
    public expiresAt: number,
    readonly cas: number,
    /** When it was stored (ms), for flush_all with a delay. */
    readonly storedAt: number,
  ) {}

  get size(): number {
    return this.key.length + this.value.length + ITEM_OVERHEAD_BYTES;
  }
}

export const StoreResult = {
  Stored: 0,
  NotStored: 1,
  Exists: 2,
  NotFound: 3,
  /** Value longer than maxItemBytes. */
  TooLarge: 4,
  /** The item cannot fit even in an empty store. */
  NoMemory: 5,
} as const;
export type StoreResult = (typeof StoreResult)[keyof typeof StoreResult];

export type StoreMode = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

/** incr/decr outcome: the new value, or why there is none. */
export type DeltaResult = bigint | 'not-found' | 'non-numeric' | 'no-memory';

/** memcached's names, so `stats` prints them as they are. */
export interface KvCounters {
  cmd_get: number;
  cmd_set: number;
  cmd_flush: number;
  cmd_touch: number;
  get_hits: number;
  get_misses: number;
  get_expired: number;
  get_flushed: number;
  delete_misses: number;
  delete_hits: number;
  incr_misses: number;
  incr_hits: number;
  decr_misses: number;
  decr_hits: number;
  cas_misses: number;
  cas_hits: number;
  cas_badval: number;
  touch_hits: number;
  touch_misses: number;
  store_too_large: number;
  store_no_memory: number;
  total_items: number;
  evictions: number;
  expired_unfetched: number;
  reclaimed: number;
}

function newCounters(): KvCounters {
  return {
    cmd_get: 0,
    cmd_set: 0,
    cmd_flush: 0,
    cmd_touch: 0,
    get_hits: 0,
    get_misses: 0,
    get_expired: 0,
    get_flushed: 0,
    delete_misses: 0,
    delete_hits: 0,
    incr_misses: 0,
    incr_hits: 0,
    decr_misses: 0,
    decr_hits: 0,
    cas_misses: 0,
    cas_hits: 0,
    cas_badval: 0,
    touch_hits: 0,
    touch_misses: 0,
    store_too_large: 0,
    store_no_memory: 0,
    total_items: 0,
    evictions: 0,
    expired_unfetched: 0,
    reclaimed: 0,
  };
}

export class KvStore {
  readonly maxBytes: number;
  readonly maxItemBytes: number;
  readonly counters = newCounters();
  readonly now: () => number;
  private readonly items = new Map<string, KvItem>();
  /** Most and least recently used ends of the LRU list. */
  private newest: KvItem | null = null;
  private oldest: KvItem | null = null;
  private usedBytes = 0;
  private nextCas = 1;
  /** flush_all with a delay: items stored before this time die when it comes (0 = none). */
  private flushAt = 0;

  constructor(options: KvStoreOptions = {}) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxItemBytes = options.maxItemBytes ?? 1024 * 1024;
    this.now = options.now ?? Date.now;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1024)
      throw new RangeError(`maxBytes is ${this.maxBytes} but must be an integer >= 1024`);
    if (!Number.isSafeInteger(this.maxItemBytes) || this.maxItemBytes < 1 || this.maxItemBytes > 2 ** 30)
      throw new RangeError(`maxItemBytes is ${this.maxItemBytes} but must be an integer 1..2^30`);
  }

  /** Items stored (expired ones count until they are noticed, as in memcached). */
  get itemCount(): number {
    return this.items.size;
  }

  /** Bytes charged for stored items. */
  get bytes(): number {
    return this.usedBytes;
  }

  /**
   * memcached's exptime: 0 never, negative already expired, up to 30 days relative seconds,
   * beyond that a Unix time. Returns absolute ms (0 = never, -1 = already expired).
   */
  expiryFromExptime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return -1;
    const now = this.now();
    const at = exptime <= REALTIME_MAXDELTA ? now + exptime * 1000 : exptime * 1000;
    return at <= now ? -1 : at;
  }

  /** The live item under `key` (no LRU bump, no counters): for tests and `cas` checks. */
  peek(key: string): KvItem | null {
    const it = this.items.get(key);
    if (!it) return null;
    if (this.isDead(it)) {
      this.unlink(it);
      return null;
    }
    return it;
  }

  /** get/gets: a hit moves the item to the recently-used end. */
  get(key: string): KvItem | null {
    this.counters.cmd_get++;
    const it = this.items.get(key);
    if (it === undefined) {
      this.counters.get_misses++;
      return null;
    }
    if (this.isDead(it)) {
      if (this.isFlushed(it)) this.counters.get_flushed++;
      else this.counters.get_expired++;
      this.counters.get_misses++;
      this.unlink(it);
      return null;
    }
    this.counters.get_hits++;
    this.bump(it);
    return it;
  }

  /** gat/gats and touch: a new expiry; null when missing. */
  touch(key: string, exptime: number, counted: 'touch' | 'gat'): KvItem | null {
    this.counters.cmd_touch++;
    if (counted === 'gat') this.counters.cmd_get++;
    const it = this.peek(key);
    if (it === null) {
      this.counters.touch_misses++;
      if (counted === 'gat') this.counters.get_misses++;
      return null;
    }
    const expiresAt = this.expiryFromExptime(exptime);
    if (expiresAt === -1) {
      // Touching into the past expires the item (memcached keeps it until it is next looked at).
      this.unlink(it);
      this.counters.touch_hits++;
      return it;
    }
    it.expiresAt = expiresAt;
    this.counters.touch_hits++;
    if (counted === 'gat') this.counters.get_hits++;
    this.bump(it);
    return it;
  }

  /**
   * set/add/replace/append/prepend/cas. `value` becomes the item's (not copied); `casUnique` is
   * the client's id for `cas` (a bigint, since clients send 64-bit numbers).
   */
  store(
    mode: StoreMode,
    key: string,
    value: Buffer,
    flags: number,
    exptime: number,
    casUnique = 0n,
  ): StoreResult {
    this.counters.cmd_set++;
    if (value.length > this.maxItemBytes) {
      this.counters.store_too_large++;
      // memcached drops a stale value rather than keep serving it after a failed set.
      if (mode === 'set') this.remove(key);
      return StoreResult.TooLarge;
    }
    const old = this.peek(key);
    switch (mode) {
      case 'add':
        if (old !== null) {
          this.bump(old); // memcached: a failed add still counts as a use
          return StoreResult.NotStored;
        }
        break;
      case 'replace':
        if (old === null) return StoreResult.NotStored;
        break;
      case 'append':
      case 'prepend': {
        if (old === null) return StoreResult.NotStored;
        const joined = Buffer.allocUnsafeSlow(old.value.length + value.length);
        const [first, second] = mode === 'append' ? [old.value, value] : [value, old.value];
        joined.set(first, 0);
        joined.set(second, first.length);
        if (joined.length > this.maxItemBytes) {
          this.counters.store_too_large++;
          return StoreResult.TooLarge;
        }
        return this.put(key, joined, old.flags, old.expiresAt);
      }
      case 'cas':
        if (old === null) {
          this.counters.cas_misses++;
          return StoreResult.NotFound;
        }
        if (BigInt(old.cas) !== casUnique) {
          this.counters.cas_badval++;
          return StoreResult.Exists;
        }
        this.counters.cas_hits++;
        break;
      case 'set':
        break;
    }
    const expiresAt = this.expiryFromExptime(exptime);
    if (expiresAt === -1) {
      // Stored already expired: memcached answers STORED and the item is never seen.
      if (old !== null) this.unlink(old);
      return StoreResult.Stored;
    }
    return this.put(key, value, flags, expiresAt);
  }

  /**
   * A storage command refused by its announced length alone, before its value was read:
   * counted, and for set the stale item goes (memcached will not keep serving it).
   */
  rejectTooLarge(mode: StoreMode, key: string): StoreResult {
    this.counters.cmd_set++;
    this.counters.store_too_large++;
    if (mode === 'set') this.remove(key);
    return StoreResult.TooLarge;
  }

  delete(key: string): boolean {
    const it = this.peek(key);
    if (it === null) {
      this.counters.delete_misses++;
      return false;
    }
    this.counters.delete_hits++;
    this.unlink(it);
    return true;
  }

  /** incr/decr: decimal u64 arithmetic on the value; incr wraps at 2^64, decr stops at 0. */
  delta(key: string, incr: boolean, by: bigint): DeltaResult {
    const it = this.peek(key);
    if (it === null) {
      if (incr) this.counters.incr_misses++;
      else this.counters.decr_misses++;
      return 'not-found';
    }
    const current = parseDecimalValue(it.value);
    if (current === null) return 'non-numeric';
    const next = incr ? (current + by) & U64_MASK : current > by ? current - by : 0n;
    if (incr) this.counters.incr_hits++;
    else this.counters.decr_hits++;
    const result = this.put(key, Buffer.from(next.toString(), 'latin1'), it.flags, it.expiresAt);
    return result === StoreResult.Stored ? next : 'no-memory';
  }

  /** flush_all [delay]: everything stored until now (or until the delay passes) goes. */
  flushAll(delaySeconds: number): void {
    this.counters.cmd_flush++;
    if (delaySeconds <= 0) {
      this.flushAt = 0;
      this.items.clear();
      this.newest = this.oldest = null;
      this.usedBytes = 0;
      return;
    }
    const at = this.expiryFromExptime(delaySeconds);
    this.flushAt = at === -1 ? this.now() : at;
  }

  /** Resets the counters (`stats reset`). */
  resetCounters(): void {
    Object.assign(this.counters, newCounters());
  }

  private put(key: string, value: Buffer, flags: number, expiresAt: number): StoreResult {
    const it = new KvItem(key, value, flags, expiresAt, this.nextCas++, this.now());
    if (it.size > this.maxBytes) {
      this.counters.store_no_memory++;
      this.remove(key);
      return StoreResult.NoMemory;
    }
    const old = this.items.get(key);
    if (old !== undefined) this.unlink(old);
    while (this.usedBytes + it.size > this.maxBytes) this.evictOldest();
    this.items.set(key, it);
    this.linkNewest(it);
    this.usedBytes += it.size;
    this.counters.total_items++;
    return StoreResult.Stored;
  }

  private evictOldest(): void {
    const victim = this.oldest!;
    if (this.isDead(victim)) this.counters.reclaimed++;
    else this.counters.evictions++;
    this.unlink(victim);
  }

  private remove(key: string): void {
    const it = this.items.get(key);
    if (it !== undefined) this.unlink(it);
  }

  private isFlushed(it: KvItem): boolean {
    // memcached: everything stored before the flush time dies when it comes (oldest_live).
    return this.flushAt !== 0 && it.storedAt < this.flushAt && this.now() >= this.flushAt;
  }

  private isDead(it: KvItem): boolean {
    return (it.expiresAt !== 0 && this.now() >= it.expiresAt) || this.isFlushed(it);
  }

  private bump(it: KvItem): void {
    if (this.newest === it) return;
    this.detach(it);
    this.linkNewest(it);
  }

  private linkNewest(it: KvItem): void {
    it.older = this.newest;
    it.newer = null;
    if (this.newest) this.newest.newer = it;
    this.newest = it;
    if (this.oldest === null) this.oldest = it;
  }

  private detach(it: KvItem): void {
    if (it.newer) it.newer.older = it.older;
    else this.newest = it.older;
    if (it.older) it.older.newer = it.newer;
    else this.oldest = it.newer;
    it.newer = it.older = null;
  }

  private unlink(it: KvItem): void {
    if (this.items.get(it.key) !== it) return;
    this.items.delete(it.key);
    this.detach(it);
    this.usedBytes -= it.size;
  }
}

/**
 * A stored value as memcached's incr/decr reads it (safe_strtoull): decimal digits, optionally
 * followed by spaces, at most 20 digits and below 2^64. Null when it is not a number.
 */
export function parseDecimalValue(value: Uint8Array): bigint | null {
  let end = value.length;
  while (end > 0 && value[end - 1] === 0x20) end--;
  if (end === 0 || end > 20) return null;
  let small = 0;
  for (let i = 0; i < end; i++) {
    const d = value[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    small = small * 10 + d; // exact below 2^53, i.e. for up to 15 digits
  }
  if (end <= 15) return BigInt(small);
  const n = BigInt(Buffer.from(value.buffer, value.byteOffset, end).toString('latin1'));
  return n > U64_MASK ? null : n;
}
