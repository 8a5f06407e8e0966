/**
 * The simulated NIC's port as the data path sees it, around the wire port (an in-process
 * virtual wire, or in paced mode a TAP/DPDK port):
 * - receive: frames enter only while the NIC has room for the work (its packet buffers, counted
 *   as receive items in flight in the model); beyond that they wait in the wire port's queue,
 *   which drops when full, as a real MAC does. Each frame's arrival time goes to the timing
 *   model, so its latency counts from the wire.
 * - transmit: a frame the data path built waits until the model's post-processing of it ends,
 *   then the NIC's MAC serialises it at the model's line rate and hands it to the wire when its
 *   last bit has left. Frames leave in the order they were built (FlexTOE re-sequences egress so
 *   segments leave in protocol order): a frame whose post-processing ends early waits for the
 *   ones before it.
 */
import {
  allocateOwnedPayloadMemory,
  copyFrameVia,
  ETHERNET_WIRE_OVERHEAD_BYTES,
  PacketBuffer,
  type NicPort,
  type PortCapabilities,
  type PortConfiguration,
  type PortStats,
  releasePayloadMemory,
} from '@flextoe/core';
import type { SimEventTarget } from '../engine/event-queue.js';
import type { SimEngine } from '../engine/sim-engine.js';

/** The receive side's view of the NIC. */
export interface PortHost {
  /** Receive items the NIC can take now (its buffers minus the items in flight). */
  rxRoom(): number;
  /** Host control plane -> NIC latency for frames the control plane sends (ps). */
  readonly hostToNicPs: number;
}

const EGRESS = 1;
/** Frames the NIC can hold between post-processing and the wire. */
const EGRESS_FRAMES = 2048;
/** Built-frame numbers remembered (frames built but not yet handed over by the data path). */
const SEQ_RING = 4096;
const MIN_FRAME = 60;
/** Bytes a frame starts into its slot's cache lines (Linux's NET_IP_ALIGN, as the data path's). */
const FRAME_ALIGN = 2;
/** Consecutive refusals by the wire after which the head frame is dropped (a dead link). */
const MAX_REFUSALS = 10_000;

export class SimPort implements NicPort, SimEventTarget {
  readonly capabilities: PortCapabilities;
  private readonly psPerByte: number;
  // Receive arrivals of the current burst, in the order the data path takes the frames.
  private readonly arrivals: Float64Array;
  private arrivalCount = 0;
  private arrivalNext = 0;
  /** The last receive burst took all it asked for: the wire may hold more (or room ran out). */
  rxMayHaveMore = false;
  /** Frames waiting in the wire port, when it says (an in-process virtual port does). */
  private readonly wireQueued: (() => number) | null;
  // Frames built by post-processing and not yet handed over (their numbers, FIFO).
  private readonly pendingSeq = new Float64Array(SEQ_RING);
  private pendingHead = 0;
  private pendingCount = 0;
  private nextSeq = 0;
  // Ready times learnt before the data path handed the frame over (by number).
  private readonly earlyReady = new Float64Array(SEQ_RING).fill(NaN);
  private readonly earlySeq = new Float64Array(SEQ_RING).fill(-1);
  // The egress queue (ring of slots): frame, its number (-1: control-plane frame), when it is
  // ready for the MAC (NaN: not yet known), when the MAC has sent it.
  private readonly slots: PacketBuffer[] = [];
  private readonly slotSeq = new Float64Array(EGRESS_FRAMES);
  private readonly readyAt = new Float64Array(EGRESS_FRAMES);
  private readonly sentAt = new Float64Array(EGRESS_FRAMES);
  private readonly slotOfSeq = new Int32Array(SEQ_RING).fill(-1);
  private head = 0;
  private count = 0;
  /** Slots from the head whose MAC time is known. */
  private timed = 0;
  private macFreePs = 0;
  private eventAtPs = Infinity;
  private readonly batch: PacketBuffer[] = [];
  private refusals = 0;
  private closed = false;
  private egressDrops = 0;
  private wireDrops = 0;
  private admissionWaits = 0;
  /** Largest egress backlog seen (frames). */
  maxEgress = 0;
  txFrames = 0;
  txBytes = 0;

