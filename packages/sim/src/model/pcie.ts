/**
 * The PCIe DMA engine between the NIC and host memory, in two halves:
 * - `SimDma` is the `DmaEngine` the core uses: it copies at once (functional first: the bytes
 *   are right whatever the timing says) and tells the timing model what it was asked to move;
 * - `PcieModel` says when each copy completes: commands in flight per direction are bounded
 *   (the next one waits for the oldest to complete), bytes share the link's bandwidth, and each
 *   command pays the direction's latency (a read is a round trip, a write is posted).
 */
import { DmaDirection, MemcpyDma, type DmaEngine, type DmaLimits } from '@flextoe/core';
import type { PcieSpec } from './spec.js';

export interface DmaSink {
  onDma(direction: DmaDirection, bytes: number): void;
}

export class SimDma implements DmaEngine {
  readonly limits: DmaLimits;
  /**
   * The copies and the completion ring are core's `MemcpyDma` (the inline runner's engine): its
   * copies make no view per call (a `Buffer#copy` of part of a source builds one, about 100 B
   * of garbage per payload copy) and take the native prefix copy for payloads.
   */
  private readonly engine: MemcpyDma;
  /**
   * The bytes are in place when `submit` returns (functional first); only the modelled time
   * (`PcieModel`) says when the far side sees them. With host rings and frame slots in the
   * payload memory (`SimMemoryTiers.payloadMemory`) the data path then copies and sums a
   * transmit payload in one WebAssembly pass (`submitSummed`).
   */
  readonly copiesAtSubmit = true;
  sink: DmaSink | null = null;

  constructor(spec: PcieSpec) {
    // Functionally the copies complete at once and the data path drains them right away; the
    // in-flight bound that matters is the modelled one (PcieModel). Leave room for a burst.
    this.engine = new MemcpyDma(Math.max(spec.inFlightPerDirection, 1024), spec.maxCopyBytes);
    this.limits = this.engine.limits;
  }

  submit(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): boolean {
    if (!this.engine.submit(direction, src, srcOffset, dst, dstOffset, length, tag)) return false;
    if (this.sink !== null) this.sink.onDma(direction, length);
    return true;
  }

  submitSummed(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): number {
    const sum = this.engine.submitSummed(direction, src, srcOffset, dst, dstOffset, length, tag);
    if (sum >= 0 && this.sink !== null) this.sink.onDma(direction, length);
    return sum;
  }

  poll(out: Uint32Array, max: number): number {
    return this.engine.poll(out, max);
  }

  inFlight(direction: DmaDirection): number {
    return this.engine.inFlight(direction);
  }
}

export class PcieModel {
  private readonly cap: number;
  /** Completion times of commands in flight, per direction, FIFO (completions are in order:
   * one link per direction, constant latency). */
  private readonly ring: Float64Array[];
  private readonly head = new Int32Array(2);
  private readonly count = new Int32Array(2);
  private readonly linkFree = new Float64Array(2);
  private readonly psPerByte: number;
  private readonly latencyPs: Float64Array;
  readonly commands = new Float64Array(2);
  readonly bytes = new Float64Array(2);
  readonly maxInFlight = new Float64Array(2);
  /** Time commands waited for an in-flight slot, ps. */
  readonly slotWaitPs = new Float64Array(2);

  constructor(readonly spec: PcieSpec) {
    if (!(Number.isInteger(spec.inFlightPerDirection) && spec.inFlightPerDirection >= 1))
      throw new RangeError(
        `pcie.inFlightPerDirection must be a positive integer, got ${spec.inFlightPerDirection}`,
      );
    if (!(spec.bytesPerSecond > 0)) throw new RangeError(`pcie.bytesPerSecond must be > 0`);
    this.cap = spec.inFlightPerDirection;
    this.ring = [new Float64Array(this.cap), new Float64Array(this.cap)];
    this.psPerByte = 1e12 / spec.bytesPerSecond;
    this.latencyPs = new Float64Array(2);
    // ToHost is a posted write; FromHost a read (request out, completion back).
    this.latencyPs[DmaDirection.ToHost] = spec.writeLatencyNs * 1000;
    this.latencyPs[DmaDirection.FromHost] = spec.readLatencyNs * 1000;
  }

  /**
   * The time register of `issueTimed`: the issue time in, the completion time out. Times are
   * picoseconds, doubles beyond V8's small integers, which a call that is not inlined boxes
   * (16 B each way); the timing model passes them here instead.
   */
  readonly timeReg = new Float64Array(1);

  /** Issues a copy of `bytes` at `tPs` in `dir`; returns when it completes (data at the far side). */
  issue(dir: DmaDirection, tPs: number, bytes: number): number {
    this.timeReg[0] = tPs;
    this.issueTimed(dir, bytes);
    return this.timeReg[0]!;
  }

  /** `issue` with the time in and out through `timeReg[0]` (allocation-free for the hot path). */
  issueTimed(dir: DmaDirection, bytes: number): void {
    const tPs = this.timeReg[0]!;
    const ring = this.ring[dir]!;
    let h = this.head[dir]!;
    let n = this.count[dir]!;
    while (n > 0 && ring[h]! <= tPs) {
      h = h + 1 === this.cap ? 0 : h + 1;
      n--;
    }
    let start = tPs;
    if (n === this.cap) {
      // Every slot busy: wait for the oldest command to complete.
      start = ring[h]!;
      this.slotWaitPs[dir]! += start - tPs;
      h = h + 1 === this.cap ? 0 : h + 1;
      n--;
    }
    const link = Math.max(start, this.linkFree[dir]!) + bytes * this.psPerByte;
    this.linkFree[dir] = link;
    const done = link + this.latencyPs[dir]!;
    let tail = h + n;
    if (tail >= this.cap) tail -= this.cap;
    ring[tail] = done;
    n++;
    this.head[dir] = h;
    this.count[dir] = n;
    if (n > this.maxInFlight[dir]!) this.maxInFlight[dir] = n;
    this.commands[dir]!++;
    this.bytes[dir]! += bytes;
    this.timeReg[0] = done;
  }

  resetCounters(): void {
    this.commands.fill(0);
    this.bytes.fill(0);
    this.maxInFlight.fill(0);
    this.slotWaitPs.fill(0);
  }
}
