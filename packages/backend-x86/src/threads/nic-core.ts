/**
 * A NIC core: one worker thread running core's `DataPath` (every stage, run to completion, for
 * the flow groups it owns) against shared memory. Its loop is FlexTOE's data-path loop with the
 * host boundary made of rings: take the host's commands in order, receive, transmit, hand
 * exceptions and flow events to the host, and when a round finds nothing to do, spin briefly
 * and then sleep on the doorbell (Atomics.wait) until the host, the port bridge or a timeout
 * (pacing, a port that cannot ring) wakes it. Idle cores use no CPU.
 *
 * No data-path logic lives here: every stage is core's, applied through `DataPath`'s own entry
 * points (pollRx, pollTx, applyRequest, installFlow, removeFlow, setRate, sendControlFrame,
 * reinject), exactly as the inline runner calls them.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  wireErrorName,
  DataPath,
  MemcpyDma,
  SpscRing,
  type NicPort,
  type PacketBuffer,
  type Request,
} from '@flextoe/core/nic';
import { Doorbell } from './doorbell.js';
import { FrameRing } from './frame-ring.js';
import {
  COMMAND_WORDS,
  Ctl,
  EVENT_WORDS,
  HostCtl,
  NicCommand,
  TX_ROOM_BURSTS,
  type NicCoreInit,
} from './nic-protocol.js';
import { PostCtl } from './post-core.js';
import { RingPort } from './ring-port.js';
import { CoreClock } from './shared-clock.js';
import { threadCpuMs, threadId } from './proc.js';
import { SharedMemoryTiers, type RegionMessage } from './shared-memory.js';
import { StagedRing } from './staged-ring.js';
import { ThreadDma } from './thread-dma.js';

/** How long an idle core sleeps before looking again, by what it waits for (ms). */
const SLEEP_IDLE_MS = 200;
const SLEEP_PACING_MS = 0.05;
/**
 * A port of this core's own (a handed-off DPDK port) cannot ring the doorbell (a native thread
 * cannot end an Atomics.wait), so an idle core polls it: after 20 us, doubling to 1 ms while
 * nothing comes, as the DPDK driver's wakeup helper does (drivers/README.md). The host still
 * rings the doorbell for its commands at once.
 */
const OWN_PORT_POLL_MIN_MS = 0.02;
const OWN_PORT_POLL_MAX_MS = 1;
/** Notifications one received segment can cause (data, freed, FIN) plus one of slack. */
const NOTIFICATIONS_PER_BURST = 4;
/** Commands taken per round, so a flood of requests cannot starve receive and transmit. */
const COMMANDS_PER_ROUND = 1024;

/** Counters of the loop itself (the data path counts its stages). */
export interface NicCoreCounters {
  rounds: number;
  sleeps: number;
  commands: number;
  /** Rounds that skipped receive/transmit: no room for a burst of frames or notifications. */
  txBlocked: number;
  /** Rounds that skipped receive: no room to hold a burst for flows held since their install. */
  holdFull: number;
  exceptionsToHost: number;
  /** Exceptions dropped because the host's exception ring was full. */
  exceptionRingFull: number;
  flowEvents: number;
  /** installFlow refused on this core (flow table full or duplicate tuple). */
  installRefused: number;
  /** Flows installed on this core (its flow groups' connections). */
  installs: number;
  /** Control frames (TxFrame commands) this core sent: a flow's go through the flow's core. */
  controlFrames: number;
}

export class NicCore {
  readonly dp: DataPath;
  readonly counters: NicCoreCounters = {
    rounds: 0,
    sleeps: 0,
    commands: 0,
    txBlocked: 0,
    holdFull: 0,
    exceptionsToHost: 0,
    exceptionRingFull: 0,
    flowEvents: 0,
    installRefused: 0,
    installs: 0,
    controlFrames: 0,
  };
  readonly notifications: SpscRing;
  private readonly ctl: Int32Array;
  private readonly qmNextDue: Float64Array;
  private readonly bell: Doorbell;
  private readonly hostBell: Doorbell;
  private readonly commands: SpscRing;
  private readonly events: SpscRing;
  private readonly hostFrames: FrameRing;
  private readonly exceptions: FrameRing;
  private readonly ringPort: RingPort | null;
  private readonly tiers: SharedMemoryTiers;
  /** The DMA replicas' engine, or null (the core copies payload itself). */
  readonly threadDma: ThreadDma | null;
  private readonly ringViews = new Map<number, Uint8Array>();
  private readonly statsBytes: Uint8Array;
  private readonly rateWords = new Uint32Array(2);
  private readonly rate = new Float64Array(this.rateWords.buffer);
  private readonly burst: number;
  /** Free notification slots a round needs before it takes a burst of work. */
  private readonly notificationRoom: number;
  /** The frame a TxFrame command is sending (read by `copyPending`). */
  private pending: PacketBuffer | null = null;
  private readonly copyPending = (buf: Buffer): number => {
    const f = this.pending!;
    f.data.copy(buf, 0, 0, f.length);
    return f.length;
  };
  private statsServed = 0;
  private stopping = false;
  /**
   * Exceptions this core put in the host's exception ring, and how many of them the host said it
   * handled (`ExceptionsHandled`), mod 2^32: a flow installed while they differ is held until
   * the host catches up (see `takeCommands`).
   */
  private exceptionsPublished = 0;
  private exceptionsHandled = 0;

