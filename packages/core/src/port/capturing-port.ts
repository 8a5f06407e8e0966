/**
 * A port that records every frame it receives and transmits to a pcap file (tcpdump on our
 * software and real ports alike). Classic pcap has no direction field; open the file next to
 * the port's MAC to tell the directions apart, or use a `TracingPort` hook.
 *
 * Records are buffered: `flush()` (also done by `stop()`) or `close()` to see them on disk.
 */
import type { Clock } from '../hw/clock.js';
import type { NicPort } from '../hw/nic-port.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { realTime } from '../util/real-time.js';
import { PcapWriter, type PcapOptions } from './pcap-writer.js';
import { TracingPort } from './tracing-port.js';

export interface CaptureOptions extends Omit<PcapOptions, 'epochBaseNs'> {
  /** Clock for record timestamps (default: the wall clock). */
  readonly clock?: Clock;
  /**
   * Unix time in ns of the clock's zero (default: now minus `clock.now()`, so real-time
   * captures show the wall-clock date and simulated ones start at the capture's creation).
   */
  readonly epochBaseNs?: bigint;
}

export class CapturingPort extends TracingPort {
  readonly writer: PcapWriter;
  private readonly clock: Clock;

  /** @param target a file path, or a writer (e.g. one shared by several ports). */
  constructor(inner: NicPort, target: string | PcapWriter, opts: CaptureOptions = {}) {
    const clock = opts.clock ?? realTime;
    const writer =
      typeof target === 'string'
        ? PcapWriter.toFile(target, { ...opts, epochBaseNs: opts.epochBaseNs ?? clockEpoch(clock) })
        : target;
    // Frames of one burst share the burst's timestamp (writer.time, set below).
    super(inner, (_dir, frame, length) => writer.writeBurstFrame(frame, length));
    this.writer = writer;
    this.clock = clock;
  }

  override rxBurst(bufs: PacketBuffer[], max: number): number {
    this.writer.time[0] = this.clock.now();
    return super.rxBurst(bufs, max);
  }

  override txBurst(bufs: PacketBuffer[], count: number): number {
    this.writer.time[0] = this.clock.now();
    return super.txBurst(bufs, count);
  }

  /** Writes buffered records to the file. */
  flush(): void {
    this.writer.flush();
  }

  /** Flushes and closes the file; the port itself stays usable only for control calls. */
  close(): void {
    this.writer.close();
  }

  override async stop(): Promise<void> {
    this.writer.flush();
    await super.stop();
  }
}

function clockEpoch(clock: Clock): bigint {
  const base = BigInt(Date.now()) * 1_000_000n - BigInt(Math.floor(clock.now()));
  return base < 0n ? 0n : base;
}
