/**
 * The simulated cores: where stage instances run (`ExecutionUnits.place`) and when a stage's
 * work can run on its core (a reservation model, FCFS in the order work reaches the core).
 *
 * A stage run is (critical read waits, compute, critical write waits, other waits):
 * - it needs a hardware thread of its core for its whole duration (NFP: 8 per FPC; ARM: 1);
 * - its compute needs the core's pipeline: compute of different runs never overlaps, but on an
 *   NFP FPC one thread computes while the others wait for memory (threads switch on every
 *   memory wait), so waits are hidden behind other runs' compute; on an ARM core a memory wait
 *   stalls the core (`memoryStallsCore`), so the whole run occupies it;
 * - under a per-flow lock (FlexTOE's protocol state) the next run of the same flow starts only
 *   after this one wrote the state back.
 * The model orders compute before the non-critical waits of a run (the waits of packet and ring
 * accesses overlap the compute in the firmware); totals and the pipeline's occupancy are exact,
 * the interleaving within one run is approximated.
 */
import {
  stageInstances,
  validateStageGraph,
  type CoreInfo,
  type ExecutionUnits,
  type StageGraph,
  type StageKind,
  type StagePlacement,
} from '@flextoe/core';
import type { SimCoreSpec, SimLayout } from './spec.js';

export const STAGE_KINDS: readonly StageKind[] = ['pre', 'protocol', 'post', 'dma', 'ctxq', 'qm', 'io'];
const STAGE_INDEX: Readonly<Record<StageKind, number>> = {
  pre: 0,
  protocol: 1,
  post: 2,
  dma: 3,
  ctxq: 4,
  qm: 5,
  io: 6,
};
export function stageIndex(s: StageKind): number {
  return STAGE_INDEX[s];
}

/** Start times kept per core to count the runs queued at an arrival (deeper queues saturate). */
const DEPTH_WINDOW = 1024;

/** Output of `reserve` (fields, not a returned object: the hot path allocates nothing). */
export interface Reservation {
  startPs: number;
  /** When the per-flow lock is released (state written back). */
  lockReleasePs: number;
  endPs: number;
}

/** Slots of `SimCores.io`: a stage run's inputs (times in ps, compute in cycles), then its result. */
export const RunIo = {
  Arrival: 0,
  LockFree: 1,
  CritRead: 2,
  Compute: 3,
  CritWrite: 4,
  OtherWait: 5,
  Start: 6,
  LockRelease: 7,
  End: 8,
} as const;
const RUN_IO_LENGTH = 9;

export class SimCores implements ExecutionUnits {
  readonly cores: readonly CoreInfo[];
  readonly psPerCycle: number;
  readonly clusters: number;
  private readonly threads: number;
  private readonly stalls: boolean;
  private readonly threadFree: Float64Array;
  private readonly aluFree: Float64Array;
  /** Busy time per core in ps (compute; whole runs when memory stalls the core). */
  readonly busyPs: Float64Array;
  readonly runs: Float64Array;
  private readonly recentStarts: Float64Array;
  private readonly recentHead: Int32Array;
  private readonly recentCount: Int32Array;
  /** Per stage kind: runs, summed and largest queueing wait (ps), largest queue depth seen. */
  readonly stageRuns = new Float64Array(STAGE_KINDS.length);
  readonly stageWaitPs = new Float64Array(STAGE_KINDS.length);
  readonly stageMaxWaitPs = new Float64Array(STAGE_KINDS.length);
  readonly stageMaxDepth = new Float64Array(STAGE_KINDS.length);
  /** Core ids of each stage's replicas (protocol: index = flow group replica). */
  private readonly replicas: Int32Array[] = STAGE_KINDS.map(() => new Int32Array(0));
  private readonly rr = new Int32Array(STAGE_KINDS.length);
  placements: readonly StagePlacement[] = [];
  readonly out: Reservation = { startPs: 0, lockReleasePs: 0, endPs: 0 };
  /** Inputs and outputs of `reserveRun` (indexes `RunIo`). */
  readonly io = new Float64Array(RUN_IO_LENGTH);