  constructor(
    readonly init: NicCoreInit,
    /** The port when the host handed this core a device of its own (DPDK); null with a bridge. */
    ownPort: NicPort | null,
    private readonly regionPort: MessagePort | null,
    /** Per DMA replica, where the engine registers memories (`init.dma`'s replicas, in order). */
    dmaPorts: readonly MessagePort[] = [],
  ) {
    this.ctl = new Int32Array(init.ctl, 0, Ctl.words);
    this.qmNextDue = new Float64Array(init.ctl, Ctl.qmNextDue * 4, 1);
    this.bell = new Doorbell(this.ctl, Ctl.bell);
    this.hostBell = new Doorbell(new Int32Array(init.hostCtl, 0, HostCtl.words), HostCtl.bell);
    this.commands = SpscRing.attach(init.commands, 0, COMMAND_WORDS, init.commandEntries);
    this.events = SpscRing.attach(init.events, 0, EVENT_WORDS, init.eventEntries);
    this.hostFrames = FrameRing.attach(init.hostFrames, init.slowFrameShape);
    this.exceptions = FrameRing.attach(init.exceptions, init.slowFrameShape);
    this.statsBytes = new Uint8Array(init.stats);
    let port: NicPort;
    if (init.bridge !== null) {
      this.ringPort = new RingPort(
        init.mac,
        init.capabilities,
        init.bridge.rx === null ? null : FrameRing.attach(init.bridge.rx, init.frameShape),
        FrameRing.attach(init.bridge.tx, init.frameShape),
        this.hostBell,
        init.bridge.pre.map((b) => StagedRing.attach(b, init.frameShape)),
        init.bridge.post.map((p) => ({
          ring: StagedRing.attach(p.ring, init.frameShape),
          bell: new Doorbell(new Int32Array(p.ctl), PostCtl.bell),
        })),
        init.fillTxChecksums,
      );
      port = this.ringPort;
    } else {
      if (ownPort === null) throw new Error('NIC core: no bridge and no port of its own');
      this.ringPort = null;
      port = ownPort;
    }
    this.tiers = SharedMemoryTiers.attach(init.regions, (init.index + 1) << 20);
    const clock = new CoreClock(init.clock.origin, init.clock.manual);
    if (init.dma !== null) {
      // Copies on DMA replica threads: the packet buffers they copy from and into must be
      // memory those threads can map.
      const dma = new ThreadDma(init.dma, dmaPorts);
      this.threadDma = dma;
      this.dp = new DataPath({ ...init.dataPath, sharedFrameSlots: true }, port, dma, clock, this.tiers);
    } else {
      this.threadDma = null;
      this.dp = new DataPath(init.dataPath, port, new MemcpyDma(), clock, this.tiers);
    }
    this.burst = init.dataPath.burst;
    this.notificationRoom = NOTIFICATIONS_PER_BURST * this.burst;
    if (init.contextEntries < this.notificationRoom)
      throw new RangeError(
        `NIC core: a notification ring of ${init.contextEntries} entries cannot hold one burst's ${this.notificationRoom}`,
      );
    this.notifications = this.dp.addContext(init.contextEntries).notifications;
    Atomics.store(this.ctl, Ctl.tid, threadId());
  }

