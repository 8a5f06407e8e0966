/**
 * The FlexTOE data path on one thread: every stage instance, and the ONE place where stage
 * results become side effects (DMA copies, frames to the wire, context-queue notifications,
 * exceptions to the control plane, congestion-control counters). The loop reads as the list
 * of stages: pre-processing -> sequencing/reorder -> protocol -> post-processing -> DMA ->
 * context queues, and queue manager -> protocol -> post-processing -> DMA -> egress.
 *
 * Work items carry per-flow-group sequence numbers and pass a reorder buffer before the
 * protocol stage, and transmitted frames pass an egress re-sequencer, exactly as when the
 * replicated stages run in parallel on a backend's cores; here they simply arrive in order.
 * Egress: the protocol stage numbers every segment it asks for (per flow group); post-processing
 * puts the built frame in a transmit slot and hands (number, slot) to the group's egress reorder
 * buffer; a segment dropped on the way (no transmit slot, DMA refused) still consumes its number
 * with `skip` (FlexTOE: "a dropped packet still consumes its slot"). `flushTx` releases frames
 * in protocol order to the port.
 *
 * User modules (`installModule`, pipeline/hooks.ts) run at three points: ingress before
 * pre-processing, after the protocol stage, and egress before the port. With none installed the
 * cost is one null check per frame at ingress and after protocol, and one per batch at egress.
 */
import type { Clock } from '../hw/clock.js';
import type { StageProbe } from '../hw/execution-units.js';
import { DmaDirection, type DmaEngine } from '../hw/dma-engine.js';
import type { MemoryRegion, MemoryTiers } from '../hw/memory-tiers.js';
import type { NicPort } from '../hw/nic-port.js';
import { PacketBuffer, PacketPool } from '../hw/packet-buffer.js';
import { FlowFlag, FlowStateTables, type BuffersRecord, type ProtocolRecord } from '../state/flow-records.js';
import { FlowTable } from '../state/flow-table.js';
import { ContextQueue, CONTEXT_ENTRY_WORDS, Notification, Request } from '../pipeline/context-queue.js';
import { dmaFromRing, dmaToRing } from '../pipeline/dma.js';
import { OooIntervals } from '../pipeline/ooo-intervals.js';
import {
  buildSegment,
  payloadOffset,
  PostprocessContext,
  updateCcCounters,
} from '../pipeline/postprocess.js';
import { preprocess, PreprocessContext, PreVerdict } from '../pipeline/preprocess.js';
import {
  protocolAckTimeout,
  protocolClose,
  protocolPersistProbe,
  protocolRetransmit,
  protocolRx,
  protocolRxConsumed,
  protocolTx,
  protocolTxAppended,
  type ProtocolConfig,
} from '../pipeline/protocol.js';
import { QueueManager } from '../pipeline/queue-manager.js';
import { ReorderBuffer, Sequencer } from '../pipeline/reorder-buffer.js';
import {
  controlPlaneReasonOf,
  HookChain,
  HookVerdict,
  SegmentObservation,
  type DataPathModule,
} from '../pipeline/hooks.js';
import { SlowPathReason } from '../pipeline/slow-path.js';
import { DataPathDrop, ProtocolAction as A, ProtocolResult, RxSummary } from '../pipeline/work-items.js';
import { copyFrame } from '../util/copy-frame.js';
import { isPayloadBuffer } from '../util/wasm-payload.js';
import { WIRE_ERROR_COUNT } from '../wire/drop-reason.js';
import { ParseFlag } from '../wire/frame.js';
import { TcpFlag } from '../wire/tcp.js';
import { DataPathCounters, type DataPathStats } from './counters.js';
import type { DataPathApi } from './data-path-api.js';
import { FlowHold } from './flow-hold.js';

export interface DataPathOptions {
  readonly localIp: number;
  readonly maxFlows: number;
  readonly flowGroups: number;
  readonly mss: number;
  readonly delayedAck: boolean;
  readonly oooIntervals: number;
  readonly burst: number;
  /** Frames the exception queue holds for the control plane before it drops (counted). */
  readonly exceptionQueueEntries: number;
  readonly contextQueueEntries: number;
  readonly txCredits: number;
  readonly parseFlags: number;
  /**
   * The burst's frame slots in a SharedArrayBuffer, for an engine that copies on other threads
   * (x86 DMA replicas read received payloads out of them and write transmitted ones in).
   */
  readonly sharedFrameSlots?: boolean;
}

/** A frame handed to the control plane, with the reason. */
export interface ExceptionEntry {
  readonly frame: PacketBuffer;
  readonly reason: SlowPathReason;
}

/** Host events from the data path the control plane must see (FIN in / FIN acked). */
export enum FlowEvent {
  FinReceived = 1,
  FinAcked = 2,
  /** The peer retransmitted its FIN (our ACK of it was lost). */
  FinRepeated = 3,
  /** `removeFlow` took effect: the flow's slot and host rings may be reused. */
  FlowRemoved = 4,
}

const WORK_POOL = 256;
/** Bytes before each frame in its packet buffer: puts the IPv4 header on a word boundary. */
const FRAME_ALIGN = 2;
/**
 * A data segment's frame may start 0..7 bytes further into its transmit slot: chosen per segment
 * so the payload's place in the frame has the same address modulo 8 as its bytes in the host TX
 * ring, which lets the DMA engine move them 8 bytes at a time (`copyBytesWide`) whatever the
 * ring position. With software checksums only even shifts are used: the payload sum needs an
 * even start (odd positions keep the plain frame and the engine's shifted word loop).
 */
const TX_SHIFTS = 8;
/** Where an established segment's payload starts (Ethernet + IPv4 + TCP, with or without timestamps). */
const PAYLOAD_AT_NO_TS = 54;
const PAYLOAD_AT_TS = 66;
/** Payloads from this long are DMA'd from a view that starts at them (`RxSummary.payloadView`). */
const DMA_VIEW_MIN_BYTES = 256;
/**
 * Bursts of segments the held-flow store takes (`FlowHold`): held flows are those in their first
 * host round trip, and a runner stops receiving while the store lacks room for a burst.
 */
const HOLD_BURSTS = 4;
/** Bytes-ready we report to the queue manager: the protocol stage decides the real amount. */
const QM_READY = 0x3fffffff;

