/**
 * A frame ring with one stage in the middle: a producer (the port bridge) appends frames, a
 * stage thread (a pre-processing replica) works on them in place and hands each one on with a
 * verdict, and a consumer (the NIC core's protocol stage) takes them in the same order. Frames
 * never move between the stages, only three free-running indices do (the LMAX Disruptor's
 * sequence barriers; FlexTOE's stages likewise pass work-item handles, not packets):
 *
 *   tail  frames published by the producer          (producer-owned line)
 *   mid   frames the stage has finished              (stage-owned line)
 *   head  frames the consumer has taken              (consumer-owned line)
 *
 * with head <= mid <= tail (wrap-safe, capacity a power of two): the producer waits for head,
 * the stage for tail, the consumer for mid. Each index is published with an Atomics.store after
 * the slot's words are written and read with an Atomics.load before they are read, as in core's
 * SpscRing (release/acquire through sequentially consistent Atomics). Entries are
 *
 *   word 0  frame length     word 1  verdict (0: accepted; otherwise why it was dropped)
 *   words 2.. frame bytes
 *
 * Nothing allocates per frame; every slot has a preallocated PacketBuffer view.
 */
import { PacketBuffer } from '@flextoe/core/nic';
import type { FrameRingShape } from './frame-ring.js';

const MAGIC = 0x5354_4752; // 'STGR'
const HEADER_BYTES = 192;
const W_MAGIC = 0;
const W_CAPACITY = 1;
const W_ENTRY_WORDS = 2;
const W_TAIL = 16; // byte 64
const W_MID = 32; // byte 128
const W_HEAD = 40; // byte 160
const ENTRY_HEADER_WORDS = 2;

export class StagedRing {
  static bytesFor(shape: FrameRingShape): number {
    return HEADER_BYTES + shape.capacity * entryWordsFor(shape.maxFrameBytes) * 4;
  }

  static create(shape: FrameRingShape): StagedRing {
    return new StagedRing(new SharedArrayBuffer(StagedRing.bytesFor(shape)), shape, false);
  }

  static attach(buffer: SharedArrayBuffer, shape: FrameRingShape): StagedRing {
    return new StagedRing(buffer, shape, true);
  }