  /** The loop; returns after a Stop command. */
  run(): void {
    const ctl = this.ctl;
    const dp = this.dp;
    const ringPort = this.ringPort;
    let idle = 0;
    let ownPortPollMs = OWN_PORT_POLL_MIN_MS;
    // Lockstep (a manual clock, the core's own test suites): the data path runs only inside a
    // host poll's sync, as the inline runner's poll() runs it. Commands are still taken (a Stop
    // must be seen), but a request that arrives between polls (an append, then a Close from the
    // same application turn) is not transmitted on its own before the next one is applied.
    const lockstep = this.init.clock.manual !== null;
    for (;;) {
      this.counters.rounds++;
      const sync = Atomics.load(ctl, Ctl.syncReq);
      const runDataPath = !lockstep || sync !== Atomics.load(ctl, Ctl.syncAck);
      if (Atomics.load(ctl, Ctl.statsReq) !== this.statsServed) this.serveStats();
      let work = this.takeCommands();
      if (this.stopping) break;
      // Back-pressure from the host: no new work while a burst could not be handed over (frames
      // to transmit, or notifications, which must never be dropped for want of ring space).
      const txBlocked =
        (ringPort !== null && ringPort.txFree < TX_ROOM_BURSTS * this.burst) ||
        this.notifications.free < this.notificationRoom;
      // Segments of held flows wait in the data path's store, which must never drop one: no
      // burst is received while it lacks room for one (the host's ExceptionsHandled frees it).
      const holdFull = dp.hold.flows !== 0 && dp.hold.room < this.burst;
      const rxBlocked = txBlocked || holdFull;
      if (txBlocked) this.counters.txBlocked++;
      else if (runDataPath) {
        if (holdFull) this.counters.holdFull++;
        else work += dp.pollRx();
        work += dp.pollTx();
      }
      work += this.publish();
      const waiting = dp.qm.waiting;
      Atomics.store(ctl, Ctl.qmWaiting, waiting);
      if (waiting > 0) this.qmNextDue[0] = dp.qm.nextDueNs();
      if (work > 0) {
        this.hostBell.ring();
        idle = 0;
        ownPortPollMs = OWN_PORT_POLL_MIN_MS;
        continue;
      }
      // An idle round that began after the host's lockstep request: everything the host
      // published before it has been handled.
      if (sync !== Atomics.load(ctl, Ctl.syncAck)) {
        Atomics.store(ctl, Ctl.syncAck, sync);
        Atomics.notify(ctl, Ctl.syncAck);
      }
      if (++idle < this.init.spinRounds) continue;
      const seq = this.bell.announce();
      if (
        this.commands.size > 0 ||
        (!rxBlocked && ringPort !== null && ringPort.rxPending > 0) ||
        Atomics.load(ctl, Ctl.syncReq) !== sync ||
        Atomics.load(ctl, Ctl.statsReq) !== this.statsServed
      ) {
        this.bell.cancel();
        continue;
      }
      this.counters.sleeps++;
      let timeout = SLEEP_IDLE_MS;
      if (ringPort === null) {
        timeout = ownPortPollMs;
        ownPortPollMs = Math.min(2 * ownPortPollMs, OWN_PORT_POLL_MAX_MS);
      }
      if (dp.qm.waiting > 0 && this.init.clock.manual === null) timeout = Math.min(timeout, SLEEP_PACING_MS);
      this.bell.sleep(seq, timeout);
      idle = 0;
    }
    this.publish();
    this.serveStats();
    this.hostBell.ring();
  }

  /** Applies the host's commands in order; returns how many. */
  private takeCommands(): number {
    const q = this.commands;
    const d = q.data;
    const dp = this.dp;
    let n = 0;
    while (n < COMMANDS_PER_ROUND) {
      const w = q.peek();
      if (w < 0) break;
      const kind = d[w]!;
      const flowId = d[w + 1]!;
      const a = d[w + 2]!;
      const b = d[w + 3]!;
      q.consume();
      n++;
      if (kind < NicCommand.InstallFlow) {
        dp.applyRequest(kind as Request, flowId, a);
        continue;
      }
      switch (kind) {
        case NicCommand.InstallFlow: {
          const id = dp.tables.identity.at(flowId);
          const rx = this.ringView(a);
          const tx = this.ringView(b);
          if (!dp.installFlow(flowId, id.localIp, id.remoteIp, id.localPort, id.remotePort, rx, tx)) {
            this.counters.installRefused++;
            break;
          }
          this.counters.installs++;
          // Per-flow order across the slow path (FlexTOE): the flow's segments this core sent
          // the host before the install (NoFlow exceptions) come back as Reinject commands after
          // this one, issued while the host handles them. A segment received before those would
          // overtake them (three such: duplicate ACKs, a spurious fast retransmit at the peer;
          // README, "The boundary"), so the flow's segments wait until the host has handled
          // every exception published so far. Nothing outstanding: nothing to wait for.
          if (this.exceptionsHandled !== this.exceptionsPublished)
            dp.holdFlow(flowId, this.exceptionsPublished);
          break;
        }
        case NicCommand.RemoveFlow:
          dp.removeFlow(flowId);
          break;
        case NicCommand.SetRate:
          this.rateWords[0] = a;
          this.rateWords[1] = b;
          dp.setRate(flowId, this.rate[0]!);
          break;
        case NicCommand.TxFrame: {
          const i = this.hostFrames.peek();
          if (i >= 0) {
            this.pending = this.hostFrames.slot(i, true);
            this.counters.controlFrames++;
            dp.sendControlFrame(this.copyPending);
            this.pending = null;
            this.hostFrames.consume();
          }
          break;
        }
        case NicCommand.Reinject: {
          const i = this.hostFrames.peek();
          if (i >= 0) {
            dp.reinject(this.hostFrames.slot(i, true));
            this.hostFrames.consume();
          }
          break;
        }
        case NicCommand.ExceptionsHandled:
          this.exceptionsHandled = a;
          dp.releaseHeldFlows(a);
          break;
        case NicCommand.Stop:
          this.stopping = true;
          dp.flushTx();
          this.counters.commands += n;
          return n;
        default:
          dp.applyRequest(kind as Request, flowId, a); // counted as a bad request there
      }
    }
    if (n > 0) {
      dp.flushTx();
      this.counters.commands += n;
    }
    return n;
  }

