/**
 * One simulated NIC with its host: the real FlexTOE data path and control plane (core's
 * `TcpStack`), on simulated hardware (cores, memory tiers and caches, PCIe DMA, MAC), driven by
 * the engine. The stack executes every work item for real; the timing model decides when its
 * effects appear: frames on the wire, notifications at the application, exceptions at the host
 * control plane. This class is the glue, in one place: what the stack produced is held here
 * until its modelled time, then released.
 */
import {
  CONTEXT_ENTRY_WORDS,
  IdentityRecord,
  TcpStack,
  type ExceptionEntry,
  type NicPort,
  type StackHardware,
  type TcpStackOptions,
  type Timers,
} from '@flextoe/core';
import type { SimEventTarget } from '../engine/event-queue.js';
import { SimPoll, type SimEngine, type SimParticipant } from '../engine/sim-engine.js';
import { SimCores } from '../model/cores.js';
import { MemoryModel, SimMemoryTiers } from '../model/memory-model.js';
import { ItemKind, NicTiming, type TimingHost } from '../model/nic-timing.js';
import { PcieModel, SimDma } from '../model/pcie.js';
import type { NicModelSpec } from '../model/spec.js';
import { simHardware } from './hardware-module.js';
import { SimPort, type PortHost } from './sim-port.js';
import { collectStats, type SimStats } from './sim-stats.js';

/** Entries of the notification queue that are flow events for the control plane, not notifications. */
const FLOW_EVENT = -1;
/** Event kinds the NIC schedules for itself. */
const WAKE = 1;
/** Granularity at which rate-limited flows are re-polled (one queue-manager wheel slot). */
const PACING_STEP_PS = 1_000_000;
/** Notifications the NIC can hold between the context-queue stage and the application. */
const NOTIFY_INITIAL = 4096;

/**
 * The core's stack with the simulated NIC's poll round: the application's kicks reach the
 * engine, transmit stops while the modelled pipeline holds all its credits, and notifications
 * are dispatched by the NIC when their modelled time comes.
 */
export class SimTcpStack extends TcpStack {
  /** Control-plane items handled in the last round (callbacks may have reached the app). */
  controlWork = 0;
  /**
   * The last round may have left work for this instant: a receive or transmit burst was full
   * (or stopped short with flows still ready), or the control plane ran (it may queue requests
   * and flow events behind the stages that already ran). Otherwise a second round would find
   * nothing.
   */
  leftWork = false;

  constructor(
    private readonly nic: SimNic,
    hw: StackHardware,
    options: TcpStackOptions,
  ) {
    super(hw, options);
  }

  override kick(): void {
    this.nic.kicked();
  }

  override poll(): number {
    const dp = this.dataPath;
    const nic = this.nic;
    const burst = dp.opts.burst;
    const rx = dp.pollRx();
    let work = rx;
    nic.afterRx();
    const requests = nic.requestsDue();
    // Nothing received, no requests due, nothing for the control plane or the transmit side:
    // the rest of the round would find nothing (most such rounds follow a delivery of
    // notifications whose application reactions cross PCIe later). Skipping it leaves every
    // modelled figure as it was: what the skipped stages would have done with no work (the
    // queue manager's wheel moving to now, the blocked-transmit flag) is done by the check.
    if (rx === 0 && !requests && nic.quietRound()) {
      this.leftWork = false;
      return 0;
    }
    if (requests) {
      nic.fetching = true;
      work += dp.pollRequests();
      nic.fetching = false;
    }
    nic.holdFlowEvents();
    nic.releaseExceptions();
    const c = this.control.poll();
    nic.flowEventsReleased = 0; // the control plane took every released event
    this.controlWork += c;
    work += c;
    let txMore = false;
    if (nic.txAllowed()) {
      const tx = dp.pollTx();
      work += tx;
      // Stopped by the burst, or short (egress slots, DMA queue) with flows still ready.
      const qm = dp.qm;
      txMore = tx === burst || (qm.waiting > 0 && qm.credits > 0);
    }
    this.leftWork = txMore || c > 0 || nic.port.rxMayHaveMore || dp.flowEvents.length > 0;
    return work;
  }

