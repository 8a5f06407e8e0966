/**
 * The NIC core's side of a port bridge: a `NicPort` whose receive queue and transmit queue are
 * frame rings shared with the thread that owns the real device (`PortBridge`). The in-process
 * wire lives on the main thread's heap, so a data path on a worker reaches it through this pair
 * of rings; a TAP or DPDK port can instead be opened on the worker itself.
 *
 * With pre-processing replicas the receive side is several staged rings instead, one per
 * replica, taken round robin in the order the bridge dealt them (so per-flow order holds); a
 * frame a replica refused is counted by its reason and skipped.
 *
 * rxBurst copies out of the ring into the data path's own buffers (one native memcpy per frame);
 * txBurst copies into ring slots and publishes the batch with one atomic store, then rings the
 * bridge's thread if it sleeps. A full transmit ring gives a short count, like a full NIC ring.
 *
 * With post-processing replicas the transmit side is their staged rings: frames are dealt round
 * robin (the bridge takes them back in the same order) and the replica is rung; dealing stops at
 * the first replica whose ring is full, so none is ever skipped.
 *
 * With DMA replicas and no post replicas this port is the device that fills TCP checksums: the
 * core advertises transmit checksum offload (so post-processing never waits for a payload copy)
 * and the checksum is computed here, over the finished frame, as it enters the transmit ring.
 */
import type {
  NicPort,
  PacketBuffer,
  PortCapabilities,
  PortConfiguration,
  PortStats,
} from '@flextoe/core/nic';
import { WIRE_ERROR_COUNT } from '@flextoe/core/nic';
import type { Doorbell } from './doorbell.js';
import { fillTcpChecksum } from './post-core.js';
import type { FrameRing } from './frame-ring.js';
import type { StagedRing } from './staged-ring.js';

export class RingPort implements NicPort {
  private rxPackets = 0;
  private rxBytes = 0;
  private txPackets = 0;
  private txBytes = 0;
  private txFull = 0;
  /** Frames pre-processing replicas refused, by WireError. */
  readonly preDropped = new Float64Array(WIRE_ERROR_COUNT);
  private nextPre = 0;
  private nextPost = 0;
  /** Per post replica: frames dealt to it in the current burst (its doorbell is rung once). */
  private readonly dealt: Uint32Array;

  constructor(
    readonly mac: number,
    readonly capabilities: PortCapabilities,
    /** Frames from the device (the bridge produces, this port consumes), or null with `pre`. */
    private readonly rx: FrameRing | null,
    /** Frames to the device (this port produces, the bridge consumes). */
    private readonly tx: FrameRing,
    /** Rung after publishing transmitted frames. */
    private readonly bridgeBell: Doorbell,
    /** Staged rings of the pre-processing replicas, in the bridge's dealing order. */
    private readonly pre: readonly StagedRing[] = [],
    /** Staged rings of the post-processing replicas and their doorbells, in dealing order. */
    private readonly post: readonly { readonly ring: StagedRing; readonly bell: Doorbell }[] = [],
    /**
     * Fill each transmitted TCP frame's checksum (the port view advertises transmit checksum
     * offload and no post replica does it): the device's job, done as the frame leaves.
     */
    private readonly fillChecksums = false,
  ) {
    this.dealt = new Uint32Array(post.length);
  }

  configure(_conf: PortConfiguration): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** The NIC core polls and sleeps on its doorbell; the bridge rings it when frames arrive. */
  setRxWakeup(_wakeup: (() => void) | null): void {}

  rxBurst(bufs: PacketBuffer[], max: number): number {
    const ring = this.rx;
    if (ring === null) return this.rxFromPre(bufs, max);
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

  /** Round robin over the replicas' rings; stops at the first frame not finished yet. */
  private rxFromPre(bufs: PacketBuffer[], max: number): number {
    const pre = this.pre;
    let n = 0;
    while (n < max) {
      const ring = pre[this.nextPre]!;
      const slot = ring.peek();
      if (slot < 0) break;
      const verdict = ring.verdict(slot);
      if (verdict === 0) {
        const len = ring.frameLength(slot);
        const dst = bufs[n]!;
        Buffer.prototype.copy.call(ring.slot(slot).data, dst.data, 0, 0, len);
        dst.length = len;
        dst.timestampNs = 0;
        this.rxBytes += len;
        n++;
      } else this.preDropped[verdict]!++;
      ring.consume();
      this.nextPre = this.nextPre + 1 === pre.length ? 0 : this.nextPre + 1;
    }
    this.rxPackets += n;
    return n;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    if (this.post.length > 0) return this.txToPost(bufs, count);
    const ring = this.tx;
    let n = 0;
    for (; n < count; n++) {
      const i = ring.reserve();
      if (i < 0) {
        this.txFull += count - n;
        break;
      }
      const b = bufs[n]!;
      const slot = ring.slot(i);
      Buffer.prototype.copy.call(b.data, slot.data, 0, 0, b.length);
      if (this.fillChecksums) fillTcpChecksum(slot.words, slot.data, b.length);
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

  /** Round robin over the post replicas' rings; stops at the first full one. */
  private txToPost(bufs: PacketBuffer[], count: number): number {
    const post = this.post;
    const dealt = this.dealt;
    let n = 0;
    for (; n < count; n++) {
      const b = bufs[n]!;
      if (!post[this.nextPost]!.ring.push(b.data, b.length)) {
        this.txFull += count - n;
        break;
      }
      dealt[this.nextPost]!++;
      this.txBytes += b.length;
      this.nextPost = this.nextPost + 1 === post.length ? 0 : this.nextPost + 1;
    }
    for (let r = 0; r < post.length; r++)
      if (dealt[r] !== 0) {
        dealt[r] = 0;
        post[r]!.bell.ring();
      }
    this.txPackets += n;
    return n;
  }

  /**
   * Transmit slots free: the NIC core stops taking new work when a burst would not fit. With
   * post replicas, the frames that can be dealt without meeting a full ring (at least).
   */
  get txFree(): number {
    if (this.post.length === 0) return this.tx.free;
    let min = Infinity;
    for (const p of this.post) min = Math.min(min, p.ring.free);
    return min * this.post.length;
  }

  /** Frames waiting in the receive ring (with replicas: ready at the next one to take). */
  get rxPending(): number {
    return this.rx !== null ? this.rx.size : this.pre[this.nextPre]!.ready;
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
