/**
 * A doorbell: how a thread with several input rings sleeps without burning a core and is woken
 * by whichever producer publishes first (FlexTOE raises interrupts only after idleness; this is
 * the same idea between threads). Two Int32 words in a SharedArrayBuffer: a sequence number and
 * a "sleeping" flag.
 *
 * The sleeper reads the sequence, announces it is sleeping, re-checks its rings, and waits on
 * the sequence only if they are still empty. A producer publishes (an Atomics.store of a ring
 * tail), then loads the flag, and rings (bumps the sequence and notifies) only when the sleeper
 * announced itself. This is the Dekker handshake `SpscRing.waitForData` uses for one ring:
 * Atomics are sequentially consistent, so either the sleeper's re-check sees the publish or the
 * producer sees the flag; and `Atomics.wait` returns at once when the sequence moved since the
 * sleeper read it, so a ring between the re-check and the wait is never lost. A busy ring costs a
 * producer one atomic load per publish, not a system call.
 *
 * Worker threads sleep with `Atomics.wait`; the main thread (which must not block its event loop)
 * with `Atomics.waitAsync`, a promise the notify resolves.
 */

/** Words one doorbell takes; keep doorbells of different sleepers on different 64-byte lines. */
export const DOORBELL_WORDS = 2;
const SEQ = 0;
const SLEEPING = 1;

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** `Atomics.waitAsync` (ES2024; Node >= 16), typed for this project's ES2023 lib. */
export const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

export class Doorbell {
  private readonly seq: number;
  private readonly sleeping: number;

  /** The doorbell at word `word` of `ctl` (a view of a SharedArrayBuffer). */
  constructor(
    private readonly ctl: Int32Array,
    word: number,
  ) {
    this.seq = word + SEQ;
    this.sleeping = word + SLEEPING;
  }

  /** Producer, after publishing: wakes the sleeper if it announced itself. Allocation-free. */
  ring(): void {
    const ctl = this.ctl;
    if (Atomics.load(ctl, this.sleeping) === 0) return;
    Atomics.store(ctl, this.sleeping, 0);
    Atomics.add(ctl, this.seq, 1);
    Atomics.notify(ctl, this.seq);
  }

  /** Sleeper, step 1: announce. Returns the sequence to pass to `sleep`/`sleepAsync`. */
  announce(): number {
    const s = Atomics.load(this.ctl, this.seq);
    Atomics.store(this.ctl, this.sleeping, 1);
    return s;
  }

  /** Sleeper: the re-check found work; stop announcing. */
  cancel(): void {
    Atomics.store(this.ctl, this.sleeping, 0);
  }

  /**
   * Sleeper, step 2 on a worker thread: blocks until rung or `timeoutMs` passed (the re-check
   * between `announce` and this found nothing).
   */
  sleep(seq: number, timeoutMs: number): void {
    Atomics.wait(this.ctl, this.seq, seq, timeoutMs);
    Atomics.store(this.ctl, this.sleeping, 0);
  }

  /** Sleeper, step 2 on the main thread: resolves when rung (or at once if it already was). */
  sleepAsync(seq: number): Promise<void> {
    if (waitAsync === undefined) {
      // Node before 16: poll the sequence on a timer (never used on Node >= 20, kept honest).
      return new Promise((resolve) => {
        const check = (): void => {
          if (Atomics.load(this.ctl, this.seq) !== seq) resolve();
          else setTimeout(check, 1);
        };
        check();
      });
    }
    const r = waitAsync(this.ctl, this.seq, seq);
    if (!r.async) {
      Atomics.store(this.ctl, this.sleeping, 0);
      return Promise.resolve();
    }
    return r.value.then(() => {
      Atomics.store(this.ctl, this.sleeping, 0);
    });
  }

  /** True while the sleeper announced itself and was not rung yet. */
  get isSleeping(): boolean {
    return Atomics.load(this.ctl, this.sleeping) !== 0;
  }
}