  /** Runs the application callbacks of the notifications in the context queue. */
  dispatch(): number {
    return this.dispatchNotifications();
  }
}

export interface SimNicOptions {
  readonly spec: NicModelSpec;
  readonly engine: SimEngine;
  /** The wire: a virtual port, or a TAP/DPDK port in paced mode. */
  readonly wire: NicPort;
  readonly stack: TcpStackOptions;
  /** How the wire was opened (for the stats), e.g. 'virtual:wire-3'. */
  readonly wireName: string;
}

export class SimNic implements SimParticipant, SimEventTarget, TimingHost, PortHost {
  simDirty = false;
  readonly spec: NicModelSpec;
  readonly engine: SimEngine;
  readonly mem: MemoryModel;
  readonly tiers: SimMemoryTiers;
  readonly cores: SimCores;
  readonly pcie: PcieModel;
  readonly dma: SimDma;
  readonly port: SimPort;
  readonly timing: NicTiming;
  readonly stack: SimTcpStack;
  readonly wireName: string;
  readonly rxCapacity: number;
  readonly hostToNicPs: number;
  private readonly identity: IdentityRecord;
  private readonly stackGroups: number;
  private closed = false;

  // Notifications between the context-queue stage and the application, in the order they were
  // written: entry, context, when it reaches host memory (NaN until the model has run the
  // context-queue stage for it). Numbered from `noteBase` (the head's number).
  private noteWords = new Uint32Array(NOTIFY_INITIAL * CONTEXT_ENTRY_WORDS);
  private noteCtx = new Int32Array(NOTIFY_INITIAL);
  private noteAt = new Float64Array(NOTIFY_INITIAL);
  private noteHead = 0;
  private noteCount = 0;
  private noteBase = 0;
  heldCount = 0;
  /** True while the context-queue stage's poll runs (its entries already crossed PCIe). */
  fetching = false;
  /** True while notifications are delivered, before this NIC's poll round runs. */
  private delivering = false;
  /** When requests the application queued become visible to the NIC (Infinity: none pending). */
  private requestsAtPs = Infinity;
  private rxBlocked = false;
  private txBlocked = false;
  private readonly scratch = new Uint32Array(CONTEXT_ENTRY_WORDS);
  maxNotifyBacklog = 0;
  notificationsDelivered = 0;

  // Exceptions between pre-processing and the host control plane.
  private readonly exceptions: { entry: ExceptionEntry; atPs: number }[] = [];
  private wakeAtPs = Infinity;
  /** Start of the statistics window (simulated ps). */
  statsSincePs: number;
  statsBaseline: { rxBytes: number; txBytes: number; rxFrames: number; txFrames: number } = {
    rxBytes: 0,
    txBytes: 0,
    rxFrames: 0,
    txFrames: 0,
  };

