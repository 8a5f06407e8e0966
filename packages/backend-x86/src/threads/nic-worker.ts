/**
 * Entry point of a NIC core worker thread: builds the core from `workerData`, tells the host it
 * is ready (with its notification ring and thread id), runs the loop until a Stop command, and
 * returns, so the thread ends on its own.
 *
 * No native module is loaded on this thread (ffi-rs crashes the process when a worker that
 * loaded it exits): pinning is done by the host on this thread's id.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SpscRing } from '@flextoe/core/nic';
import { NicCore } from './nic-core.js';
import { threadId } from './proc.js';
import type { NicCoreInit, NicCoreReady } from './nic-protocol.js';

interface WorkerData {
  readonly init: NicCoreInit;
  readonly regionPort: MessagePort;
}

async function main(): Promise<void> {
  const { init, regionPort } = workerData as WorkerData;
  // Hook: a TAP or DPDK port opened on this thread, so frames never cross threads. (The DPDK
  // addon registers this thread as an lcore when it opens the port: rte_thread_register.)
  const own =
    init.portConfig === null
      ? null
      : await (await import('../drivers/open-port.js')).openPort(init.portConfig);
  try {
    const core = new NicCore(init, own?.port ?? null, regionPort);
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
    parentPort!.postMessage(ready);
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