  constructor(
    readonly spec: SimCoreSpec,
    readonly layout: SimLayout,
  ) {
    const { count, clusterSize, threads, clockHz } = spec;
    for (const [k, v] of [
      ['count', count],
      ['clusterSize', clusterSize],
      ['threads', threads],
    ] as const)
      if (!(Number.isInteger(v) && v >= 1 && v <= 4096))
        throw new RangeError(`cores.${k} is ${v} but must be an integer from 1 to 4096`);
    if (!(clockHz >= 1e6 && clockHz <= 1e11))
      throw new RangeError(`cores.clockHz is ${clockHz} but must be 1 MHz .. 100 GHz`);
    this.psPerCycle = 1e12 / clockHz;
    this.clusters = Math.ceil(count / clusterSize);
    this.threads = threads;
    this.stalls = spec.memoryStallsCore;
    const infos: CoreInfo[] = [];
    for (let i = 0; i < count; i++)
      infos.push({ id: i, cluster: Math.floor(i / clusterSize), threads, clockHz });
    this.cores = infos;
    this.threadFree = new Float64Array(count * threads);
    this.aluFree = new Float64Array(count);
    this.busyPs = new Float64Array(count);
    this.runs = new Float64Array(count);
    this.recentStarts = new Float64Array(count * DEPTH_WINDOW);
    this.recentHead = new Int32Array(count);
    this.recentCount = new Int32Array(count);
  }

  /**
   * 'spread': protocol replica g on cluster g (FlexTOE puts one protocol FPC per island), every
   * other instance on the next free core, clusters interleaved; instances beyond the core count
   * share cores (wrapping). 'single-core': everything on core 0 (run to completion).
   */
  place(graph: StageGraph): readonly StagePlacement[] {
    validateStageGraph(graph);
    const n = this.cores.length;
    const size = this.spec.clusterSize;
    const out: StagePlacement[] = [];
    const order: number[] = [];
    for (let p = 0; p < size; p++)
      for (let c = 0; c < this.clusters; c++) if (c * size + p < n) order.push(c * size + p);
    const taken = new Set<number>();
    const protocolCores: number[] = [];
    for (let g = 0; g < graph.flowGroups; g++) {
      let core = 0;
      if (this.layout === 'spread') {
        core = ((g % this.clusters) * size + Math.floor(g / this.clusters)) % n;
        if (taken.has(core)) core = order.find((c) => !taken.has(c)) ?? g % n;
      }
      taken.add(core);
      protocolCores.push(core);
    }
    const rest = order.filter((c) => !taken.has(c));
    let next = 0;
    const pick = (): number => {
      if (this.layout === 'single-core') return 0;
      if (rest.length > 0 && next < rest.length) return rest[next++]!;
      return order[next++ % order.length]!; // more instances than cores: they share
    };
    const byStage = new Map<StageKind, number[]>();
    for (const { stage, replica } of stageInstances(graph)) {
      const core = stage === 'protocol' ? protocolCores[replica]! : pick();
      out.push({ stage, replica, core, thread: 0 });
      const list = byStage.get(stage) ?? [];
      list.push(core);
      byStage.set(stage, list);
    }
    for (const [stage, list] of byStage) this.replicas[stageIndex(stage)] = Int32Array.from(list);
    // 'io' (the MAC side) has no instances in the graph; it is charged to the first pre core.
    this.replicas[stageIndex('io')] = Int32Array.of(this.replicas[stageIndex('pre')]![0] ?? 0);
    this.placements = out;
    return out;
  }

  /** The core a run of `stage` goes to: protocol by flow-group replica, others round robin. */
  coreFor(stage: number, group: number): number {
    const r = this.replicas[stage]!;
    if (r.length === 1) return r[0]!;
    if (stage === 1) return r[group % r.length]!;
    const i = this.rr[stage]!;
    this.rr[stage] = i + 1 === r.length ? 0 : i + 1;
    return r[i]!;
  }

  /** Stage names running on each core, e.g. ['pre#0'] or ['pre#0', 'protocol#0', ...]. */
  stagesOn(core: number): string[] {
    return this.placements.filter((p) => p.core === core).map((p) => `${p.stage}#${p.replica}`);
  }

