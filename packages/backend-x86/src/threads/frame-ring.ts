/**
 * A single-producer / single-consumer ring of Ethernet frames in a SharedArrayBuffer: the hand-off
 * of packets between threads (port bridge <-> NIC core, NIC core -> control plane exceptions,
 * control plane -> NIC core control frames). Built on core's `SpscRing` with fixed-size entries:
 *
 *   word 0  frame length in bytes     word 1  aux (a slow-path reason, a flag)
 *   words 2.. the frame bytes (capacity `maxFrameBytes`, rounded up to a word)
 *
 * Both sides keep one `PacketBuffer` view per slot, preallocated, so a producer can let a port
 * write a frame straight into the ring (`reserve` -> `slot(i).data`) and a consumer can hand a
 * slot to a port's `txBurst` without copying. Nothing allocates per frame.
 */
import { PacketBuffer, SpscRing } from '@flextoe/core/nic';

const HEADER_WORDS = 2;

export interface FrameRingShape {
  readonly capacity: number;
  readonly maxFrameBytes: number;
}

export class FrameRing {
  /** Bytes a ring of `capacity` frames of up to `maxFrameBytes` needs. */
  static bytesFor(shape: FrameRingShape): number {
    return SpscRing.bytesFor(entryWordsFor(shape.maxFrameBytes), shape.capacity);
  }

  /** A new ring in a fresh SharedArrayBuffer. */
  static create(shape: FrameRingShape): FrameRing {
    return new FrameRing(new SharedArrayBuffer(FrameRing.bytesFor(shape)), shape, false);
  }

  /** The other thread's view of a ring `create` made. */
  static attach(buffer: SharedArrayBuffer, shape: FrameRingShape): FrameRing {
    return new FrameRing(buffer, shape, true);
  }

  readonly ring: SpscRing;
  readonly entryWords: number;
  readonly capacity: number;
  readonly maxFrameBytes: number;
  private readonly views: PacketBuffer[];
  private readonly words: Uint32Array;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    shape: FrameRingShape,
    attach: boolean,
  ) {
    this.entryWords = entryWordsFor(shape.maxFrameBytes);
    this.capacity = shape.capacity;
    this.maxFrameBytes = shape.maxFrameBytes;
    this.ring = attach
      ? SpscRing.attach(buffer, 0, this.entryWords, shape.capacity)
      : new SpscRing(buffer, 0, this.entryWords, shape.capacity);
    this.words = this.ring.data;
    this.views = [];
    const base = this.words.byteOffset;
    for (let i = 0; i < shape.capacity; i++) {
      this.views.push(
        new PacketBuffer(this.maxFrameBytes, {
          buffer,
          byteOffset: base + (i * this.entryWords + HEADER_WORDS) * 4,
        }),
      );
    }
  }

  /** The shape to give `attach` on the other side. */
  get shape(): FrameRingShape {
    return { capacity: this.capacity, maxFrameBytes: this.maxFrameBytes };
  }

  // ---------------------------------------------------------------- producer

  /** Free slots (exact for the producer). */
  get free(): number {
    return this.ring.free;
  }

  /**
   * Claims the next slot; returns its index (for `slot`, `setFrame`) or -1 when full (counted
   * by the ring as `full`). Publish with `commit`.
   */
  reserve(): number {
    const w = this.ring.reserve();
    return w < 0 ? -1 : w / this.entryWords;
  }

  /** Records a reserved slot's frame length and aux word. */
  setFrame(index: number, length: number, aux: number): void {
    const w = index * this.entryWords;
    this.words[w] = length;
    this.words[w + 1] = aux;
  }

  /** Publishes every reserved slot. */
  commit(): void {
    this.ring.commit();
  }

  /** Abandons every reserved, unpublished slot. */
  cancel(): void {
    this.ring.cancel();
  }

  /** Copies `length` bytes of `src` into the ring as one frame and publishes it; false when full. */
  push(src: Uint8Array, length: number, aux: number): boolean {
    const i = this.reserve();
    if (i < 0) return false;
    Buffer.prototype.copy.call(src, this.views[i]!.data, 0, 0, length);
    this.setFrame(i, length, aux);
    this.commit();
    return true;
  }

  // ---------------------------------------------------------------- consumer

  /** Published frames not yet consumed. */
  get size(): number {
    return this.ring.size;
  }

  /** Index of the oldest frame, or -1 when empty; valid until `consume`. */
  peek(): number {
    const w = this.ring.peek();
    return w < 0 ? -1 : w / this.entryWords;
  }

  /** Frees the oldest frame (after `peek`). */
  consume(): void {
    this.ring.consume();
  }

  /** Length of the frame in slot `index`. */
  frameLength(index: number): number {
    return this.words[index * this.entryWords]!;
  }

  aux(index: number): number {
    return this.words[index * this.entryWords + 1]!;
  }

  /**
   * The slot's bytes as a PacketBuffer (a view into the ring; `length` set from the slot when
   * `withLength`). Valid while the slot is reserved (producer) or peeked (consumer).
   */
  slot(index: number, withLength = false): PacketBuffer {
    const v = this.views[index]!;
    if (withLength) v.length = this.words[index * this.entryWords]!;
    return v;
  }

  /** The slot `k` places after `index` (for consumers that batch several peeked frames). */
  next(index: number, k: number): number {
    return (index + k) & (this.capacity - 1);
  }
}

/** SpscRing entries are at most 1024 words: 2 header words and 4088 frame bytes. */
export const MAX_RING_FRAME_BYTES = (1024 - HEADER_WORDS) * 4;

function entryWordsFor(maxFrameBytes: number): number {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 60 || maxFrameBytes > MAX_RING_FRAME_BYTES)
    throw new RangeError(`frame ring: maxFrameBytes ${maxFrameBytes} must be 60..${MAX_RING_FRAME_BYTES}`);
  return HEADER_WORDS + Math.ceil(maxFrameBytes / 4);
}
