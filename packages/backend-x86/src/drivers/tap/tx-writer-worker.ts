/**
 * The TAP writer thread (see tx-ring.ts): takes frames off the transmit ring in order and writes
 * each to the TAP fd; sleeps on the ring's tail when it is empty. It needs no ffi: Node's
 * `fs.writeSync` is the write(2).
 */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { TxWord, type TxRingData } from './tx-ring.js';

const data = workerData as TxRingData;
const words = new Int32Array(data.control);
const lengths = new Int32Array(data.lengths);
const slots = Buffer.from(data.slots);
const mask = data.capacity - 1;

/** Writes one frame; false when the kernel asks us to wait (EAGAIN) and the frame must be retried. */
function writeFrame(index: number): boolean {
  const slot = index & mask;
  try {
    writeSync(data.fd, slots, slot * data.slotBytes, lengths[slot]!, null);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') return false;
    // A TAP whose interface is down refuses writes with EIO: the frame is lost, as on a dead link.
    Atomics.add(words, code === 'EIO' ? TxWord.LinkDown : TxWord.Errors, 1);
  }
  return true;
}

function run(): void {
  Atomics.store(words, TxWord.Ready, 1);
  let head = Atomics.load(words, TxWord.Head);
  for (;;) {
    if (Atomics.load(words, TxWord.Stop) !== 0) return;
    const tail = Atomics.load(words, TxWord.Tail);
    if (head === tail) {
      // Announce the sleep, then look again: a frame published in between is not missed.
      Atomics.store(words, TxWord.Sleeping, 1);
      if (Atomics.load(words, TxWord.Tail) === tail && Atomics.load(words, TxWord.Stop) === 0) {
        Atomics.wait(words, TxWord.Tail, tail);
      }
      Atomics.store(words, TxWord.Sleeping, 0);
      continue;
    }
    while (head !== tail) {
      if (!writeFrame(head)) {
        Atomics.add(words, TxWord.Waits, 1);
        Atomics.wait(words, TxWord.Stop, 0, 1); // the kernel's send buffer is full: 1 ms
        break;
      }
      head = (head + 1) | 0;
      Atomics.store(words, TxWord.Head, head);
    }
  }
}

run();
// End the thread now (a loader's timers in this worker must not keep it alive after Stop).
process.exit(0);
