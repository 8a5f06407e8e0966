/**
 * The shape of the data path as data: how many replicas each stage has, how many flow groups
 * (protocol replicas; FlexTOE: flow group = flow hash mod G), and queue sizes. A backend places
 * this onto its cores (`ExecutionUnits.place`); the inline runner runs it on one thread.
 */
import type { StageKind } from '../hw/execution-units.js';

export interface StageGraph {
  /** Pre-processing replicas (FlexTOE on Agilio: 16 FPCs). */
  readonly pre: number;
  /** Flow groups, each with one protocol-stage instance (FlexTOE on Agilio: 4). */
  readonly flowGroups: number;
  /** Post-processing replicas (FlexTOE on Agilio: 16 FPCs). */
  readonly post: number;
  readonly dma: number;
  readonly ctxq: number;
  readonly qm: number;
  /** Entries per reorder queue before the protocol stage (FlexTOE: 8192). */
  readonly reorderQueueEntries: number;
  /** Entries per inter-stage ring. */
  readonly ringEntries: number;
}

/** FlexTOE's Agilio layout (DESIGN.md 2). */
export const FLEXTOE_AGILIO_GRAPH: StageGraph = {
  pre: 16,
  flowGroups: 4,
  post: 16,
  dma: 1,
  ctxq: 1,
  qm: 1,
  reorderQueueEntries: 8192,
  ringEntries: 1024,
};

/** Everything once: the run-to-completion baseline. */
export const RUN_TO_COMPLETION_GRAPH: StageGraph = {
  pre: 1,
  flowGroups: 1,
  post: 1,
  dma: 1,
  ctxq: 1,
  qm: 1,
  reorderQueueEntries: 1024,
  ringEntries: 1024,
};

/** Every stage instance of a graph in a stable order (for placement). */
export function stageInstances(graph: StageGraph): { stage: StageKind; replica: number }[] {
  const out: { stage: StageKind; replica: number }[] = [];
  const add = (stage: StageKind, n: number): void => {
    for (let replica = 0; replica < n; replica++) out.push({ stage, replica });
  };
  add('pre', graph.pre);
  add('protocol', graph.flowGroups);
  add('post', graph.post);
  add('dma', graph.dma);
  add('ctxq', graph.ctxq);
  add('qm', graph.qm);
  return out;
}

/** Throws a RangeError naming the field when a graph is unusable. */
export function validateStageGraph(graph: StageGraph): void {
  for (const key of ['pre', 'flowGroups', 'post', 'dma', 'ctxq', 'qm'] as const) {
    const v = graph[key];
    if (!Number.isInteger(v) || v < 1 || v > 256) {
      throw new RangeError(`stage graph: ${key} is ${v} but must be an integer from 1 to 256`);
    }
  }
  for (const key of ['reorderQueueEntries', 'ringEntries'] as const) {
    const v = graph[key];
    if (!Number.isInteger(v) || v < 2 || (v & (v - 1)) !== 0) {
      throw new RangeError(`stage graph: ${key} is ${v} but must be a power of two >= 2`);
    }
  }
}
