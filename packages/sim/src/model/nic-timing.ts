/**
 * The timing half of "functional first, timing second". The core runs every work item for real
 * (correct TCP, byte for byte) and reports, through its `StageProbe` and the memory tiers, which
 * stage runs and which memory it touches. That gives each item a small program: its stage runs
 * (segments) with their compute cycles and memory waits. The program then executes on the
 * simulated cores, event by event in simulated time: a segment starts when its inputs are ready
 * and its core has a thread (SimCores.reserve), and its completion releases what depends on it.
 * Effects leave the NIC at their modelled times: frames reach the MAC when post-processing ends,
 * notifications reach the application when the context-queue stage's DMA write lands.
 *
 * Work item shapes (as the data path reports them) and what each stage waits for:
 *   RX:        pre -> protocol -> [dma] -> [ctxq ...] -> [post (ACK)]
 *   TX:        qm -> protocol -> [dma (payload from host)] -> post
 *   host work: fetch (context-queue stage) -> protocol -> [ctxq ...] -> [post]
 * protocol follows the root (pre, qm or fetch); dma follows protocol; a notification (ctxq)
 * waits for the payload it announces to be in host memory; post follows protocol (an ACK does
 * not wait for the payload DMA) but a data segment's post waits for its payload from the host.
 * Protocol runs of one flow are serialised by the per-flow lock (SimCores.reserve).
 *
 * In pollRx the data path pre-processes a whole burst before the protocol stage takes the items
 * (out of the reorder buffer, per flow group). A pre-processed item waits in `pending` until
 * the protocol stage takes it up; it is recognised by its flow id (the flow-table lookup the
 * pre stage made reports the id it found).
 */
import { DmaDirection, type MemoryRegion, type StageKind, type StageProbe } from '@flextoe/core';
import type { SimEventTarget } from '../engine/event-queue.js';
import type { SimEngine } from '../engine/sim-engine.js';
import { RunIo, SimCores, stageIndex } from './cores.js';
import { LatencyHistogram } from './histogram.js';
import type { AccessSink, MemoryModel } from './memory-model.js';
import type { DmaSink, PcieModel } from './pcie.js';
import type { NicModelSpec } from './spec.js';

/** What the timing model needs from the NIC around it. */
export interface TimingHost {
  /**
   * When the next received frame the data path pre-processes reached the NIC (ps), written to
   * `into[index]` (a time returned from a call V8 does not inline would be boxed).
   */
  nextArrival(into: Float64Array, index: number): void;
  /** The flow group of a flow (the same hash mod G the data path uses). */
  groupOf(flowId: number): number;
  /** Host work not fetched by the context-queue stage's poll crosses PCIe first (ps), else 0. */
  hostWorkDelayPs(): number;
  /**
   * Notifications just written to the context queues: hold them until they are ready; returns
   * the first one's number (`heldCount` says how many).
   */
  holdNotifications(): number;
  readonly heldCount: number;
  /** Notifications `first..first+count-1` reach the application at `times[index]` (ps). */
  notificationsReady(first: number, count: number, times: Float64Array, index: number): void;
  /** A frame was just built: returns its number in egress order. */
  frameBuilt(): number;
  /** Frame `seq` is ready for the MAC at `readyPs`. */
  frameReady(seq: number, readyPs: number): void;
  /** A receive or transmit item finished: the NIC may admit or send more. */
  itemFinished(kind: number): void;
}

const PRE = stageIndex('pre');
const PROTOCOL = stageIndex('protocol');
const POST = stageIndex('post');
const DMA = stageIndex('dma');
const CTXQ = stageIndex('ctxq');
const QM = stageIndex('qm');

/** Item kinds (latency histograms). */
export const ItemKind = { Rx: 0, Tx: 1, Host: 2 } as const;
export const ITEM_KIND_NAMES = ['rx', 'tx', 'host'] as const;

// Segment roles in an item's program.
const ROOT = 0;
const PROTO = 1;
const COPY = 2;
const NOTE = 3;
const BUILD = 4;

// Segment states.
const NEW = 0;
const RUNNING = 1;
const DONE = 2;

// Event kinds.
const EV_ARRIVE = 1;
const EV_DONE = 2;
const EV_FINISH = 3;

