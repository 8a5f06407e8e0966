/**
 * Entry point of a NIC thread: a NIC core, or a pre-processing, post-processing or DMA replica
 * when `init.role` is `pre`, `post` or `dma`. Builds what it runs from `workerData`, tells the
 * host it is ready (a core with its notification ring and thread id), runs its loop until told to
 * stop, and returns, so the thread ends on its own.
 *
 * ffi-rs is never loaded on this thread (it crashes the process when a worker that loaded it
 * exits): pinning is done by the host on this thread's id. The DPDK addon (node-addon-api) is,
 * when the host handed this core a DPDK port.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { loadDataPathModules, SpscRing } from '@flextoe/core/nic';
import type { DpdkPort } from '../drivers/dpdk/dpdk-port.js';
import type { DpdkAddon } from '../drivers/dpdk/dpdk-addon.js';
import { CoreClock } from './shared-clock.js';
import { NicCore } from './nic-core.js';
import { threadId } from './proc.js';
import { Ctl, type NicCoreInit, type NicCoreReady } from './nic-protocol.js';
import { PostCore, PostCtl, type PostCoreInit } from './post-core.js';
import { PreCore, PreCtl, type PreCoreInit } from './pre-core.js';
import { DmaCore, DmaCtl, type DmaCoreInit } from './dma-core.js';

interface WorkerData {
  readonly init: NicCoreInit | PreCoreInit | PostCoreInit | DmaCoreInit;
  readonly regionPort?: MessagePort;
  /** A NIC core: per DMA replica, where it registers memories. A DMA replica: where it hears them. */
  readonly dmaPorts?: readonly MessagePort[];
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

/** A post-processing replica: finish transmitted frames until told to stop. */
function post(init: PostCoreInit, readyPort: MessagePort): void {
  const ctl = new Int32Array(init.ctl, 0, PostCtl.words);
  const replica = new PostCore(init);
  readyPort.postMessage({ type: 'ready', tid: threadId() });
  Atomics.store(ctl, PostCtl.ready, 1);
  Atomics.notify(ctl, PostCtl.ready);
  replica.run();
}

/** A DMA replica: copy payload for its NIC core until told to stop. */
function dma(init: DmaCoreInit, memoryPort: MessagePort, readyPort: MessagePort): void {
  const ctl = new Int32Array(init.ctl, 0, DmaCtl.words);
  const replica = new DmaCore(init, memoryPort);
  readyPort.postMessage({ type: 'ready', tid: threadId() });
  Atomics.store(ctl, DmaCtl.ready, 1);
  Atomics.notify(ctl, DmaCtl.ready);
  try {
    replica.run();
  } finally {
    memoryPort.close();
  }
}

async function main(): Promise<void> {
  const data = workerData as WorkerData;
  if (data.init.role === 'pre') return pre(data.init, data.readyPort);
  if (data.init.role === 'post') return post(data.init, data.readyPort);
  if (data.init.role === 'dma') return dma(data.init, data.dmaPorts![0]!, data.readyPort);
  const { readyPort } = data;
  const init = data.init;
  const regionPort = data.regionPort!;
  const ctl = new Int32Array(init.ctl, 0, Ctl.words);
  // A DPDK port the host opened and handed to this core: its bursts run on this thread, which
  // becomes a DPDK lcore (rte_thread_register) so DPDK knows it (per-lcore mempool caches).
  let own: DpdkPort | null = null;
  // A bridged DPDK port: the core calls no burst function, but is a data-path thread of a DPDK
  // application all the same (issue: "register the workers as DPDK lcores").
  let lcoreAddon: DpdkAddon | null = null;
  let core: NicCore;
  try {
    if (init.ownPort !== null) {
      const { DpdkPort } = await import('../drivers/dpdk/dpdk-port.js');
      own = DpdkPort.attach(init.ownPort.dpdk, new CoreClock(init.clock.origin, init.clock.manual));
      Atomics.store(ctl, Ctl.lcore, own.registerThread());
    } else if (init.dpdkLcore) {
      const { loadDpdkAddon } = await import('../drivers/dpdk/dpdk-addon.js');
      lcoreAddon = loadDpdkAddon();
      Atomics.store(ctl, Ctl.lcore, lcoreAddon.registerThread());
    }
    const modules = await loadDataPathModules(init.modules);
    core = new NicCore(init, own, regionPort, data.dmaPorts ?? []);
    for (const m of modules) core.dp.installModule(m);
  } catch (err) {
    // The host may be blocked waiting for the ready word: tell it, then fail.
    Atomics.store(ctl, Ctl.ready, -1);
    Atomics.notify(ctl, Ctl.ready);
    own?.unregisterThread();
    lcoreAddon?.unregisterThread();
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
    // The lcore id goes back before the thread ends (the host closes the device itself).
    own?.unregisterThread();
    lcoreAddon?.unregisterThread();
    await own?.close();
    regionPort.close();
    for (const p of data.dmaPorts ?? []) p.close();
  }
}

main().catch((err: unknown) => {
  // The host sees the error as the worker's 'error' event and fails the stack.
  throw err;
});