export class DataPath implements DataPathApi {
  readonly tables: FlowStateTables;
  readonly flowTable: FlowTable;
  readonly ooo: OooIntervals;
  readonly qm: QueueManager;
  readonly counters: DataPathCounters;
  /** Checksums the port verifies on receive (its capabilities): nobody verifies them again. */
  readonly exceptionParseFlags: number;
  readonly contexts: ContextQueue[] = [];
  /** Host RX/TX rings per flow (host memory the DMA stage reaches). */
  readonly rxRings: (Uint8Array | null)[];
  readonly txRings: (Uint8Array | null)[];

  private readonly pre: PreprocessContext;
  private readonly post = new PostprocessContext();
  private readonly protoCfg: ProtocolConfig;
  private readonly res = new ProtocolResult();
  private readonly summaries: RxSummary[] = [];
  private readonly reorder: ReorderBuffer[] = [];
  private readonly ingressSeq: Sequencer;
  private readonly releaseOut = new Uint32Array(WORK_POOL);
  /**
   * Receive and transmit packet buffers, each set in one region (`stride` bytes apart): the DMA
   * engine sees two memories instead of one per buffer, and the checksum loops take their
   * words from one view (`rxWords`, `txWords`) at the buffer's offset. Each frame starts
   * FRAME_ALIGN bytes into its stride (Linux's NET_IP_ALIGN): after the 14-byte Ethernet header
   * the IPv4 header, the TCP header and the payload of an established segment start on 32-bit
   * word boundaries, so payload copies and checksums run on aligned words.
   */
  private readonly rxBufs: PacketBuffer[];
  private readonly txBufs: PacketBuffer[];
  /** The same transmit slots with the frame 0..7 bytes further in: [slot * TX_SHIFTS + shift]. */
  private readonly txBufsShifted: PacketBuffer[];
  /** The shifts the payload placement may use: 7 (any) with TX checksum offload, else 6 (even). */
  private readonly txShiftMask: number;
  /** Per transmit slot, the buffer its frame of this batch was built in (one of the above). */
  private readonly txBuilt: PacketBuffer[];
  /** Per flow, where its host TX ring starts in its ArrayBuffer (`byteOffset`, read once). */
  private readonly txRingBase: Int32Array;
  private readonly stride: number;
  /** The slots' byte offsets in their buffers (`rxMemory`/`txMemory` start there; 64-byte aligned). */
  private readonly rxOff: number;
  private readonly txOff: number;
  /**
   * Long RX payloads are DMA'd from a view that starts at them (`rxPayloadViews`), except when the
   * slots lie in the WebAssembly payload memory (copies by address from `rxMemory`: one engine view).
   */
  private readonly rxPayloadViewsOn: boolean;
  private readonly rxMemory: Uint8Array;
  private readonly txMemory: Uint8Array;
  private readonly rxWords: Int32Array;
  /** Per receive slot, views from the payload to the slot's end: [no timestamps, timestamps]. */
  private readonly rxPayloadViews: Uint8Array[] = [];
  private readonly txWords: Int32Array;
  /** Transmit slots filled in this batch (frames waiting in the egress reorder buffers). */
  private txCount = 0;
  private readonly egressSeq: Sequencer;
  private readonly egress: ReorderBuffer[] = [];
  /** Groups with frames in their egress buffer this batch, and the per-group flag for it. */
  private readonly egressDirty: Int32Array;
  private readonly egressIsDirty: Uint8Array;
  private egressDirtyCount = 0;
  /** Slots the egress reorder buffers released this batch, and the batch as handed to the port. */
  private readonly txReleased: Uint8Array;
  private readonly txOrder: PacketBuffer[];
  /** Control-plane frames (SYN, RST, ARP) bypass sequencing: they are not protocol-stage output. */
  private readonly controlBuf: PacketBuffer[];
  /** Frames in the batch that hold a queue-manager credit. */
  private txQmFrames = 0;
  private readonly exceptionPool: PacketPool;
  /** Newly installed flows whose segments wait for the host (`holdFlow`), and their frames. */
  readonly hold: FlowHold;
  /** The held frames a release hands back, to run. */
  private readonly heldOut: PacketBuffer[] = [];
  /** Frames for the control plane, FIFO. */
  readonly exceptions: ExceptionEntry[] = [];
  /** Flow events for the control plane: [event, flowId] pairs. */
  readonly flowEvents: number[] = [];
  private readonly reqScratch = new Uint32Array(CONTEXT_ENTRY_WORDS);
  /** Contexts with notifications reserved but not yet published, and a flag per context. */
  private unpublishedList = new Int32Array(4);
  private unpublishedCount = 0;
  private unpublished = new Uint8Array(4);
  /** Per context with unpublished notifications, the word offset of the last one written. */
  private lastNotification = new Int32Array(4);
  private readonly dmaDone = new Uint32Array(256);
  /** The engine's copies are done when `submit` returns (`DmaEngine.copiesAtSubmit`). */
  private readonly dmaCopiesAtSubmit: boolean;
  /**
   * The engine copies at submit and sums what it copies (`DmaEngine.submitSummed`), and the
   * transmit slots lie in the WebAssembly payload memory: with software checksums the TX payload
   * is copied and summed in one SIMD pass. (In JavaScript one fused pass was no faster than two:
   * README, fourth pass; so frames elsewhere keep copy, then sum.)
   */
  private readonly dmaSumsAtCopy: boolean;
  /** Where a simulated backend hears which stage runs (null: nobody is charging time). */
  private probe: StageProbe | null = null;
  /**
   * The clock's time (ns) for this burst, read once by `startBurst`. A register, not a return
   * value: a clock with `nowInto` (the simulator's fractional ns) writes it without boxing.
   */
  private readonly burstNs = new Float64Array(1);
  /** Installed user modules in order; a module's index is its counter slot (never reused). */
  private readonly moduleList: DataPathModule[] = [];
  private readonly moduleSlots: number[] = [];
  /** The chains per hook point; null when no installed module has that hook (the fast case). */
  private ingressHooks: HookChain | null = null;
  private postHooks: HookChain | null = null;
  private egressHooks: HookChain | null = null;
  private readonly observation = new SegmentObservation();

