/**
 * A DMA engine that copies at once (host memory is the NIC's memory): the inline runner's and
 * the x86 backend's engine. Completions are reported on the next `poll`, as hardware would.
 */
import { DmaDirection, type DmaEngine, type DmaLimits } from '../hw/dma-engine.js';
import { copyBytes, copyBytesVia, copyBytesWide, WIDE_COPY_MIN } from '../util/copy-frame.js';
import { doublesOf, LITTLE_ENDIAN, wordsOf } from '../wire/bytes.js';
import { foldSum, sumWords } from '../wire/checksum.js';
import { isPayloadBuffer, wasmPayload } from '../util/wasm-payload.js';

/** The WebAssembly payload passes (null without them: the JavaScript copies below). */
const WASM = wasmPayload();
/**
 * Copies at least this long between two views of the WebAssembly payload memory take its
 * `memory.copy` (1448 B: ~30 ns against ~155 ns in 8-byte elements; 64 B: about even).
 */
const WASM_COPY_MIN = 64;

/**
 * The last few memories the engine copied between (the data path's packet-buffer regions and
 * the rings of the flows it is serving), with their word views and offsets: found by identity
 * in a few compares, where `wordsOf` costs a WeakMap lookup and `byteOffset` a builtin call.
 */
const VIEW_CACHE = 8;
const NO_WORDS = new Int32Array(0);

class WordViewCache {
  private readonly keys: (Uint8Array | null)[] = new Array<Uint8Array | null>(VIEW_CACHE).fill(null);
  readonly words: Int32Array[] = new Array<Int32Array>(VIEW_CACHE).fill(NO_WORDS);
  /** 8-byte views (`doublesOf`), made on first use: only copies that share alignment take them. */
  readonly doubles: (Float64Array | null)[] = new Array<Float64Array | null>(VIEW_CACHE).fill(null);
  readonly bases = new Int32Array(VIEW_CACHE);
  /** 1 when the entry's buffer is the WebAssembly payload memory (`bases` are then addresses). */
  readonly wasm = new Uint8Array(VIEW_CACHE);
  private victim = 0;

  /** The entry of `buf` (made if missing, replacing the oldest other than entry `keep`). */
  find(buf: Uint8Array, keep: number): number {
    const keys = this.keys;
    for (let i = 0; i < VIEW_CACHE; i++) if (keys[i] === buf) return i;
    let i = this.victim;
    if (i === keep) i = (i + 1) & (VIEW_CACHE - 1);
    this.victim = (i + 1) & (VIEW_CACHE - 1);
    keys[i] = buf;
    this.words[i] = wordsOf(buf);
    this.doubles[i] = null;
    this.bases[i] = buf.byteOffset;
    this.wasm[i] = isPayloadBuffer(buf.buffer) ? 1 : 0;
    return i;
  }

  /** The 8-byte view of entry `i`'s buffer, `buf`. */
  doublesAt(i: number, buf: Uint8Array): Float64Array {
    return this.doubles[i] ?? (this.doubles[i] = doublesOf(buf));
  }
}

/** Copies at least this long from the start of their source use the native prefix copy. */
const NATIVE_PREFIX_MIN = 256;
const fillFrom = Buffer.prototype.fill as (
  this: Uint8Array,
  value: Uint8Array,
  offset: number,
  end: number,
) => Uint8Array;

/** Copies shorter than this go byte by byte (finding views would cost more). */
const WORD_COPY_MIN = 32;

/**
 * The checks every engine makes on a copy it is handed (a data-path bug, never a packet's fault:
 * the data path computes offsets from its own records): the engine's size limit and both ranges.
 */
export function checkDmaCopy(
  limits: DmaLimits,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  length: number,
): void {
  if (length > limits.maxCopyBytes)
    throw new RangeError(`DMA copy of ${length} B exceeds ${limits.maxCopyBytes} B`);
  if (
    srcOffset < 0 ||
    dstOffset < 0 ||
    length < 0 ||
    srcOffset + length > src.length ||
    dstOffset + length > dst.length
  )
    throw new RangeError(
      `DMA copy of ${length} B from ${srcOffset} of ${src.length} to ${dstOffset} of ${dst.length} is out of bounds`,
    );
}

export class MemcpyDma implements DmaEngine {
  readonly limits: DmaLimits;
  /** The copy is made inside `submit`; only its completion report waits for `poll`. */
  readonly copiesAtSubmit = true;
  /** Completion ring of (tag << 1 | direction); a power of two so indexes wrap with a mask. */
  private readonly done: Uint32Array;
  private readonly mask: number;
  private head = 0;
  private count = 0;
  private pendingToHost = 0;
  private pendingFromHost = 0;
  private readonly views = new WordViewCache();

