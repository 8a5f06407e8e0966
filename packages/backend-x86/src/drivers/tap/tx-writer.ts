/**
 * The stack thread's side of the TAP transmit ring (tx-ring.ts): copy frames into free slots,
 * publish them with one store, wake the writer thread only when it sleeps.
 */
import type { Worker } from 'node:worker_threads';
import { copyFrame, DEFAULT_FRAME_CAPACITY, type PacketBuffer } from '@flextoe/core';
import { TxWord, TX_WORDS, type TxRingData } from './tx-ring.js';
import { startTapWorker } from './worker-entry.js';

/** Frames the ring holds: ~3 MiB, several round trips of a 256 KiB window in flight. */
export const TX_RING_FRAMES = 2048;

export class TapTxWriter {
  private readonly words = new Int32Array(new SharedArrayBuffer(TX_WORDS * 4));
  private readonly lengths = new Int32Array(new SharedArrayBuffer(TX_RING_FRAMES * 4));
  private readonly slots: Buffer[];
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly mask = TX_RING_FRAMES - 1;
  /** Next index to fill; published to the writer by `publish`. */
  private tail = 0;
  private stopping: Promise<void> | null = null;
  /** Set when the writer thread failed; the port reports it. */
  failure: string | null = null;

  constructor(fd: number) {
    const slotBytes = DEFAULT_FRAME_CAPACITY;
    const area = new SharedArrayBuffer(TX_RING_FRAMES * slotBytes);
    this.slots = Array.from({ length: TX_RING_FRAMES }, (_, i) =>
      Buffer.from(area, i * slotBytes, slotBytes),
    );
    const data: TxRingData = {
      fd,
      capacity: TX_RING_FRAMES,
      slotBytes,
      control: this.words.buffer as SharedArrayBuffer,
      slots: area,
      lengths: this.lengths.buffer as SharedArrayBuffer,
    };
    this.worker = startTapWorker('tx-writer-worker', data, `flextoe-tap-writer-${fd}`);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', (e) => {
      this.failure = `writer thread: ${e.message}`;
    });
    // Frames in the ring are not a reason to keep the process alive; close() waits for the thread.
    this.worker.unref();
  }

  /** The largest frame a slot holds. */
  get slotBytes(): number {
    return this.slots[0]!.length;
  }

  /** Copies a frame into the next slot; false when the ring is full (the writer is behind). */
  push(frame: PacketBuffer): boolean {
    const head = Atomics.load(this.words, TxWord.Head);
    if (((this.tail - head) | 0) >= TX_RING_FRAMES) return false;
    const slot = this.tail & this.mask;
    copyFrame(frame.data, this.slots[slot]!, frame.length);
    this.lengths[slot] = frame.length;
    this.tail = (this.tail + 1) | 0;
    return true;
  }

  /** Hands the pushed frames to the writer, waking it if it sleeps. */
  publish(): void {
    Atomics.store(this.words, TxWord.Tail, this.tail);
    if (Atomics.load(this.words, TxWord.Sleeping) !== 0) Atomics.notify(this.words, TxWord.Tail);
  }

  /** Frames pushed and not yet written. */
  get queued(): number {
    return (this.tail - Atomics.load(this.words, TxWord.Head)) | 0;
  }

  get linkDownDrops(): number {
    return Atomics.load(this.words, TxWord.LinkDown);
  }

  get writeErrors(): number {
    return Atomics.load(this.words, TxWord.Errors);
  }

  get kernelWaits(): number {
    return Atomics.load(this.words, TxWord.Waits);
  }

  /** Resolves once the writer runs (or has failed). */
  async ready(): Promise<void> {
    while (Atomics.load(this.words, TxWord.Ready) === 0 && this.failure === null) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Ends the writer (frames still queued are dropped); resolves when it has exited. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.worker.ref(); // until it has exited
      Atomics.store(this.words, TxWord.Stop, 1);
      Atomics.notify(this.words, TxWord.Tail);
      Atomics.notify(this.words, TxWord.Stop);
      await this.exited;
    })();
    return this.stopping;
  }
}
