/**
 * The NIC core's side of a port bridge: a `NicPort` whose receive queue and transmit queue are
 * frame rings shared with the thread that owns the real device (`PortBridge`). The in-process
 * wire lives on the main thread's heap, so a data path on a worker reaches it through this pair
 * of rings; a TAP or DPDK port can instead be opened on the worker itself.
 *
 * rxBurst copies out of the ring into the data path's own buffers (one native memcpy per frame);
 * txBurst copies into ring slots and publishes the batch with one atomic store, then rings the
 * bridge's thread if it sleeps. A full transmit ring gives a short count, like a full NIC ring.
 */
import type {
  NicPort,
  PacketBuffer,
  PortCapabilities,
  PortConfiguration,
  PortStats,
} from '@flextoe/core/nic';
import type { Doorbell } from './doorbell.js';
import type { FrameRing } from './frame-ring.js';

export class RingPort implements NicPort {
  private rxPackets = 0;
  private rxBytes = 0;
  private txPackets = 0;
  private txBytes = 0;
  private txFull = 0;

  constructor(
    readonly mac: number,
    readonly capabilities: PortCapabilities,
    /** Frames from the device (the bridge produces, this port consumes). */
    private readonly rx: FrameRing,
    /** Frames to the device (this port produces, the bridge consumes). */
    private readonly tx: FrameRing,
    /** Rung after publishing transmitted frames. */
    private readonly bridgeBell: Doorbell,
  ) {}

  configure(_conf: PortConfiguration): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** The NIC core polls and sleeps on its doorbell; the bridge rings it when frames arrive. */
  setRxWakeup(_wakeup: (() => void) | null): void {}

  rxBurst(bufs: PacketBuffer[], max: number): number {
    const ring = this.rx;
    let n = 0;
    while (n < max) {
      const i = ring.peek();
      if (i < 0) break;
      const len = ring.frameLength(i);
      const dst = bufs[n]!;
      Buffer.prototype.copy.call(ring.slot(i).data, dst.data, 0, 0, len);
      dst.length = len;
      dst.timestampNs = 0;
      ring.consume();
      this.rxBytes += len;
      n++;
    }
    this.rxPackets += n;
    return n;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    const ring = this.tx;
    let n = 0;
    for (; n < count; n++) {
      const i = ring.reserve();
      if (i < 0) {
        this.txFull += count - n;
        break;
      }
      const b = bufs[n]!;
      Buffer.prototype.copy.call(b.data, ring.slot(i).data, 0, 0, b.length);
      ring.setFrame(i, b.length, 0);
      this.txBytes += b.length;
    }
    if (n > 0) {
      ring.commit();
      this.bridgeBell.ring();
    }
    this.txPackets += n;
    return n;
  }

  /** Transmit slots free: the NIC core stops taking new work when a burst would not fit. */
  get txFree(): number {
    return this.tx.free;
  }

  /** Frames waiting in the receive ring. */
  get rxPending(): number {
    return this.rx.size;
  }

  stats(): PortStats {
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      drops: { txRingFull: this.txFull },
    };
  }
}
