/**
 * The NIC core's DMA engine when the core has DMA replicas (`x86.graph.dma`): core's `DmaEngine`
 * (submit / poll / inFlight, completion by tag) over SharedArrayBuffer rings to replica threads
 * (dma-core.ts) that do the copies. `submit` writes a descriptor (source memory id and offset,
 * destination memory id and offset, length, tag) into the direction's ring of the next replica
 * (round robin), publishes it and rings the replica; `poll` reads how far each ring's consumer
 * (the replica) got, which is how many of its copies completed, and returns the tags of the
 * completed copies in submission order. `inFlight` counts copies not yet returned by `poll`, and
 * `submit` refuses a copy beyond `limits.inFlightPerQueue` per direction (FlexTOE's NFP engine
 * bounds commands in flight per queue); core's data path then waits for completions and goes
 * again.
 *
 * Memories are registered by identity, once: the first copy that names a SharedArrayBuffer
 * gives it an id and posts it to every replica (`DmaMemoryMessage`), before the descriptor. A
 * copy whose source or destination is not shared (a thread of its own cannot see it) is done
 * here at once and counted (`inline`); with core's frame slots in shared memory
 * (`DataPathOptions.sharedFrameSlots`) there are none, which the specs check.
 *
 * A core waiting for completions (core's `awaitDma` polls in a loop) spins a little, then sleeps
 * on the replica's completion doorbell, so a replica slowed by the scheduler is not fought for
 * the CPU. If a replica is gone (its thread ended) while copies are in flight, `poll` throws: the
 * core fails, and the host ends its connections, instead of spinning forever.
 */
import type { MessagePort } from 'node:worker_threads';
import { checkDmaCopy, DmaDirection, SpscRing, type DmaEngine, type DmaLimits } from '@flextoe/core/nic';
import { Doorbell } from './doorbell.js';
import { DESCRIPTOR_WORDS, DmaCtl, type DmaMemoryMessage } from './dma-core.js';

/** The core's end of one DMA replica. */
export interface DmaReplicaLink {
  /** Index among all DMA replicas (for messages). */
  readonly index: number;
  readonly ctl: SharedArrayBuffer;
  /** Descriptor rings by `DmaDirection`. */
  readonly rings: readonly [SharedArrayBuffer, SharedArrayBuffer];
}

export interface ThreadDmaInit {
  readonly replicas: readonly DmaReplicaLink[];
  /** Entries of each descriptor ring (`ringEntriesFor`). */
  readonly ringEntries: number;
  readonly limits: DmaLimits;
}

/** FlexTOE's NFP engine: about 120 commands in flight per queue (DESIGN.md 2). */
export const DEFAULT_DMA_LIMITS: DmaLimits = { inFlightPerQueue: 128, maxCopyBytes: 1 << 20 };

/** Descriptor ring entries per replica: round robin puts at most ceil(bound / replicas) in each. */
export function ringEntriesFor(limits: DmaLimits, replicas: number): number {
  let n = 1;
  while (n < Math.ceil(limits.inFlightPerQueue / replicas)) n <<= 1;
  return n;
}

/**
 * Empty polls with copies in flight before the core sleeps on the completion doorbell. Short: on
 * a machine with fewer CPUs than threads a spinning core takes the CPU its replica needs (spinning
 * 50 us halved bulk throughput on 2 CPUs, 200 us quartered it).
 */
const SPIN_POLLS = 64;
/** Longest such sleep (the replica rings the doorbell at each batch of completions). */
const COMPLETION_SLEEP_MS = 1;
/** Identity cache of the memories the engine copied between last (frame slots, a flow's ring). */
const ID_CACHE = 4;

/** Counters of the engine (the core's side). */
export interface ThreadDmaCounters {
  /** Copies handed to replica threads. */
  submitted: number;
  /** Copies done at once on the core: a side was not in shared memory. */
  inline: number;
  /** Memories registered with the replicas. */
  registered: number;
  /** Times the core slept waiting for completions. */
  sleeps: number;
}

