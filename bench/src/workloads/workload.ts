/**
 * What a workload is: a server half and a client half written against `NetLike`, so the two
 * halves can run in one process (loopback, the virtual wire) or in two (namespaces), and a
 * measurement window that works in either time base.
 */
import { performance } from 'node:perf_hooks';
import type { Metrics, Params, TimeBase, WorkloadName } from '../report/format.js';
import type { NetLike } from './net-like.js';

/** The target's view of time and cost, as the client half sees it. */
export interface WorkloadEnv {
  readonly timeBase: TimeBase;
  /** Now in ns of the target's time base (wall clock, or the simulator's modelled clock). */
  now(): number;
  /**
   * Host CPU microseconds consumed so far by the application (user + system), or null when this
   * target cannot say (a simulator without a host CPU model).
   */
  cpuUs(): number | null;
  /** CPU microseconds of every thread of the process, where that differs from `cpuUs`. */
  processCpuUs?(): number;
  /** What `cpuUs` counts, for the reader of the table. */
  readonly cpuScope: string | null;
  /** Busy fraction per pipeline stage since the window opened, where the backend reports it. */
  stageUtilisation?(): Record<string, number> | null;
  /** Told when the measured window opens and closes (a server in another process counts its CPU). */
  onWindow?(edge: 'open' | 'close'): void;
}

export interface Budget {
  /** Warm-up before the window (JIT, congestion control ramp), in the target's ns. */
  readonly warmupNs: number;
  /** The measured window, in the target's ns. */
  readonly durationNs: number;
  /** Give up when the whole run takes longer than this many wall-clock ms. */
  readonly wallCapMs: number;
  /**
   * Modelled time bases: end the window (warm-up included) after this much wall-clock time even
   * if the modelled duration is not reached, and report the modelled time covered. A simulator
   * may run far slower than its clock; the row then says its window was cut short.
   */
  readonly maxWallNs?: number;
  readonly seed: number;
  onProgress(fraction: number): void;
}

export interface ServerSide {
  readonly port: number;
  close(): Promise<void>;
}

export interface Workload {
  readonly name: WorkloadName;
  serve(net: NetLike, host: string, params: Params): Promise<ServerSide>;
  drive(
    net: NetLike,
    host: string,
    port: number,
    params: Params,
    env: WorkloadEnv,
    budget: Budget,
  ): Promise<Metrics>;
}

export class WorkloadTimeout extends Error {}

export const wallNow = (): number => performance.now() * 1e6;

/**
 * Warm-up, then the measured window, by the target's clock. Drivers call `tick()` whenever
 * something completes (and a wall-clock timer calls it too, so a stalled run still ends).
 * `onMeasure` fires when the window opens (reset counters there); `finished` resolves when it
 * closes, with the CPU and event-loop figures of the window.
 */
export class MeasureWindow {
  phase: 'warmup' | 'measure' | 'done' = 'warmup';
  /** The window closed on the wall-clock allowance before its modelled duration. */
  truncated = false;
  private t0 = 0;
  private tMeasure = 0;
  private tEnd = 0;
  private wall0 = 0;
  private wallMeasure = 0;
  private cpu0: number | null = null;
  private processCpu0 = 0;
  private elu0 = performance.eventLoopUtilization();
  private timer: NodeJS.Timeout | null = null;
  private resolve!: (w: WindowResult) => void;
  private reject!: (e: Error) => void;
  readonly finished: Promise<WindowResult>;

  constructor(
    private readonly env: WorkloadEnv,
    private readonly budget: Budget,
    private readonly onMeasure: () => void,
  ) {
    this.finished = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // Callers await `finished` later; an early rejection must not count as unhandled.
    this.finished.catch(() => {});
  }

  start(): void {
    this.t0 = this.env.now();
    this.wall0 = wallNow();
    this.tMeasure = this.t0 + this.budget.warmupNs;
    this.tEnd = this.tMeasure + this.budget.durationNs;
    if (this.budget.warmupNs <= 0) this.open();
    this.timer = setInterval(() => this.tick(), 5);
  }

