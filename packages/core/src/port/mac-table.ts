/**
 * The virtual switch's forwarding table: 48-bit MAC -> port index, open addressing over typed
 * arrays. MACs do not fit V8's small integers, so a `Map<number, ...>` keyed by them would box
 * a heap number per lookup; this table keeps the per-frame lookup allocation-free. Entries are
 * either static (a port's own MAC) or learnt from source addresses; learning is bounded (a
 * peer can send any number of source MACs) and a refused entry is counted.
 */

/** A 48-bit MAC as its high 16 and low 32 bits (both small enough for int arithmetic). */
export function macHi(mac: number): number {
  return Math.floor(mac / 0x100000000) & 0xffff;
}
export function macLo(mac: number): number {
  return mac >>> 0;
}

const EMPTY = 0;

export class MacTable {
  private readonly hi: Uint16Array;
  private readonly lo: Uint32Array;
  /** Port index + 1; 0 marks an empty bucket. */
  private readonly port: Int32Array;
  private readonly isStatic: Uint8Array;
  private readonly mask: number;
  private used = 0;
  /** Learnt entries refused because the table was at its bound. */
  full = 0;

  /** @param maxEntries bound on entries; buckets are twice that, rounded up to a power of two. */
  constructor(readonly maxEntries = 1024) {
    let buckets = 2;
    while (buckets < maxEntries * 2) buckets *= 2;
    this.hi = new Uint16Array(buckets);
    this.lo = new Uint32Array(buckets);
    this.port = new Int32Array(buckets);
    this.isStatic = new Uint8Array(buckets);
    this.mask = buckets - 1;
  }

  get size(): number {
    return this.used;
  }

  /** The port index for a MAC, or -1. */
  lookup(hi: number, lo: number): number {
    const i = this.find(hi, lo);
    return this.port[i] === EMPTY ? -1 : this.port[i]! - 1;
  }

  /** Records that `hi:lo` was seen behind `port`; static entries never move. */
  learn(hi: number, lo: number, port: number): void {
    const i = this.find(hi, lo);
    if (this.port[i] !== EMPTY) {
      if (this.isStatic[i] === 0) this.port[i] = port + 1; // the station moved
      return;
    }
    if (this.used >= this.maxEntries) {
      this.full++;
      return;
    }
    this.insert(i, hi, lo, port, 0);
  }

  /** A port's own MAC (configuration, not learning; never refused, never moved by learning). */
  setStatic(hi: number, lo: number, port: number): void {
    const i = this.find(hi, lo);
    if (this.port[i] === EMPTY) {
      // Keep one bucket free so probing always terminates.
      if (this.used >= this.mask) throw new RangeError('MacTable: more static MACs than buckets');
      this.insert(i, hi, lo, port, 1);
    } else {
      this.port[i] = port + 1;
      this.isStatic[i] = 1;
    }
  }

  /** Forgets everything (the network re-adds static entries after a port leaves or changes MAC). */
  clear(): void {
    this.port.fill(EMPTY);
    this.isStatic.fill(0);
    this.used = 0;
  }

  private insert(i: number, hi: number, lo: number, port: number, isStatic: number): void {
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.port[i] = port + 1;
    this.isStatic[i] = isStatic;
    this.used++;
  }

  /** The bucket holding `hi:lo`, or the empty bucket where it would go (linear probing). */
  private find(hi: number, lo: number): number {
    let i = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 15) & this.mask;
    while (this.port[i] !== EMPTY && (this.lo[i] !== lo || this.hi[i] !== hi)) i = (i + 1) & this.mask;
    return i;
  }
}