  constructor(
    readonly opts: DataPathOptions,
    readonly port: NicPort,
    readonly dma: DmaEngine,
    readonly clock: Clock,
    readonly tiers: MemoryTiers,
  ) {
    this.tables = new FlowStateTables(opts.maxFlows, tiers);
    this.dmaCopiesAtSubmit = dma.copiesAtSubmit === true;
    this.dmaSumsAtCopy = false; // set once the frame slots are placed (below)
    let cap = 2;
    while (cap < opts.maxFlows * 2) cap <<= 1;
    const tableRegion = tiers.allocate('flow-table', FlowTable.bytesFor(cap));
    this.flowTable = new FlowTable(tableRegion.buffer, tableRegion.byteOffset, cap);
    this.ooo = new OooIntervals(opts.maxFlows, opts.oooIntervals);
    this.protoCfg = { mss: opts.mss, delayedAck: opts.delayedAck, ooo: this.ooo, nowTs: 0 };
    this.qm = new QueueManager(opts.maxFlows, { credits: opts.txCredits, mss: opts.mss });
    // Checksum offload (the port's capabilities record, DPDK style): a device that verifies
    // checksums on receive spares pre-processing the payload pass; one that fills them on
    // transmit spares post-processing. Software ports (virtual wire, TAP) offer neither.
    const caps = port.capabilities;
    this.exceptionParseFlags = caps.rxChecksumOffload
      ? ParseFlag.SkipIpv4Checksum | ParseFlag.SkipTcpChecksum
      : 0;
    this.pre = new PreprocessContext(
      opts.localIp,
      port.mac,
      this.flowTable,
      opts.flowGroups,
      opts.parseFlags | this.exceptionParseFlags,
    );
    this.post.txChecksumOffload = caps.txChecksumOffload;
    this.counters = new DataPathCounters(WIRE_ERROR_COUNT);
    // One thread runs every stage instance of this data path: sequencers and reorder buffers
    // without Atomics (a backend that spreads the stages over threads shares its own).
    const local = { shared: false };
    this.ingressSeq = new Sequencer(opts.flowGroups, local);
    for (let g = 0; g < opts.flowGroups; g++) this.reorder.push(new ReorderBuffer(WORK_POOL, local));
    this.egressSeq = new Sequencer(opts.flowGroups, local);
    for (let g = 0; g < opts.flowGroups; g++) this.egress.push(new ReorderBuffer(WORK_POOL, local));
    this.egressDirty = new Int32Array(opts.flowGroups);
    this.egressIsDirty = new Uint8Array(opts.flowGroups);
    for (let i = 0; i < WORK_POOL; i++) this.summaries.push(new RxSummary());
    const frameBytes = port.capabilities.maxFrameBytes;
    this.stride = (frameBytes + FRAME_ALIGN + TX_SHIFTS - 1 + 63) & ~63; // whole cache lines
    // Frame slots in the memory tiers' WebAssembly payload memory where they offer it (with the
    // host rings there, payload copies and sums run in WebAssembly SIMD: `util/wasm-payload.ts`).
    const slotBytes = this.stride * opts.burst;
    const inPayloadMemory = opts.sharedFrameSlots !== true && tiers.payloadMemory === true;
    const region = (): MemoryRegion | { buffer: ArrayBufferLike; byteOffset: number } =>
      inPayloadMemory
        ? tiers.allocate('packet-buffers', slotBytes)
        : {
            buffer:
              opts.sharedFrameSlots === true ? new SharedArrayBuffer(slotBytes) : new ArrayBuffer(slotBytes),
            byteOffset: 0,
          };
    const rxRegion = region();
    const txRegion = region();
    const rx = rxRegion.buffer;
    const tx = txRegion.buffer;
    this.rxOff = rxRegion.byteOffset;
    this.txOff = txRegion.byteOffset;
    this.rxMemory = new Uint8Array(rx, this.rxOff, slotBytes);
    this.txMemory = new Uint8Array(tx, this.txOff, slotBytes);
    this.rxWords = new Int32Array(rx, 0, rx.byteLength >>> 2);
    this.txWords = new Int32Array(tx, 0, tx.byteLength >>> 2);
    this.pre.frameWasm = isPayloadBuffer(rx);
    this.post.frameWasm = isPayloadBuffer(tx);
    this.dmaSumsAtCopy =
      this.dmaCopiesAtSubmit && typeof dma.submitSummed === 'function' && this.post.frameWasm;
    this.rxPayloadViewsOn = !this.pre.frameWasm;
    this.rxBufs = [];
    this.txBufs = [];
    this.txBufsShifted = [];
    for (let i = 0; i < opts.burst; i++) {
      const at = i * this.stride + FRAME_ALIGN;
      for (const p of [PAYLOAD_AT_NO_TS, PAYLOAD_AT_TS])
        this.rxPayloadViews.push(
          new Uint8Array(rx, this.rxOff + at + p, Math.max(0, this.stride - FRAME_ALIGN - p)),
        );
      this.rxBufs.push(new PacketBuffer(frameBytes, { buffer: rx, byteOffset: this.rxOff + at }));
      this.txBufs.push(new PacketBuffer(frameBytes, { buffer: tx, byteOffset: this.txOff + at }));
      this.txBufsShifted.push(this.txBufs[i]!);
      for (let shift = 1; shift < TX_SHIFTS; shift++)
        this.txBufsShifted.push(
          new PacketBuffer(frameBytes, { buffer: tx, byteOffset: this.txOff + at + shift }),
        );
    }
    this.txBuilt = this.txBufs.slice();
    this.txShiftMask = caps.txChecksumOffload ? TX_SHIFTS - 1 : TX_SHIFTS - 2;
    this.txOrder = this.txBufs.slice();
    this.txReleased = new Uint8Array(this.txBufs.length);
    this.controlBuf = [new PacketBuffer(port.capabilities.maxFrameBytes)];
    this.exceptionPool = new PacketPool(opts.exceptionQueueEntries, port.capabilities.maxFrameBytes);
    this.hold = new FlowHold(opts.maxFlows, HOLD_BURSTS * opts.burst, () => this.holdSlots());
    this.rxRings = new Array<Uint8Array | null>(opts.maxFlows).fill(null);
    this.txRings = new Array<Uint8Array | null>(opts.maxFlows).fill(null);
    this.txRingBase = new Int32Array(opts.maxFlows);
  }

  /** Our timestamp clock: microseconds, u32 (RFC 7323 TSval; FlexTOE measures RTT with it). */
  tsNow(): number {
    return Math.floor(this.clock.now() / 1000) >>> 0;
  }

  /**
   * Reads the timestamp clock once for a burst: the protocol stage (RTT samples) and
   * post-processing (TSval) take it from their contexts, so no u32 crosses a call as an argument.
   */
  private startBurst(): void {
    const reg = this.burstNs;
    const clock = this.clock;
    if (clock.nowInto !== undefined) clock.nowInto(reg, 0);
    else reg[0] = clock.now();
    // int32 bits of the u32 microsecond clock: every consumer takes it modulo 2^32.
    const ts = Math.floor(reg[0]! / 1000) | 0;
    this.protoCfg.nowTs = ts;
    this.post.tsNow = ts;
  }

