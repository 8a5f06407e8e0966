import { isPayloadBuffer } from '../util/wasm-payload.js';

/**
 * A preallocated frame buffer (DPDK's mbuf, reduced): fixed capacity, a valid length, and a
 * receive timestamp. Pools hand them out without allocating on the packet path.
 */
export class PacketBuffer {
  /** Frame bytes; `data.length` is the capacity. A Buffer so copies use the native `copy`. */
  readonly data: Buffer;
  /** Valid bytes from offset 0. */
  length = 0;
  /** Receive time in ns of the backend clock (0 if unknown). */
  timestampNs = 0;
  /**
   * The 32-bit words of `data`'s whole ArrayBuffer from its byte 0 (`wordsOf(data)`), and where
   * `data` starts in that buffer (`data.byteOffset`): for word-wide copies of short frames
   * (`copyPacket`) without a lookup per copy.
   */
  readonly words: Int32Array;
  readonly wordBase: number;
  /**
   * `data` lies in the WebAssembly payload memory (`util/wasm-payload.ts`): `wordBase` is then
   * its address, and a copy between two such buffers is one `memory.copy` (`copyFrameVia`).
   */
  readonly inPayloadMemory: boolean;

  constructor(capacity: number, backing?: { buffer: ArrayBufferLike; byteOffset: number }) {
    this.data = backing
      ? Buffer.from(backing.buffer as ArrayBuffer, backing.byteOffset, capacity)
      : Buffer.alloc(capacity);
    const buffer = this.data.buffer;
    this.words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.wordBase = this.data.byteOffset;
    this.inPayloadMemory = isPayloadBuffer(buffer);
  }
}

/** Frame capacity: 1500 B MTU + Ethernet + one VLAN tag, rounded up. */
export const DEFAULT_FRAME_CAPACITY = 1536;

/** A fixed pool of packet buffers with a free list; `get` returns null when exhausted. */
export class PacketPool {
  private readonly free: PacketBuffer[];
  private top: number;

  constructor(
    readonly size: number,
    readonly capacity = DEFAULT_FRAME_CAPACITY,
  ) {
    this.free = new Array<PacketBuffer>(size);
    for (let i = 0; i < size; i++) this.free[i] = new PacketBuffer(capacity);
    this.top = size;
  }

  get(): PacketBuffer | null {
    if (this.top === 0) return null;
    const b = this.free[--this.top]!;
    b.length = 0;
    return b;
  }

  put(b: PacketBuffer): void {
    if (this.top === this.size) throw new Error('PacketPool: more buffers returned than taken');
    this.free[this.top++] = b;
  }

  get available(): number {
    return this.top;
  }
}
