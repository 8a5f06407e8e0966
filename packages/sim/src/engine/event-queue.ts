/**
 * The engine's event queue: a binary min-heap on (time, sequence number), so events at the same
 * instant run in the order they were scheduled and a run is a pure function of its inputs.
 *
 * Per event nothing is allocated: times, sequence numbers and arguments live in growable typed
 * arrays, the target is an object that already exists (a simulated NIC, a timer table), and the
 * event kind and argument are plain integers the target interprets.
 */

/** Something that receives events; `kind` and `arg` are whatever the target scheduled. */
export interface SimEventTarget {
  onSimEvent(kind: number, arg: number): void;
}

const INITIAL_CAPACITY = 256;

export class EventQueue {
  private times = new Float64Array(INITIAL_CAPACITY);
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private kinds = new Int32Array(INITIAL_CAPACITY);
  private args = new Float64Array(INITIAL_CAPACITY);
  private targets: (SimEventTarget | null)[] = new Array<SimEventTarget | null>(INITIAL_CAPACITY).fill(null);
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
    let i = this.count++;
    const seq = this.seq++;
    const times = this.times;
    const seqs = this.seqs;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const tp = times[p]!;
      if (tp < timePs || (tp === timePs && seqs[p]! < seq)) break;
      this.move(p, i);
      i = p;
    }
    times[i] = timePs;
    seqs[i] = seq;
    this.kinds[i] = kind;
    this.args[i] = arg;
    this.targets[i] = target;
  }

  /** Removes the earliest event and delivers it to its target. The caller checked `size > 0`. */
  popAndRun(): void {
    const target = this.targets[0]!;
    const kind = this.kinds[0]!;
    const arg = this.args[0]!;
    this.removeTop();
    target.onSimEvent(kind, arg);
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.targets[i] = null;
    this.count = 0;
  }

  private removeTop(): void {
    const last = --this.count;
    const times = this.times;
    const seqs = this.seqs;
    if (last === 0) {
      this.targets[0] = null;
      return;
    }
    const t = times[last]!;
    const s = seqs[last]!;
    const k = this.kinds[last]!;
    const a = this.args[last]!;
    const tg = this.targets[last]!;
    this.targets[last] = null;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let c = l;
      if (r < last) {
        const tr = times[r]!;
        const tl = times[l]!;
        if (tr < tl || (tr === tl && seqs[r]! < seqs[l]!)) c = r;
      }
      const tc = times[c]!;
      if (tc > t || (tc === t && seqs[c]! > s)) break;
      this.move(c, i);
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    this.kinds[i] = k;
    this.args[i] = a;
    this.targets[i] = tg;
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.kinds[to] = this.kinds[from]!;
    this.args[to] = this.args[from]!;
    this.targets[to] = this.targets[from]!;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const t = new Float64Array(n);
    t.set(this.times);
    this.times = t;
    const s = new Float64Array(n);
    s.set(this.seqs);
    this.seqs = s;
    const k = new Int32Array(n);
    k.set(this.kinds);
    this.kinds = k;
    const a = new Float64Array(n);
    a.set(this.args);
    this.args = a;
    const tg = new Array<SimEventTarget | null>(n).fill(null);
    for (let i = 0; i < this.count; i++) tg[i] = this.targets[i]!;
    this.targets = tg;
  }
}
