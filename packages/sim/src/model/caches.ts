/**
 * Cache models, all allocation-free after construction and deterministic:
 * - `CamLruCache`: fully associative LRU, the NFP's 16-entry local-memory CAM (FlexTOE's
 *   flow-state and connection caches).
 * - `DirectMappedCache`: one slot per index (FlexTOE's 512-entry CLS flow-state cache,
 *   `flow_id & 511`; the 128-entry flow-hash cache, indexed by the 4-tuple's hash).
 * - `SetAssocLruCache`: a hardware cache of lines in ways-way sets (ARM Cortex-A72 L1/L2/L3).
 * `lookup(tag)` answers hit or miss and, on a miss, installs the tag (evicting the victim).
 */

export interface SimCache {
  /** True on a hit; on a miss the tag is installed. Tags are non-negative integers < 2^53. */
  lookup(tag: number): boolean;
  /** Forgets everything (hits and misses counters stay). */
  reset(): void;
  hits: number;
  misses: number;
}

const EMPTY = -1;

export class CamLruCache implements SimCache {
  private readonly tags: Float64Array;
  private readonly used: Float64Array;
  private clock = 0;
  /** The entry of the last hit or fill. */
  private mru = 0;
  hits = 0;
  misses = 0;

  constructor(readonly entries: number) {
    if (!(Number.isInteger(entries) && entries >= 1))
      throw new RangeError(`CAM entries must be >= 1, got ${entries}`);
    this.tags = new Float64Array(entries).fill(EMPTY);
    this.used = new Float64Array(entries);
  }

  lookup(tag: number): boolean {
    const t = this.tags;
    const u = this.used;
    const now = ++this.clock;
    // The entry hit last first (one connection hits it access after access), then the tags
    // alone; the LRU victim is searched only on a miss. Tags are unique in the CAM (installed
    // only when absent), so this finds the same entry as one scan, and the victim is the same.
    const mru = this.mru;
    if (t[mru] === tag) {
      u[mru] = now;
      this.hits++;
      return true;
    }
    const n = t.length;
    for (let i = 0; i < n; i++) {
      if (t[i] === tag) {
        u[i] = now;
        this.mru = i;
        this.hits++;
        return true;
      }
    }
    let victim = 0;
    for (let i = 1; i < n; i++) if (u[i]! < u[victim]!) victim = i;
    t[victim] = tag;
    u[victim] = now;
    this.mru = victim;
    this.misses++;
    return false;
  }

  reset(): void {
    this.tags.fill(EMPTY);
    this.used.fill(0);
    this.mru = 0;
  }
}

/** A 32-bit integer mix (murmur3's finaliser): a stand-in for a hardware hash of the key. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class DirectMappedCache implements SimCache {
  private readonly tags: Float64Array;
  private readonly mask: number;
  hits = 0;
  misses = 0;

  constructor(
    readonly entries: number,
    private readonly hashIndex: boolean,
  ) {
    if (!(Number.isInteger(entries) && entries >= 1 && (entries & (entries - 1)) === 0))
      throw new RangeError(`direct-mapped entries must be a power of two, got ${entries}`);
    this.tags = new Float64Array(entries).fill(EMPTY);
    this.mask = entries - 1;
  }

  lookup(tag: number): boolean {
    // The low 32 bits of a tag are the record key; the high bits name the table.
    const key = tag % 4294967296;
    const i = (this.hashIndex ? mix32(key) : key) & this.mask;
    if (this.tags[i] === tag) {
      this.hits++;
      return true;
    }
    this.tags[i] = tag;
    this.misses++;
    return false;
  }

  reset(): void {
    this.tags.fill(EMPTY);
  }
}

export class SetAssocLruCache implements SimCache {
  private readonly tags: Float64Array;
  private readonly used: Float64Array;
  private readonly sets: number;
  private clock = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly lines: number,
    readonly ways: number,
  ) {
    const sets = lines / ways;
    if (!(Number.isInteger(sets) && sets >= 1 && (sets & (sets - 1)) === 0))
      throw new RangeError(`set-associative cache: ${lines} lines / ${ways} ways must be a power of two`);
    this.sets = sets;
    this.tags = new Float64Array(lines).fill(EMPTY);
    this.used = new Float64Array(lines);
  }

  /** `tag` is a line address (byte address / line size). */
  lookup(tag: number): boolean {
    const base = (tag % this.sets) * this.ways;
    const t = this.tags;
    const u = this.used;
    const now = ++this.clock;
    let victim = base;
    for (let i = base; i < base + this.ways; i++) {
      if (t[i] === tag) {
        u[i] = now;
        this.hits++;
        return true;
      }
      if (u[i]! < u[victim]!) victim = i;
    }
    t[victim] = tag;
    u[victim] = now;
    this.misses++;
    return false;
  }

  reset(): void {
    this.tags.fill(EMPTY);
    this.used.fill(0);
  }
}
