/**
 * Out-of-order intervals per flow. FlexTOE keeps ONE interval in the protocol record
 * (rx_ooo_start/len) and places out-of-order payload directly into the host buffer; we keep
 * `k` (a stack parameter; interval 0 stays in the 64-byte record, the rest in this side table).
 * Intervals are kept sorted by start and disjoint (adjacent ones are merged).
 */
import { seq, type SeqNumber } from '../wire/seq.js';
import type { ProtocolRecord } from '../state/flow-records.js';

export class OooIntervals {
  /** Intervals 1..k-1 per flow: [start, len] pairs. */
  private readonly extra: Uint32Array;
  private readonly extraPerFlow: number;
  /** Scratch for the interval merge: [start, len] x (k + 1). */
  private readonly scratch: Uint32Array;

  constructor(
    maxFlows: number,
    readonly k: number,
  ) {
    if (!Number.isInteger(k) || k < 1 || k > 64)
      throw new RangeError(`oooIntervals is ${k} but must be 1..64`);
    this.extraPerFlow = (k - 1) * 2;
    this.extra = new Uint32Array(Math.max(1, maxFlows * this.extraPerFlow));
    this.scratch = new Uint32Array((k + 1) * 2);
  }

  /** Number of intervals currently held for the cursor's flow. */
  count(tcp: ProtocolRecord): number {
    if (tcp.oooLen === 0) return 0;
    let n = 1;
    const b = tcp.flowId * this.extraPerFlow;
    for (let i = 0; i < this.k - 1; i++) if (this.extra[b + i * 2 + 1]! !== 0) n++;
    return n;
  }

  clear(tcp: ProtocolRecord): void {
    tcp.oooStart = 0 as SeqNumber;
    tcp.oooLen = 0;
    this.extra.fill(0, tcp.flowId * this.extraPerFlow, (tcp.flowId + 1) * this.extraPerFlow);
  }

  /**
   * Records [start, start+len) as received. Returns false (nothing recorded) when it would
   * need more than `k` disjoint intervals: the caller then drops the payload (FlexTOE).
   */
  add(tcp: ProtocolRecord, start: SeqNumber, len: number): boolean {
    const s = this.scratch;
    let n = this.load(tcp, s);
    // Insert keeping order by start relative to RCV.NXT (all intervals lie beyond it).
    const base = tcp.rcvNxt;
    let i = n;
    while (i > 0 && seq.diff(s[(i - 1) * 2]! as SeqNumber, base) > seq.diff(start, base)) {
      s[i * 2] = s[(i - 1) * 2]!;
      s[i * 2 + 1] = s[(i - 1) * 2 + 1]!;
      i--;
    }
    s[i * 2] = start;
    s[i * 2 + 1] = len;
    n++;
    // Merge overlapping or adjacent neighbours.
    let w = 0;
    for (let r = 1; r < n; r++) {
      const wEnd = seq.add(s[w * 2]! as SeqNumber, s[w * 2 + 1]!);
      const rStart = s[r * 2]! as SeqNumber;
      if (seq.ge(wEnd, rStart)) {
        const rEnd = seq.add(rStart, s[r * 2 + 1]!);
        if (seq.gt(rEnd, wEnd)) s[w * 2 + 1] = seq.diff(rEnd, s[w * 2]! as SeqNumber);
      } else {
        w++;
        s[w * 2] = s[r * 2]!;
        s[w * 2 + 1] = s[r * 2 + 1]!;
      }
    }
    n = w + 1;
    if (n > this.k) return false;
    this.store(tcp, s, n);
    return true;
  }

  /**
   * After RCV.NXT advanced: pops every interval that now touches RCV.NXT and returns the new
   * in-order end (RCV.NXT itself if nothing merged). Intervals wholly below RCV.NXT vanish.
   */
  mergeAt(tcp: ProtocolRecord, rcvNxt: SeqNumber): SeqNumber {
    const s = this.scratch;
    const n = this.load(tcp, s);
    let end = rcvNxt;
    let r = 0;
    for (; r < n; r++) {
      const start = s[r * 2]! as SeqNumber;
      if (seq.gt(start, end)) break;
      end = seq.max(end, seq.add(start, s[r * 2 + 1]!));
    }
    // int32 bits: the caller stores it in the record (never a boxed number, see seq.add32).
    if (r === 0) return (end | 0) as SeqNumber;
    // Keep the rest.
    for (let i = r; i < n; i++) {
      s[(i - r) * 2] = s[i * 2]!;
      s[(i - r) * 2 + 1] = s[i * 2 + 1]!;
    }
    this.store(tcp, s, n - r);
    return (end | 0) as SeqNumber;
  }

  private load(tcp: ProtocolRecord, s: Uint32Array): number {
    if (tcp.oooLen === 0) return 0;
    s[0] = tcp.oooStart;
    s[1] = tcp.oooLen;
    let n = 1;
    const b = tcp.flowId * this.extraPerFlow;
    for (let i = 0; i < this.k - 1; i++) {
      const len = this.extra[b + i * 2 + 1]!;
      if (len === 0) break;
      s[n * 2] = this.extra[b + i * 2]!;
      s[n * 2 + 1] = len;
      n++;
    }
    return n;
  }

  private store(tcp: ProtocolRecord, s: Uint32Array, n: number): void {
    tcp.oooStart = (n > 0 ? s[0]! : 0) as SeqNumber;
    tcp.oooLen = n > 0 ? s[1]! : 0;
    const b = tcp.flowId * this.extraPerFlow;
    for (let i = 0; i < this.k - 1; i++) {
      const src = i + 1;
      this.extra[b + i * 2] = src < n ? s[src * 2]! : 0;
      this.extra[b + i * 2 + 1] = src < n ? s[src * 2 + 1]! : 0;
    }
  }
}
