/**
 * The x86 backend's execution units: NIC cores are worker threads on host CPUs (DESIGN.md 2:
 * "host cores, DPDK lcores"). Each NIC core runs one instance of every stage, run to completion,
 * for the flow groups it owns (FlexTOE: one protocol-stage instance per flow group); flow group g
 * lives on core g mod N, and received frames are steered there by their 4-tuple hash (RSS).
 * Optionally each core is fed by k pre-processing replicas, threads of their own that validate
 * (parse, checksums) the frames dealt to them round robin (pre-core.ts), by k' post-processing
 * replicas that finish its transmitted frames (the TCP checksum over the payload, post-core.ts),
 * and by k'' DMA replicas that run its payload copies (dma-core.ts).
 *
 * `place` tells the truth about that: it accepts a stage graph with one pre, post, DMA,
 * context-queue and queue-manager instance per NIC core (or k pre / k' post / k'' DMA replicas
 * per core) and any number of flow groups, and
 * refuses (naming the field) a graph that asks for a split this runner does not do, rather than
 * returning a placement nothing would honour. With zero NIC cores (`inline`) every instance is on
 * the host thread, core 0.
 */
import { cpus } from 'node:os';
import {
  stageInstances,
  validateStageGraph,
  type CoreInfo,
  type ExecutionUnits,
  type StageGraph,
  type StagePlacement,
} from '@flextoe/core';

export class X86Cores implements ExecutionUnits {
  readonly cores: readonly CoreInfo[];

  /**
   * `nicCores` worker threads (0: the inline runner on the host thread), each fed by
   * `preReplicas` pre-processing replica threads (0: it pre-processes in full itself) and
   * `postReplicas` post-processing replica threads (0: it post-processes in full itself) and
   * `dmaReplicas` DMA replica threads (0: it copies payload itself).
   */
  constructor(
    readonly nicCores: number,
    readonly preReplicas = 0,
    readonly postReplicas = 0,
    readonly dmaReplicas = 0,
  ) {
    const hz = (cpus()[0]?.speed ?? 0) * 1e6;
    const threads = Math.max(1, nicCores) * (1 + preReplicas + postReplicas + dmaReplicas);
    this.cores = Array.from({ length: threads }, (_, id) => ({
      id,
      cluster: 0,
      threads: 1,
      clockHz: hz,
    }));
  }

  /** The stage graph this runner executes for `flowGroups` groups. */
  graphFor(flowGroups: number): StageGraph {
    const n = Math.max(1, this.nicCores);
    return {
      pre: this.preReplicas > 0 ? n * this.preReplicas : n,
      flowGroups,
      post: this.postReplicas > 0 ? n * this.postReplicas : n,
      dma: this.dmaReplicas > 0 ? n * this.dmaReplicas : n,
      ctxq: n,
      qm: n,
      reorderQueueEntries: 256,
      ringEntries: 1024,
    };
  }

  place(graph: StageGraph): readonly StagePlacement[] {
    validateStageGraph(graph);
    const n = Math.max(1, this.nicCores);
    const k = this.preReplicas;
    const kPost = this.postReplicas;
    const kDma = this.dmaReplicas;
    const replicas = { pre: k, post: kPost, dma: kDma } as Record<string, number>;
    for (const key of ['pre', 'post', 'dma', 'ctxq', 'qm'] as const) {
      const r = replicas[key] ?? 0;
      const expected = r > 0 ? n * r : n;
      if (graph[key] !== expected)
        throw new RangeError(
          r > 0
            ? `x86 placement: stage graph ${key} is ${graph[key]} but ${n} NIC core(s) x ${r} ${key === 'dma' ? 'DMA' : `${key}-processing`} replica threads run ${expected}`
            : `x86 placement: stage graph ${key} is ${graph[key]} but each of the ${n} NIC core(s) runs one ${key} instance (run to completion with its flow groups)`,
        );
    }
    return stageInstances(graph).map(({ stage, replica }) => ({
      stage,
      replica,
      // Replica threads follow the NIC cores, pre replicas, then post, then DMA replicas: pre
      // replica r feeds core floor(r / k), post replica r finishes the frames of core
      // floor(r / k'), DMA replica r copies for core floor(r / k'').
      core:
        stage === 'pre' && k > 0
          ? n + replica
          : stage === 'post' && kPost > 0
            ? n + n * k + replica
            : stage === 'dma' && kDma > 0
              ? n + n * k + n * kPost + replica
              : replica % n,
      thread: 0,
    }));
  }

  /** NIC core of each flow group, from a placement. */
  static groupCores(placement: readonly StagePlacement[], flowGroups: number): number[] {
    const out = new Array<number>(flowGroups).fill(0);
    for (const p of placement) if (p.stage === 'protocol') out[p.replica] = p.core;
    return out;
  }
}