  constructor(opts: SimNicOptions) {
    const { spec, engine } = opts;
    this.spec = spec;
    this.engine = engine;
    this.wireName = opts.wireName;
    this.rxCapacity = spec.rxItemsInFlight;
    this.hostToNicPs = spec.hostToNicNs * 1000;
    this.mem = new MemoryModel(spec, engine.random(`${spec.name}:memory`, spec.seed));
    this.tiers = new SimMemoryTiers(this.mem);
    this.cores = new SimCores(spec.cores, spec.layout);
    this.cores.place(spec.graph);
    this.pcie = new PcieModel(spec.pcie);
    this.dma = new SimDma(spec.pcie);
    this.port = new SimPort(opts.wire, engine, this, spec.lineRateGbps);
    this.timing = new NicTiming(spec, this.cores, this.mem, this.pcie, engine, this);
    const hw = simHardware({
      engine,
      port: this.port,
      dma: this.dma,
      tiers: this.tiers,
      cores: this.cores,
      timing: this.timing,
      timers: this.stackTimers(),
    });
    this.stack = new SimTcpStack(this, hw, opts.stack);
    const dp = this.stack.dataPath;
    this.stackGroups = dp.opts.flowGroups;
    this.timing.ensureFlows(dp.opts.maxFlows);
    const table = this.tiers.allocated.find((r) => r.purpose === 'flow-table');
    if (table) dp.flowTable.reportLookupsTo(this.tiers, table);
    const ids = this.tiers.allocated.find((r) => r.purpose === 'flow-identity')!;
    // A cursor that records nothing: the model reads the flow group, the NIC does not.
    this.identity = new IdentityRecord(ids, null);
    this.tiers.sink = this.timing;
    this.dma.sink = this.timing;
    dp.setStageProbe(this.timing);
    this.statsSincePs = engine.nowPs;
    opts.wire.setRxWakeup(() => this.engine.markDirty(this));
    engine.attach(this);
  }

  /**
   * The stack's control-plane timers are the engine's quiet timers: an idle stack's periodic
   * control loop is no activity (virtual time parks) and needs no event-loop turn. A timer
   * reaches the application only by closing a connection (onClose: a timeout, TIME-WAIT never
   * calls it); the engine is told, so the application gets its turn then.
   */
  private stackTimers(): Timers {
    const engine = this.engine;
    return {
      schedule: (delayNs, fn) =>
        engine.scheduleQuiet(delayNs, () => {
          const closed = this.stack.control.counters.connectionsClosed;
          fn();
          if (this.stack.control.counters.connectionsClosed !== closed) engine.noteApplicationCall();
        }),
      cancel: (handle) => engine.cancel(handle),
    };
  }

  // ---------------------------------------------------------------- the engine's view

  simPoll(): number {
    if (this.closed) return 0;
    let flags = 0;
    const now = this.engine.nowPs;
    if (this.noteCount > 0 && this.noteAt[this.noteHead]! <= now) {
      // The application's reactions (kicks) are seen by the poll round below: they need no
      // round of their own.
      this.delivering = true;
      const delivered = this.deliverNotifications();
      this.delivering = false;
      if (delivered > 0) flags |= SimPoll.App; // NaN (not yet written) compares false
    }
    const s = this.stack;
    s.controlWork = 0;
    const work = s.poll();
    if (work > 0) flags |= s.leftWork ? SimPoll.Work : SimPoll.Work | SimPoll.Settled;
    if (s.controlWork > 0) flags |= SimPoll.App;
    // Requests the round queued without a kick (after its fetch ran) are fetched later. (A
    // round that did nothing queued nothing; the rings' sizes are atomic loads, not free.)
    if (work > 0) this.noticeRequests();
    this.scheduleWakes();
    return flags;
  }

  /** After a frame reached the wire: only a NIC whose wire port holds frames is polled for it. */
  simMayReceive(): boolean {
    return this.port.wireMayHold();
  }

  onSimEvent(kind: number): void {
    if (kind === WAKE) this.wakeAtPs = Infinity;
    if (!this.closed) this.engine.markDirty(this);
  }

  /**
   * The application (or the host control plane) did something: requests it queued reach the NIC
   * when the context-queue stage fetches them over PCIe; anything else (a connect, a listen) is
   * polled at once.
   */
  kicked(): void {
    if (this.closed) return;
    if (this.requestsAtPs === Infinity && this.requestsQueued()) {
      this.requestsAtPs = this.engine.nowPs + this.hostToNicPs;
      this.wakeAt(this.requestsAtPs);
    }
    if (this.delivering) this.engine.noteApplicationKick();
    else this.engine.noteKick(this);
  }