export class ThreadDma implements DmaEngine {
  readonly limits: DmaLimits;
  readonly counters: ThreadDmaCounters = { submitted: 0, inline: 0, registered: 0, sleeps: 0 };
  /** Descriptor rings by direction, then replica. */
  private readonly rings: readonly (readonly SpscRing[])[];
  /** Descriptors pushed per direction and replica (u32; equals the ring's tail). */
  private readonly pushed: readonly Uint32Array[];
  /** Scratch: per replica, descriptors its ring's consumer has passed (filled by `poll`). */
  private readonly done: Uint32Array;
  private readonly ctls: readonly Int32Array[];
  private readonly bells: readonly Doorbell[];
  private readonly doneBells: readonly Doorbell[];
  /** Per direction, submitted copies in order: tag, replica (-1: done inline), its ring count. */
  private readonly qTag: readonly Uint32Array[];
  private readonly qReplica: readonly Int8Array[];
  private readonly qSeq: readonly Uint32Array[];
  private readonly qMask: number;
  /** Per direction: copies submitted, and returned by `poll` (u32, wrapping). */
  private readonly submitted = new Uint32Array(2);
  private readonly returned = new Uint32Array(2);
  private readonly nextReplica = new Uint32Array(2);
  private readonly ids = new Map<ArrayBufferLike, number>();
  private readonly cacheKeys: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(ID_CACHE).fill(
    null,
  );
  private readonly cacheIds = new Int32Array(ID_CACHE);
  private cacheVictim = 0;
  private nextId = 1;
  private stalls = 0;

  constructor(
    readonly init: ThreadDmaInit,
    /** Per replica, where memory registrations go (`DmaMemoryMessage`). */
    private readonly memoryPorts: readonly MessagePort[],
  ) {
    const k = init.replicas.length;
    if (k < 1 || k > 127) throw new RangeError(`x86 DMA: ${k} replicas; 1 to 127 per NIC core`);
    if (memoryPorts.length !== k) throw new RangeError('x86 DMA: one memory port per replica');
    this.limits = init.limits;
    this.rings = [DmaDirection.ToHost, DmaDirection.FromHost].map((dir) =>
      init.replicas.map((r) => SpscRing.attach(r.rings[dir], 0, DESCRIPTOR_WORDS, init.ringEntries)),
    );
    this.pushed = [new Uint32Array(k), new Uint32Array(k)];
    this.done = new Uint32Array(k);
    this.ctls = init.replicas.map((r) => new Int32Array(r.ctl, 0, DmaCtl.words));
    this.bells = this.ctls.map((c) => new Doorbell(c, DmaCtl.bell));
    this.doneBells = this.ctls.map((c) => new Doorbell(c, DmaCtl.doneBell));
    let q = 1;
    while (q < init.limits.inFlightPerQueue) q <<= 1;
    this.qMask = q - 1;
    this.qTag = [new Uint32Array(q), new Uint32Array(q)];
    this.qReplica = [new Int8Array(q), new Int8Array(q)];
    this.qSeq = [new Uint32Array(q), new Uint32Array(q)];
  }

  submit(
    direction: DmaDirection,
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    length: number,
    tag: number,
  ): boolean {
    if (((this.submitted[direction]! - this.returned[direction]!) | 0) >= this.limits.inFlightPerQueue)
      return false;
    checkDmaCopy(this.limits, src, srcOffset, dst, dstOffset, length);
    const srcId = this.idOf(src.buffer);
    const dstId = this.idOf(dst.buffer);
    const i = this.submitted[direction]! & this.qMask;
    this.qTag[direction]![i] = tag;
    if (srcId === 0 || dstId === 0) {
      // Memory this thread alone can see: copied now, complete at the next poll.
      Buffer.prototype.copy.call(src, dst, dstOffset, srcOffset, srcOffset + length);
      this.qReplica[direction]![i] = -1;
      this.submitted[direction]!++;
      this.counters.inline++;
      return true;
    }
    const r = this.nextReplica[direction]!;
    const ring = this.rings[direction]![r]!;
    const w = ring.reserve();
    if (w < 0) return false; // not with round robin under the bound; a full ring waits as one
    const d = ring.data;
    d[w] = srcId;
    d[w + 1] = src.byteOffset + srcOffset;
    d[w + 2] = dstId;
    d[w + 3] = dst.byteOffset + dstOffset;
    d[w + 4] = length;
    d[w + 5] = tag;
    ring.commit(); // published at once: the replica copies while this core builds the rest
    this.bells[r]!.ring();
    const pushed = this.pushed[direction]!;
    pushed[r] = pushed[r]! + 1;
    this.qReplica[direction]![i] = r;
    this.qSeq[direction]![i] = pushed[r]!;
    this.submitted[direction]!++;
    this.nextReplica[direction] = r + 1 === this.rings[direction]!.length ? 0 : r + 1;
    this.counters.submitted++;
    this.stalls = 0;
    return true;
  }

