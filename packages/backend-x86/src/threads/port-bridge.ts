/**
 * The device side of a port bridge: the thread that owns a `NicPort` (the main thread for the
 * in-process wire, whose switch lives on its heap) moves frames between the port and the NIC
 * cores' frame rings. Receive: frames go to the core that owns their flow group (`steer`, the
 * RSS step a multi-queue NIC does in hardware); with one core they are received straight into
 * its ring's slots. Transmit: every core's ring is drained into the port's txBurst from the slots
 * themselves. A frame the port refuses stays in the ring for the next pump. With one core a full
 * receive ring leaves frames in the port's queue (which drops, counted, when full, as a NIC does
 * when the host falls behind); with several, a frame for a full ring is dropped and counted.
 */
import { PacketBuffer, type NicPort } from '@flextoe/core';
import type { Doorbell } from './doorbell.js';
import type { FrameRing } from './frame-ring.js';

export interface BridgedCore {
  /** Bridge -> core (received frames). */
  readonly rx: FrameRing;
  /** Core -> bridge (frames to transmit). */
  readonly tx: FrameRing;
  /** The core's doorbell, rung after frames arrive or transmit slots free up. */
  readonly bell: Doorbell;
  /** Set when the bridge gave the core something to do (lockstep hosts sync only then). */
  dirty: boolean;
}

/** Free transmit slots below which freeing some may unblock a core (it wants two bursts). */
const TX_LOW_WATER = 128;

export interface BridgeCounters {
  rxFrames: number;
  txFrames: number;
  /** Times the port refused part of a transmit batch (the frames were retried). */
  txRetries: number;
  /** Frames dropped because the steered-to core's receive ring was full. */
  rxRingFull: number;
}

export class PortBridge {
  readonly counters: BridgeCounters = { rxFrames: 0, txFrames: 0, txRetries: 0, rxRingFull: 0 };
  private readonly burst: number;
  private readonly rxViews: PacketBuffer[];
  private readonly txViews: PacketBuffer[];
  private readonly slots: Int32Array;
  private readonly staging: PacketBuffer[];

  constructor(
    readonly port: NicPort,
    private readonly cores: readonly BridgedCore[],
    /** Index of the core a received frame belongs to (only called with more than one core). */
    private readonly steer: (frame: PacketBuffer) => number,
  ) {
    this.burst = Math.max(1, Math.min(64, port.capabilities.maxBurst));
    this.rxViews = new Array<PacketBuffer>(this.burst);
    this.txViews = new Array<PacketBuffer>(this.burst);
    this.slots = new Int32Array(this.burst);
    this.staging = [];
    if (cores.length > 1)
      for (let i = 0; i < this.burst; i++)
        this.staging.push(new PacketBuffer(port.capabilities.maxFrameBytes));
  }

  /** One receive and one transmit round; returns frames moved. */
  pump(): number {
    return this.receive() + this.transmit();
  }

  /** Frames waiting in the cores' transmit rings. */
  get txPending(): number {
    let n = 0;
    for (const c of this.cores) n += c.tx.size;
    return n;
  }

  private receive(): number {
    return this.cores.length === 1 ? this.receiveDirect(this.cores[0]!) : this.receiveSteered();
  }

  /** One core: the port writes straight into the ring's slots. */
  private receiveDirect(core: BridgedCore): number {
    const ring = core.rx;
    const want = Math.min(this.burst, ring.free);
    if (want === 0) return 0;
    for (let i = 0; i < want; i++) {
      const s = ring.reserve();
      this.slots[i] = s;
      this.rxViews[i] = ring.slot(s);
    }
    const n = this.port.rxBurst(this.rxViews, want);
    // Publish exactly the n filled slots: drop the reservations and take the same slots again.
    ring.cancel();
    for (let i = 0; i < n; i++) {
      ring.reserve();
      ring.setFrame(this.slots[i]!, this.rxViews[i]!.length, 0);
    }
    if (n > 0) {
      ring.commit();
      core.bell.ring();
      core.dirty = true;
      this.counters.rxFrames += n;
    }
    return n;
  }

  /** Several cores: receive into staging buffers, copy each frame to its core's ring. */
  private receiveSteered(): number {
    const n = this.port.rxBurst(this.staging, this.burst);
    let delivered = 0;
    for (let i = 0; i < n; i++) {
      const f = this.staging[i]!;
      const core = this.cores[this.steer(f)]!;
      // A full ring drops the frame here (the core is behind; TCP recovers), counted by the ring.
      if (core.rx.push(f.data, f.length, 0)) {
        delivered++;
        core.dirty = true;
      } else this.counters.rxRingFull++;
    }
    if (n > 0) for (const c of this.cores) c.bell.ring();
    this.counters.rxFrames += delivered;
    return n;
  }

  private transmit(): number {
    let moved = 0;
    for (const core of this.cores) {
      const ring = core.tx;
      const head = ring.peek();
      if (head < 0) continue;
      const n = Math.min(this.burst, ring.size);
      const freeBefore = ring.capacity - ring.size;
      for (let k = 0; k < n; k++) this.txViews[k] = ring.slot(ring.next(head, k), true);
      const sent = this.port.txBurst(this.txViews, n);
      if (sent < n) this.counters.txRetries++;
      for (let k = 0; k < sent; k++) {
        ring.peek();
        ring.consume();
      }
      if (sent > 0) {
        core.bell.ring(); // transmit slots freed: a core waiting for room goes on
        if (freeBefore < TX_LOW_WATER) core.dirty = true;
      }
      this.counters.txFrames += sent;
      moved += sent;
    }
    return moved;
  }
}