  /** True when the context-queue stage should poll the request queues now. */
  requestsDue(): boolean {
    if (this.requestsAtPs > this.engine.nowPs) {
      // Requests may have been queued without a kick (the stack applies some directly).
      if (this.requestsAtPs === Infinity && this.requestsQueued()) {
        this.requestsAtPs = this.engine.nowPs + this.hostToNicPs;
        this.wakeAt(this.requestsAtPs);
      }
      return false;
    }
    this.requestsAtPs = Infinity;
    return true;
  }

  /** Requests queued without a kick cross PCIe from now on. */
  private noticeRequests(): void {
    if (this.requestsAtPs === Infinity && this.requestsQueued()) {
      this.requestsAtPs = this.engine.nowPs + this.hostToNicPs;
      this.wakeAt(this.requestsAtPs);
    }
  }

  private requestsQueued(): boolean {
    const contexts = this.stack.dataPath.contexts;
    for (let q = 0; q < contexts.length; q++) if (contexts[q]!.requests.size > 0) return true;
    return false;
  }

  // ---------------------------------------------------------------- TimingHost / PortHost

  nextArrival(into: Float64Array, index: number): void {
    into[index] = this.port.nextArrivalPs();
  }

  groupOf(flowId: number): number {
    return flowId >= 0 ? this.identity.at(flowId).group % this.stackGroups : 0;
  }

  hostWorkDelayPs(): number {
    return this.fetching ? 0 : this.hostToNicPs;
  }

  rxRoom(): number {
    const room = this.rxCapacity - this.timing.inFlightNow(ItemKind.Rx);
    if (room <= 0) {
      this.rxBlocked = true;
      this.timing.wakeOnFinish(ItemKind.Rx);
    }
    return room;
  }

  itemFinished(kind: number): void {
    if ((kind === ItemKind.Rx && this.rxBlocked) || (kind === ItemKind.Tx && this.txBlocked)) {
      this.rxBlocked = false;
      this.txBlocked = false;
      if (!this.closed) this.engine.markDirty(this);
    }
  }

  frameBuilt(): number {
    return this.port.frameBuilt();
  }

  frameReady(seq: number, readyPs: number): void {
    this.port.frameReady(seq, readyPs);
  }

  holdNotifications(): number {
    const contexts = this.stack.dataPath.contexts;
    const first = this.noteBase + this.noteCount;
    let n = 0;
    for (let q = 0; q < contexts.length; q++) {
      const ring = contexts[q]!.notifications;
      while (ring.tryPop(this.scratch)) {
        this.pushNote(q, NaN);
        n++;
      }
    }
    this.heldCount = n;
    return first;
  }

  notificationsReady(first: number, count: number, times: Float64Array, index: number): void {
    const readyPs = times[index]!;
    const cap = this.noteAt.length;
    for (let k = first; k < first + count; k++) {
      const off = k - this.noteBase;
      if (off < 0 || off >= this.noteCount) continue;
      let i = this.noteHead + off;
      if (i >= cap) i -= cap;
      this.noteAt[i] = readyPs;
    }
    // Flow events queued right behind these are ready with them.
    for (let off = first + count - this.noteBase; off >= 0 && off < this.noteCount; off++) {
      let i = this.noteHead + off;
      if (i >= cap) i -= cap;
      if (this.noteCtx[i] !== FLOW_EVENT || this.noteAt[i] === this.noteAt[i]) break;
      this.noteAt[i] = readyPs;
    }
    // Delivered in the order written: a later notification waits for the ones before it.
    if (first === this.noteBase) this.wakeAt(readyPs);
  }

  wakeAt(timePs: number): void {
    if (timePs === Infinity || timePs >= this.wakeAtPs) return;
    this.wakeAtPs = timePs;
    this.engine.at(timePs, this, WAKE, 0);
  }

  // ---------------------------------------------------------------- the stack's poll round