  /** A host ring by region id; regions the host created after start arrive on the region port. */
  private ringView(id: number): Uint8Array {
    let v = this.ringViews.get(id);
    if (v !== undefined) return v;
    // The host posts a region before the command that names it: it is in the port's queue.
    for (;;) {
      const r = this.tiers.region(id);
      if (r !== undefined) {
        v = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
        this.ringViews.set(id, v);
        this.threadDma?.register(v); // once, at install, not at a flow's first copy
        return v;
      }
      const m = this.regionPort === null ? undefined : receiveMessageOnPort(this.regionPort);
      if (m === undefined) throw new Error(`NIC core ${this.init.index}: unknown host region ${id}`);
      this.tiers.adopt(m.message as RegionMessage);
    }
  }

  /** Exceptions and flow events to the host; returns items handed over. */
  private publish(): number {
    const dp = this.dp;
    let n = 0;
    const ex = dp.exceptions;
    while (ex.length > 0) {
      const e = ex.shift()!;
      if (this.exceptions.push(e.frame.data, e.frame.length, e.reason)) {
        this.counters.exceptionsToHost++;
        this.exceptionsPublished = (this.exceptionsPublished + 1) | 0;
      } else this.counters.exceptionRingFull++;
      dp.releaseException(e.frame);
      n++;
    }
    const ev = dp.flowEvents;
    if (ev.length > 0) {
      const ring = this.events;
      const d = ring.data;
      // Each event carries how many notifications were published before it: the host applies an
      // event only after handing those to the application (its last bytes before its onClose).
      const before = this.notifications.counters.pushed;
      let i = 0;
      for (; i < ev.length; i += 2) {
        const w = ring.reserve();
        if (w < 0) break; // the host is behind: keep the rest (a FlowRemoved must not be lost)
        d[w] = ev[i]!;
        d[w + 1] = ev[i + 1]!;
        d[w + 2] = before;
        d[w + 3] = 0;
      }
      ring.commit();
      this.counters.flowEvents += i >> 1;
      n += i >> 1;
      if (i >= ev.length) ev.length = 0;
      else ev.splice(0, i);
    }
    return n;
  }

  /** Writes the counters as JSON into the stats area and acknowledges the request. */
  private serveStats(): void {
    const req = Atomics.load(this.ctl, Ctl.statsReq);
    const dataPath = this.dp.stats();
    const preDropped = this.ringPort?.preDropped;
    if (preDropped !== undefined)
      // Frames the pre-processing replicas refused were received and pre-processed by this core's
      // pipeline: count them where the inline pre-processing stage would have.
      for (let e = 1; e < preDropped.length; e++) {
        const n = preDropped[e]!;
        if (n === 0) continue;
        const name = wireErrorName(e);
        dataPath.pre.malformed[name] = (dataPath.pre.malformed[name] ?? 0) + n;
        dataPath.pre.rxFrames += n;
      }
    const snapshot = {
      dataPath,
      core: { ...this.counters, hold: { ...this.dp.hold.counters }, cpuMs: threadCpuMs() },
      tiers: this.tiers.accessesByTier(),
      port: this.dp.port.stats(),
      dma: this.threadDma === null ? null : { ...this.threadDma.counters },
    };
    const { written } = new TextEncoder().encodeInto(JSON.stringify(snapshot), this.statsBytes);
    Atomics.store(this.ctl, Ctl.statsLength, written);
    this.statsServed = req;
    Atomics.store(this.ctl, Ctl.statsAck, req);
    Atomics.notify(this.ctl, Ctl.statsAck);
  }
}
