/**
 * The loop every stage replica thread runs (pre-processing, post-processing and DMA replicas):
 * work while its rings have work; answer the host's lockstep sync once idle; spin
 * `spinRounds` empty rounds, then sleep on its doorbell (announce, re-check, wait: the Dekker
 * handshake in doorbell.ts), so an idle replica burns no CPU.
 */
import type { Doorbell } from './doorbell.js';
import { threadCpuMs } from './proc.js';

/** Control-block words every replica kind shares (`PreCtl`, `PostCtl`, `DmaCtl`). */
export const ReplicaCtl = {
  bell: 0,
  syncReq: 16,
  syncAck: 17,
  tid: 19,
  ready: 20,
  /** Host: set to 1 to make the replica leave its loop. */
  stop: 21,
  /** Replica: CPU ms used, written when it sleeps and when it stops. */
  cpuMs: 34,
  words: 48,
} as const;

/** How long a sleeping replica waits before re-checking its ring by itself. */
const SLEEP_MS = 200;

export interface ReplicaLoop {
  readonly ctl: Int32Array;
  readonly bell: Doorbell;
  /** Work waiting (frames in its staged ring, descriptors in its rings): re-checked before sleeping. */
  pending(): number;
  readonly spinRounds: number;
  /** One batch of work; the frames it handled. */
  round(): number;
}

/** Runs until the host sets `stop`; `drainOnStop` finishes what the ring still holds first. */
export function runReplica(r: ReplicaLoop, drainOnStop: boolean): void {
  const ctl = r.ctl;
  let idle = 0;
  while (Atomics.load(ctl, ReplicaCtl.stop) === 0) {
    const sync = Atomics.load(ctl, ReplicaCtl.syncReq);
    if (r.round() > 0) {
      idle = 0;
      continue;
    }
    if (sync !== Atomics.load(ctl, ReplicaCtl.syncAck)) {
      Atomics.store(ctl, ReplicaCtl.syncAck, sync);
      Atomics.notify(ctl, ReplicaCtl.syncAck);
    }
    if (++idle < r.spinRounds) continue;
    const seq = r.bell.announce();
    if (
      r.pending() > 0 ||
      Atomics.load(ctl, ReplicaCtl.stop) !== 0 ||
      Atomics.load(ctl, ReplicaCtl.syncReq) !== sync
    ) {
      r.bell.cancel();
      continue;
    }
    Atomics.store(ctl, ReplicaCtl.cpuMs, threadCpuMs());
    r.bell.sleep(seq, SLEEP_MS);
    idle = 0;
  }
  if (drainOnStop) while (r.round() > 0);
  Atomics.store(ctl, ReplicaCtl.cpuMs, threadCpuMs());
}
