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
import type { StagedRing } from './staged-ring.js';

/** A pre-processing replica's staged ring, as the bridge deals frames into it. */
export interface PreTarget {
  readonly ring: StagedRing;
  /** The replica's doorbell. */
  readonly bell: Doorbell;
  /** Marked dirty when frames were dealt to it (lockstep). */
  readonly link: { dirty: boolean };
}

/** A post-processing replica's staged ring, as the bridge takes finished frames from it. */
export interface PostSource {
  readonly ring: StagedRing;
}

export interface BridgedCore {
  /** Bridge -> core (received frames), or null when replicas pre-process them (`pre`). */
  readonly rx: FrameRing | null;
  /** Bridge -> replicas -> core: frames dealt round robin, taken back in the same order. */
  readonly pre: readonly PreTarget[];
  /** Core -> bridge (frames to transmit), unless post replicas finish them (`post`). */
  readonly tx: FrameRing;
  /** Core -> replicas -> bridge: frames dealt round robin, taken back in the same order. */
  readonly post: readonly PostSource[];
  /** The core's doorbell, rung after frames arrive or transmit slots free up. */
  readonly bell: Doorbell;
  /** Set when the bridge gave the core something to do (lockstep hosts sync only then). */
  dirty: boolean;
}

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
  /** Per core: the replica the next frame is dealt to. */
  private readonly nextPre: Int32Array;
  /** Per core: the replica the next frame to transmit is taken from. */
  private readonly nextPost: Int32Array;
  /** Per post replica of the core being drained: frames looked at past its head. */
  private readonly taken: Int32Array;

  constructor(
    readonly port: NicPort,
    private readonly cores: readonly BridgedCore[],
    /** Index of the core a received frame belongs to (only called with more than one core). */
    private readonly steer: (frame: PacketBuffer) => number,
    /**
     * Free transmit slots a core needs before it takes new work (nic-core.ts: two bursts). Only
     * a core that had fewer can be waiting for room, so only then does freeing slots ring it: a
     * wakeup costs a system call here and a thread switch there, and a core that just
     * transmitted and went to sleep has nothing to do with the news.
     */
    private readonly coreTxRoom: number,
  ) {
    this.burst = Math.max(1, Math.min(64, port.capabilities.maxBurst));
    this.rxViews = new Array<PacketBuffer>(this.burst);
    this.txViews = new Array<PacketBuffer>(this.burst);
    this.slots = new Int32Array(this.burst);
    this.staging = [];
    this.nextPre = new Int32Array(cores.length);
    this.nextPost = new Int32Array(cores.length);
    this.taken = new Int32Array(Math.max(0, ...cores.map((c) => c.post.length)));
    if (cores.length > 1 || cores.some((c) => c.rx === null))
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
    for (const c of this.cores) {
      n += c.tx.size;
      for (const p of c.post) n += p.ring.ready;
    }
    return n;
  }

  private receive(): number {
    if (this.cores.length === 1 && this.cores[0]!.rx !== null) return this.receiveDirect(this.cores[0]!);
    return this.receiveSteered();
  }

  /** One core: the port writes straight into the ring's slots. */
  private receiveDirect(core: BridgedCore): number {
    const ring = core.rx!;
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

  /**
   * Several cores, or replicas: receive into staging buffers, copy each frame to its core's ring
   * (the RSS step), or deal it to the core's next replica. A replica must never be skipped (the
   * core takes frames back round robin), so a burst is no larger than every replica can take.
   */
  private receiveSteered(): number {
    let room = this.burst;
    for (const c of this.cores) for (const p of c.pre) room = Math.min(room, p.ring.free * c.pre.length);
    if (room === 0) return 0;
    const n = this.port.rxBurst(this.staging, room);
    let delivered = 0;
    for (let i = 0; i < n; i++) {
      const f = this.staging[i]!;
      const k = this.cores.length === 1 ? 0 : this.steer(f);
      const core = this.cores[k]!;
      if (core.rx === null) {
        const target = core.pre[this.nextPre[k]!]!;
        target.ring.push(f.data, f.length); // room was checked for every replica
        target.link.dirty = true;
        target.bell.ring();
        this.nextPre[k] = this.nextPre[k]! + 1 === core.pre.length ? 0 : this.nextPre[k]! + 1;
        delivered++;
      } else if (core.rx.push(f.data, f.length, 0)) {
        // A full ring drops the frame instead (the core is behind; TCP recovers), counted.
        delivered++;
        core.dirty = true;
        core.bell.ring();
      } else this.counters.rxRingFull++;
    }
    this.counters.rxFrames += delivered;
    return n;
  }

  private transmit(): number {
    let moved = 0;
    for (let c = 0; c < this.cores.length; c++) {
      const core = this.cores[c]!;
      if (core.post.length > 0) {
        moved += this.transmitFromPost(c, core);
        continue;
      }
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
      if (sent > 0 && freeBefore < this.coreTxRoom) {
        core.bell.ring(); // a core waiting for transmit room goes on
        core.dirty = true;
      }
      this.counters.txFrames += sent;
      moved += sent;
    }
    return moved;
  }

  /**
   * Frames the post replicas finished, taken round robin from where the last burst stopped (the
   * order the core dealt them), up to the first replica that has not finished its next frame.
   */
  private transmitFromPost(k: number, core: BridgedCore): number {
    const post = core.post;
    const taken = this.taken;
    taken.fill(0);
    let r = this.nextPost[k]!;
    let n = 0;
    while (n < this.burst) {
      const ring = post[r]!.ring;
      const slot = ring.peekAt(taken[r]!);
      if (slot < 0) break;
      taken[r]!++;
      this.txViews[n++] = ring.slot(slot, true);
      r = r + 1 === post.length ? 0 : r + 1;
    }
    if (n === 0) return 0;
    // The core's view of its room (ring-port.ts txFree): the emptiest ring's free slots x replicas.
    let maxSize = 0;
    for (const p of post) maxSize = Math.max(maxSize, p.ring.size);
    const roomBefore = (post[0]!.ring.capacity - maxSize) * post.length;
    const sent = this.port.txBurst(this.txViews, n);
    if (sent < n) this.counters.txRetries++;
    r = this.nextPost[k]!;
    for (let s = 0; s < sent; s++) {
      post[r]!.ring.consume();
      r = r + 1 === post.length ? 0 : r + 1;
    }
    this.nextPost[k] = r;
    if (sent > 0 && roomBefore < this.coreTxRoom) {
      core.bell.ring(); // a core waiting for transmit room goes on
      core.dirty = true;
    }
    this.counters.txFrames += sent;
    return sent;
  }
}
