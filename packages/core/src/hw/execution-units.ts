/**
 * Where stage instances run. A backend describes its cores (FlexTOE: 60 NFP flow processing
 * cores with 8 cooperative threads each, 16 BlueField ARM cores, or host x86 cores) and places
 * the stage graph onto them. The core never starts threads itself: it hands the backend a
 * `StageGraph` (how many instances of each stage, how many flow groups, queue sizes) and the
 * backend decides where each instance runs.
 */
export interface CoreInfo {
  /** Dense id, 0..count-1. */
  readonly id: number;
  /** Island / cluster the core belongs to (NFP islands of 12 FPCs; L2 pairs on BlueField). */
  readonly cluster: number;
  /** Hardware threads that share the core (8 on an NFP FPC, 1 elsewhere). */
  readonly threads: number;
  /** Core clock in Hz; simulated backends charge cycles against it. */
  readonly clockHz: number;
}

/** One pipeline stage kind; the names follow FlexTOE's stages (DESIGN.md 1). */
export type StageKind = 'pre' | 'protocol' | 'post' | 'dma' | 'ctxq' | 'qm' | 'io';

/** A stage instance as placed on a core. */
export interface StagePlacement {
  readonly stage: StageKind;
  /** Replica index within its stage (protocol replicas are flow groups). */
  readonly replica: number;
  readonly core: number;
  /** Thread slot on that core (0 where cores have one thread). */
  readonly thread: number;
}

export interface ExecutionUnits {
  readonly cores: readonly CoreInfo[];
  /** Places every stage instance of `graph` onto a core; throws if it cannot fit. */
  place(graph: import('../pipeline/stage-graph.js').StageGraph): readonly StagePlacement[];
}
export const ExecutionUnits = Symbol.for('flextoe.hw.ExecutionUnits');

/**
 * Told where the data path is, one work item at a time, so a simulated backend can charge each
 * stage's cycles (and the memory accesses `MemoryTiers.recordAccess` reports in between) to the
 * core that stage instance runs on. The inline runner and x86 leave it unset. Must not allocate.
 */
export interface StageProbe {
  /** The work item now runs `stage`; `flowId` is its flow (-1 before the flow is known). */
  enter(stage: StageKind, flowId: number): void;
  /** The work item is finished: every stage it needed has run. */
  itemDone(): void;
}
export const StageProbe = Symbol.for('flextoe.hw.StageProbe');