  poll(out: Uint32Array, max: number): number {
    let n = this.pollDirection(DmaDirection.ToHost, out, 0, max);
    n += this.pollDirection(DmaDirection.FromHost, out, n, max);
    if (n > 0 || this.inFlight(DmaDirection.ToHost) + this.inFlight(DmaDirection.FromHost) === 0) {
      this.stalls = 0;
      return n;
    }
    this.checkReplicas();
    if (++this.stalls >= SPIN_POLLS) this.sleepForCompletion();
    return 0;
  }

  inFlight(direction: DmaDirection): number {
    return (this.submitted[direction]! - this.returned[direction]!) | 0;
  }

  /** Completed copies of one direction, oldest first, up to the first one still in flight. */
  private pollDirection(direction: DmaDirection, out: Uint32Array, n: number, max: number): number {
    const sub = this.submitted[direction]!;
    let ret = this.returned[direction]!;
    if (sub === ret) return 0;
    const rings = this.rings[direction]!;
    const pushed = this.pushed[direction]!;
    const done = this.done;
    // How far each replica got: what it pushed minus what its ring still holds.
    for (let r = 0; r < rings.length; r++) {
      const ring = rings[r]!;
      done[r] = pushed[r]! - (ring.capacity - ring.free);
    }
    const qTag = this.qTag[direction]!;
    const qReplica = this.qReplica[direction]!;
    const qSeq = this.qSeq[direction]!;
    const mask = this.qMask;
    const first = n;
    while (ret !== sub && n < max) {
      const i = ret & mask;
      const r = qReplica[i]!;
      if (r >= 0 && ((done[r]! - qSeq[i]!) | 0) < 0) break;
      out[n++] = qTag[i]!;
      ret = (ret + 1) >>> 0;
    }
    this.returned[direction] = ret;
    return n - first;
  }

  /** Throws when a replica the in-flight copies need has ended. */
  private checkReplicas(): void {
    for (let r = 0; r < this.ctls.length; r++) {
      if (Atomics.load(this.ctls[r]!, DmaCtl.gone) === 0) continue;
      const inFlight = this.inFlight(DmaDirection.ToHost) + this.inFlight(DmaDirection.FromHost);
      throw new Error(
        `x86 DMA replica ${this.init.replicas[r]!.index} is gone with ${inFlight} copies of this NIC core in flight: they cannot complete`,
      );
    }
  }

  /** Sleeps on the completion doorbell of the replica holding the oldest copy in flight. */
  private sleepForCompletion(): void {
    const dir = this.inFlight(DmaDirection.ToHost) > 0 ? DmaDirection.ToHost : DmaDirection.FromHost;
    const r = this.qReplica[dir]![this.returned[dir]! & this.qMask]!;
    if (r < 0) return; // done inline: the next poll returns it
    const bell = this.doneBells[r]!;
    const seq = bell.announce();
    // Re-check after announcing (doorbell.ts): the replica may have just completed it.
    const ring = this.rings[dir]![r]!;
    const done = this.pushed[dir]![r]! - (ring.capacity - ring.free);
    if (((done - this.qSeq[dir]![this.returned[dir]! & this.qMask]!) | 0) >= 0) {
      bell.cancel();
      return;
    }
    this.counters.sleeps++;
    bell.sleep(seq, COMPLETION_SLEEP_MS);
    this.stalls = 0;
  }

  /** Registers a memory (a view's whole buffer) with the replicas now, if it is shared. */
  register(view: Uint8Array): void {
    this.idOf(view.buffer);
  }

  /** The id a buffer is registered as; 0 when it is not shared (copied inline). */
  private idOf(buffer: ArrayBufferLike): number {
    const keys = this.cacheKeys;
    for (let i = 0; i < ID_CACHE; i++) if (keys[i] === buffer) return this.cacheIds[i]!;
    let id = this.ids.get(buffer);
    if (id === undefined) {
      // Once per memory, not per copy: structured clone keeps the SharedArrayBuffer shared.
      id = buffer instanceof SharedArrayBuffer ? this.nextId++ : 0;
      this.ids.set(buffer, id);
      if (id !== 0) {
        const message: DmaMemoryMessage = { id, buffer: buffer as SharedArrayBuffer };
        for (const p of this.memoryPorts) p.postMessage(message);
        this.counters.registered++;
      }
    }
    const v = this.cacheVictim;
    this.cacheVictim = (v + 1) & (ID_CACHE - 1);
    keys[v] = buffer;
    this.cacheIds[v] = id;
    return id;
  }
}