  readonly capacity: number;
  readonly maxFrameBytes: number;
  private readonly entryWords: number;
  private readonly mask: number;
  private readonly ctl: Int32Array;
  private readonly words: Uint32Array;
  private readonly views: PacketBuffer[] = [];
  // Thread-local cursors: the producer's next tail, the stage's next mid, the consumer's head,
  // and each side's cached view of the index it waits for.
  private pTail: number;
  private pHead: number;
  private sMid: number;
  private sTail: number;
  private cHead: number;
  private cMid: number;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    shape: FrameRingShape,
    attach: boolean,
  ) {
    const cap = shape.capacity;
    if (!Number.isInteger(cap) || cap < 1 || cap > 1 << 20 || (cap & (cap - 1)) !== 0)
      throw new RangeError(`staged ring: capacity ${cap} must be a power of two from 1 to 2^20`);
    this.capacity = cap;
    this.maxFrameBytes = shape.maxFrameBytes;
    this.entryWords = entryWordsFor(shape.maxFrameBytes);
    this.mask = cap - 1;
    this.ctl = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.words = new Uint32Array(buffer, HEADER_BYTES, cap * this.entryWords);
    if (attach) {
      if (Atomics.load(this.ctl, W_MAGIC) !== MAGIC)
        throw new RangeError('staged ring: no ring in this buffer');
      if (this.ctl[W_CAPACITY] !== cap || this.ctl[W_ENTRY_WORDS] !== this.entryWords)
        throw new RangeError('staged ring: geometry differs from the ring in this buffer');
    } else {
      this.ctl.fill(0);
      this.ctl[W_CAPACITY] = cap;
      this.ctl[W_ENTRY_WORDS] = this.entryWords;
      Atomics.store(this.ctl, W_MAGIC, MAGIC);
    }
    for (let i = 0; i < cap; i++)
      this.views.push(
        new PacketBuffer(this.maxFrameBytes, {
          buffer,
          byteOffset: HEADER_BYTES + (i * this.entryWords + ENTRY_HEADER_WORDS) * 4,
        }),
      );
    this.pTail = this.sTail = Atomics.load(this.ctl, W_TAIL);
    this.sMid = this.cMid = Atomics.load(this.ctl, W_MID);
    this.pHead = this.cHead = Atomics.load(this.ctl, W_HEAD);
  }

  get shape(): FrameRingShape {
    return { capacity: this.capacity, maxFrameBytes: this.maxFrameBytes };
  }

  // ---------------------------------------------------------------- producer

  /** Free slots (exact for the producer). */
  get free(): number {
    this.pHead = Atomics.load(this.ctl, W_HEAD);
    return this.capacity - ((this.pTail - this.pHead) | 0);
  }

  /** Copies a frame in and publishes it; false when the ring is full. */
  push(src: Uint8Array, length: number): boolean {
    const t = this.pTail;
    if (((t - this.pHead) | 0) >= this.capacity) {
      this.pHead = Atomics.load(this.ctl, W_HEAD);
      if (((t - this.pHead) | 0) >= this.capacity) return false;
    }
    const i = t & this.mask;
    Buffer.prototype.copy.call(src, this.views[i]!.data, 0, 0, length);
    const w = i * this.entryWords;
    this.words[w] = length;
    this.words[w + 1] = 0;
    this.pTail = (t + 1) | 0;
    Atomics.store(this.ctl, W_TAIL, this.pTail);
    return true;
  }

  // ---------------------------------------------------------------- stage

  /** Slot of the oldest frame the stage has not finished, or -1. */
  stagePeek(): number {
    const m = this.sMid;
    if (m === this.sTail) {
      this.sTail = Atomics.load(this.ctl, W_TAIL);
      if (m === this.sTail) return -1;
    }
    return m & this.mask;
  }

  /** Finishes the oldest frame with `verdict` (0: accepted); publish with `stageCommit`. */
  stageDone(verdict: number): void {
    this.words[(this.sMid & this.mask) * this.entryWords + 1] = verdict;
    this.sMid = (this.sMid + 1) | 0;
  }

  /** Hands every finished frame to the consumer. */
  stageCommit(): void {
    Atomics.store(this.ctl, W_MID, this.sMid);
  }

  /** Frames published and not finished by the stage (a snapshot). */
  get stagePending(): number {
    return (Atomics.load(this.ctl, W_TAIL) - Atomics.load(this.ctl, W_MID)) | 0;
  }

  // ---------------------------------------------------------------- consumer

  /** Slot of the oldest finished frame, or -1; valid until `consume`. */
  peek(): number {
    const h = this.cHead;
    if (h === this.cMid) {
      this.cMid = Atomics.load(this.ctl, W_MID);
      if (h === this.cMid) return -1;
    }
    return h & this.mask;
  }

  /**
   * Slot of the k-th oldest finished frame (0: the one `peek` gives), or -1: a consumer that
   * takes a batch out of several rings in turn looks past its head before consuming.
   */
  peekAt(k: number): number {
    const h = (this.cHead + k) | 0;
    if (((this.cMid - h) | 0) <= 0) {
      this.cMid = Atomics.load(this.ctl, W_MID);
      if (((this.cMid - h) | 0) <= 0) return -1;
    }
    return h & this.mask;
  }

  consume(): void {
    if (this.cHead === this.cMid) return;
    this.cHead = (this.cHead + 1) | 0;
    Atomics.store(this.ctl, W_HEAD, this.cHead);
  }

  /** Finished frames not yet taken (a snapshot). */
  get ready(): number {
    return (Atomics.load(this.ctl, W_MID) - Atomics.load(this.ctl, W_HEAD)) | 0;
  }

  /** Frames published and not yet taken by the consumer (a snapshot, from any thread). */
  get size(): number {
    return (Atomics.load(this.ctl, W_TAIL) - Atomics.load(this.ctl, W_HEAD)) | 0;
  }

  // ---------------------------------------------------------------- slots

  frameLength(slot: number): number {
    return this.words[slot * this.entryWords]!;
  }

  verdict(slot: number): number {
    return this.words[slot * this.entryWords + 1]!;
  }

  /** The slot's bytes; `length` set from the slot when `withLength`. */
  slot(slot: number, withLength = false): PacketBuffer {
    const v = this.views[slot]!;
    if (withLength) v.length = this.words[slot * this.entryWords]!;
    return v;
  }
}

function entryWordsFor(maxFrameBytes: number): number {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 60 || maxFrameBytes > 65536)
    throw new RangeError(`staged ring: maxFrameBytes ${maxFrameBytes} must be 60..65536`);
  return ENTRY_HEADER_WORDS + Math.ceil(maxFrameBytes / 4);
}