  constructor(
    readonly inner: NicPort,
    private readonly engine: SimEngine,
    private readonly host: PortHost,
    lineRateGbps: number,
  ) {
    if (!(lineRateGbps > 0)) throw new RangeError(`line rate must be > 0 Gbit/s, got ${lineRateGbps}`);
    const c = inner.capabilities;
    this.capabilities = Object.freeze({ ...c, driver: `sim:${c.driver}`, linkGbps: lineRateGbps });
    this.psPerByte = 8000 / lineRateGbps;
    this.arrivals = new Float64Array(Math.max(64, c.maxBurst));
    // One backing store for the egress slots (a Buffer.alloc per slot made 2048 zeroed
    // allocations per NIC, a good part of setting a NIC up). Each slot starts FRAME_ALIGN bytes
    // into whole cache lines, as the data path's frames and the virtual wire's slots do, so the
    // word copies between them stay word-aligned. The store lies in the WebAssembly payload
    // memory when the runtime has it, as the data path's frames (`SimMemoryTiers`) and the
    // virtual wire's slots do: a frame then moves by one `memory.copy`. The slots are the
    // port's alone (the wire copies what it is handed), so the memory is recycled on `close`.
    const stride = (c.maxFrameBytes + FRAME_ALIGN + 63) & ~63;
    const range = allocateOwnedPayloadMemory(this, EGRESS_FRAMES * stride);
    const backing = range !== null ? range.buffer : new ArrayBuffer(EGRESS_FRAMES * stride);
    const base = range !== null ? range.byteOffset : 0;
    for (let i = 0; i < EGRESS_FRAMES; i++)
      this.slots.push(
        new PacketBuffer(c.maxFrameBytes, { buffer: backing, byteOffset: base + i * stride + FRAME_ALIGN }),
      );
    const q = inner as NicPort & { readonly rxQueued?: number };
    this.wireQueued = typeof q.rxQueued === 'number' ? () => q.rxQueued! : null;
  }

  /** False when the wire port certainly holds no frame (only an in-process port can say). */
  wireMayHold(): boolean {
    return this.wireQueued === null || this.wireQueued() > 0;
  }

  get mac(): number {
    return this.inner.mac;
  }

  configure(conf: PortConfiguration): void {
    this.inner.configure(conf);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  stats(): PortStats {
    const s = this.inner.stats();
    return {
      rxPackets: s.rxPackets,
      rxBytes: s.rxBytes,
      txPackets: this.txFrames,
      txBytes: this.txBytes,
      drops: { ...s.drops, 'nic-egress-full': this.egressDrops, 'wire-refused': this.wireDrops },
    };
  }

  /** The NIC owns the wire port's wakeup (it polls when frames arrive); the data path's is unused. */
  setRxWakeup(_wakeup: (() => void) | null): void {}

  /** Receive polls that found the NIC's buffers full. */
  get admissionStalls(): number {
    return this.admissionWaits;
  }

  get egressBacklog(): number {
    return this.count;
  }

  /**
   * Stops transmitting (the NIC closed). Frames still queued go to the wire at once rather than
   * at their modelled time: closing a stack aborts its connections, and the RSTs it just queued
   * are how the peers learn (RFC 9293 3.10.5); dropping them would leave peers hanging.
   */
  close(): void {
    if (!this.closed && this.count > 0) {
      const batch = this.batch;
      batch.length = 0;
      let h = this.head;
      for (let k = 0; k < this.count; k++) {
        batch.push(this.slots[h]!);
        h = h + 1 === EGRESS_FRAMES ? 0 : h + 1;
      }
      const sent = this.inner.txBurst(batch, batch.length);
      this.txFrames += sent;
      if (sent > 0) this.engine.markAllDirty();
    }
    this.closed = true;
    this.count = 0;
    this.timed = 0;
    // A closed port copies into no slot again (txBurst drops, no MAC events run).
    releasePayloadMemory(this);
  }

  // ---------------------------------------------------------------- receive

  rxBurst(bufs: PacketBuffer[], max: number): number {
    this.arrivalCount = 0;
    this.arrivalNext = 0;
    this.rxMayHaveMore = false;
    const room = this.host.rxRoom();
    if (room <= 0) {
      this.admissionWaits++;
      return 0;
    }
    const now = this.engine.nowPs;
    const ask = Math.min(max, room, this.arrivals.length);
    const n = this.inner.rxBurst(bufs, ask);
    this.rxMayHaveMore = n === ask;
    for (let i = 0; i < n; i++) {
      // The wire port stamps frames with the clock it runs on: the engine's in virtual time,
      // the wall clock (the paced engine's base) in paced time.
      const ts = bufs[i]!.timestampNs * 1000;
      this.arrivals[i] = ts > 0 && ts <= now ? ts : now;
    }
    this.arrivalCount = n;
    return n;
  }

  /** Arrival time (ps) of the next frame of the current burst the data path pre-processes. */
  nextArrivalPs(): number {
    return this.arrivalNext < this.arrivalCount ? this.arrivals[this.arrivalNext++]! : this.engine.nowPs;
  }

  // ---------------------------------------------------------------- transmit

  /** Post-processing is building a frame: its number in egress order. */
  frameBuilt(): number {
    const seq = this.nextSeq++;
    if (this.pendingCount < SEQ_RING) {
      let tail = this.pendingHead + this.pendingCount;
      if (tail >= SEQ_RING) tail -= SEQ_RING;
      this.pendingSeq[tail] = seq;
      this.pendingCount++;
    }
    return seq;
  }

  /** The model finished post-processing frame `seq` at `readyPs`. */
  frameReady(seq: number, readyPs: number): void {
    const i = seq % SEQ_RING;
    const slot = this.slotOfSeq[i]!;
    if (slot >= 0 && this.slotSeq[slot] === seq && !this.closed) {
      this.readyAt[slot] = readyPs;
      this.runMac();
      return;
    }
    // Not handed over yet (the data path flushes its batch later), or dropped.
    this.earlySeq[i] = seq;
    this.earlyReady[i] = readyPs;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    const n = Math.min(count, bufs.length);
    const now = this.engine.nowPs;
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      // Frames from post-processing carry a number (their ready time comes from the model);
      // the rest are the host control plane's (SYN, RST, ARP), which cross PCIe first.
      let seq = -1;
      if (this.pendingCount > 0) {
        seq = this.pendingSeq[this.pendingHead]!;
        this.pendingHead = this.pendingHead + 1 === SEQ_RING ? 0 : this.pendingHead + 1;
        this.pendingCount--;
      }
      if (this.count === EGRESS_FRAMES || this.closed) {
        this.egressDrops++;
        continue;
      }
      const b = bufs[i]!;
      let tail = this.head + this.count;
      if (tail >= EGRESS_FRAMES) tail -= EGRESS_FRAMES;
      const slot = this.slots[tail]!;
      // Exactly the frame's bytes move (a whole-slot copy would move 1.5 KiB for a 66 B ACK):
      // one memory.copy between payload-memory buffers, else a word loop for short frames.
      copyFrameVia(
        b.data,
        b.words,
        b.wordBase,
        slot.data,
        slot.words,
        slot.wordBase,
        b.length,
        b.inPayloadMemory && slot.inPayloadMemory,
      );
      slot.length = b.length;
      this.slotSeq[tail] = seq;
      if (seq < 0) this.readyAt[tail] = now + this.host.hostToNicPs;
      else {
        const k = seq % SEQ_RING;
        this.slotOfSeq[k] = tail;
        this.readyAt[tail] = this.earlySeq[k] === seq ? this.earlyReady[k]! : NaN;
      }
      this.count++;
      accepted++;
    }
    if (this.count > this.maxEgress) this.maxEgress = this.count;
    this.runMac();
    // Refused frames are lost on the wire (the core counts them; TCP recovers).
    return accepted;
  }