// Strides of the item and segment records (powers of two: the index is a shift).
const I_KIND = 0;
const I_FIRST = 1;
const I_LAST = 2;
const I_SEGS = 3;
const I_DONE = 4;
const I_HAS_PROTO = 5;
const I_COPIES = 6;
const I_COPIES_DONE = 7;
const I_TO_HOST = 8;
const I_FROM_HOST = 9;
const I_FLOW = 10;
const I_LAST_CORE = 11;
const I_LAST_STAGE = 12;
const I_SCAN = 13;
const II = 16;
const IF_ARRIVAL = 0;
const IF_ROOT_END = 1;
const IF_PROTO_END = 2;
const IF_TO_DONE = 3;
const IF_FROM_DONE = 4;
const IF_END = 5;
const IF_FINISH_AT = 6;
const IF = 8;
const S_ITEM = 0;
const S_NEXT = 1;
const S_STAGE = 2;
const S_ROLE = 3;
const S_STATE = 4;
const S_CORE = 5;
const S_FLOW = 6;
const S_A = 7;
const S_B = 8;
const SI = 16;
const SF_COMPUTE = 0;
const SF_CRIT_READ = 1;
const SF_CRIT_WRITE = 2;
const SF_OTHER = 3;
const SF_END = 4;
const SF = 8;

/** Bytes of one context-queue notification the NIC writes to host memory. */
const NOTIFICATION_BYTES = 16;

/** The stage index of a probe report (a switch on interned strings: no property lookup). */
function stageOf(stage: StageKind): number {
  switch (stage) {
    case 'pre':
      return PRE;
    case 'protocol':
      return PROTOCOL;
    case 'post':
      return POST;
    case 'dma':
      return DMA;
    case 'ctxq':
      return CTXQ;
    case 'qm':
      return QM;
    default:
      return stageIndex(stage);
  }
}

/** Growable structure-of-arrays pool with a free list. */
class Pool {
  size: number;
  private freeList: Int32Array;
  private freeTop: number;

  constructor(
    initial: number,
    private readonly grow: (n: number) => void,
  ) {
    this.size = initial;
    this.freeList = new Int32Array(initial);
    for (let i = 0; i < initial; i++) this.freeList[i] = initial - 1 - i;
    this.freeTop = initial;
  }

  alloc(): number {
    if (this.freeTop === 0) {
      const n = this.size * 2;
      this.grow(n);
      const f = new Int32Array(n);
      for (let i = 0; i < n - this.size; i++) f[i] = n - 1 - i;
      this.freeTop = n - this.size;
      this.freeList = f;
      this.size = n;
    }
    return this.freeList[--this.freeTop]!;
  }

  release(i: number): void {
    this.freeList[this.freeTop++] = i;
  }

  get inUse(): number {
    return this.size - this.freeTop;
  }
}

/**
 * A binary min-heap of (time, value) pairs on the time. Times go in through `reg` and the top is
 * read from the arrays: a double passed to or returned from a call V8 does not inline is boxed.
 */
class FinishHeap {
  t = new Float64Array(64);
  v = new Float64Array(64);
  /** `push` input: [time, value]. */
  readonly reg = new Float64Array(2);
  size = 0;

  push(): void {
    if (this.size === this.t.length) {
      this.t = grown(this.t, this.size * 2);
      this.v = grown(this.v, this.size * 2);
    }
    const t = this.t;
    const v = this.v;
    const time = this.reg[0]!;
    const value = this.reg[1]!;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      v[i] = v[p]!;
      i = p;
    }
    t[i] = time;
    v[i] = value;
  }

  pop(): void {
    const t = this.t;
    const v = this.v;
    const n = --this.size;
    if (n === 0) return;
    const time = t[n]!;
    const value = v[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && t[c + 1]! < t[c]!) c++;
      if (t[c]! >= time) break;
      t[i] = t[c]!;
      v[i] = v[c]!;
      i = c;
    }
    t[i] = time;
    v[i] = value;
  }
}

