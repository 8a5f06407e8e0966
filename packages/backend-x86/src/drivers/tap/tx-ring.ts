/**
 * The TAP port's transmit ring: frame slots and lengths in SharedArrayBuffers, filled by the
 * stack's thread (`txBurst` copies frames in and publishes the tail) and drained by the TAP
 * writer thread (tx-writer-worker.ts), which does the write(2) per frame. A write to a TAP runs
 * the kernel's receive path for the frame (IP, TCP, waking the peer) inside the writing thread,
 * so this takes that work, and the ~60 B Node allocates per `fs.writeSync`, off the stack's
 * thread: the stack's thread neither allocates nor enters the kernel per transmitted frame.
 *
 * Single producer, single consumer; indices only grow (slot = index mod capacity).
 */
export const TxWord = {
  /** Next index the writer will take (written by the writer). */
  Head: 0,
  /** Next index the stack will fill (written by the stack). */
  Tail: 1,
  /** 1 while the writer waits for frames (then the stack notifies Tail). */
  Sleeping: 2,
  /** Set by the stack to end the writer. */
  Stop: 3,
  /** Set by the writer once it runs. */
  Ready: 4,
  /** Counters written by the writer: frames the kernel refused because the link was down (EIO). */
  LinkDown: 5,
  /** Other write errors. */
  Errors: 6,
  /** Frames the kernel made the writer wait for (EAGAIN: its send buffer was full). */
  Waits: 7,
} as const;
export const TX_WORDS = 8;

export interface TxRingData {
  readonly fd: number;
  readonly capacity: number;
  readonly slotBytes: number;
  readonly control: SharedArrayBuffer;
  readonly slots: SharedArrayBuffer;
  readonly lengths: SharedArrayBuffer;
}