  /** A simulated backend's stage probe (see `StageProbe`); null removes it. */
  setStageProbe(probe: StageProbe | null): void {
    this.probe = probe;
  }

  // ---------------------------------------------------------------- user modules

  /**
   * Installs a user module at the hook points it implements, after those already installed
   * (the first module whose verdict is not Pass decides). Configuration time, not per packet.
   */
  installModule(module: DataPathModule): void {
    if (this.moduleList.includes(module)) throw new Error(`module '${module.name}' is already installed`);
    if (!module.ingress && !module.afterProtocol && !module.egress)
      throw new Error(`module '${module.name}' has no hook (ingress, afterProtocol or egress)`);
    const slot = this.counters.hookNames.length;
    this.counters.addHook(slot, module.name);
    this.moduleList.push(module);
    this.moduleSlots.push(slot);
    this.rebuildHooks();
  }

  /** Removes an installed module (its counters stay). False if it was not installed. */
  removeModule(module: DataPathModule): boolean {
    const i = this.moduleList.indexOf(module);
    if (i < 0) return false;
    this.moduleList.splice(i, 1);
    this.moduleSlots.splice(i, 1);
    this.rebuildHooks();
    return true;
  }

  /** The installed modules, in chain order. */
  get modules(): readonly DataPathModule[] {
    return this.moduleList.slice();
  }

  private rebuildHooks(): void {
    const ingress = new HookChain();
    const post = new HookChain();
    const egress = new HookChain();
    for (let i = 0; i < this.moduleList.length; i++) {
      const m = this.moduleList[i]!;
      const slot = this.moduleSlots[i]!;
      if (m.ingress) ingress.add(m, slot);
      if (m.afterProtocol) post.add(m, slot);
      if (m.egress) egress.add(m, slot);
    }
    this.ingressHooks = ingress.length > 0 ? ingress : null;
    this.postHooks = post.length > 0 ? post : null;
    this.egressHooks = egress.length > 0 ? egress : null;
  }

  addContext(entries: number): ContextQueue {
    const q = new ContextQueue(this.contexts.length, entries);
    this.contexts.push(q);
    if (this.unpublished.length < this.contexts.length) {
      const grown = new Uint8Array(this.contexts.length * 2);
      grown.set(this.unpublished);
      this.unpublished = grown;
      const list = new Int32Array(this.contexts.length * 2);
      list.set(this.unpublishedList);
      this.unpublishedList = list;
      this.lastNotification = new Int32Array(this.contexts.length * 2);
    }
    return q;
  }

  // ---------------------------------------------------------------- receive

  /** Receives one burst and runs it through the RX pipeline. Returns frames processed. */
  pollRx(): number {
    const n = this.port.rxBurst(this.rxBufs, this.rxBufs.length);
    if (n === 0) return 0;
    this.startBurst();
    const c = this.counters;
    const probe = this.probe;
    const hooks = this.ingressHooks;
    let item = 0;
    // Pre-processing (replicated stage): summaries get per-group ingress sequence numbers.
    for (let i = 0; i < n; i++) {
      const frame = this.rxBufs[i]!;
      c.rxFrames++;
      // User modules' ingress hooks (the XDP point): before any header is looked at.
      if (hooks !== null && this.ingressVerdict(hooks, frame) !== HookVerdict.Pass) continue;
      const s = this.summaries[item]!;
      if (probe !== null) probe.enter('pre', -1);
      this.pre.frameWords = this.rxWords;
      this.pre.frameBase = this.rxOff + i * this.stride + FRAME_ALIGN;
      const v = preprocess(frame, this.pre, s);
      if (v !== PreVerdict.DataPath && probe !== null) probe.itemDone();
      if (v === PreVerdict.DataPath) {
        s.frameMemory = this.rxMemory;
        s.frameOffset = i * this.stride + FRAME_ALIGN;
        // Short payloads copy from the shared region: the engine's cached word loop beats a
        // native call for them, and 2 x burst views would thrash its view cache.
        s.payloadView =
          s.payloadLength < DMA_VIEW_MIN_BYTES || !this.rxPayloadViewsOn
            ? null
            : s.payloadOffset === PAYLOAD_AT_TS
              ? this.rxPayloadViews[2 * i + 1]!
              : s.payloadOffset === PAYLOAD_AT_NO_TS
                ? this.rxPayloadViews[2 * i]!
                : null;
        s.ingressSeq = this.ingressSeq.next(s.group);
        if (!this.reorder[s.group]!.insert(s.ingressSeq, item)) {
          c.reorderFull++;
          continue;
        }
        item++;
      } else if (v === PreVerdict.SlowPath) {
        this.toException(frame, this.pre.slowPathReason);
      } else if (this.pre.notForUs) {
        c.notForUs++;
      } else {
        c.wireErrors[this.pre.wireError]!++;
      }
    }
    // Reorder buffer -> protocol stage, strictly in order per flow group. While some flow is held
    // (`holdFlow`) its segments wait instead: the common case pays one check per burst.
    const holding = this.hold.flows !== 0;
    for (let g = 0; g < this.reorder.length; g++) {
      const k = this.reorder[g]!.release(this.releaseOut, this.releaseOut.length);
      if (holding) this.protocolOrHold(k);
      else for (let j = 0; j < k; j++) this.processRxItem(this.summaries[this.releaseOut[j]!]!);
    }
    this.flushTx();
    this.publishNotifications();
    return n;
  }

  /** Runs the ingress chain and applies a verdict other than Pass (counted). */
  private ingressVerdict(hooks: HookChain, frame: PacketBuffer): HookVerdict {
    const v = hooks.ingress(frame);
    if (v === HookVerdict.Pass) return v;
    const slot = hooks.decidedBy;
    if (v === HookVerdict.ToControlPlane) {
      this.counters.hookToControlPlane[slot]!++;
      this.toException(frame, controlPlaneReasonOf(hooks.decider!));
    } else this.counters.hookIngressDrops[slot]!++;
    return v;
  }

