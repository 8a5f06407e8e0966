/**
 * The TAP port's readiness thread: while the port is armed it blocks in poll(2) on the TAP fd
 * (and on a stop pipe), and when a frame is waiting it marks the port readable and tells the
 * stack's thread once. It never reads frames: that stays on the stack's thread, with no copy
 * and no hand-off. Blocking in poll costs no CPU while idle, unlike a polling timer, and
 * answers in microseconds, not the millisecond of the shortest Node timer.
 *
 * Control words (Int32Array over a SharedArrayBuffer, indices in `ReadinessWord`):
 *  ARMED    1 while the stack wants to hear of the next frame; this thread clears it when it
 *           reports one (edge-triggered, FlexTOE: interrupts only after idleness).
 *  READABLE set here when poll says the fd has a frame; the stack clears it when a read
 *           finds the queue empty (EAGAIN), then re-arms.
 *  STOP     set by the stack to end this thread (with a byte on the stop pipe to end poll).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EINTR, POLLERR, POLLHUP, POLLIN, POLLNVAL, poll, pollFds, revents } from './libc.js';
import { ReadinessWord, type ReadinessWorkerData } from './readiness-words.js';

const { fd, stopFd, control } = workerData as ReadinessWorkerData;
const words = new Int32Array(control);
const fds = pollFds([fd, stopFd]);

function run(): void {
  Atomics.store(words, ReadinessWord.Ready, 1);
  for (;;) {
    while (Atomics.load(words, ReadinessWord.Stop) === 0 && Atomics.load(words, ReadinessWord.Armed) === 0) {
      Atomics.wait(words, ReadinessWord.Armed, 0);
    }
    if (Atomics.load(words, ReadinessWord.Stop) !== 0) return;
    const r = poll(fds, -1);
    if (Atomics.load(words, ReadinessWord.Stop) !== 0) return;
    if (r.value < 0) {
      if (r.errno === EINTR) continue;
      parentPort!.postMessage({ error: `poll: ${r.message}` });
      return;
    }
    const ev = revents(fds, 0);
    if (ev & (POLLERR | POLLHUP | POLLNVAL)) {
      // The device went away (deleted, or its namespace removed): report once, stop polling.
      parentPort!.postMessage({
        error: `TAP fd ${fd} reported ${ev & POLLNVAL ? 'POLLNVAL' : 'POLLERR/POLLHUP'}`,
      });
      return;
    }
    if (ev & POLLIN) {
      // Disarm before marking readable: the stack clears READABLE and then arms, so in every
      // interleaving one of the two is left set (never "not readable and nobody polling").
      const wasArmed = Atomics.compareExchange(words, ReadinessWord.Armed, 1, 0) === 1;
      Atomics.store(words, ReadinessWord.Readable, 1);
      if (wasArmed) parentPort!.postMessage(null);
    }
  }
}

run();
// End the thread now: a loader in this worker (tsx, from the sources) may hold timers that
// would otherwise keep it alive after the stack asked it to stop.
process.exit(0);