  /**
   * Reserves a run of `stage` on `core` arriving at `arrivalPs`; fills and returns `out`.
   * `lockFreePs` is when the flow's lock is free (0 when the run takes none). (The timing
   * model's hot path uses `reserveRun`, which takes the same inputs through `io`.)
   */
  reserve(
    stage: number,
    core: number,
    arrivalPs: number,
    lockFreePs: number,
    critReadPs: number,
    computeCycles: number,
    critWritePs: number,
    otherWaitPs: number,
  ): Reservation {
    const io = this.io;
    io[RunIo.Arrival] = arrivalPs;
    io[RunIo.LockFree] = lockFreePs;
    io[RunIo.CritRead] = critReadPs;
    io[RunIo.Compute] = computeCycles;
    io[RunIo.CritWrite] = critWritePs;
    io[RunIo.OtherWait] = otherWaitPs;
    this.reserveRun(stage, core);
    const o = this.out;
    o.startPs = io[RunIo.Start]!;
    o.lockReleasePs = io[RunIo.LockRelease]!;
    o.endPs = io[RunIo.End]!;
    return o;
  }

  /**
   * `reserve` with its times in and out through `io` (indexes `RunIo`). Times are picoseconds,
   * doubles beyond V8's small integers, and V8 boxes every double passed to (or returned from)
   * a call it does not inline: 16 B each, five per stage run through the argument list.
   */
  reserveRun(stage: number, core: number): void {
    const io = this.io;
    const arrivalPs = io[RunIo.Arrival]!;
    const lockFreePs = io[RunIo.LockFree]!;
    const critReadPs = io[RunIo.CritRead]!;
    const computeCycles = io[RunIo.Compute]!;
    const critWritePs = io[RunIo.CritWrite]!;
    const otherWaitPs = io[RunIo.OtherWait]!;
    const T = this.threads;
    const base = core * T;
    const tf = this.threadFree;
    let k = base;
    for (let i = base + 1; i < base + T; i++) if (tf[i]! < tf[k]!) k = i;
    let s = arrivalPs > tf[k]! ? arrivalPs : tf[k]!;
    if (lockFreePs > s) s = lockFreePs;
    if (this.stalls && this.aluFree[core]! > s) s = this.aluFree[core]!;
    const ready = s + critReadPs;
    const computePs = computeCycles * this.psPerCycle;
    const c0 = this.stalls ? ready : Math.max(ready, this.aluFree[core]!);
    const c1 = c0 + computePs;
    const unlock = c1 + critWritePs;
    const end = unlock + otherWaitPs;
    tf[k] = end;
    if (this.stalls) {
      this.aluFree[core] = end;
      this.busyPs[core]! += end - s;
    } else {
      this.aluFree[core] = c1;
      this.busyPs[core]! += computePs;
    }
    this.runs[core]!++;
    // Queueing: time this run waited for a thread, the lock or the pipeline.
    const wait = s - arrivalPs + (c0 - ready);
    this.stageRuns[stage]!++;
    this.stageWaitPs[stage]! += wait;
    if (wait > this.stageMaxWaitPs[stage]!) this.stageMaxWaitPs[stage] = wait;
    // Runs queued on the core when this one arrived (this one included when it waits): those
    // reserved before it that have not started by its arrival. Reservations come in arrival
    // order and start times barely ever decrease on a core (threads are taken in order), so the
    // runs still queued are a suffix of that sequence: a FIFO of start times, O(1) amortised.
    // (Written inline: a helper taking the two times as arguments boxed both, 32 B per run.)
    const qBase = core * DEPTH_WINDOW;
    const starts = this.recentStarts;
    let h = this.recentHead[core]!;
    let n = this.recentCount[core]!;
    while (n > 0 && starts[qBase + h]! <= arrivalPs) {
      h = h + 1 === DEPTH_WINDOW ? 0 : h + 1;
      n--;
    }
    if (n === DEPTH_WINDOW) {
      // Deeper than the window: forget the oldest (the depth reported saturates here).
      h = h + 1 === DEPTH_WINDOW ? 0 : h + 1;
      n--;
    }
    let tail = h + n;
    if (tail >= DEPTH_WINDOW) tail -= DEPTH_WINDOW;
    starts[qBase + tail] = s;
    this.recentHead[core] = h;
    this.recentCount[core] = n + 1;
    const d = s > arrivalPs ? n + 1 : n;
    if (d > this.stageMaxDepth[stage]!) this.stageMaxDepth[stage] = d;
    io[RunIo.Start] = s;
    io[RunIo.LockRelease] = unlock;
    io[RunIo.End] = end;
  }

  resetCounters(): void {
    this.busyPs.fill(0);
    this.runs.fill(0);
    this.stageRuns.fill(0);
    this.stageWaitPs.fill(0);
    this.stageMaxWaitPs.fill(0);
    this.stageMaxDepth.fill(0);
  }
}
