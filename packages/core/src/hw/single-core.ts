/**
 * Execution units of the inline runner: one core, one thread, every stage instance on it
 * (run to completion, the no-parallelism baseline).
 */
import type { CoreInfo, ExecutionUnits, StagePlacement } from './execution-units.js';
import { stageInstances, validateStageGraph, type StageGraph } from '../pipeline/stage-graph.js';

export class SingleCoreUnits implements ExecutionUnits {
  readonly cores: readonly CoreInfo[] = [{ id: 0, cluster: 0, threads: 1, clockHz: 0 }];

  place(graph: StageGraph): readonly StagePlacement[] {
    validateStageGraph(graph);
    return stageInstances(graph).map(({ stage, replica }) => ({ stage, replica, core: 0, thread: 0 }));
  }
}