  /** After the receive burst: retire stale work, hold new exceptions until they reach the host. */
  afterRx(): void {
    this.timing.dropStale();
    const ex = this.stack.dataPath.exceptions;
    if (ex.length === 0) return;
    // The slow path: pre-processing hands the frame to the host's exception queue by DMA. It is
    // timed from the stage's own cost and the PCIe write (it does not queue behind data-path
    // work in the model; exceptions are rare: handshakes, ARP, RST).
    const at =
      this.engine.nowPs +
      this.spec.stages.cycles.pre * this.cores.psPerCycle +
      this.spec.pcie.writeLatencyNs * 1000;
    for (const entry of ex) this.exceptions.push({ entry, atPs: at });
    this.wakeAt(at);
    ex.length = 0;
  }

  /**
   * Flow events (FIN in, FIN acked) the round produced reach the host control plane in order with
   * the notifications: never before the notifications written ahead of them (a FIN's close must
   * not overtake the data and the onEnd before it). They wait in the notification queue.
   */
  holdFlowEvents(): void {
    const ev = this.stack.dataPath.flowEvents;
    const from = this.flowEventsReleased;
    if (ev.length <= from) return;
    const cap = this.noteAt.length;
    for (let i = from; i + 1 < ev.length; i += 2) {
      // Ready with the entry before it (NaN while that one's time is unknown), now if none.
      let at = this.engine.nowPs;
      if (this.noteCount > 0) {
        let last = this.noteHead + this.noteCount - 1;
        if (last >= cap) last -= cap;
        at = this.noteAt[last]!;
      }
      const e = this.scratch;
      e[0] = ev[i]!;
      e[1] = ev[i + 1]!;
      e[2] = 0;
      e[3] = 0;
      this.pushNote(FLOW_EVENT, at);
    }
    ev.length = from;
    this.scheduleWakes();
  }

  /** Flow events at the front of the data path's list that were released to the control plane. */
  flowEventsReleased = 0;

  /** Exceptions whose time has come go to the control plane's queue. */
  releaseExceptions(): void {
    const now = this.engine.nowPs;
    const ex = this.exceptions;
    let n = 0;
    while (n < ex.length && ex[n]!.atPs <= now) n++;
    if (n === 0) return;
    const dp = this.stack.dataPath;
    for (let i = 0; i < n; i++) dp.exceptions.push(ex[i]!.entry);
    ex.splice(0, n);
  }

  /**
   * After a receive burst that found nothing and with no requests due: true when the rest of
   * the poll round would do nothing (no exception due for the control plane, nothing pending in
   * the data path, transmit blocked or no flow due).
   */
  quietRound(): boolean {
    if (this.exceptions.length > 0 && this.exceptions[0]!.atPs <= this.engine.nowPs) return false;
    const dp = this.stack.dataPath;
    if (dp.exceptions.length > 0 || dp.flowEvents.length > 0) return false;
    // Blocked transmit: the round would not poll it either (the flag is set the same way).
    return !this.txAllowed() || !dp.hasPendingWork();
  }

  /** Transmit only while the modelled pipeline has credits (FlexTOE's queue manager). */
  txAllowed(): boolean {
    if (this.timing.inFlightNow(ItemKind.Tx) < this.spec.txCredits) return true;
    this.txBlocked = true;
    this.timing.wakeOnFinish(ItemKind.Tx);
    return false;
  }

  /** (Reads the time itself: a time passed to a call V8 does not inline is boxed.) */
  private scheduleWakes(): void {
    const now = this.engine.nowPs;
    const head = this.noteAt[this.noteHead]!;
    if (this.noteCount > 0 && head === head) this.wakeAt(head);
    if (this.exceptions.length > 0) this.wakeAt(this.exceptions[0]!.atPs);
    if (this.requestsAtPs !== Infinity) this.wakeAt(this.requestsAtPs);
    // Rate-limited flows: poll again when the queue manager's wheel next releases one.
    if (this.stack.pacing) {
      const due = this.stack.dataPath.qm.nextDueNs() * 1000;
      this.wakeAt(due > now ? due : now + PACING_STEP_PS);
    }
  }

  // ---------------------------------------------------------------- notifications

