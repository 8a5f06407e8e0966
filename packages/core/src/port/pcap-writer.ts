/**
 * Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html), the format
 * every tool reads: a 24-byte global header, then per frame a 16-byte record header and the
 * bytes. Records are appended to a preallocated buffer and written out when it fills (or on
 * `flush`), so capturing allocates nothing per frame.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Microsecond timestamps (the original format). */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** Nanosecond timestamps (libpcap 1.5+, Wireshark). */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** LINKTYPE_ETHERNET. */
export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** Where the file's bytes go. `write` must consume (or copy) `bytes` before returning. */
export interface PcapSink {
  write(bytes: Uint8Array): void;
  close?(): void;
}

export interface PcapOptions {
  /** Timestamp resolution (default 'ns'). */
  readonly precision?: 'ns' | 'us';
  /** Longest stored frame prefix; longer frames are truncated, their original length kept (default 65535). */
  readonly snaplen?: number;
  /** Buffer size before a write to the sink (default 1 MiB). */
  readonly bufferBytes?: number;
  /**
   * Nanoseconds since the Unix epoch that timestamp 0 stands for (default 0n: timestamps are
   * written as given). `CapturingPort` passes the wall-clock time of its clock's zero.
   */
  readonly epochBaseNs?: bigint;
}

export class PcapWriter {
  private readonly buf: Buffer;
  /** Record headers go through a DataView: Buffer#writeUInt32LE is a JS call that would box the seconds (> 2^30). */
  private readonly view: DataView;
  private used = 0;
  private readonly nanos: boolean;
  readonly snaplen: number;
  private readonly baseSeconds: number;
  private readonly baseNanos: number;
  private closed = false;
  framesWritten = 0;
  /**
   * The timestamp (ns) `writeBurstFrame` uses. A per-frame caller sets it once per burst: a
   * double passed as an argument is boxed (allocated) when V8 does not inline the call, a
   * typed-array element never is.
   */
  readonly time = new Float64Array(1);
  /** The timestamp of the record being appended. */
  private readonly stamp = new Float64Array(1);

  /** A writer onto a new file at `path` (truncated if it exists). */
  static toFile(path: string, opts: PcapOptions = {}): PcapWriter {
    const fd = openSync(path, 'w');
    return new PcapWriter(
      {
        write: (bytes) => {
          for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
        },
        close: () => closeSync(fd),
      },
      opts,
    );
  }

  constructor(
    private readonly sink: PcapSink,
    opts: PcapOptions = {},
  ) {
    this.nanos = (opts.precision ?? 'ns') === 'ns';
    this.snaplen = opts.snaplen ?? 65535;
    if (!(Number.isInteger(this.snaplen) && this.snaplen > 0))
      throw new RangeError('PcapWriter: bad snaplen');
    const base = opts.epochBaseNs ?? 0n;
    if (base < 0n) throw new RangeError('PcapWriter: epochBaseNs must be >= 0');
    this.baseSeconds = Number(base / 1_000_000_000n);
    this.baseNanos = Number(base % 1_000_000_000n);
    const size = Math.max(opts.bufferBytes ?? 1 << 20, PCAP_RECORD_HEADER_BYTES + this.snaplen);
    this.buf = Buffer.alloc(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.writeGlobalHeader();
  }

  /** Appends one frame received or sent at `timeNs` (ns on the capturing clock). */
  writeFrame(frame: Uint8Array, length: number, timeNs: number): void {
    this.stamp[0] = timeNs;
    this.append(frame, length);
  }

  /** Appends one frame stamped with `time[0]`; allocation-free for per-frame use. */
  writeBurstFrame(frame: Uint8Array, length: number): void {
    this.stamp[0] = this.time[0]!;
    this.append(frame, length);
  }

  private append(frame: Uint8Array, length: number): void {
    if (this.closed) throw new Error('PcapWriter: closed');
    const stored = Math.min(length, this.snaplen);
    if (this.used + PCAP_RECORD_HEADER_BYTES + stored > this.buf.length) this.flush();
    // Split before adding the epoch: epoch nanoseconds exceed 2^53 and would lose precision.
    const t = this.baseNanos + Math.max(0, Math.floor(this.stamp[0]!));
    const carry = Math.floor(t / 1e9);
    const fraction = t - carry * 1e9;
    const v = this.view;
    let o = this.used;
    v.setUint32(o, this.baseSeconds + carry, true);
    v.setUint32(o + 4, this.nanos ? fraction : Math.floor(fraction / 1000), true);
    v.setUint32(o + 8, stored, true);
    v.setUint32(o + 12, length, true);
    o += PCAP_RECORD_HEADER_BYTES;
    // fill() with a buffer value copies its prefix natively; Buffer#copy of part of a source
    // allocates a view on Node 20 (see util/copy-frame.ts).
    if (stored > 0) this.buf.fill(frame, o, o + stored);
    this.used = o + stored;
    this.framesWritten++;
  }

  /** Hands everything buffered to the sink. */
  flush(): void {
    if (this.used === 0) return;
    this.sink.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  /** Flushes and closes the sink; further writes throw. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.sink.close?.();
  }

  private writeGlobalHeader(): void {
    const b = this.buf;
    b.writeUInt32LE(this.nanos ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, 0);
    b.writeUInt16LE(2, 4); // version 2.4
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    b.writeUInt32LE(0, 12); // sigfigs
    b.writeUInt32LE(this.snaplen, 16);
    b.writeUInt32LE(PCAP_LINKTYPE_ETHERNET, 20);
    this.used = PCAP_GLOBAL_HEADER_BYTES;
  }
}
