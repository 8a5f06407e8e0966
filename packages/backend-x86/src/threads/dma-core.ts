/**
 * A DMA replica (FlexTOE stage 4, on a thread of its own): the copy engine of one NIC core. The
 * core's data path submits payload copies (RX: frame slot -> the flow's host RX ring; TX: host TX
 * ring -> frame slot) through `ThreadDma` (thread-dma.ts), which writes a copy descriptor into
 * one of this thread's two descriptor rings, one per direction (`DmaDirection`), and rings its
 * doorbell. This thread copies in ring order and consumes each descriptor only once its bytes
 * are in place: the ring's consumer index is the completion ring (copies complete in order, so
 * "how many are done" says which), and the core learns of completions by reading it. Core's
 * `DataPath` waits for them before it publishes notifications or hands frames to the port
 * (FlexTOE: a notification or a segment is released only after its DMA finished).
 *
 * Descriptors name memory by id, not by pointer: each side registers a SharedArrayBuffer once,
 * by identity (the core posts `{ id, buffer }` on a MessagePort before the first descriptor that
 * names it; this thread takes such messages when it meets an id it does not know). Offsets are
 * bytes from the buffer's start. Nothing is allocated per copy on either side.
 *
 * Idle replicas sleep on their doorbell like the other replicas (replica-loop.ts). When the
 * thread ends, normally or not, its `gone` word is set (by itself, and by the host when the
 * worker exits) so a core waiting for its copies fails with a clear error instead of spinning.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { DmaDirection, SpscRing } from '@flextoe/core/nic';
import { Doorbell } from './doorbell.js';
import { ReplicaCtl, runReplica } from './replica-loop.js';
import { threadId } from './proc.js';

/** Words per copy descriptor: [srcMemory, srcOffset, dstMemory, dstOffset, length, tag]. */
export const DESCRIPTOR_WORDS = 6;

/** A DMA replica's control block (Int32 words: ReplicaCtl's, then its own). */
export const DmaCtl = {
  ...ReplicaCtl,
  /** Replica: rung after each batch of completions (a core waiting for them sleeps on it). */
  doneBell: 24,
  /** Replica or host: 1 once the thread has left its loop or exited (no copy will complete). */
  gone: 27,
  /** Replica: copies done per direction (ToHost, FromHost; u32, wrapping). */
  copiesToHost: 32,
  copiesFromHost: 33,
  /** Replica: bytes copied, a float64 over words 36-37 (one writer: this thread). */
  bytes: 36,
  /** Test only: descriptors completed before their bytes were copied (see `DmaFault`). */
  faulty: 38,
  /** Never written: a word to `Atomics.wait` on for a timed pause. */
  pause: 39,
} as const;

/**
 * A deliberately broken engine for negative controls: `completeEarly` publishes each completion
 * first and copies `delayMs` later, as an engine that signals completion too soon would. Tests
 * check that byte checks catch it; nothing else sets it.
 */
export interface DmaFault {
  readonly completeEarly: boolean;
  readonly delayMs: number;
}

/** A memory the core registered: its id and the buffer (structured clone keeps it shared). */
export interface DmaMemoryMessage {
  readonly id: number;
  readonly buffer: SharedArrayBuffer;
}

export interface DmaCoreInit {
  readonly role: 'dma';
  /** Index among all DMA replicas. */
  readonly index: number;
  /** The NIC core whose copies this replica runs. */
  readonly core: number;
  readonly ctl: SharedArrayBuffer;
  /** Descriptor rings (core's SpscRing, DESCRIPTOR_WORDS per entry), by `DmaDirection`. */
  readonly rings: readonly [SharedArrayBuffer, SharedArrayBuffer];
  readonly ringEntries: number;
  readonly spinRounds: number;
  readonly fault: DmaFault | null;
}

/** Bytes of one replica's descriptor ring of `entries` entries. */
export function descriptorRingBytes(entries: number): number {
  return SpscRing.bytesFor(DESCRIPTOR_WORDS, entries);
}

const BATCH = 64;
/** How long to look for a memory's registration message before calling the descriptor bad. */
const REGISTRATION_WAIT_MS = 1000;

export class DmaCore {
  private readonly ctl: Int32Array;
  private readonly bytes: Float64Array;
  private readonly bell: Doorbell;
  private readonly doneBell: Doorbell;
  private readonly rings: readonly [SpscRing, SpscRing];
  /** Memories by id (index); each a Buffer over its whole SharedArrayBuffer. */
  private memories: (Buffer | undefined)[] = [];