  /** Serialises ready frames in order at line rate; schedules the hand-over of the head. */
  private runMac(): void {
    while (this.timed < this.count) {
      let i = this.head + this.timed;
      if (i >= EGRESS_FRAMES) i -= EGRESS_FRAMES;
      const ready = this.readyAt[i]!;
      if (ready !== ready) break; // NaN: post-processing of this frame has not ended yet
      const start = ready > this.macFreePs ? ready : this.macFreePs;
      this.macFreePs =
        start + (Math.max(this.slots[i]!.length, MIN_FRAME) + ETHERNET_WIRE_OVERHEAD_BYTES) * this.psPerByte;
      this.sentAt[i] = this.macFreePs;
      this.timed++;
    }
    if (this.timed > 0) this.schedule(this.sentAt[this.head]!);
  }

  onSimEvent(kind: number): void {
    if (kind !== EGRESS) return;
    this.eventAtPs = Infinity;
    if (this.closed) return;
    const now = this.engine.nowPs;
    // The batch array is reused: its first k entries are this burst (no truncation per event).
    const batch = this.batch;
    let h = this.head;
    let k = 0;
    while (k < this.timed && this.sentAt[h]! <= now) {
      batch[k++] = this.slots[h]!;
      h = h + 1 === EGRESS_FRAMES ? 0 : h + 1;
    }
    if (k > 0) {
      let sent = this.inner.txBurst(batch, k);
      if (sent < k && ++this.refusals > MAX_REFUSALS) {
        // The wire has refused everything for a long time (link down): drop the head frame.
        this.wireDrops++;
        sent = Math.max(sent, 1);
        this.refusals = 0;
      } else if (sent > 0) this.refusals = 0;
      for (let i = 0; i < sent; i++) {
        this.txFrames++;
        this.txBytes += batch[i]!.length;
      }
      this.head = (this.head + sent) % EGRESS_FRAMES;
      this.count -= sent;
      this.timed -= sent;
      // Every stack on the wire that received a frame has something to do now.
      if (sent > 0) this.engine.markReceivers();
      if (sent < k) {
        // The wire's transmit queue is full: retry after about one frame time on the wire.
        const gbps = this.inner.capabilities.linkGbps;
        this.schedule(now + (Number.isFinite(gbps) && gbps > 0 ? (1538 * 8000) / gbps : 1e6));
        return;
      }
    }
    if (this.timed > 0) this.schedule(this.sentAt[this.head]!);
  }

  private schedule(t: number): void {
    if (t >= this.eventAtPs) return;
    this.eventAtPs = t;
    this.engine.at(t, this, EGRESS, 0);
  }
}
