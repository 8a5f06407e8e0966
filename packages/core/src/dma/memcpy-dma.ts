/**
 * A DMA engine that copies at once (host memory is the NIC's memory): the inline runner's and
 * the x86 backend's engine. Completions are reported on the next `poll`, as hardware would.
 */
import { DmaDirection, type DmaEngine, type DmaLimits } from '../hw/dma-engine.js';

export class MemcpyDma implements DmaEngine {
  readonly limits: DmaLimits;
  private readonly done: Uint32Array;
  private head = 0;
  private count = 0;
  private readonly pending = [0, 0];

  constructor(inFlightPerQueue = 1024, maxCopyBytes = 1 << 20) {
    this.limits = { inFlightPerQueue, maxCopyBytes };
    this.done = new Uint32Array(inFlightPerQueue * 2);
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
    if (this.pending[direction]! >= this.limits.inFlightPerQueue) return false;
    if (length > this.limits.maxCopyBytes)
      throw new RangeError(`DMA copy of ${length} B exceeds ${this.limits.maxCopyBytes} B`);
    // Buffer.prototype.copy is a native memmove that allocates nothing.
    Buffer.prototype.copy.call(src, dst, dstOffset, srcOffset, srcOffset + length);
    this.pending[direction]!++;
    const cap = this.done.length;
    this.done[(this.head + this.count) % cap] = (tag << 1) | direction;
    this.count++;
    return true;
  }

  poll(out: Uint32Array, max: number): number {
    let n = 0;
    const cap = this.done.length;
    while (n < max && this.count > 0) {
      const v = this.done[this.head]!;
      this.pending[v & 1]!--;
      out[n++] = v >>> 1;
      this.head = (this.head + 1) % cap;
      this.count--;
    }
    return n;
  }

  inFlight(direction: DmaDirection): number {
    return this.pending[direction]!;
  }
}
