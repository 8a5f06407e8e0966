/**
 * Entry point of a NIC thread: a NIC core, or a pre-processing replica when `init.role` is
 * `pre`. Builds what it runs from `workerData`, tells the host it is ready (a core with its
 * notification ring and thread id), runs its loop until told to stop, and returns, so the thread
 * ends on its own.
 *
 * No native module is loaded on this thread (ffi-rs crashes the process when a worker that
 * loaded it exits): pinning is done by the host on this thread's id.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { SpscRing, type NicPort } from '@flextoe/core/nic';
import { NicCore } from './nic-core.js';
import { threadId } from './proc.js';
import { Ctl, type NicCoreInit, type NicCoreReady } from './nic-protocol.js';
import { PreCore, PreCtl, type PreCoreInit } from './pre-core.js';

interface WorkerData {
  readonly init: NicCoreInit | PreCoreInit;
  readonly regionPort?: MessagePort;
  readonly readyPort: MessagePort;
}

/** A pre-processing replica: validate frames until told to stop. */
function pre(init: PreCoreInit, readyPort: MessagePort): void {
  const ctl = new Int32Array(init.ctl, 0, PreCtl.words);
  const replica = new PreCore(init);
  readyPort.postMessage({ type: 'ready', tid: threadId() });
  Atomics.store(ctl, PreCtl.ready, 1);
  Atomics.notify(ctl, PreCtl.ready);
  replica.run();
}

async function main(): Promise<void> {
  const data = workerData as WorkerData;
  if (data.init.role === 'pre') return pre(data.init, data.readyPort);
  const { readyPort } = data;
  const init = data.init;
  const regionPort = data.regionPort!;
  const ctl = new Int32Array(init.ctl, 0, Ctl.words);
  // Hook: a TAP or DPDK port opened on this thread, so frames never cross threads. (The DPDK
  // addon registers this thread as an lcore when it opens the port: rte_thread_register.)
  let own: { port: NicPort; close(): Promise<void> } | null = null;
  let core: NicCore;
  try {
    if (init.portConfig !== null)
      own = await (await import('../drivers/open-port.js')).openPort(init.portConfig);
    core = new NicCore(init, own?.port ?? null, regionPort);
  } catch (err) {
    // The host may be blocked waiting for the ready word: tell it, then fail.
    Atomics.store(ctl, Ctl.ready, -1);
    Atomics.notify(ctl, Ctl.ready);
    await own?.close();
    throw err;
  }
  try {
    const ring = core.notifications;
    const ready: NicCoreReady = {
      type: 'ready',
      notifications: ring.data.buffer as SharedArrayBuffer,
      // The ring's header precedes its entry words.
      notificationsOffset:
        ring.data.byteOffset - (SpscRing.bytesFor(ring.entryWords, ring.capacity) - ring.data.byteLength),
      notificationEntries: ring.capacity,
      tid: threadId(),
    };
    readyPort.postMessage(ready); // the host closes the channel once it took the message
    // After the message: a host that sees the word can take the message synchronously.
    Atomics.store(ctl, Ctl.ready, 1);
    Atomics.notify(ctl, Ctl.ready);
    core.run();
  } finally {
    await own?.close();
    regionPort.close();
  }
}

main().catch((err: unknown) => {
  // The host sees the error as the worker's 'error' event and fails the stack.
  throw err;
});