  constructor(
    readonly init: DmaCoreInit,
    /** Where the core posts `DmaMemoryMessage`s. */
    private readonly memoryPort: MessagePort,
  ) {
    this.ctl = new Int32Array(init.ctl, 0, DmaCtl.words);
    this.bytes = new Float64Array(init.ctl, DmaCtl.bytes * 4, 1);
    this.bell = new Doorbell(this.ctl, DmaCtl.bell);
    this.doneBell = new Doorbell(this.ctl, DmaCtl.doneBell);
    this.rings = [
      SpscRing.attach(init.rings[0], 0, DESCRIPTOR_WORDS, init.ringEntries),
      SpscRing.attach(init.rings[1], 0, DESCRIPTOR_WORDS, init.ringEntries),
    ];
    Atomics.store(this.ctl, DmaCtl.tid, threadId());
  }

  /** Runs up to one batch per direction; returns copies completed. */
  round(): number {
    const toHost = this.drain(this.rings[DmaDirection.ToHost], DmaCtl.copiesToHost);
    const fromHost = this.drain(this.rings[DmaDirection.FromHost], DmaCtl.copiesFromHost);
    if (toHost + fromHost > 0) this.doneBell.ring(); // a core waiting for these completions sleeps on it
    return toHost + fromHost;
  }

  /**
   * Copies the ring's descriptors in order, completing each after its bytes landed. A copy is
   * counted (`counter`, bytes) before its completion is published, so whoever sees the
   * completion sees the count too (the stats agree with the data path's at any quiet moment).
   */
  private drain(ring: SpscRing, counter: number): number {
    const d = ring.data;
    const fault = this.init.fault;
    let n = 0;
    while (n < BATCH) {
      const w = ring.peek();
      if (w < 0) break;
      const src = this.memory(d[w]!);
      const srcOffset = d[w + 1]!;
      const dst = this.memory(d[w + 2]!);
      const dstOffset = d[w + 3]!;
      const length = d[w + 4]!;
      if (srcOffset + length > src.length || dstOffset + length > dst.length)
        throw new RangeError(
          `DMA replica ${this.init.index}: descriptor of ${length} B from ${srcOffset} of ${src.length} to ${dstOffset} of ${dst.length} is out of bounds`,
        );
      this.bytes[0] = this.bytes[0]! + length;
      Atomics.add(this.ctl, counter, 1);
      if (fault !== null && fault.completeEarly) {
        // The negative control: the core sees the completion before the bytes move.
        ring.consume();
        Atomics.add(this.ctl, DmaCtl.faulty, 1);
        Atomics.wait(this.ctl, DmaCtl.pause, 0, fault.delayMs);
        src.copy(dst, dstOffset, srcOffset, srcOffset + length);
      } else {
        src.copy(dst, dstOffset, srcOffset, srcOffset + length);
        ring.consume(); // the completion: the consumer index passes this descriptor
      }
      n++;
    }
    return n;
  }

  /** The memory registered as `id`; takes registration messages until it is known. */
  private memory(id: number): Buffer {
    const m = this.memories[id];
    if (m !== undefined) return m;
    const deadline = Date.now() + REGISTRATION_WAIT_MS;
    for (;;) {
      const msg = receiveMessageOnPort(this.memoryPort)?.message as DmaMemoryMessage | undefined;
      if (msg !== undefined) {
        if (msg.id >= this.memories.length) {
          const grown = new Array<Buffer | undefined>(Math.max(2 * this.memories.length, msg.id + 1));
          for (let i = 0; i < this.memories.length; i++) grown[i] = this.memories[i];
          this.memories = grown;
        }
        this.memories[msg.id] = Buffer.from(msg.buffer);
        if (msg.id === id) return this.memories[id]!;
        continue;
      }
      // The core posts a registration before the descriptor that names it; the message may still
      // be on its way between the ports' queues.
      if (Date.now() > deadline)
        throw new Error(`DMA replica ${this.init.index}: a descriptor names memory ${id}, never registered`);
      Atomics.wait(this.ctl, DmaCtl.pause, 0, 1);
    }
  }

  /** Descriptors waiting in either ring. */
  get pending(): number {
    return this.rings[0].size + this.rings[1].size;
  }

  run(): void {
    try {
      // The core stopped first: it waited for every copy it submitted, so nothing is left.
      runReplica(
        {
          ctl: this.ctl,
          bell: this.bell,
          pending: () => this.pending,
          spinRounds: this.init.spinRounds,
          round: () => this.round(),
        },
        true,
      );
    } finally {
      Atomics.store(this.ctl, DmaCtl.gone, 1);
      this.doneBell.ring(); // a core asleep waiting for copies wakes and sees `gone`
    }
  }
}
