/**
 * Test fixture (dpdk-port.spec.ts): a worker thread that is handed a DPDK port, registers as an
 * EAL lcore, loops frames through it (net_ring sends what it transmits back to its receive
 * queue), gives its lcore id back and reports what it saw.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ManualClock, PacketBuffer } from '@flextoe/core';
import { loadDpdkAddon } from './dpdk-addon.js';
import { DpdkPort, type DpdkHandoff } from './dpdk-port.js';

const { handoff, frames } = workerData as { handoff: DpdkHandoff; frames: number };
const addon = loadDpdkAddon(handoff.addonPath);
const before = addon.lcoreInfo();
const port = DpdkPort.attach(handoff, new ManualClock(7));
const lcore = port.registerThread();
const during = addon.lcoreInfo();
const tx = Array.from({ length: frames }, (_, i) => {
  const b = new PacketBuffer(1536);
  b.length = 60 + i * 11;
  for (let k = 0; k < b.length; k++) b.data[k] = (k + i * 31) & 0xff;
  return b;
});
const sent = port.txBurst(tx, tx.length);
const rx = Array.from({ length: frames }, () => new PacketBuffer(1536));
let received = 0;
for (let tries = 0; received < sent && tries < 1000; tries++)
  received += port.rxBurst(rx.slice(received), frames - received);
const exact = rx
  .slice(0, received)
  .every((b, i) => b.data.subarray(0, b.length).equals(tx[i]!.data.subarray(0, tx[i]!.length)));
const unregistered = port.unregisterThread();
const after = addon.lcoreInfo();
await port.close(); // the opener's device stays up
parentPort!.postMessage({ before, lcore, during, sent, received, exact, unregistered, after });
