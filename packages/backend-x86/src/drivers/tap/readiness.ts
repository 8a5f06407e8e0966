/**
 * The stack thread's side of the TAP readiness thread (see readiness-worker.ts): a shared
 * READABLE hint that lets `rxBurst` skip the read syscall (and the EAGAIN exception Node
 * throws for it, ~5-15 us and ~1 KiB) while the queue is known to be empty, and an edge-
 * triggered wakeup when a frame arrives after idleness.
 */
import { closeSync, writeSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { pipe } from './libc.js';
import { startTapWorker } from './worker-entry.js';
import { ReadinessWord, READINESS_WORDS, type ReadinessWorkerData } from './readiness-words.js';

/** Without the readiness thread (it failed), the port polls on this period instead. */
const FALLBACK_POLL_MS = 1;

export class TapReadiness {
  private readonly words = new Int32Array(new SharedArrayBuffer(READINESS_WORDS * 4));
  private readonly worker: Worker;
  private readonly stopRead: number;
  private readonly stopWrite: number;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | null = null;
  private referenced = true;
  private fallback: ReturnType<typeof setInterval> | null = null;
  /** Set when the readiness thread failed (e.g. the device was deleted); the port reports it. */
  failure: string | null = null;

  constructor(
    fd: number,
    private readonly onWake: () => void,
  ) {
    [this.stopRead, this.stopWrite] = pipe();
    // Unknown at start: let the first rxBurst try a read.
    this.words[ReadinessWord.Readable] = 1;
    const data: ReadinessWorkerData = {
      fd,
      stopFd: this.stopRead,
      control: this.words.buffer as SharedArrayBuffer,
    };
    this.worker = startTapWorker('readiness-worker', data, `flextoe-tap-readiness-${fd}`);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (m: { error: string } | null) => {
      if (m === null) onWake();
      else this.fail(m.error);
    });
    this.worker.on('error', (e) => this.fail(`readiness thread: ${e.message}`));
    this.unref();
  }

  /**
   * The readiness thread is gone: say so (the port's `lastError`), read on every burst and poll
   * every millisecond, so the port still works, only less efficiently.
   */
  private fail(why: string): void {
    if (this.failure !== null || this.stopping !== null) return;
    this.failure = why;
    Atomics.store(this.words, ReadinessWord.Readable, 1);
    this.fallback = setInterval(() => {
      Atomics.store(this.words, ReadinessWord.Readable, 1);
      if (Atomics.exchange(this.words, ReadinessWord.Armed, 0) === 1) this.onWake();
    }, FALLBACK_POLL_MS);
    if (!this.referenced) this.fallback.unref();
  }

  /**
   * True unless a read found the queue empty and the readiness thread has not seen a frame
   * since. Until the thread runs (starting a worker takes milliseconds, longer from sources),
   * every read is tried. When not readable, makes sure the thread is polling, so a frame that
   * arrives now is noticed whatever the interleaving of the two threads was.
   */
  get readable(): boolean {
    if (Atomics.load(this.words, ReadinessWord.Readable) !== 0) return true;
    if (Atomics.load(this.words, ReadinessWord.Ready) === 0) return true;
    if (Atomics.load(this.words, ReadinessWord.Armed) === 0) this.arm();
    return false;
  }

  /** Resolves once the readiness thread polls, or has failed (then the port polls on a timer). */
  async ready(): Promise<void> {
    while (Atomics.load(this.words, ReadinessWord.Ready) === 0 && this.failure === null) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** A read found the queue empty: clear the hint and ask to hear of the next frame. */
  idle(): void {
    if (this.failure === null) Atomics.store(this.words, ReadinessWord.Readable, 0);
    this.arm();
  }

  arm(): void {
    if (Atomics.compareExchange(this.words, ReadinessWord.Armed, 0, 1) === 0) {
      Atomics.notify(this.words, ReadinessWord.Armed);
    }
  }

  /** While a wakeup is registered the thread keeps the process alive, like a listening socket. */
  ref(): void {
    if (!this.referenced) this.worker.ref();
    this.fallback?.ref();
    this.referenced = true;
  }

  unref(): void {
    if (this.referenced) this.worker.unref();
    this.fallback?.unref();
    this.referenced = false;
  }

  /** Ends the thread; resolves when it has exited (only then may the TAP fd be closed). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.fallback !== null) clearInterval(this.fallback);
      // Until it has exited: an unreferenced worker would let the process end under us.
      this.worker.ref();
      Atomics.store(this.words, ReadinessWord.Stop, 1);
      Atomics.notify(this.words, ReadinessWord.Armed);
      try {
        writeSync(this.stopWrite, Buffer.of(1));
      } catch {
        // The pipe is non-blocking and holds one byte at most here; nothing else can fail.
      }
      await this.exited;
      closeSync(this.stopRead);
      closeSync(this.stopWrite);
    })();
    return this.stopping;
  }
}
