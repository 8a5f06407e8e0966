/**
 * What a simulated NIC reports over its statistics window (since it started or since
 * `resetStats`): modelled throughput, work-item latency percentiles, per-core utilisation,
 * accesses per memory tier and cache, and queue depths. Plain data (JSON-ready), so benches
 * write it out as is.
 */
import { DmaDirection, type StageKind } from '@flextoe/core';
import type { PacingStats } from '../engine/sim-engine.js';
import { STAGE_KINDS } from '../model/cores.js';
import type { Percentiles } from '../model/histogram.js';
import { ITEM_KIND_NAMES } from '../model/nic-timing.js';
import type { SimNic } from './sim-nic.js';

export interface SimCoreStats {
  readonly id: number;
  readonly cluster: number;
  /** Stage instances placed on the core, e.g. ['pre#3']. */
  readonly stages: readonly string[];
  /** Busy fraction of the window: compute (NFP, threads hide memory waits) or whole runs (ARM). */
  readonly utilisation: number;
  readonly busyNs: number;
  readonly runs: number;
}

export interface SimQueueStats {
  readonly runs: number;
  /** Time runs waited for a thread, the flow lock or the core's pipeline. */
  readonly meanWaitNs: number;
  readonly maxWaitNs: number;
  /** Mean runs waiting, over the window (Little's law: total wait / window). */
  readonly meanDepth: number;
  /** Most runs seen queued on one core of the stage when one arrived. */
  readonly maxDepth: number;
}

export interface SimPcieStats {
  readonly commands: number;
  readonly bytes: number;
  readonly maxInFlight: number;
  readonly slotWaitNs: number;
}

export interface SimStats {
  readonly model: string;
  readonly timeMode: 'virtual' | 'paced';
  readonly wire: string;
  /** Simulated length of the statistics window, ns. */
  readonly windowNs: number;
  readonly throughput: {
    /** Payload the NIC wrote to host memory (received data). */
    readonly rxPayloadBytes: number;
    /** Payload the NIC fetched from host memory (sent data, retransmissions included). */
    readonly txPayloadBytes: number;
    readonly rxGbps: number;
    readonly txGbps: number;
    readonly rxFrames: number;
    readonly txFrames: number;
    readonly rxFramesPerSec: number;
    readonly txFramesPerSec: number;
  };
  /** From a frame's arrival (rx), a queue-manager decision (tx) or a host request (host) to
   * the item's last effect (frame at the MAC, payload and notification in host memory). */
  readonly latency: Readonly<Record<(typeof ITEM_KIND_NAMES)[number], Percentiles>>;
  readonly cores: readonly SimCoreStats[];
  readonly tiers: Readonly<Record<string, { accesses: number; bytes: number }>>;
  readonly caches: Readonly<Record<string, { hits: number; misses: number; hitRate: number }>>;
  readonly queues: {
    readonly stages: Readonly<Partial<Record<StageKind, SimQueueStats>>>;
    readonly pcieToHost: SimPcieStats;
    readonly pcieFromHost: SimPcieStats;
    readonly rxItemsInFlightMax: number;
    readonly txItemsInFlightMax: number;
    readonly egressFramesMax: number;
    readonly notificationsMax: number;
    /** Receive bursts held back because the NIC's buffers were full. */
    readonly rxAdmissionStalls: number;
  };
  /** NIC state the host control plane read or wrote (not charged to a NIC core). */
  readonly controlPlaneAccesses: number;
  /** Paced mode: how far the model fell behind the wall clock. */
  readonly pacing: PacingStats | null;
}

export function collectStats(nic: SimNic): SimStats {
  const now = nic.engine.nowPs;
  const windowPs = Math.max(1, now - nic.statsSincePs);
  const windowNs = windowPs / 1000;
  const c = nic.stack.dataPath.counters;
  const base = nic.statsBaseline;
  const rxBytes = c.dmaToHostBytes - base.rxBytes;
  const txBytes = c.dmaFromHostBytes - base.txBytes;
  const rxFrames = c.rxFrames - base.rxFrames;
  const txFrames = c.txFrames - base.txFrames;
  const cores = nic.cores;
  const coreStats: SimCoreStats[] = [];
  for (const info of cores.cores) {
    const stages = cores.stagesOn(info.id);
    if (stages.length === 0) continue;
    coreStats.push({
      id: info.id,
      cluster: info.cluster,
      stages,
      utilisation: Math.min(1, cores.busyPs[info.id]! / windowPs),
      busyNs: cores.busyPs[info.id]! / 1000,
      runs: cores.runs[info.id]!,
    });
  }
  const stages: Partial<Record<StageKind, SimQueueStats>> = {};
  STAGE_KINDS.forEach((k, i) => {
    const runs = cores.stageRuns[i]!;
    if (runs === 0) return;
    stages[k] = {
      runs,
      meanWaitNs: cores.stageWaitPs[i]! / runs / 1000,
      maxWaitNs: cores.stageMaxWaitPs[i]! / 1000,
      meanDepth: cores.stageWaitPs[i]! / windowPs,
      maxDepth: cores.stageMaxDepth[i]!,
    };
  });
  const tiers: Record<string, { accesses: number; bytes: number }> = {};
  nic.mem.tiers.forEach((t, i) => {
    tiers[t.name] = { accesses: nic.mem.tierAccesses[i]!, bytes: nic.mem.tierBytes[i]! };
  });
  const caches: Record<string, { hits: number; misses: number; hitRate: number }> = {};
  for (const [name, s] of Object.entries(nic.mem.cacheStats()))
    caches[name] = { ...s, hitRate: s.hits + s.misses === 0 ? 0 : s.hits / (s.hits + s.misses) };
  const pcie = (d: DmaDirection): SimPcieStats => ({
    commands: nic.pcie.commands[d]!,
    bytes: nic.pcie.bytes[d]!,
    maxInFlight: nic.pcie.maxInFlight[d]!,
    slotWaitNs: nic.pcie.slotWaitPs[d]! / 1000,
  });
  const t = nic.timing;
  t.settle(); // items whose last segment ended by now are counted
  return {
    model: nic.spec.name,
    timeMode: nic.engine.mode,
    wire: nic.wireName,
    windowNs,
    throughput: {
      rxPayloadBytes: rxBytes,
      txPayloadBytes: txBytes,
      rxGbps: (rxBytes * 8) / windowNs,
      txGbps: (txBytes * 8) / windowNs,
      rxFrames,
      txFrames,
      rxFramesPerSec: rxFrames / (windowNs / 1e9),
      txFramesPerSec: txFrames / (windowNs / 1e9),
    },
    latency: {
      rx: t.latency[0]!.percentiles(),
      tx: t.latency[1]!.percentiles(),
      host: t.latency[2]!.percentiles(),
    },
    cores: coreStats,
    tiers,
    caches,
    queues: {
      stages,
      pcieToHost: pcie(DmaDirection.ToHost),
      pcieFromHost: pcie(DmaDirection.FromHost),
      rxItemsInFlightMax: t.maxInFlight[0]!,
      txItemsInFlightMax: t.maxInFlight[1]!,
      egressFramesMax: nic.port.maxEgress,
      notificationsMax: nic.maxNotifyBacklog,
      rxAdmissionStalls: nic.port.admissionStalls,
    },
    controlPlaneAccesses: t.controlAccesses,
    pacing: nic.engine.mode === 'paced' ? nic.engine.pacingStats() : null,
  };
}
