/**
 * The engine's event queue: a min-heap on (time, sequence number), so events at the same instant
 * run in the order they were scheduled and a run is a pure function of its inputs.
 *
 * Per event nothing is allocated: the heap holds times, sequence numbers and slot numbers in
 * typed arrays; an event's target, kind and argument sit in its slot (a pool with a free list),
 * so sifting moves three numbers, not the whole event. The target is an object that already
 * exists (a simulated NIC, a timer table); kind and argument are plain numbers it interprets.
 * The heap is 4-ary: half the levels of a binary heap for the same compares, fewer moves.
 */

/** Something that receives events; `kind` and `arg` are whatever the target scheduled. */
export interface SimEventTarget {
  onSimEvent(kind: number, arg: number): void;
}

const INITIAL_CAPACITY = 256;

export class EventQueue {
  // The heap: (time, seq) keys and the slot of each entry.
  private times = new Float64Array(INITIAL_CAPACITY);
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private slots = new Int32Array(INITIAL_CAPACITY);
  // Slots: what to deliver.
  private kinds = new Int32Array(INITIAL_CAPACITY);
  private args = new Float64Array(INITIAL_CAPACITY);
  private targets: (SimEventTarget | null)[] = new Array<SimEventTarget | null>(INITIAL_CAPACITY).fill(null);
  private free = Int32Array.from({ length: INITIAL_CAPACITY }, (_, i) => INITIAL_CAPACITY - 1 - i);
  private freeTop = INITIAL_CAPACITY;
  private count = 0;
  private seq = 0;

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event in picoseconds, Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : this.times[0]!;
  }

  push(timePs: number, target: SimEventTarget, kind: number, arg: number): void {
    if (this.count === this.times.length) this.grow();
    const slot = this.free[--this.freeTop]!;
    this.kinds[slot] = kind;
    this.args[slot] = arg;
    this.targets[slot] = target;
    let i = this.count++;
    const seq = this.seq++;
    const times = this.times;
    const seqs = this.seqs;
    const slots = this.slots;
    // Sift up: move parents down until the place of the new event is found. Its sequence
    // number is the largest yet, so it goes after every parent with the same time.
    while (i > 0) {
      const p = (i - 1) >> 2;
      const tp = times[p]!;
      if (tp <= timePs) break;
      times[i] = tp;
      seqs[i] = seqs[p]!;
      slots[i] = slots[p]!;
      i = p;
    }
    times[i] = timePs;
    seqs[i] = seq;
    slots[i] = slot;
  }

  /** Removes the earliest event and delivers it to its target. The caller checked `size > 0`. */
  popAndRun(): void {
    const slot = this.slots[0]!;
    const target = this.targets[slot]!;
    const kind = this.kinds[slot]!;
    const arg = this.args[slot]!;
    this.targets[slot] = null;
    this.free[this.freeTop++] = slot;
    this.removeTop();
    target.onSimEvent(kind, arg);
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[i]!;
      this.targets[slot] = null;
      this.free[this.freeTop++] = slot;
    }
    this.count = 0;
  }

  private removeTop(): void {
    const last = --this.count;
    if (last === 0) return;
    const times = this.times;
    const seqs = this.seqs;
    const slots = this.slots;
    const t = times[last]!;
    const s = seqs[last]!;
    const sl = slots[last]!;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= last) break;
      // The smallest of up to four children.
      let c = first;
      let tc = times[first]!;
      let sc = seqs[first]!;
      const end = first + 4 < last ? first + 4 : last;
      for (let k = first + 1; k < end; k++) {
        const tk = times[k]!;
        if (tk < tc || (tk === tc && seqs[k]! < sc)) {
          c = k;
          tc = tk;
          sc = seqs[k]!;
        }
      }
      if (tc > t || (tc === t && sc > s)) break;
      times[i] = tc;
      seqs[i] = sc;
      slots[i] = slots[c]!;
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    slots[i] = sl;
  }

  private grow(): void {
    const old = this.times.length;
    const n = old * 2;
    const grow64 = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const grow32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.times = grow64(this.times);
    this.seqs = grow64(this.seqs);
    this.slots = grow32(this.slots);
    this.kinds = grow32(this.kinds);
    this.args = grow64(this.args);
    const tg = new Array<SimEventTarget | null>(n).fill(null);
    for (let i = 0; i < old; i++) tg[i] = this.targets[i]!;
    this.targets = tg;
    // Every old slot is in use (the heap was full): the new ones are free.
    const free = new Int32Array(n);
    for (let i = 0; i < n - old; i++) free[i] = n - 1 - i;
    this.free = free;
    this.freeTop = n - old;
  }
}