  private processRxItem(s: RxSummary): void {
    const c = this.counters;
    const tcp = this.tables.protocol.at(s.flowId);
    const bufs = this.tables.buffers.at(s.flowId);
    const res = this.res;
    const probe = this.probe;
    if (probe !== null) probe.enter('protocol', s.flowId);
    protocolRx(s, tcp, this.protoCfg, bufs.rxSize, bufs.txSize, res);
    // Max(SND.WND) for the sender's SWS avoidance (protocolTx): the window this ACK may have set.
    const sndWnd = tcp.sndWnd;
    if (sndWnd > bufs.maxSndWnd) bufs.maxSndWnd = sndWnd;
    c.protocolRx++;
    if (res.dropReason !== DataPathDrop.None) c.protocolDrops[res.dropReason]!++;
    const cc = this.tables.cc.at(s.flowId);
    updateCcCounters(cc, res, this.post);
    if ((res.actions & A.Retransmitted) !== 0) c.fastRetransmits++;
    if (this.postHooks !== null) {
      this.observation.fill(s, res);
      this.postHooks.afterProtocol(this.observation);
    }
    // DMA: payload into the host RX ring (two copies when it wraps), before notifying.
    if ((res.actions & A.DmaPayload) !== 0) {
      if (probe !== null) probe.enter('dma', s.flowId);
      const ring = this.rxRings[s.flowId]!;
      const view = s.payloadView;
      const src = view ?? s.frameMemory!;
      const srcOffset = view !== null ? res.payloadSkip : s.frameOffset + s.payloadOffset + res.payloadSkip;
      // The protocol stage already accepted these bytes (rcvNxt moved): a refused copy is not
      // dropped but waits for the engine's completions (its in-flight bound) and goes again.
      let copied = dmaToRing(this.dma, src, srcOffset, ring, res.rxPos, res.payloadCopy, s.flowId);
      if (copied < 0) {
        this.awaitDma();
        copied = dmaToRing(this.dma, src, srcOffset, ring, res.rxPos, res.payloadCopy, s.flowId);
      }
      if (copied < 0) c.dmaRefused++;
      else c.dmaToHostBytes += res.payloadCopy;
    }
    // Completions are collected once per burst (`awaitDma` before the frames and notifications
    // leave); a simulated NIC, which times each item's stages, collects them per item.
    if (probe !== null) this.drainDma();
    this.applyCommon(tcp, bufs, res);
    if (probe !== null) probe.itemDone();
  }

  /**
   * Effects shared by every protocol entry point: notifications, ACKs, scheduling. Takes the
   * cursors the caller already points at the flow (no second record access per packet).
   */
  private applyCommon(tcp: ProtocolRecord, bufs: BuffersRecord, res: ProtocolResult): void {
    const a = res.actions;
    if (a === 0) return;
    const flowId = tcp.flowId;
    if ((a & A.NotifyRx) !== 0 && res.rxBytes > 0)
      this.notify(bufs.context, Notification.RxData, bufs.opaque, res.rxBytes);
    if ((a & A.NotifyTxFreed) !== 0)
      this.notify(bufs.context, Notification.TxFreed, bufs.opaque, res.txFreed);
    if ((a & A.FinReceived) !== 0) {
      this.notify(bufs.context, Notification.Fin, bufs.opaque, 0);
      this.flowEvents.push(FlowEvent.FinReceived, flowId);
    }
    if ((a & A.FinAcked) !== 0) this.flowEvents.push(FlowEvent.FinAcked, flowId);
    if ((a & A.FinRepeated) !== 0) this.flowEvents.push(FlowEvent.FinRepeated, flowId);
    if ((a & A.SendAck) !== 0) this.emitAck(tcp, res);
    if ((a & A.TxReady) !== 0) this.qm.activate(flowId, QM_READY);
  }

  /**
   * Context queue (FlexTOE stage 5): the notification is written in place and published with
   * the rest of the burst (`publishNotifications`), one release store per burst, not per entry.
   */
  private notify(context: number, kind: Notification, opaque: number, n: number): void {
    if (this.probe !== null) this.probe.enter('ctxq', -1);
    const q = this.contexts[context];
    if (q === undefined) {
      this.counters.notificationsDropped++;
      return;
    }
    const ring = q.notifications;
    const d = ring.data;
    if (this.unpublished[context] !== 0 && (kind === Notification.RxData || kind === Notification.TxFreed)) {
      // One RX-data and one TX-freed notification per flow per burst: "N more bytes received"
      // ("N more bytes acknowledged") adds to the entry of that kind this burst already wrote
      // for the flow when nothing came between them, so the application reads one entry where
      // the segments (ACKs) of a burst would each have written one; order and byte counts are
      // unchanged. A simulated NIC (probe set) publishes each entry at once and merges none.
      const last = this.lastNotification[context]!;
      if (d[last] === kind && d[last + 1] === opaque) {
        d[last + 2] = d[last + 2]! + n;
        return;
      }
    }
    const slot = ring.reserve();
    if (slot < 0) {
      this.counters.notificationsDropped++;
      return;
    }
    d[slot] = kind;
    d[slot + 1] = opaque;
    d[slot + 2] = n;
    d[slot + 3] = 0;
    if (this.probe !== null) {
      // A simulated NIC times each notification with the work item that wrote it: visible now.
      ring.commit();
      return;
    }
    this.lastNotification[context] = slot;
    if (this.unpublished[context] === 0) {
      this.unpublished[context] = 1;
      this.unpublishedList[this.unpublishedCount++] = context;
    }
  }

  /** Publishes the notifications written during this burst (the end of every entry point). */
  private publishNotifications(): void {
    // A notification says "these bytes are in your ring": only once their copies completed.
    this.awaitDma();
    const list = this.unpublishedList;
    for (let i = 0; i < this.unpublishedCount; i++) {
      const c = list[i]!;
      this.unpublished[c] = 0;
      this.contexts[c]!.notifications.commit();
    }
    this.unpublishedCount = 0;
  }

  private emitAck(tcp: ProtocolRecord, res: ProtocolResult): void {
    const id = this.tables.identity.at(tcp.flowId);
    const group = id.group;
    const order = this.egressSeq.next(group); // taken by the protocol stage, in its order
    const slot = this.txSlot();
    if (slot < 0) {
      this.egressDrop(group, order);
      return;
    }
    if (this.probe !== null) this.probe.enter('post', tcp.flowId);
    const ts = tcp.has(FlowFlag.Timestamps);
    const flags = (res.actions & A.EchoCe) !== 0 ? TcpFlag.ECE : 0;
    const frame = this.txBufs[slot]!;
    this.txBuilt[slot] = frame;
    this.post.frameWords = this.txWords;
    this.post.frameBase = this.txOff + slot * this.stride + FRAME_ALIGN;
    frame.length = buildSegment(this.post, frame.data, id, res, flags, ts, false, 0);
    this.egressReady(group, order, slot);
    this.counters.acksSent++;
  }

