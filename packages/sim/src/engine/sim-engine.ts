/**
 * The discrete-event engine both NIC models run on: a simulated clock in integer picoseconds
 * (800 MHz = 1250 ps per cycle, exact), an event queue ordered by (time, sequence), seeded
 * random streams, and the loop that drives the simulated NICs in one of two time modes.
 *
 * - `virtual`: simulated time runs as fast as the machine allows. After every instant at which
 *   something reached the application (a notification, a control-plane callback, a timer), the
 *   loop yields to Node's event loop before it advances the clock, so application callbacks and
 *   whatever they defer (nextTick, promises, immediates) run at the simulated instant they were
 *   due. Every stack on one virtual wire shares one engine (`engineForWire`), hence one clock.
 * - `paced`: the simulated clock follows the wall clock (`realTime`, the x86 backend's time
 *   base): an event runs once the wall clock has reached its time, never before, and the lag by
 *   which the model fell behind is measured and reported. A paced NIC can share a wire with
 *   real-time parties (an x86 stack, a TAP device with Linux behind it).
 *
 * The engine implements core's `Clock` and `Timers` (nanoseconds), so the data path, the
 * control plane and the virtual wire all read one clock.
 */
import { Prng, realTime, type Clock, type Seed, type TimerHandle, type Timers } from '@flextoe/core';
import { EventQueue, type SimEventTarget } from './event-queue.js';

export type SimTimeMode = 'virtual' | 'paced';

/** Flags a participant's `simPoll` returns. */
export const SimPoll = {
  /** The round did work: poll again at this instant. */
  Work: 1,
  /** Something reached the application (callbacks ran): let it react before time moves. */
  App: 2,
  /**
   * With Work: the round did work (activity) but left nothing for this instant, so no second
   * poll is needed (an empty poll costs as much as the data path's poll round).
   */
  Settled: 4,
} as const;

/** Something the engine polls at the current instant when it is marked dirty (a simulated NIC). */
export interface SimParticipant {
  /** @internal Set while queued for a poll. */
  simDirty: boolean;
  /** One round at `engine.nowPs`; returns `SimPoll` flags. */
  simPoll(): number;
  /**
   * After a frame reached the shared wire (`markReceivers`): false when this participant
   * certainly received nothing, so it need not be polled for it. Absent: always polled.
   */
  simMayReceive?(): boolean;
}

export interface SimEngineOptions {
  readonly mode: SimTimeMode;
  /** Root of every random stream the engine hands out (`engine.random(label)`). */
  readonly seed?: Seed;
  /**
   * Virtual mode: once nothing but timers has happened for this long (simulated), the engine
   * parks until something wakes it, so an idle stack does not spin through hours of periodic
   * control-loop ticks. Longer than TCP's longest timer we use (TIME-WAIT 60 s, RTO backoff).
   */
  readonly idleParkNs?: number;
}

/** Simulated start of virtual time: 1 s, so no timestamp or timer ever sits at zero. */
const VIRTUAL_EPOCH_PS = 1e12;
/** Paced mode: a wait for the next event longer than this (50 us) sleeps on a timer instead of spinning. */
const SPIN_GAP_PS = 50e6;
/** Instants run between two yields to Node's event loop at most (I/O, test timers stay live). */
const YIELD_EVERY = 512;
/** Event-loop turns given to the application after it was called, before time moves on. */
const APP_YIELDS = 1;
/** Polls of one instant before the engine declares a participant stuck. */
const MAX_POLLS_PER_INSTANT = 200_000;
const DEFAULT_IDLE_PARK_NS = 120e9;

/**
 * Closure timers: one table, one event kind. The engine has two: timers anyone schedules
 * (`schedule`: odd handles) and the quiet timers of a participant's own machinery
 * (`scheduleQuiet`: even handles), so `cancel` finds a handle's table without a lookup.
 */
class TimerTable implements SimEventTarget {
  private readonly fns = new Map<TimerHandle, () => void>();
  private next: number;
  fired = 0;

