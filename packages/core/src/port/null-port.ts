/**
 * DPDK's null device: transmit accepts and discards every frame (counted as sent and as a
 * `null-discard` drop), receive never returns anything, the wakeup never fires. A fixture for
 * tests and benchmarks that need a port but no peer.
 */
import type { NicPort, PortCapabilities, PortConfiguration, PortStats } from '../hw/nic-port.js';
import { DEFAULT_FRAME_CAPACITY, type PacketBuffer } from '../hw/packet-buffer.js';

export interface NullPortOptions {
  /** Default 02:00:00:00:00:00 (locally administered). */
  readonly mac?: number;
  readonly maxFrameBytes?: number;
  /** Reported link rate (default Infinity: nothing limits it). */
  readonly linkGbps?: number;
}

export class NullPort implements NicPort {
  readonly capabilities: PortCapabilities;
  private macAddr: number;
  private txPackets = 0;
  private txBytes = 0;

  constructor(opts: NullPortOptions = {}) {
    this.macAddr = opts.mac ?? 0x020000000000;
    this.capabilities = Object.freeze({
      driver: 'null',
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_FRAME_CAPACITY,
      maxBurst: 1024,
      rxChecksumOffload: false,
      txChecksumOffload: false,
      linkGbps: opts.linkGbps ?? Infinity,
    });
  }

  get mac(): number {
    return this.macAddr;
  }

  configure(conf: PortConfiguration): void {
    this.macAddr = conf.mac;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  stats(): PortStats {
    return {
      rxPackets: 0,
      rxBytes: 0,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      drops: { 'null-discard': this.txPackets },
    };
  }

  setRxWakeup(_wakeup: (() => void) | null): void {}

  rxBurst(_bufs: PacketBuffer[], _max: number): number {
    return 0;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    const n = Math.min(count, bufs.length);
    for (let i = 0; i < n; i++) this.txBytes += bufs[i]!.length;
    this.txPackets += n;
    return n;
  }
}