  /** A free transmit slot, flushing the batch when it is full; -1 (counted) when none. */
  private txSlot(): number {
    if (this.txCount === this.txBufs.length) this.flushTx();
    if (this.txCount === this.txBufs.length) {
      this.counters.txDropped++;
      return -1;
    }
    return this.txCount++;
  }

  /** Post-processing finished the frame in `slot` for egress number `order` of `group`. */
  private egressReady(group: number, order: number, slot: number): void {
    if (!this.egress[group]!.insert(order, slot)) this.counters.egressRefused++;
    this.markEgress(group);
  }

  /** The segment numbered `order` was dropped before egress: its number is passed over. */
  private egressDrop(group: number, order: number): void {
    if (!this.egress[group]!.skip(order)) this.counters.egressRefused++;
    this.markEgress(group);
  }

  private markEgress(group: number): void {
    if (this.egressIsDirty[group] === 0) {
      this.egressIsDirty[group] = 1;
      this.egressDirty[this.egressDirtyCount++] = group;
    }
  }

  /**
   * Egress: each group's re-sequencer releases its frames in protocol order; the port gets them
   * in the order post-processing built them (which keeps every group's order).
   */
  flushTx(): void {
    // A segment leaves only with its payload in place (the copies from the host ring done).
    this.awaitDma();
    const order = this.releaseOut;
    const released = this.txReleased;
    for (let i = 0; i < this.egressDirtyCount; i++) {
      const g = this.egressDirty[i]!;
      this.egressIsDirty[g] = 0;
      const k = this.egress[g]!.release(order, order.length);
      for (let j = 0; j < k; j++) released[order[j]!] = 1;
    }
    this.egressDirtyCount = 0;
    let n = 0;
    for (let slot = 0; slot < this.txCount; slot++) {
      if (released[slot] === 0) continue;
      released[slot] = 0;
      this.txOrder[n++] = this.txBuilt[slot]!;
    }
    // Inline, every number is inserted or skipped before the flush, so the whole batch is out;
    // a frame still held would have its slot reused: counted (it is lost, TCP recovers).
    this.counters.egressRefused += this.txCount - n;
    if (this.egressHooks !== null && n > 0) n = this.egressFilter(this.egressHooks, this.txOrder, n);
    if (n > 0) {
      const sent = this.port.txBurst(this.txOrder, n);
      this.counters.txFrames += sent;
      // A frame the port refused is lost on the wire; TCP recovers (counted, never silent).
      this.counters.txDropped += n - sent;
    }
    for (let i = 0; i < this.txQmFrames; i++) this.qm.returnCredit();
    this.txQmFrames = 0;
    this.txCount = 0;
  }

