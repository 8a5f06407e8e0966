/**
 * An application context's event queue with epoll(7)-style readiness over it. In FlexTOE each
 * application context (thread) owns a context queue the NIC writes notifications into; here the
 * stack's notifications (bytes received, TX space freed, FIN, close) mark a connection's
 * registration ready in its poller's queue, and `poll` reports what is ready now.
 *
 * Level-triggered by default: a connection stays in the ready list for as long as its
 * readiness holds (reported by every `poll`, like EPOLLIN on unread data); `ToeEvent.Edge`
 * reports once per notification instead. Cost is proportional to the ready connections, not
 * to the registered ones, and polling allocates nothing: the returned array and its records
 * are reused (valid until the next `poll`).
 */
import type { Pollable, ReadinessSink } from './connection.js';
import { ToeEvent, type ToeEventFlags } from './events.js';

/** One ready target and what it is ready for. Reused by the poller: copy what you keep. */
export interface ToeReady<T extends Pollable = Pollable> {
  readonly target: T;
  /** `ToeEvent` bits. */
  readonly events: ToeEventFlags;
}

/** Error and hangup are reported whatever the interest, as epoll does. */
const ALWAYS = ToeEvent.Error | ToeEvent.Hangup;
const EVENT_BITS =
  ToeEvent.Readable | ToeEvent.Writable | ToeEvent.ReadHangup | ToeEvent.Hangup | ToeEvent.Error;

class Registration<T extends Pollable> implements ReadinessSink, ToeReady<T> {
  queued = false;
  events = 0;
  removed = false;

  constructor(
    readonly poller: Poller<T>,
    readonly target: T,
    public interest: ToeEventFlags,
  ) {}

  signal(): void {
    this.poller.enqueue(this);
  }
}

export class Poller<T extends Pollable = Pollable> {
  private readonly registrations = new Map<T, Registration<T>>();
  /** The ready list: registrations that a notification or a level may have made ready. */
  private queue: Registration<T>[] = [];
  private spare: Registration<T>[] = [];
  private readonly out: Registration<T>[] = [];
  private waiter: ((ready: readonly ToeReady<T>[]) => void) | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private waitMax = Infinity;
  private wakeScheduled = false;
  private closedFlag = false;

  /** Registered targets. */
  get size(): number {
    return this.registrations.size;
  }

  /**
   * Watches `target` for the `ToeEvent` bits in `interest` (plus Error and Hangup). A target is
   * in one poller at a time, as a libTOE connection belongs to one context.
   */
  add(target: T, interest: ToeEventFlags = ToeEvent.Readable): void {
    this.assertOpen();
    if (target.registration !== null)
      throw new Error('add: the target is already registered with a poller; remove it first');
    checkInterest(interest);
    const reg = new Registration(this, target, interest);
    this.registrations.set(target, reg);
    target.registration = reg;
    this.enqueue(reg); // it may be ready already
  }

  /** Changes what `target` is watched for. */
  modify(target: T, interest: ToeEventFlags): void {
    const reg = this.registrations.get(target);
    if (!reg) throw new Error('modify: the target is not registered with this poller');
    checkInterest(interest);
    reg.interest = interest;
    this.enqueue(reg);
  }

  /** Stops watching `target`; a no-op when it is not registered. */
  remove(target: T): void {
    const reg = this.registrations.get(target);
    if (!reg) return;
    this.forget(reg);
  }

  /**
   * What is ready now, at most `max` targets (the rest stay queued, and targets reported stay
   * behind those not yet reported, so a busy connection cannot starve the others). Never waits.
   */
  poll(max = Infinity): readonly ToeReady<T>[] {
    const out = this.out;
    out.length = 0;
    const queue = this.queue;
    const keep = this.spare;
    keep.length = 0;
    let i = 0;
    for (; i < queue.length && out.length < max; i++) {
      const reg = queue[i]!;
      if (reg.removed) continue;
      const level = reg.target.readiness();
      const events = level & ((reg.interest & EVENT_BITS) | ALWAYS);
      if (events === 0) {
        reg.queued = false;
        continue;
      }
      reg.events = events;
      out.push(reg);
      if ((events & ToeEvent.Hangup) !== 0) {
        // Fully closed: reported once, then forgotten (as closing an fd leaves its epoll set).
        this.forget(reg);
      } else if ((reg.interest & ToeEvent.Edge) !== 0) {
        reg.queued = false;
      }
    }
    // Unvisited registrations first, then the level-triggered ones just reported.
    let n = 0;
    for (; i < queue.length; i++) if (!queue[i]!.removed) keep[n++] = queue[i]!;
    for (const reg of out) if (reg.queued) keep[n++] = reg;
    keep.length = n;
    this.spare = queue;
    this.queue = keep;
    return out;
  }

  /**
   * Waits until something is ready (or `timeoutMs` passes: then resolves with an empty list).
   * Default: wait without a time limit. One wait at a time.
   *
   * The stack runs on this thread, from the event loop, so `wait` always lets it take its turn
   * before reporting (as a system call would): a loop that waits on a level that keeps holding
   * slows down but cannot starve the stack. `poll` is the synchronous form.
   */
  wait(timeoutMs = -1, max = Infinity): Promise<readonly ToeReady<T>[]> {
    this.assertOpen();
    if (this.waiter) throw new Error('wait: this poller already has a wait in progress');
    return new Promise((resolve) => {
      this.waiter = (r) => {
        if (this.waitTimer) clearTimeout(this.waitTimer);
        this.waitTimer = null;
        this.waiter = null;
        resolve(r);
      };
      this.waitMax = max;
      if (timeoutMs >= 0) this.waitTimer = setTimeout(() => this.waiter?.(this.poll(0)), timeoutMs);
      setImmediate(() => this.deliver());
    });
  }

  /** Forgets every registration and resolves a pending wait with nothing. */
  close(): void {
    if (this.closedFlag) return;
    for (const reg of [...this.registrations.values()]) this.forget(reg);
    this.closedFlag = true;
    this.queue.length = 0;
    this.waiter?.(this.poll(0));
  }

  /** @internal From a registration: its target's readiness may have changed. */
  enqueue(reg: Registration<T>): void {
    if (reg.removed) return;
    if (!reg.queued) {
      reg.queued = true;
      this.queue.push(reg);
    }
    if (this.waiter) this.scheduleWake();
  }

  private scheduleWake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    // After the stack's current round: notifications arrive in a burst (data, then FIN, then
    // close) and the application should see their sum, not the first of them.
    queueMicrotask(() => {
      this.wakeScheduled = false;
      this.deliver();
    });
  }

  /** Resolves the pending wait if anything is ready. */
  private deliver(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const ready = this.poll(this.waitMax);
    if (ready.length > 0) waiter(ready);
  }

  private forget(reg: Registration<T>): void {
    reg.removed = true;
    reg.queued = false;
    this.registrations.delete(reg.target);
    if (reg.target.registration === reg) reg.target.registration = null;
  }

  private assertOpen(): void {
    if (this.closedFlag) throw new Error('the poller is closed');
  }
}

function checkInterest(interest: ToeEventFlags): void {
  if (!Number.isInteger(interest) || (interest & ~(EVENT_BITS | ToeEvent.Edge)) !== 0)
    throw new RangeError(`interest ${interest} has bits that are not ToeEvent flags`);
}