  private pushNote(ctx: number, at: number): void {
    if (this.noteCount === this.noteAt.length) this.growNotes();
    let tail = this.noteHead + this.noteCount;
    if (tail >= this.noteAt.length) tail -= this.noteAt.length;
    this.noteWords.set(this.scratch, tail * CONTEXT_ENTRY_WORDS);
    this.noteCtx[tail] = ctx;
    this.noteAt[tail] = at;
    this.noteCount++;
    if (this.noteCount > this.maxNotifyBacklog) this.maxNotifyBacklog = this.noteCount;
  }

  private growNotes(): void {
    const n = this.noteAt.length;
    const words = new Uint32Array(n * 2 * CONTEXT_ENTRY_WORDS);
    const ctx = new Int32Array(n * 2);
    const at = new Float64Array(n * 2);
    for (let i = 0; i < this.noteCount; i++) {
      const j = (this.noteHead + i) % n;
      words.set(
        this.noteWords.subarray(j * CONTEXT_ENTRY_WORDS, (j + 1) * CONTEXT_ENTRY_WORDS),
        i * CONTEXT_ENTRY_WORDS,
      );
      ctx[i] = this.noteCtx[j]!;
      at[i] = this.noteAt[j]!;
    }
    this.noteWords = words;
    this.noteCtx = ctx;
    this.noteAt = at;
    this.noteHead = 0;
  }

  /** Puts due notifications back into the context queues and runs their callbacks. */
  private deliverNotifications(): number {
    const now = this.engine.nowPs;
    const contexts = this.stack.dataPath.contexts;
    const cap = this.noteAt.length;
    let delivered = 0;
    while (this.noteCount > 0 && this.noteAt[this.noteHead]! <= now) {
      const h = this.noteHead;
      const ctx = this.noteCtx[h]!;
      if (ctx === FLOW_EVENT) {
        // Back to the data path's list, in front of anything this round adds.
        const ev = this.stack.dataPath.flowEvents;
        ev.splice(
          this.flowEventsReleased,
          0,
          this.noteWords[h * CONTEXT_ENTRY_WORDS]!,
          this.noteWords[h * CONTEXT_ENTRY_WORDS + 1]!,
        );
        this.flowEventsReleased += 2;
        this.noteHead = h + 1 === cap ? 0 : h + 1;
        this.noteCount--;
        this.noteBase++;
        delivered++;
        continue;
      }
      const ring = contexts[ctx]!.notifications;
      const e = this.scratch;
      for (let w = 0; w < CONTEXT_ENTRY_WORDS; w++) e[w] = this.noteWords[h * CONTEXT_ENTRY_WORDS + w]!;
      if (!ring.tryPush(e)) {
        // The application's queue is full: let it drain, then go on.
        this.stack.dispatch();
        if (!ring.tryPush(e)) break;
      }
      this.noteHead = h + 1 === cap ? 0 : h + 1;
      this.noteCount--;
      this.noteBase++;
      delivered++;
    }
    this.notificationsDelivered += delivered;
    this.stack.dispatch();
    return delivered;
  }

  // ---------------------------------------------------------------- stats and lifecycle

  stats(): SimStats {
    return collectStats(this);
  }

  /** Starts a new statistics window (benches exclude their warm-up). */
  resetStats(): void {
    this.statsSincePs = this.engine.nowPs;
    this.cores.resetCounters();
    this.mem.resetCounters();
    this.pcie.resetCounters();
    this.timing.resetCounters();
    this.maxNotifyBacklog = 0;
    this.port.maxEgress = 0;
    const c = this.stack.dataPath.counters;
    this.statsBaseline = {
      rxBytes: c.dmaToHostBytes,
      txBytes: c.dmaFromHostBytes,
      rxFrames: c.rxFrames,
      txFrames: c.txFrames,
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.stack.close();
    this.closed = true;
    this.port.close();
    this.stack.dataPath.setStageProbe(null);
    this.engine.detach(this);
  }
}