  constructor(
    private readonly engine: SimEngine,
    first: number,
    private readonly quiet: boolean,
  ) {
    this.next = first;
  }

  schedule(delayNs: number, fn: () => void): TimerHandle {
    if (Number.isNaN(delayNs)) throw new RangeError('SimEngine.schedule: delay is NaN');
    const handle = this.next;
    this.next += 2;
    this.fns.set(handle, fn);
    // Round to whole picoseconds so event times stay exact integers.
    this.engine.at(this.engine.nowPs + Math.max(0, Math.round(delayNs * 1000)), this, 0, handle);
    return handle;
  }

  cancel(handle: TimerHandle): void {
    this.fns.delete(handle);
  }

  get pending(): number {
    return this.fns.size;
  }

  onSimEvent(_kind: number, handle: number): void {
    const fn = this.fns.get(handle);
    if (fn === undefined) return; // cancelled
    this.fns.delete(handle);
    this.fired++;
    if (!this.quiet) {
      fn();
      return;
    }
    this.engine.quietDepth++;
    try {
      fn();
    } finally {
      this.engine.quietDepth--;
    }
  }
}

/** What the paced loop measured about keeping up with the wall clock. */
export interface PacingStats {
  /** Events run after their time had already passed on the wall clock. */
  readonly lateEvents: number;
  /** Largest lag (wall clock minus event time) in ns. */
  readonly maxLagNs: number;
  /** Mean lag over all events, ns. */
  readonly meanLagNs: number;
}

export class SimEngine implements Clock, Timers {
  readonly mode: SimTimeMode;
  /**
   * Current simulated time in picoseconds. Initialised in its declaration: a field declared
   * without a value starts as `undefined` and V8 then keeps it tagged, so every store of a time
   * (a double, not a small integer) would allocate a new heap number (16 B per instant).
   */
  nowPs = 0;
  private readonly queue = new EventQueue();
  private readonly timers: TimerTable;
  private readonly quietTimers: TimerTable;
  /**
   * Whether application callbacks may defer work (nextTick, promises, the immediates those
   * queue) that must run at the simulated instant it was due. True (the default): after every
   * instant at which something reached the application, the engine gives Node's event loop a
   * turn before the clock moves on (about 2 us of CPU each). A caller whose callbacks do all
   * their work synchronously (`runSimBenchmark`) sets it false: the engine then yields only
   * every YIELD_EVERY instants, and the simulated results are the same.
   */
  applicationDefers = true;
  /** @internal Quiet timers running (their kicks are the participant's own, not activity). */
  quietDepth = 0;
  /** A quiet timer reached the application (`noteApplicationCall`) in the current instant. */
  private appCalled = false;
  private readonly root: Prng;
  private readonly idleParkPs: number;
  private readonly participants = new Set<SimParticipant>();
  private participantList: SimParticipant[] = [];
  // Participants queued for a poll at this instant: dirty[dirtyHead..dirtyTail) (the array is
  // reused, never truncated).
  private readonly dirty: SimParticipant[] = [];
  private dirtyHead = 0;
  private dirtyTail = 0;
  /**
   * A participant was detached since the dirty list was last emptied: only then may the list
   * hold one that must not be polled (a set lookup per poll otherwise).
   */
  private detached = false;
  private closed = false;
  /** A step of the loop is queued (microtask, immediate or timer) or running. */
  private scheduled = false;
  private inStep = false;
  private sleepTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly stepBound = (): void => this.step();
  // Virtual-time loop state carried across steps.
  private yieldsOwed = 0;
  private kicksAtYield = 0;
  private sinceYield = 0;
  /** Kicks (application activity) since the last yield. */
  private kicks = 0;
  private lastActivityPs = 0; // a double field from the start (see nowPs)
  private failure: unknown = null;
  // Paced-mode lag accounting.
  private lagEvents = 0;
  private lagSumPs = 0;
  private lagMaxPs = 0;
  private lateEvents = 0;
  /** Events run so far (a speed gauge for benches). */
  eventsRun = 0;