  /** Advances the phase if its time has come; returns true while the run should go on. */
  tick(): boolean {
    if (this.phase === 'done') return false;
    const t = this.env.now();
    const wall = wallNow();
    const limit = this.budget.maxWallNs;
    // A slow model: warm-up may use a fifth of the wall-clock allowance, the window the rest
    // (counted from when it opened, so a long warm-up step cannot leave it empty).
    if (
      this.phase === 'warmup' &&
      (t >= this.tMeasure || (limit !== undefined && wall - this.wall0 > limit / 5))
    )
      this.open();
    if (
      this.phase === 'measure' &&
      (t >= this.tEnd || (limit !== undefined && wallNow() - this.wallMeasure > (limit * 4) / 5))
    ) {
      this.truncated = t < this.tEnd;
      this.close(t);
      return false;
    }
    const total = this.tEnd - this.t0;
    this.budget.onProgress(total > 0 ? Math.min(1, (t - this.t0) / total) : 1);
    if (wall - this.wall0 > this.budget.wallCapMs * 1e6) {
      const phase = this.phase === 'warmup' ? 'still warming up' : 'in the measured window';
      this.stop();
      this.reject(
        new WorkloadTimeout(
          `did not finish within ${+(this.budget.wallCapMs / 1000).toPrecision(3)} s of wall-clock time (${phase})`,
        ),
      );
      return false;
    }
    return true;
  }

  /** Ends the run early with an error (a socket failed). */
  fail(err: Error): void {
    if (this.phase === 'done') return;
    this.stop();
    this.reject(err);
  }

  private open(): void {
    this.phase = 'measure';
    this.tMeasure = this.env.now();
    this.tEnd = this.tMeasure + this.budget.durationNs;
    this.wallMeasure = wallNow();
    this.onMeasure();
    this.env.onWindow?.('open');
    this.elu0 = performance.eventLoopUtilization();
    this.cpu0 = this.env.cpuUs();
    this.processCpu0 = this.env.processCpuUs?.() ?? 0;
  }

  private close(t: number): void {
    const cpu1 = this.env.cpuUs();
    const processCpu1 = this.env.processCpuUs?.();
    const elu = performance.eventLoopUtilization(this.elu0);
    const stages = this.env.stageUtilisation?.() ?? null;
    this.env.onWindow?.('close');
    this.stop();
    this.resolve({
      durationNs: t - this.tMeasure,
      wallNs: wallNow() - this.wallMeasure,
      cpuUs: cpu1 !== null && this.cpu0 !== null ? cpu1 - this.cpu0 : null,
      processCpuUs: processCpu1 === undefined ? null : processCpu1 - this.processCpu0,
      eventLoopUtilisation: elu.utilization,
      stageUtilisation: stages,
      truncated: this.truncated,
    });
  }

  private stop(): void {
    this.phase = 'done';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export interface WindowResult {
  durationNs: number;
  wallNs: number;
  cpuUs: number | null;
  processCpuUs: number | null;
  eventLoopUtilisation: number;
  stageUtilisation: Record<string, number> | null;
  truncated: boolean;
}

/** Param accessors that fail loudly: a plan bug should not turn into a silent default. */
export function num(params: Params, key: string): number {
  const v = params[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new RangeError(`workload param ${key} must be a number`);
  return v;
}

export function str(params: Params, key: string): string {
  const v = params[key];
  if (typeof v !== 'string') throw new RangeError(`workload param ${key} must be a string`);
  return v;
}

export class StepTimeout extends Error {}

/** `p`, or a StepTimeout naming `what` after `ms`: a hung backend fails its row, not the suite. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepTimeout(`${what} did not finish within ${+(ms / 1000).toPrecision(3)} s`)),
      ms,
    );
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
