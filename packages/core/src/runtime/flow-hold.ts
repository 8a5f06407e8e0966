/**
 * Newly installed flows whose received segments wait for the host: per-flow order across the
 * slow path (FlexTOE hands the control plane what the data path cannot take and keeps each
 * flow's segments in order around it).
 *
 * Why: the segments of a flow that reach the data path before its install (the handshake's last
 * ACK and the data right behind it) go to the control plane as exceptions
 * (`SlowPathReason.NoFlow`); it installs the flow and re-runs them (`reinject`). A runner that
 * applies the host's requests later than they are made (the x86 NIC cores: a command ring) can
 * apply the install and then receive the flow's next segments before those re-runs arrive: the
 * new segments went first, and three of them made three duplicate ACKs and a needless fast
 * retransmit at the peer (x86 threads README, "The boundary"). So the runner holds the flow at
 * install until the host says it has handled every exception published before it; the held
 * segments then run, in arrival order, before anything received later.
 *
 * The held frames are copied into slots of this store, made at the first hold (a runner that
 * never holds, the inline one and the simulators, allocates nothing). Exception counts are the
 * runner's, mod 2^32.
 */
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { copyFrame } from '../util/copy-frame.js';

export interface FlowHoldCounters {
  /** Segments held. */
  held: number;
  /** Held segments run after their flow's release. */
  released: number;
  /** Held segments of a flow removed while held, or that found no free slot (a runner's bug). */
  discarded: number;
}

export class FlowHold {
  /** Flows held now: the data path looks further only when this is not 0. */
  flows = 0;
  readonly counters: FlowHoldCounters = { held: 0, released: 0, discarded: 0 };
  /** Per flow: 1 while held, and the exception count whose handling releases it. */
  private readonly isHeld: Uint8Array;
  private readonly until: Int32Array;
  /** The held flows (in no particular order). */
  private readonly heldList: Int32Array;
  /** Frame slots, and the free ones (a stack of slot numbers). */
  private slots: PacketBuffer[] = [];
  private readonly freeSlots: Int32Array;
  private freeCount = 0;
  /** Held frames in arrival order: slot numbers and their flows. */
  private readonly order: Int32Array;
  private readonly orderFlows: Int32Array;
  private count = 0;

  constructor(
    maxFlows: number,
    /** Frames the store holds at most. */
    readonly capacity: number,
    /** Makes the `capacity` slots (at the first hold). */
    private readonly makeSlots: () => PacketBuffer[],
  ) {
    this.isHeld = new Uint8Array(maxFlows);
    this.until = new Int32Array(maxFlows);
    this.heldList = new Int32Array(maxFlows);
    this.freeSlots = new Int32Array(capacity);
    this.order = new Int32Array(capacity);
    this.orderFlows = new Int32Array(capacity);
  }

  /** Frames the store can still take. */
  get room(): number {
    return this.slots.length === 0 ? this.capacity : this.freeCount;
  }

  holds(flowId: number): boolean {
    return this.isHeld[flowId] !== 0;
  }

  /** Holds `flowId` until `release(n)` with n at or past `until` (mod 2^32). */
  hold(flowId: number, until: number): void {
    if (this.slots.length === 0) {
      this.slots = this.makeSlots();
      for (let i = 0; i < this.capacity; i++) this.freeSlots[i] = i;
      this.freeCount = this.capacity;
    }
    if (this.isHeld[flowId] === 0) {
      this.isHeld[flowId] = 1;
      this.heldList[this.flows++] = flowId;
    }
    this.until[flowId] = until;
  }

  /** Keeps a copy of a held flow's frame; false (counted) when no slot is free. */
  add(flowId: number, frame: PacketBuffer): boolean {
    if (this.freeCount === 0) {
      this.counters.discarded++;
      return false;
    }
    const slot = this.freeSlots[--this.freeCount]!;
    const copy = this.slots[slot]!;
    copyFrame(frame.data, copy.data, frame.length);
    copy.length = frame.length;
    copy.timestampNs = frame.timestampNs;
    this.order[this.count] = slot;
    this.orderFlows[this.count++] = flowId;
    this.counters.held++;
    return true;
  }

  /**
   * The host handled the exceptions up to `handled`: releases every flow held until then and
   * puts their frames, oldest first, in `out`; returns how many. Their slots are free again, so
   * the caller runs them before it takes new frames. Frames of flows still held stay, in order.
   */
  release(handled: number, out: PacketBuffer[]): number {
    const list = this.heldList;
    for (let i = 0; i < this.flows;) {
      const f = list[i]!;
      if (((handled - this.until[f]!) | 0) < 0) i++;
      else {
        this.isHeld[f] = 0;
        list[i] = list[--this.flows]!;
      }
    }
    const n = this.take(-1, out);
    this.counters.released += n;
    return n;
  }

  /** `flowId` is removed: it is no longer held and its frames are dropped (counted). */
  remove(flowId: number): void {
    if (this.isHeld[flowId] === 0) return;
    this.isHeld[flowId] = 0;
    const list = this.heldList;
    for (let i = 0; i < this.flows; i++)
      if (list[i] === flowId) {
        list[i] = list[--this.flows]!;
        break;
      }
    this.counters.discarded += this.take(flowId, null);
  }

  /**
   * Frees the slots of `flowId`'s frames (-1: of every flow no longer held), in order into
   * `out` when given, and keeps the others in order; returns how many.
   */
  private take(flowId: number, out: PacketBuffer[] | null): number {
    let n = 0;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = this.order[i]!;
      const f = this.orderFlows[i]!;
      if (flowId === -1 ? this.isHeld[f] !== 0 : f !== flowId) {
        this.order[kept] = slot;
        this.orderFlows[kept++] = f;
        continue;
      }
      if (out !== null) out[n] = this.slots[slot]!;
      n++;
      this.freeSlots[this.freeCount++] = slot;
    }
    this.count = kept;
    return n;
  }
}