  constructor(options: SimEngineOptions) {
    this.mode = options.mode;
    this.root = new Prng(options.seed ?? 1);
    this.idleParkPs = (options.idleParkNs ?? DEFAULT_IDLE_PARK_NS) * 1000;
    this.nowPs = this.mode === 'virtual' ? VIRTUAL_EPOCH_PS : this.wallPs();
    this.lastActivityPs = this.nowPs;
    this.timers = new TimerTable(this, 1, false);
    this.quietTimers = new TimerTable(this, 2, true);
  }

  // ---------------------------------------------------------------- Clock and Timers (ns)

  now(): number {
    return this.nowPs / 1000;
  }

  /** `now()` into a register: a fractional ns returned from a call V8 did not inline is boxed. */
  nowInto(into: Float64Array, index: number): void {
    into[index] = this.nowPs / 1000;
  }

  schedule(delayNs: number, fn: () => void): TimerHandle {
    const h = this.timers.schedule(delayNs, fn);
    this.wake();
    return h;
  }

  cancel(handle: TimerHandle): void {
    if ((handle & 1) === 1) this.timers.cancel(handle);
    else this.quietTimers.cancel(handle);
  }

  get pendingTimers(): number {
    return this.timers.pending + this.quietTimers.pending;
  }

  /**
   * A timer of a participant's own machinery (a stack's control-plane timers: the periodic
   * control loop, RTO, TIME-WAIT). It runs at its instant like any other, and the kick it ends
   * with polls the participant; but it is no activity (an idle stack's periodic ticks do not
   * keep virtual time from parking) and in virtual time it gets no event-loop turn of its own,
   * unless the participant reports that it reached the application (`noteApplicationCall`).
   */
  scheduleQuiet(delayNs: number, fn: () => void): TimerHandle {
    const h = this.quietTimers.schedule(delayNs, fn);
    this.wake();
    return h;
  }

  /**
   * A quiet timer called the application (e.g. closed a connection: onClose ran): like any
   * delivery, the application gets its event-loop turn before the clock moves on, and it is
   * activity.
   */
  noteApplicationCall(): void {
    this.appCalled = true;
    this.lastActivityPs = this.nowPs;
  }

  // ---------------------------------------------------------------- model-side API

  /** Schedules `target.onSimEvent(kind, arg)` at `timePs` (never before now). Allocation-free. */
  at(timePs: number, target: SimEventTarget, kind: number, arg: number): void {
    this.queue.push(timePs > this.nowPs ? timePs : this.nowPs, target, kind, arg);
  }

  /** An independent random stream: same engine seed and label, same numbers, every run. */
  random(label: string, seed?: Seed): Prng {
    return seed === undefined ? this.root.fork(label) : new Prng(seed).fork(label);
  }

  /** Something happened that may need more simulated time (keeps virtual time from parking). */
  noteActivity(): void {
    this.lastActivityPs = this.nowPs;
  }

  attach(p: SimParticipant): void {
    if (this.closed) throw new Error('SimEngine: closed');
    this.participants.add(p);
    this.participantList = [...this.participants];
    this.markDirty(p);
  }

  detach(p: SimParticipant): void {
    if (this.participants.delete(p)) this.detached = true;
    this.participantList = [...this.participants];
  }

  get participantCount(): number {
    return this.participants.size;
  }

  /** Queues `p` for a poll at the current instant and makes sure the loop runs. */
  markDirty(p: SimParticipant): void {
    if (!p.simDirty) {
      p.simDirty = true;
      this.dirty[this.dirtyTail++] = p;
    }
    if (!this.inStep) this.wake();
  }

  /** Every participant may have work (a frame reached the shared wire). */
  markAllDirty(): void {
    const list = this.participantList;
    for (let i = 0; i < list.length; i++) this.markDirty(list[i]!);
  }