  constructor(inFlightPerQueue = 1024, maxCopyBytes = 1 << 20) {
    this.limits = { inFlightPerQueue, maxCopyBytes };
    let cap = 2;
    while (cap < inFlightPerQueue * 2) cap <<= 1;
    this.done = new Uint32Array(cap);
    this.mask = cap - 1;
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
    if (this.full(direction)) return false;
    checkDmaCopy(this.limits, src, srcOffset, dst, dstOffset, length);
    // Both views over the payload memory (host rings and frame slots of the inline runner):
    // memory.copy by address; otherwise JavaScript.
    if (
      WASM === null ||
      length < WASM_COPY_MIN ||
      src === dst ||
      !this.copyByAddress(src, srcOffset, dst, dstOffset, length)
    )
      this.copyInJs(src, srcOffset, dst, dstOffset, length);
    this.completed(direction, tag);
    return true;
  }

  /**
   * `submit` that sums what it copies (`DmaEngine.submitSummed`): between two views of the
   * WebAssembly payload memory one SIMD pass copies and sums (1448 B: ~57 ns against ~75 ns for
   * copy then sum, ~355 ns in JavaScript); otherwise `submit`, then the destination is summed.
   */
  submitSummed(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): number {
    if (WASM !== null && src !== dst) {
      if (this.full(direction)) return -1;
      checkDmaCopy(this.limits, src, srcOffset, dst, dstOffset, length);
      const v = this.views;
      const si = v.find(src, -1);
      const di = v.find(dst, si);
      if ((v.wasm[si]! & v.wasm[di]!) !== 0) {
        const sum = WASM.copySum(v.bases[di]! + dstOffset, v.bases[si]! + srcOffset, length);
        this.completed(direction, tag);
        return sum;
      }
    }
    if (!this.submit(direction, src, srcOffset, dst, dstOffset, length, tag)) return -1;
    return foldSum(sumWords(dst, dstOffset, dstOffset + length, 0));
  }

  /** The direction's in-flight limit is reached. */
  private full(direction: DmaDirection): boolean {
    const pending = direction === DmaDirection.ToHost ? this.pendingToHost : this.pendingFromHost;
    return pending >= this.limits.inFlightPerQueue;
  }

  /** A copy made: in flight until `poll` reports its tag. */
  private completed(direction: DmaDirection, tag: number): void {
    if (direction === DmaDirection.ToHost) this.pendingToHost++;
    else this.pendingFromHost++;
    this.done[(this.head + this.count) & this.mask] = (tag << 1) | direction;
    this.count++;
  }

  /** One memory.copy when both views are over the WebAssembly payload memory; false otherwise. */
  private copyByAddress(
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
  ): boolean {
    const v = this.views;
    const si = v.find(src, -1);
    const di = v.find(dst, si);
    if ((v.wasm[si]! & v.wasm[di]!) === 0) return false;
    WASM!.copy(v.bases[di]! + dstOffset, v.bases[si]! + srcOffset, length);
    return true;
  }

  /** The copy in JavaScript: native prefix fill, 8-byte elements, or the word loop. */
  private copyInJs(
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
  ): void {
    if (srcOffset === 0 && length >= NATIVE_PREFIX_MIN) {
      // A prefix of `src`: Buffer#fill with a view copies min(view, range) bytes natively and
      // makes no view of its own (about 150 ns for 1448 B against 600+ for the word loop).
      fillFrom.call(dst, src, dstOffset, dstOffset + length);
    } else if (length < WORD_COPY_MIN || src === dst || !LITTLE_ENDIAN) {
      copyBytes(src, srcOffset, dst, dstOffset, length);
    } else {
      const v = this.views;
      const si = v.find(src, -1);
      const di = v.find(dst, si); // never the source's entry: both stay valid
      const srcBase = v.bases[si]!;
      const dstBase = v.bases[di]!;
      if (length >= WIDE_COPY_MIN && ((srcBase + srcOffset - dstBase - dstOffset) & 7) === 0) {
        // Both ends share their alignment modulo 8 (the data path places a transmit frame so
        // its payload does): 8-byte elements, a third of the word loop's time.
        const srcDoubles = v.doublesAt(si, src);
        copyBytesWide(
          srcDoubles,
          srcBase,
          src,
          srcOffset,
          v.doublesAt(di, dst),
          dstBase,
          dst,
          dstOffset,
          length,
        );
      } else {
        copyBytesVia(v.words[si]!, srcBase, src, srcOffset, v.words[di]!, dstBase, dst, dstOffset, length);
      }
    }
  }

  poll(out: Uint32Array, max: number): number {
    let n = 0;
    while (n < max && this.count > 0) {
      const v = this.done[this.head]!;
      if ((v & 1) === DmaDirection.ToHost) this.pendingToHost--;
      else this.pendingFromHost--;
      out[n++] = v >>> 1;
      this.head = (this.head + 1) & this.mask;
      this.count--;
    }
    return n;
  }

  inFlight(direction: DmaDirection): number {
    return direction === DmaDirection.ToHost ? this.pendingToHost : this.pendingFromHost;
  }
}
