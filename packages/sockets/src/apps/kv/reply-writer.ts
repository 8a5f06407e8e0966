/**
 * Reply bytes for one connection, batched: small replies are copied into a slab and handed to
 * the sink as one chunk per batch; large values go by reference (stored values are immutable).
 * A flushed region of a slab is never written again, so the sink may keep it as long as it
 * likes without a copy; a new slab is allocated only when one fills up.
 */

/** What the replies go to: a socket's write, in the servers here. */
export interface ByteSink {
  write(chunk: Uint8Array): void;
}

const SLAB_BYTES = 16 * 1024;
/** Values at least this long are not copied into the slab. */
const BY_REFERENCE_BYTES = 4 * 1024;

export class ReplyWriter {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private start = 0;
  private pos = 0;
  /** Bytes handed to the sink so far. */
  written = 0;

  constructor(private readonly sink: ByteSink) {}

  /** Bytes written since the last flush. */
  get buffered(): number {
    return this.pos - this.start;
  }

  bytes(b: Uint8Array): void {
    if (b.length >= BY_REFERENCE_BYTES) {
      this.flush();
      this.written += b.length;
      this.sink.write(b);
      return;
    }
    this.room(b.length);
    this.slab.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string of single-byte characters (keys are kept as latin1 strings, byte for byte). */
  latin1(s: string): void {
    this.room(s.length);
    this.pos += this.slab.write(s, this.pos, 'latin1');
  }

  /** A non-negative integer below 2^53 in decimal, without a string. */
  uint(n: number): void {
    this.room(16);
    const slab = this.slab;
    if (n === 0) {
      slab[this.pos++] = 0x30;
      return;
    }
    let digits = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) slab[--p] = 0x30 + (m % 10);
  }

  /** Hands everything written since the last flush to the sink. */
  flush(): void {
    if (this.pos === this.start) return;
    const chunk = this.slab.subarray(this.start, this.pos);
    this.written += chunk.length;
    this.start = this.pos;
    this.sink.write(chunk);
  }

  /** Forgets what was written since the last flush. */
  discard(): void {
    this.pos = this.start;
  }

  private room(n: number): void {
    if (this.slab.length - this.pos >= n) return;
    this.flush();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, n));
    this.start = this.pos = 0;
  }
}