  /** Frames reached the shared wire: polls the participants that may have received one. */
  markReceivers(): void {
    const list = this.participantList;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.simMayReceive === undefined || p.simMayReceive()) this.markDirty(p);
    }
  }

  /**
   * A kick from the application while its participant is being polled, before the poll round
   * that will see it: it is activity (and the application's), but needs no poll of its own.
   */
  noteApplicationKick(): void {
    if (this.quietDepth === 0) {
      this.kicks++;
      this.lastActivityPs = this.nowPs;
    }
  }

  /**
   * The application did something (a kick): poll, and in virtual mode let it finish first. A
   * kick from a quiet timer (the stack's own, after its control-plane timers) only polls.
   */
  noteKick(p: SimParticipant): void {
    if (this.quietDepth === 0) {
      this.kicks++;
      this.lastActivityPs = this.nowPs;
    }
    this.markDirty(p);
  }

  /** Starts the loop if it is idle, or cuts its sleep short. Never runs it inside the caller. */
  wake(): void {
    if (this.closed || this.failure !== null || this.inStep) return;
    if (this.sleepTimer !== null) {
      clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.stepBound);
  }

  /** The model's failure, if the loop stopped on an exception. */
  get error(): unknown {
    return this.failure;
  }

  pacingStats(): PacingStats {
    return {
      lateEvents: this.lateEvents,
      maxLagNs: this.lagMaxPs / 1000,
      meanLagNs: this.lagEvents === 0 ? 0 : this.lagSumPs / this.lagEvents / 1000,
    };
  }

  /** Stops the loop and drops pending events; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    this.participants.clear();
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------- the loop

  private wallPs(): number {
    return Math.round(realTime.now() * 1000);
  }

  /**
   * One step of the loop: runs synchronously until it must give Node's event loop a turn (the
   * application may have work pending, or it ran long), sleep until the wall clock catches up
   * (paced), or park (nothing pending); then it queues its next step, or leaves that to wake().
   */
  private step(): void {
    this.scheduled = false;
    if (this.closed) return;
    this.inStep = true;
    try {
      if (this.mode === 'virtual') this.virtualRun();
      else this.pacedRun();
    } catch (e) {
      this.fail(e);
    } finally {
      this.inStep = false;
    }
  }

  /**
   * Gives Node's event loop a turn. The immediate is queued from a nextTick so that it lands
   * behind the immediates the application queued from its own nextTicks and promise callbacks
   * in response to what we just delivered: their work runs before the clock moves on.
   */
  private yieldTurn(): void {
    this.scheduled = true;
    process.nextTick(this.queueStep);
  }

  private readonly queueStep = (): void => {
    setImmediate(this.stepBound);
  };

  private virtualRun(): void {
    const turns = this.applicationDefers;
    // The application acted during the last turn: settle its requests, then wait again.
    if (turns && this.kicks !== this.kicksAtYield) this.yieldsOwed = APP_YIELDS;
    for (;;) {
      if (this.closed) return;
      const kicksBefore = this.kicks;
      if ((this.settle() || this.kicks !== kicksBefore) && turns) {
        // Something reached the application (or it acted): before the clock moves on, let it
        // run what it deferred (nextTick and promise work, and the immediates those queue).
        this.yieldsOwed = APP_YIELDS;
      }
      if (this.yieldsOwed > 0 || this.sinceYield >= YIELD_EVERY) {
        if (this.yieldsOwed > 0) this.yieldsOwed--;
        this.sinceYield = 0;
        this.kicksAtYield = this.kicks;
        this.yieldTurn();
        return;
      }
      const t = this.queue.peekTime();
      if (t === Infinity || t > this.lastActivityPs + this.idleParkPs) return; // park until wake()
      const firedBefore = this.timers.fired;
      this.runEventsAtHead();
      this.sinceYield++;
      // A timer may have called the application (quiet ones say so).
      if (turns && (this.timers.fired !== firedBefore || this.appCalled)) this.yieldsOwed = APP_YIELDS;
      this.appCalled = false;
    }
  }

  private pacedRun(): void {
    for (;;) {
      if (this.closed) return;
      const wall = this.wallPs();
      const t = this.queue.peekTime();
      if (t <= wall) {
        const lag = wall - t;
        this.lagEvents++;
        this.lagSumPs += lag;
        if (lag > this.lagMaxPs) this.lagMaxPs = lag;
        if (lag > 1e9) this.lateEvents++; // more than 1 ms behind the wall clock
        this.runEventsAtHead();
        this.settle();
        if (++this.sinceYield >= YIELD_EVERY) {
          this.sinceYield = 0;
          this.yieldTurn();
          return;
        }
        continue;
      }
      // Nothing due: the clock catches up with the wall clock (never passes it).
      if (wall > this.nowPs) this.nowPs = wall;
      if (this.dirtyHead < this.dirtyTail) {
        this.settle();
        continue;
      }
      this.sinceYield = 0;
      if (t === Infinity) return; // park until wake()
      // Node timers have millisecond granularity. A gap of more than SPIN_GAP_PS sleeps on a
      // timer (at least 1 ms: an idle paced stack wakes at its control-loop tick a little late,
      // it does not spin a CPU between ticks); a shorter gap (the model's own back-to-back
      // work) lets the event loop turn (I/O keeps flowing) until the event is due.
      const gapPs = t - wall;
      if (gapPs > SPIN_GAP_PS) {
        this.scheduled = true;
        this.sleepTimer = setTimeout(
          () => {
            this.sleepTimer = null;
            this.step();
          },
          Math.max(1, Math.floor(gapPs / 1e9)),
        );
        // Unref'd: a simulated NIC waiting for its next event must not keep the process alive
        // (Node semantics: the application's ref'd sockets and servers do, through
        // @flextoe/sockets' liveness hold). Not the immediates: an unref'd immediate does not
        // stop the event loop from blocking, so the engine would stall.
        this.sleepTimer.unref();
      } else this.yieldTurn();
      return;
    }
  }

  /**
   * Runs every event of the earliest instant in the queue (the caller checked it is not empty).
   * The instant is read here, not passed: a picosecond time is no small integer, and a double
   * passed to a call V8 does not inline is boxed (16 B per instant).
   */
  private runEventsAtHead(): void {
    const t = this.queue.peekTime();
    if (t > this.nowPs) this.nowPs = t;
    const q = this.queue;
    while (q.size > 0 && q.peekTime() <= t) {
      q.popAndRun();
      this.eventsRun++;
    }
  }

  /** Polls dirty participants until all are idle; true if anything reached the application. */
  private settle(): boolean {
    if (this.dirtyTail === 0) return false;
    let app = false;
    let polls = 0;
    const dirty = this.dirty;
    while (this.dirtyHead < this.dirtyTail) {
      const p = dirty[this.dirtyHead++]!;
      p.simDirty = false;
      if (this.detached && !this.participants.has(p)) continue;
      const r = p.simPoll();
      if ((r & SimPoll.App) !== 0) app = true;
      if ((r & SimPoll.Work) !== 0) {
        this.lastActivityPs = this.nowPs;
        if ((r & SimPoll.Settled) === 0 && !p.simDirty) {
          p.simDirty = true;
          dirty[this.dirtyTail++] = p;
        }
      }
      if (++polls > MAX_POLLS_PER_INSTANT)
        throw new Error(
          `SimEngine: a participant did work ${polls} times at one instant without time moving`,
        );
    }
    this.dirtyHead = 0;
    this.dirtyTail = 0;
    this.detached = false;
    return app;
  }

  private fail(e: unknown): void {
    this.failure = e;
    // Loud: a model bug must not look like a stalled network.
    queueMicrotask(() => {
      throw e;
    });
  }
}