function grown<T extends Float64Array | Int32Array | Int8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export class NicTiming implements StageProbe, AccessSink, DmaSink, SimEventTarget {
  private readonly psc: number;
  private readonly stageCycles: Float64Array;
  /**
   * Intrinsic accesses, one tier index per access in the order they are charged, all stages in
   * one array: stage s's are `intrinsicTiers[intrinsicFrom[s] .. intrinsicFrom[s + 1])`.
   */
  private readonly intrinsicTiers: Int32Array;
  private readonly intrinsicFrom: Int32Array;
  private readonly handoff: Int32Array;
  private readonly syncCycles: number;
  private readonly switchCycles: number;
  /** Cluster of each core (the hand-off tier). */
  private readonly clusterOf: Int32Array;
  private flowFree = new Float64Array(1024);

  // Items.
  private readonly items: Pool;
  /**
   * An item's integer fields at `ii[it * II + k]` and its times at `ifl[it * IF + k]`, k in the
   * order of the comments below: one array of each kind rather than an array per field, so a
   * stage run touches two or three cache lines of an item, not twenty, and a method loads two
   * arrays' bounds, not twenty (measured in packages/sim/README.md, "Simulation speed").
   * Integers: kind, first segment, last segment, segments, segments done, has a protocol run,
   * copies, copies done, copies to host, copies from host, flow, last core, last stage, and the
   * first segment that may not have started (the ones before it all have).
   * Times: arrival, root end, protocol end, to-host copies done, from-host copies done, last
   * effect, and when the item's last terminal segment ends (it holds its slot until then) or 0.
   */
  private ii = new Int32Array(256 * II);
  private ifl = new Float64Array(256 * IF);

  // Segments.
  private readonly segs: Pool;
  /**
   * A segment's integer fields at `si[sg * SI + k]`: item, next segment, stage, role, state,
   * core, flow, and two role-specific words (a copy segment's DMA commands, index into the
   * command pool; a note segment's first notification and count; a build segment's frame).
   * Its times at `sf[sg * SF + k]`: compute (cycles), critical read and write waits, other
   * waits (ps), end (ps).
   */
  private si = new Int32Array(1024 * SI);
  private sf = new Float64Array(1024 * SF);

  // DMA commands recorded by copy segments.
  private readonly cmds: Pool;
  private cDir = new Int8Array(256);
  private cBytes = new Float64Array(256);
  private cNext = new Int32Array(256);

  // The item being built (functional side) and its open segment.
  private cur = -1;
  private seg = -1;
  private qmPending = false;
  private advancing = false;
  private readonly pending = new Int32Array(256);
  /** Per item kind: items whose last segment ends later, by that time, with their latency. */
  private readonly finishing = [new FinishHeap(), new FinishHeap(), new FinishHeap()];
  private readonly finishWakePs = new Float64Array(3).fill(Infinity);
  private pendingCount = 0;

  // Statistics.
  readonly latency = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
  readonly itemCount = new Float64Array(3);
  /** Items launched and not finished, per kind. */
  readonly inFlight = new Int32Array(3);
  readonly maxInFlight = new Int32Array(3);
  /** Accesses reported outside any work item (the host control plane reading NIC state). */
  controlAccesses = 0;
  /** Pre-processed items whose protocol step never came (reorder buffer full). */
  staleItems = 0;

  constructor(
    readonly spec: NicModelSpec,
    readonly cores: SimCores,
    readonly mem: MemoryModel,
    readonly pcie: PcieModel,
    private readonly engine: SimEngine,
    private readonly host: TimingHost,
  ) {
    this.psc = cores.psPerCycle;
    const kinds: StageKind[] = ['pre', 'protocol', 'post', 'dma', 'ctxq', 'qm', 'io'];
    this.stageCycles = Float64Array.from(kinds.map((k) => spec.stages.cycles[k] ?? 0));
    const tiers: number[] = [];
    this.intrinsicFrom = new Int32Array(kinds.length + 1);
    kinds.forEach((k, s) => {
      this.intrinsicFrom[s] = tiers.length;
      for (const x of spec.stages.intrinsic[k] ?? []) {
        const t = mem.tierIndex(x.tier);
        for (let c = 0; c < x.count; c++) tiers.push(t);
      }
    });
    this.intrinsicFrom[kinds.length] = tiers.length;
    this.intrinsicTiers = Int32Array.from(tiers);
    this.handoff = Int32Array.of(
      mem.tierIndex(spec.handoff.sameCore),
      mem.tierIndex(spec.handoff.sameCluster),
      mem.tierIndex(spec.handoff.otherCluster),
    );
    this.clusterOf = Int32Array.from(cores.cores, (c) => c.cluster);
    this.syncCycles = spec.cores.syncAccessCycles;
    this.switchCycles = spec.cores.switchCycles;
    this.items = new Pool(256, (n) => this.growItems(n));
    this.segs = new Pool(1024, (n) => this.growSegs(n));
    this.cmds = new Pool(256, (n) => {
      this.cDir = grown(this.cDir, n);
      this.cBytes = grown(this.cBytes, n);
      this.cNext = grown(this.cNext, n);
    });
  }

  // ---------------------------------------------------------------- StageProbe (functional)

  enter(stage: StageKind, flowId: number): void {
    const s = stageOf(stage);
    this.closeSegment();
    if (s === PRE) {
      if (this.cur >= 0) this.park();
      const it = this.openItem(ItemKind.Rx);
      this.host.nextArrival(this.ifl, it * IF + IF_ARRIVAL);
      this.openSegment(PRE, ROOT, -1);
      return;
    }
    if (s === PROTOCOL) {
      if (this.cur >= 0 && this.ii[this.cur * II + I_LAST_STAGE] === PRE) this.park();
      if (this.qmPending) {
        this.qmPending = false;
        const it = this.openItem(ItemKind.Tx);
        this.ifl[it * IF + IF_ARRIVAL] = this.engine.nowPs;
        this.openSegment(QM, ROOT, -1);
        this.closeSegment();
      } else if (this.cur < 0 && !this.resume(flowId)) this.openHostItem();
      if (flowId >= 0) this.ii[this.cur * II + I_FLOW] = flowId;
      this.openSegment(PROTOCOL, PROTO, this.ii[this.cur * II + I_FLOW]!);
      this.ii[this.cur * II + I_HAS_PROTO] = 1;
      return;
    }
    if (this.cur < 0) {
      if (s === QM) {
        // The data path reports 'qm' only for a flow the queue manager handed out, right
        // before its protocol stage: the item is built there (an idle poll is no work item).
        this.qmPending = true;
        return;
      }
      this.openHostItem();
    }
    if (flowId >= 0) this.ii[this.cur * II + I_FLOW] = flowId;
    this.openSegment(s, s === DMA ? COPY : s === CTXQ ? NOTE : s === POST ? BUILD : ROOT, -1);
  }

  itemDone(): void {
    // A 'qm' not followed by 'protocol' (the data path no longer reports idle polls) is no item.
    this.qmPending = false;
    const it = this.cur;
    if (it < 0) return;
    this.cur = -1;
    this.closeSegment();
    this.launch(it);
  }

  // ---------------------------------------------------------------- accesses and DMA

  onAccess(region: MemoryRegion, bytes: number, write: boolean, key: number): void {
    const sg = this.seg;
    if (sg < 0) {
      this.controlAccesses++;
      return;
    }
    const r = this.mem.access(region, bytes, write, key, this.si[sg * SI + S_CORE]!);
    const stage = this.si[sg * SI + S_STAGE]!;
    if (stage === PRE && this.mem.isFlowTable(region)) this.ii[this.cur * II + I_FLOW] = key;
    if (r.flowLocked && stage === PROTOCOL) {
      this.sf[sg * SF + SF_CRIT_READ]! += r.cycles * this.psc;
      this.sf[sg * SF + SF_CRIT_WRITE]! += r.writeCycles * this.psc;
      if (r.cycles > this.syncCycles) this.sf[sg * SF + SF_COMPUTE]! += this.switchCycles;
    } else this.charge(sg, r.cycles);
  }

  onDma(direction: DmaDirection, bytes: number): void {
    const sg = this.seg;
    if (sg < 0 || this.si[sg * SI + S_ROLE] !== COPY) return;
    const c = this.cmds.alloc();
    this.cDir[c] = direction;
    this.cBytes[c] = bytes;
    this.cNext[c] = this.si[sg * SI + S_A]!;
    this.si[sg * SI + S_A] = c;
    const it = this.cur;
    if (direction === DmaDirection.ToHost) this.ii[it * II + I_TO_HOST] = 1;
    else this.ii[it * II + I_FROM_HOST] = 1;
  }

  /** Launches pre-processed items still waiting for their protocol step (a new burst starts). */
  dropStale(): void {
    if (this.cur >= 0) {
      // A frame the reorder buffer refused: its pre-processing still happened.
      this.closeSegment();
      this.park();
    }
    while (this.pendingCount > 0) {
      const it = this.pending[--this.pendingCount]!;
      this.staleItems++;
      this.launch(it);
    }
  }

  /** Per-flow lock times must cover every flow id the data path uses. */
  ensureFlows(maxFlows: number): void {
    if (this.flowFree.length < maxFlows) this.flowFree = grown(this.flowFree, maxFlows);
  }

  resetCounters(): void {
    this.settle();
    for (const h of this.latency) h.reset();
    this.itemCount.fill(0);
    this.controlAccesses = 0;
    this.staleItems = 0;
    for (let k = 0; k < 3; k++) this.maxInFlight[k] = this.inFlight[k]!;
  }

  // ---------------------------------------------------------------- building programs

  private openItem(kind: number): number {
    const it = this.items.alloc();
    this.ii[it * II + I_KIND] = kind;
    this.ii[it * II + I_FIRST] = -1;
    this.ii[it * II + I_SCAN] = -1;
    this.ii[it * II + I_LAST] = -1;
    this.ii[it * II + I_SEGS] = 0;
    this.ii[it * II + I_DONE] = 0;
    this.ifl[it * IF + IF_ROOT_END] = 0;
    this.ifl[it * IF + IF_PROTO_END] = 0;
    this.ii[it * II + I_HAS_PROTO] = 0;
    this.ii[it * II + I_COPIES] = 0;
    this.ii[it * II + I_COPIES_DONE] = 0;
    this.ii[it * II + I_TO_HOST] = 0;
    this.ii[it * II + I_FROM_HOST] = 0;
    this.ifl[it * IF + IF_TO_DONE] = 0;
    this.ifl[it * IF + IF_FROM_DONE] = 0;
    this.ifl[it * IF + IF_END] = 0;
    this.ii[it * II + I_FLOW] = -1;
    this.ii[it * II + I_LAST_CORE] = -1;
    this.ii[it * II + I_LAST_STAGE] = -1;
    this.ifl[it * IF + IF_FINISH_AT] = 0;
    this.cur = it;
    return it;
  }

  /**
   * Work from the host (an application request, a control-plane request, a reinjected frame):
   * the NIC's context-queue stage takes the entry first. Entries the context-queue poll fetched
   * already crossed PCIe; others (the control plane's) cross it now.
   */
  private openHostItem(): void {
    const it = this.openItem(ItemKind.Host);
    this.ifl[it * IF + IF_ARRIVAL] = this.engine.nowPs + this.host.hostWorkDelayPs();
    this.openSegment(CTXQ, ROOT, -1);
    this.closeSegment();
  }

  private park(): void {
    if (this.pendingCount === this.pending.length) this.dropStale();
    this.pending[this.pendingCount++] = this.cur;
    this.cur = -1;
  }

  /** Takes up the oldest pre-processed item of `flowId`; false when there is none. */
  private resume(flowId: number): boolean {
    const n = this.pendingCount;
    for (let i = 0; i < n; i++) {
      const it = this.pending[i]!;
      if (this.ii[it * II + I_FLOW] !== flowId) continue;
      this.pending.copyWithin(i, i + 1, n);
      this.pendingCount--;
      this.cur = it;
      return true;
    }
    return false;
  }

  private openSegment(stage: number, role: number, flow: number): void {
    const it = this.cur;
    const sg = this.segs.alloc();
    this.si[sg * SI + S_ITEM] = it;
    this.si[sg * SI + S_NEXT] = -1;
    this.si[sg * SI + S_STAGE] = stage;
    this.si[sg * SI + S_ROLE] = role;
    this.si[sg * SI + S_STATE] = NEW;
    this.si[sg * SI + S_CORE] = this.cores.coreFor(stage, stage === PROTOCOL ? this.host.groupOf(flow) : 0);
    this.si[sg * SI + S_FLOW] = flow;
    this.sf[sg * SF + SF_COMPUTE] = this.stageCycles[stage]!;
    this.sf[sg * SF + SF_CRIT_READ] = 0;
    this.sf[sg * SF + SF_CRIT_WRITE] = 0;
    this.sf[sg * SF + SF_OTHER] = 0;
    this.sf[sg * SF + SF_END] = 0;
    this.si[sg * SI + S_A] = -1;
    this.si[sg * SI + S_B] = 0;
    if (this.ii[it * II + I_LAST]! >= 0) this.si[this.ii[it * II + I_LAST]! * SI + S_NEXT] = sg;
    else this.ii[it * II + I_FIRST] = sg;
    if (this.ii[it * II + I_SCAN] === -1) this.ii[it * II + I_SCAN] = sg;
    this.ii[it * II + I_LAST] = sg;
    this.ii[it * II + I_SEGS]!++;
    if (role === COPY) this.ii[it * II + I_COPIES]!++;
    this.seg = sg;
  }

  /** A memory wait outside the flow lock: on an NFP thread, a switch plus a hidden wait. */
  private charge(sg: number, cycles: number): void {
    if (cycles <= this.syncCycles) this.sf[sg * SF + SF_COMPUTE]! += cycles;
    else {
      this.sf[sg * SF + SF_COMPUTE]! += this.switchCycles;
      this.sf[sg * SF + SF_OTHER]! += cycles * this.psc;
    }
  }

  private closeSegment(): void {
    const sg = this.seg;
    if (sg < 0) return;
    this.seg = -1;
    const it = this.si[sg * SI + S_ITEM]!;
    const stage = this.si[sg * SI + S_STAGE]!;
    const core = this.si[sg * SI + S_CORE]!;
    // Intrinsic accesses (packet buffer, work rings) and the hand-off from the previous stage.
    const tiers = this.intrinsicTiers;
    const to = this.intrinsicFrom[stage + 1]!;
    for (let i = this.intrinsicFrom[stage]!; i < to; i++) this.charge(sg, this.mem.intrinsic(tiers[i]!, 64));
    const prev = this.ii[it * II + I_LAST_CORE]!;
    if (prev >= 0) {
      const where = prev === core ? 0 : this.clusterOf[prev] === this.clusterOf[core] ? 1 : 2;
      this.charge(sg, this.mem.intrinsic(this.handoff[where]!, 64));
    }
    this.ii[it * II + I_LAST_CORE] = core;
    this.ii[it * II + I_LAST_STAGE] = stage;
    const role = this.si[sg * SI + S_ROLE]!;
    if (role === NOTE) {
      this.si[sg * SI + S_A] = this.host.holdNotifications();
      this.si[sg * SI + S_B] = this.host.heldCount;
    } else if (role === BUILD) this.si[sg * SI + S_A] = this.host.frameBuilt();
  }

  // ---------------------------------------------------------------- executing programs

  /** The program is complete: start what can start. */
  private launch(it: number): void {
    const k = this.ii[it * II + I_KIND]!;
    this.inFlightNow(k);
    this.inFlight[k]!++;
    if (this.inFlight[k]! > this.maxInFlight[k]!) this.maxInFlight[k] = this.inFlight[k]!;
    this.advance(it);
  }

  /** Starts (or schedules) every segment of `it` whose inputs are ready. */
  private advance(it: number): void {
    const now = this.engine.nowPs;
    this.advancing = true;
    // Segments start roughly in program order: the walk begins after the leading ones that
    // already started, and moves that mark on while it finds more.
    let leading = true;
    for (let sg = this.ii[it * II + I_SCAN]!; sg >= 0; sg = this.si[sg * SI + S_NEXT]!) {
      if (this.si[sg * SI + S_STATE] !== NEW) {
        if (leading) this.ii[it * II + I_SCAN] = this.si[sg * SI + S_NEXT]!;
        continue;
      }
      // Every segment before this one has started: nothing but the item waits for its end.
      const first = leading;
      leading = false;
      let at: number;
      switch (this.si[sg * SI + S_ROLE]) {
        case ROOT:
          at = this.ifl[it * IF + IF_ARRIVAL]!;
          break;
        case PROTO:
          if (this.ii[it * II + I_FIRST] !== sg && this.ifl[it * IF + IF_ROOT_END] === 0) continue;
          at =
            this.ii[it * II + I_FIRST] === sg
              ? this.ifl[it * IF + IF_ARRIVAL]!
              : this.ifl[it * IF + IF_ROOT_END]!;
          break;
        case COPY:
          if (this.ii[it * II + I_HAS_PROTO] === 1 && this.ifl[it * IF + IF_PROTO_END] === 0) continue;
          at =
            this.ifl[it * IF + IF_PROTO_END]! ||
            this.ifl[it * IF + IF_ROOT_END]! ||
            this.ifl[it * IF + IF_ARRIVAL]!;
          break;
        case NOTE:
        case BUILD: {
          if (this.ii[it * II + I_HAS_PROTO] === 1 && this.ifl[it * IF + IF_PROTO_END] === 0) continue;
          const waitsForCopy =
            this.si[sg * SI + S_ROLE] === NOTE
              ? this.ii[it * II + I_TO_HOST] === 1
              : this.ii[it * II + I_FROM_HOST] === 1;
          if (waitsForCopy && this.ii[it * II + I_COPIES_DONE]! < this.ii[it * II + I_COPIES]!) continue;
          at =
            this.ifl[it * IF + IF_PROTO_END]! ||
            this.ifl[it * IF + IF_ROOT_END]! ||
            this.ifl[it * IF + IF_ARRIVAL]!;
          if (waitsForCopy) {
            const d =
              this.si[sg * SI + S_ROLE] === NOTE
                ? this.ifl[it * IF + IF_TO_DONE]!
                : this.ifl[it * IF + IF_FROM_DONE]!;
            if (d > at) at = d;
          }
          break;
        }
        default:
          continue;
      }
      this.si[sg * SI + S_STATE] = RUNNING;
      if (at > now) this.engine.at(at, this, EV_ARRIVE, sg);
      else this.start(sg, first && this.si[sg * SI + S_NEXT] === -1);
    }
    this.advancing = false;
    if (this.ii[it * II + I_DONE] === this.ii[it * II + I_SEGS]) this.complete(it);
  }

  /**
   * Segment `sg` starts now (its inputs are ready). The time is read here, not passed: a double
   * passed to a call V8 does not inline is boxed.
   */
  private start(sg: number, last = false): void {
    const at = this.engine.nowPs;
    const stage = this.si[sg * SI + S_STAGE]!;
    const flow = this.si[sg * SI + S_FLOW]!;
    const locked = stage === PROTOCOL && flow >= 0;
    if (locked && flow >= this.flowFree.length) this.ensureFlows(flow + 1);
    const io = this.cores.io;
    io[RunIo.Arrival] = at;
    io[RunIo.LockFree] = locked ? this.flowFree[flow]! : 0;
    io[RunIo.CritRead] = this.sf[sg * SF + SF_CRIT_READ]!;
    io[RunIo.Compute] = this.sf[sg * SF + SF_COMPUTE]!;
    io[RunIo.CritWrite] = this.sf[sg * SF + SF_CRIT_WRITE]!;
    io[RunIo.OtherWait] = this.sf[sg * SF + SF_OTHER]!;
    this.cores.reserveRun(stage, this.si[sg * SI + S_CORE]!);
    const endPs = io[RunIo.End]!;
    if (locked) this.flowFree[flow] = io[RunIo.LockRelease]!;
    this.sf[sg * SF + SF_END] = endPs;
    const role = this.si[sg * SI + S_ROLE]!;
    // Nothing waits for a notification or a built frame inside the item: their effects are
    // timed now (the MAC and the context queue keep their own order); the others release
    // dependants when they end.
    if (role === NOTE || role === BUILD) this.segmentDone(sg);
    else if (last && role === PROTO) {
      // The item's last protocol run, every other segment started: nothing waits for its end
      // but the item's own completion, which holds its slot until then (`finishAt`); no event.
      if (endPs > this.ifl[this.si[sg * SI + S_ITEM]! * IF + IF_FINISH_AT]!)
        this.ifl[this.si[sg * SI + S_ITEM]! * IF + IF_FINISH_AT] = endPs;
      this.segmentDone(sg);
    } else this.engine.at(endPs, this, EV_DONE, sg);
  }

  onSimEvent(kind: number, arg: number): void {
    if (kind === EV_FINISH) {
      this.finishWakePs[arg] = Infinity;
      this.inFlightNow(arg);
      this.host.itemFinished(arg);
    } else if (kind === EV_ARRIVE) this.start(arg);
    else if (kind === EV_DONE) this.segmentDone(arg);
  }

  private segmentDone(sg: number): void {
    const it = this.si[sg * SI + S_ITEM]!;
    const end = this.sf[sg * SF + SF_END]!;
    this.si[sg * SI + S_STATE] = DONE;
    this.ii[it * II + I_DONE]!++;
    let last = end;
    switch (this.si[sg * SI + S_ROLE]) {
      case ROOT:
        this.ifl[it * IF + IF_ROOT_END] = end;
        break;
      case PROTO:
        this.ifl[it * IF + IF_PROTO_END] = end;
        break;
      case COPY: {
        const reg = this.pcie.timeReg;
        for (let c = this.si[sg * SI + S_A]!; c >= 0;) {
          const dir = this.cDir[c]! as DmaDirection;
          reg[0] = end;
          this.pcie.issueTimed(dir, this.cBytes[c]!);
          const done = reg[0]!;
          if (dir === DmaDirection.ToHost) {
            if (done > this.ifl[it * IF + IF_TO_DONE]!) this.ifl[it * IF + IF_TO_DONE] = done;
          } else if (done > this.ifl[it * IF + IF_FROM_DONE]!) this.ifl[it * IF + IF_FROM_DONE] = done;
          if (done > last) last = done;
          const next = this.cNext[c]!;
          this.cmds.release(c);
          c = next;
        }
        this.ii[it * II + I_COPIES_DONE]!++;
        break;
      }
      case NOTE: {
        const reg = this.pcie.timeReg;
        reg[0] = end;
        this.pcie.issueTimed(DmaDirection.ToHost, NOTIFICATION_BYTES);
        this.host.notificationsReady(this.si[sg * SI + S_A]!, this.si[sg * SI + S_B]!, reg, 0);
        const seen = reg[0]!;
        if (seen > last) last = seen;
        break;
      }
      case BUILD:
        this.host.frameReady(this.si[sg * SI + S_A]!, end);
        break;
    }
    if (last > this.ifl[it * IF + IF_END]!) this.ifl[it * IF + IF_END] = last;
    // advance() is walking this item's segments: it completes the item when done.
    if (this.advancing) return;
    if (this.ii[it * II + I_DONE] === this.ii[it * II + I_SEGS]) this.complete(it);
    else this.advance(it);
  }

  /**
   * Every segment has run (or, for the leaves, been timed): the item leaves the pipeline. Its
   * latency counts to its last effect (a DMA landing, a frame at the MAC); its in-flight slot
   * (packet buffer, queue-manager credit) frees now, when the last stage lets go of it.
   */
  private complete(it: number): void {
    this.finish(it);
  }

  private finish(it: number): void {
    const k = this.ii[it * II + I_KIND]!;
    const at = this.ifl[it * IF + IF_FINISH_AT]!;
    const latencyNs = (this.ifl[it * IF + IF_END]! - this.ifl[it * IF + IF_ARRIVAL]!) / 1000;
    this.freeItem(it);
    if (at > this.engine.nowPs) {
      // It finishes when its last segment ends (no event): counted then (`inFlightNow`).
      const h = this.finishing[k]!;
      h.reg[0] = at;
      h.reg[1] = latencyNs;
      h.push();
      return;
    }
    this.itemCount[k]!++;
    this.latency[k]!.record(latencyNs);
    this.inFlight[k]!--;
    this.host.itemFinished(k);
  }

  /**
   * Items of kind `k` in flight now: items whose last segment ended by now are counted as
   * finished first (exactly when an event at their end would have counted them: every event
   * of an instant runs before the NIC's poll round).
   */
  inFlightNow(k: number): number {
    const h = this.finishing[k]!;
    if (h.size === 0 || h.t[0]! > this.engine.nowPs) return this.inFlight[k]!;
    const now = this.engine.nowPs;
    while (h.size > 0 && h.t[0]! <= now) {
      this.itemCount[k]!++;
      this.latency[k]!.record(h.v[0]!);
      this.inFlight[k]!--;
      h.pop();
    }
    return this.inFlight[k]!;
  }

  /** Counts every item finished by now (before statistics are read or reset). */
  settle(): void {
    for (let k = 0; k < 3; k++) this.inFlightNow(k);
  }

  /**
   * The NIC is blocked on kind `k`'s slots: an event tells it (itemFinished) when the first
   * finishing item frees its slot, as the item's last event did.
   */
  wakeOnFinish(k: number): void {
    const h = this.finishing[k]!;
    if (h.size === 0 || h.t[0]! >= this.finishWakePs[k]!) return;
    this.finishWakePs[k] = h.t[0]!;
    this.engine.at(h.t[0]!, this, EV_FINISH, k);
  }

  private freeItem(it: number): void {
    for (let sg = this.ii[it * II + I_FIRST]!; sg >= 0;) {
      const next = this.si[sg * SI + S_NEXT]!;
      this.segs.release(sg);
      sg = next;
    }
    this.items.release(it);
  }

  private growItems(n: number): void {
    this.ii = grown(this.ii, n * II);
    this.ifl = grown(this.ifl, n * IF);
  }

  private growSegs(n: number): void {
    this.si = grown(this.si, n * SI);
    this.sf = grown(this.sf, n * SF);
  }
}