  /**
   * Runs the egress chain over the batch; frames a module drops leave it (counted, lost on the
   * wire as far as TCP knows: it recovers). Returns the frames left, in order.
   */
  private egressFilter(hooks: HookChain, frames: PacketBuffer[], n: number): number {
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const f = frames[i]!;
      if (hooks.egress(f) !== HookVerdict.Pass) {
        this.counters.hookEgressDrops[hooks.decidedBy]!++;
        continue;
      }
      frames[kept++] = f;
    }
    return kept;
  }

  private toException(frame: PacketBuffer, reason: SlowPathReason): void {
    const copy = this.exceptionPool.get();
    if (copy === null) {
      this.counters.exceptionsDropped++;
      return;
    }
    copyFrame(frame.data, copy.data, frame.length);
    copy.length = frame.length;
    copy.timestampNs = frame.timestampNs;
    // The slow path may allocate: it is the host's control plane, not the per-packet path.
    this.exceptions.push({ frame: copy, reason });
    this.counters.slowPath[reason]!++;
  }

  /** The `k` items the reorder buffer released, while some flow is held: its segments wait. */
  private protocolOrHold(k: number): void {
    for (let j = 0; j < k; j++) {
      const s = this.summaries[this.releaseOut[j]!]!;
      if (this.hold.holds(s.flowId)) this.holdSegment(s);
      else this.processRxItem(s);
    }
  }

  /**
   * A segment of a held flow waits, copied, for the flow's release. The runner takes no burst
   * while the store has no room for one (`hold.room`), so none is dropped.
   */
  private holdSegment(s: RxSummary): void {
    this.hold.add(s.flowId, s.frame!);
    if (this.probe !== null) this.probe.itemDone();
  }

  /**
   * The held-frame store's slots: one region, each frame FRAME_ALIGN into its stride as in the
   * receive slots, shared when other threads copy payloads (DMA replicas read held payloads too).
   */
  private holdSlots(): PacketBuffer[] {
    const frameBytes = this.port.capabilities.maxFrameBytes;
    const n = this.hold.capacity;
    const bytes = this.stride * n;
    const buffer =
      this.opts.sharedFrameSlots === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const slots: PacketBuffer[] = [];
    for (let i = 0; i < n; i++)
      slots.push(new PacketBuffer(frameBytes, { buffer, byteOffset: i * this.stride + FRAME_ALIGN }));
    return slots;
  }

  /** The control plane returns an exception frame when done with it. */
  releaseException(frame: PacketBuffer): void {
    this.exceptionPool.put(frame);
  }

  /** Re-runs a frame through the data path (the control plane just installed its flow). */
  reinject(frame: PacketBuffer): void {
    if (!this.preprocessAgain(frame)) return;
    this.startBurst();
    this.processRxItem(this.summaries[0]!);
    this.flushTx();
    this.publishNotifications();
  }

  /**
   * Pre-processes a frame outside a receive burst (re-run or held) into `summaries[0]`: true
   * when it belongs to an installed flow.
   */
  private preprocessAgain(frame: PacketBuffer): boolean {
    const s = this.summaries[0]!;
    this.pre.frameWords = null;
    if (preprocess(frame, this.pre, s) !== PreVerdict.DataPath) return false;
    s.frameMemory = frame.data;
    s.frameOffset = 0;
    s.payloadView = null;
    return true;
  }

  /**
   * Holds flow `flowId`'s received segments (they wait, in order) until `releaseHeldFlows(n)`
   * with n at or past `until` (mod 2^32): for a runner whose host applies installs and re-runs
   * later than it makes them (see `FlowHold`). The runner counts the exceptions it publishes;
   * `until` is that count when it applies the install.
   */
  holdFlow(flowId: number, until: number): void {
    this.hold.hold(flowId, until);
  }

  /**
   * The host has handled (re-run) the exceptions the runner published up to `handled`: every
   * flow held until then takes its held segments, oldest first, and its later ones directly.
   */
  releaseHeldFlows(handled: number): void {
    const out = this.heldOut;
    const n = this.hold.release(handled, out);
    if (n === 0) return;
    this.startBurst();
    for (let i = 0; i < n; i++) if (this.preprocessAgain(out[i]!)) this.processRxItem(this.summaries[0]!);
    this.flushTx();
    this.publishNotifications();
  }

  /** Collects the completions the engine has (never waits). */
  private drainDma(): void {
    while (this.dma.poll(this.dmaDone, this.dmaDone.length) === this.dmaDone.length);
  }

  /**
   * DMA completion semantics (FlexTOE: a notification or a frame is released only after the DMA
   * stage finished its payload). An engine that copies at submit (memcpy, the simulators) has
   * nothing in flight here; an asynchronous one (x86 DMA threads) is waited for, once per burst,
   * so copies overlap the rest of the burst's work.
   */
  private awaitDma(): void {
    const dma = this.dma;
    if (dma.inFlight(DmaDirection.ToHost) === 0 && dma.inFlight(DmaDirection.FromHost) === 0) return;
    this.counters.dmaWaits++;
    do {
      dma.poll(this.dmaDone, this.dmaDone.length);
    } while (dma.inFlight(DmaDirection.ToHost) !== 0 || dma.inFlight(DmaDirection.FromHost) !== 0);
  }

  // ---------------------------------------------------------------- requests

  /** Drains every context's request queue into the protocol stage. Returns requests handled. */
  pollRequests(): number {
    let handled = 0;
    const r = this.reqScratch;
    for (let q = 0; q < this.contexts.length; q++) {
      const ring = this.contexts[q]!.requests;
      while (ring.tryPop(r)) {
        if (handled === 0) this.startBurst();
        this.protocolRequest(r[0]! as Request, r[1]!, r[2]!);
        handled++;
      }
    }
    if (handled > 0) {
      this.flushTx();
      this.publishNotifications();
    }
    return handled;
  }

  /** One request through the protocol stage: the control plane's direct entry. */
  applyRequest(kind: Request, flowId: number, n: number): void {
    this.startBurst();
    this.protocolRequest(kind, flowId, n);
    this.publishNotifications();
  }

  private protocolRequest(kind: Request, flowId: number, n: number): void {
    const tcp = this.tables.protocol.at(flowId);
    const bufs = this.tables.buffers.at(flowId);
    const res = this.res;
    if (this.probe !== null) this.probe.enter('protocol', flowId);
    switch (kind) {
      case Request.TxAppended:
        protocolTxAppended(tcp, n, res);
        break;
      case Request.RxConsumed:
        protocolRxConsumed(tcp, this.protoCfg, bufs.rxSize, n, res);
        break;
      case Request.Close:
        protocolClose(tcp, res);
        break;
      case Request.Retransmit:
        protocolRetransmit(tcp, bufs.txSize, res);
        if ((res.actions & A.Retransmitted) !== 0) this.counters.timeoutRetransmits++;
        break;
      case Request.PersistProbe:
        protocolPersistProbe(tcp, res);
        break;
      case Request.AckTimeout:
        protocolAckTimeout(tcp, res, bufs.rxSize, this.protoCfg.mss);
        break;
      default:
        this.counters.badRequests++;
        if (this.probe !== null) this.probe.itemDone();
        return;
    }
    this.applyCommon(tcp, bufs, res);
    if (this.probe !== null) this.probe.itemDone();
  }

  // ---------------------------------------------------------------- transmit

  /** Queue manager -> protocol -> post -> DMA -> egress, up to one burst. Returns segments sent. */
  pollTx(): number {
    this.startBurst();
    this.qm.clockNs = this.burstNs[0]!;
    let sent = 0;
    const res = this.res;
    const probe = this.probe;
    while (sent < this.txBufs.length) {
      // The queue manager is polled before its stage is reported: an idle poll (most of them)
      // is no work item, and the queue manager touches no modelled memory, so reporting 'qm'
      // only for a flow it hands out gives a simulator the same items.
      const flowId = this.qm.pollAtClock();
      if (flowId < 0) break;
      if (probe !== null) {
        probe.enter('qm', -1);
        probe.enter('protocol', flowId);
      }
      const tcp = this.tables.protocol.at(flowId);
      const bufs = this.tables.buffers.at(flowId);
      const cc = this.tables.cc.at(flowId);
      protocolTx(tcp, this.protoCfg, bufs.rxSize, bufs.txSize, cc.cwnd, res, bufs.maxSndWnd);
      if ((res.actions & A.TxSegment) === 0) {
        this.qm.returnCredit();
        this.qm.deactivate(flowId);
        if (probe !== null) probe.itemDone();
        continue;
      }
      const id = this.tables.identity.at(flowId);
      const group = id.group;
      const order = this.egressSeq.next(group);
      const slot = this.txSlot();
      if (slot < 0) {
        // Undoing the protocol stage's claim is not possible; the segment is lost on the wire
        // and recovered by TCP. Put the flow back in line (every poll ends in sent or deactivate).
        this.egressDrop(group, order);
        this.qm.returnCredit();
        this.qm.sentAtClock(flowId, 0);
        if (probe !== null) probe.itemDone();
        break;
      }
      const ts = tcp.has(FlowFlag.Timestamps);
      const off = payloadOffset(this.post, ts);
      // How far the payload's bytes in the ring lie from their place in the plain frame, modulo
      // 8: the frame shifted by that much puts them at equal addresses modulo 8 (an odd shift
      // only when the port fills the checksums: otherwise the plain frame).
      const base = slot * this.stride + FRAME_ALIGN;
      const apart = (this.txRingBase[flowId]! + res.txPos - base - off) & (TX_SHIFTS - 1);
      const shift = (apart & this.txShiftMask) === apart ? apart : 0;
      const at = base + shift;
      const frame = this.txBufsShifted[slot * TX_SHIFTS + shift]!;
      this.txBuilt[slot] = frame;
      if (res.txLength > 0) {
        if (probe !== null) probe.enter('dma', flowId);
        const dst = at + off;
        const ring = this.txRings[flowId]!;
        let copied: number;
        if (this.dmaSumsAtCopy && !this.post.txChecksumOffload && res.txPos + res.txLength <= ring.length) {
          // One pass copies and sums the payload; post-processing adds the sum. A copy across
          // the ring's end (two copies) takes the plain path and the frame is summed.
          const sum = this.dma.submitSummed!(
            DmaDirection.FromHost,
            ring,
            res.txPos,
            this.txMemory,
            dst,
            res.txLength,
            flowId,
          );
          this.post.payloadSum = sum;
          copied = sum < 0 ? -1 : 1;
        } else {
          copied = dmaFromRing(this.dma, ring, res.txPos, this.txMemory, dst, res.txLength, flowId);
        }
        if (copied < 0) {
          // The engine's in-flight bound: its completions free it (the frames built so far wait
          // for them anyway), then the copy goes again.
          this.awaitDma();
          copied = dmaFromRing(
            this.dma,
            this.txRings[flowId]!,
            res.txPos,
            this.txMemory,
            dst,
            res.txLength,
            flowId,
          );
        }
        // Post-processing sums the payload into the checksum unless the port does: with an
        // asynchronous engine that payload must have landed first. An engine that copies at
        // submit has it in place already; its completion is collected with the burst's.
        if (copied > 0 && !this.post.txChecksumOffload && !this.dmaCopiesAtSubmit) this.awaitDma();
        if (copied < 0) {
          // No payload, no segment (its bytes would be stale): dropped before egress, its number
          // passed over; the protocol stage counts the bytes sent, so TCP recovers them. Only an
          // engine refusing with nothing in flight gets here (a broken one): end the burst.
          this.counters.dmaRefused++;
          this.egressDrop(group, order);
          this.txCount--; // the slot is the last one taken: give it back
          this.qm.returnCredit();
          this.qm.sentAtClock(flowId, res.txLength);
          if ((res.actions & A.TxReady) === 0) this.qm.deactivate(flowId);
          if (probe !== null) probe.itemDone();
          break;
        }
        this.counters.dmaFromHostBytes += res.txLength;
      }
      if (probe !== null) probe.enter('post', flowId);
      this.post.frameWords = this.txWords;
      this.post.frameBase = this.txOff + at;
      frame.length = buildSegment(
        this.post,
        frame.data,
        id,
        res,
        res.txFlags,
        ts,
        tcp.has(FlowFlag.Ecn),
        res.txLength,
      );
      this.egressReady(group, order, slot);
      this.txQmFrames++;
      this.counters.dataSegments++;
      cc.txSegments = cc.txSegments + 1;
      this.qm.sentAtClock(flowId, res.txLength);
      if ((res.actions & A.TxReady) === 0) this.qm.deactivate(flowId);
      else this.qm.activate(flowId, QM_READY);
      if (probe !== null) probe.itemDone();
      sent++;
    }
    this.drainDma();
    this.flushTx();
    this.publishNotifications();
    return sent;
  }

  /**
   * Whether `pollTx` (or the control plane's `poll`) would find work now, for a runner that
   * skips a round with none (a simulated NIC after delivering notifications): exceptions or flow
   * events for the control plane, DMA in flight, frames built and not yet handed to the port,
   * notifications not yet published, a flow the queue manager would hand out. Not looked at:
   * the port's frames (`rxBurst` is the only way to see them; the caller knows its port) and
   * the request rings (a caller fetches them on its own schedule, `pollRequests`).
   *
   * The queue manager is asked last, at the clock, as `pollTx` asks it first: its wheel moves
   * to now, exactly what the skipped `pollTx` would have done, so skipping it changes nothing.
   */
  hasPendingWork(): boolean {
    if (this.exceptions.length > 0 || this.flowEvents.length > 0) return true;
    if (this.txCount > 0 || this.egressDirtyCount > 0 || this.unpublishedCount > 0) return true;
    const dma = this.dma;
    if (dma.inFlight(DmaDirection.ToHost) !== 0 || dma.inFlight(DmaDirection.FromHost) !== 0) return true;
    const reg = this.burstNs;
    const clock = this.clock;
    if (clock.nowInto !== undefined) clock.nowInto(reg, 0);
    else reg[0] = clock.now();
    this.qm.clockNs = reg[0]!;
    return this.qm.readyAtClock();
  }

  /** Raw frame from the control plane (SYN, SYN-ACK, RST, ARP): `build` writes it. */
  sendControlFrame(build: (buf: Buffer) => number): void {
    this.flushTx(); // what the data path built before goes first
    const frame = this.controlBuf[0]!;
    frame.length = build(frame.data);
    this.counters.controlFrames++;
    if (this.egressHooks !== null && this.egressFilter(this.egressHooks, this.controlBuf, 1) === 0) return;
    const sent = this.port.txBurst(this.controlBuf, 1);
    this.counters.txFrames += sent;
    this.counters.txDropped += 1 - sent;
  }

  // ---------------------------------------------------------------- flow install / removal

  isValid(flowId: number): boolean {
    return this.tables.protocol.at(flowId).has(FlowFlag.Valid);
  }

  /** Flow table entry and host rings for a flow whose records the control plane wrote. */
  installFlow(
    flowId: number,
    localIp: number,
    remoteIp: number,
    localPort: number,
    remotePort: number,
    rxRing: Uint8Array,
    txRing: Uint8Array,
  ): boolean {
    if (!this.flowTable.insert(localIp, remoteIp, localPort, remotePort, flowId)) return false;
    this.rxRings[flowId] = rxRing;
    this.txRings[flowId] = txRing;
    this.txRingBase[flowId] = txRing.byteOffset;
    this.ooo.clear(this.tables.protocol.at(flowId));
    return true;
  }

  setRate(flowId: number, nsPerByte: number): void {
    this.qm.setRate(flowId, nsPerByte);
  }

  removeFlow(flowId: number): void {
    const id = this.tables.identity.at(flowId);
    this.flowTable.remove(id.localIp, id.remoteIp, id.localPort, id.remotePort);
    this.tables.protocol.at(flowId).clear();
    this.tables.cc.at(flowId).clear();
    this.ooo.clear(this.tables.protocol.at(flowId));
    this.qm.deactivate(flowId);
    // Segments held for a removed flow are not run: the host has let the connection go.
    this.hold.remove(flowId);
    this.rxRings[flowId] = null;
    this.txRings[flowId] = null;
    this.flowEvents.push(FlowEvent.FlowRemoved, flowId);
  }

  /** Counters as a plain object by stage and reason. */
  stats(): DataPathStats {
    return this.counters.snapshot();
  }
}
