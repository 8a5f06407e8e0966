/**
 * Hook points for user modules (DESIGN.md 3, "designed in now"; FlexTOE's extensibility: users
 * add stages in C or eBPF/XDP for tracing, filtering, capture, VLAN stripping, classification,
 * firewalling, splicing). Three points, each a typed contract:
 *
 * - **ingress**: every received frame before pre-processing (the XDP point). The module may read
 *   the bytes, rewrite them in place, and decides: pass, drop (counted under the module's name),
 *   or hand the frame to the control plane (the slow path, counted under a SlowPathReason).
 * - **after protocol**: every received segment's protocol-stage result, as a read-only summary
 *   filled in place (no allocation): flow, seq/ack, flags, payload bytes, what the stage decided.
 * - **egress**: every frame about to go to the port (data, ACKs and the control plane's SYN,
 *   RST, ARP frames): observe, rewrite in place, or drop (counted under the module's name).
 *
 * Modules chain in installation order; the first one that does not pass decides. Nothing here
 * allocates per frame: a chain is a fixed array, the observation is one preallocated record.
 * The data path applies the verdicts (counting, dropping, queueing exceptions) in one place.
 */
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { SlowPathReason } from './slow-path.js';
import { DataPathDrop, type ProtocolResult, type RxSummary } from './work-items.js';

/** What an ingress or egress hook decided for one frame. */
export enum HookVerdict {
  /** Continue: the next module, then the pipeline. */
  Pass = 0,
  /** Drop the frame here; counted in `stats().dataPath.hooks.ingressDrop[module name]` (or egressDrop). */
  Drop = 1,
  /**
   * Ingress only: the frame goes to the host control plane's exception queue as if
   * pre-processing had sent it there, with the module's `controlPlaneReason` (default
   * `SlowPathReason.Module`). An egress hook returning it drops the frame (counted).
   */
  ToControlPlane = 2,
}

/** The verdicts an egress hook may return. */
export type EgressVerdict = HookVerdict.Pass | HookVerdict.Drop;

/**
 * One received segment as the protocol stage left it: a read-only view for post-protocol hooks,
 * refilled for every segment (copy what you keep). 32-bit sequence fields hold int32 bits as
 * the protocol records do (`>>> 0` gives the unsigned value; compare them only through `seq`).
 */
export class SegmentObservation {
  flowId = -1;
  /** Flow group (protocol-stage instance) the segment went through. */
  group = 0;
  /** SEG.SEQ and SEG.ACK (int32 bits). */
  seq = 0;
  ack = 0;
  /** TCP flags byte of the segment (wire/tcp.ts TcpFlag bits). */
  tcpFlags = 0;
  /** Raw 16-bit window field, unscaled. */
  window = 0;
  /** Payload bytes in the segment. */
  payloadLength = 0;
  /** Payload bytes the protocol stage accepted for the host RX ring (0 for duplicates). */
  acceptedBytes = 0;
  /** In-order bytes that became readable for the application. */
  readableBytes = 0;
  /** Data bytes this segment's ACK newly acknowledged. */
  ackedBytes = 0;
  /** ProtocolAction bits the stage decided (SendAck, DmaPayload, Retransmitted, ...). */
  actions = 0;
  /** Why the protocol stage dropped the segment (DataPathDrop.None if it did not). */
  dropReason: DataPathDrop = DataPathDrop.None;
  /** The IPv4 ECN field was CE. */
  ce = false;

  /** Fills the observation from the stage's work item and result (no allocation). */
  fill(s: RxSummary, res: ProtocolResult): void {
    this.flowId = s.flowId;
    this.group = s.group;
    this.seq = s.seq | 0;
    this.ack = s.ack | 0;
    this.tcpFlags = s.tcpFlags;
    this.window = s.window;
    this.payloadLength = s.payloadLength;
    this.acceptedBytes = res.payloadCopy;
    this.readableBytes = res.rxBytes;
    this.ackedBytes = res.ackedBytes;
    this.actions = res.actions;
    this.dropReason = res.dropReason;
    this.ce = s.ce;
  }
}

/**
 * A user module: a name (its counters' key) and any of the three hooks. Hooks run on the data
 * path's thread, per frame: they must not block and should not allocate (the data path itself
 * allocates nothing per segment; a module that does costs garbage collection).
 */
export interface DataPathModule {
  /** Shown in the counters (`hooks.ingressDrop[name]`); modules with the same name add up. */
  readonly name: string;
  /**
   * Before pre-processing. `frame.data[0 .. frame.length)` is the Ethernet frame; the module may
   * rewrite it in place (the frame keeps starting at byte 0; shortening sets `frame.length`).
   */
  ingress?(frame: PacketBuffer): HookVerdict;
  /** The named reason a `ToControlPlane` verdict is counted under (default `SlowPathReason.Module`). */
  readonly controlPlaneReason?: SlowPathReason;
  /** After the protocol stage, for every received segment that reached it. Read-only. */
  afterProtocol?(segment: Readonly<SegmentObservation>): void;
  /** Before the port transmits `frame` (may rewrite it in place, length included). */
  egress?(frame: PacketBuffer): EgressVerdict;
}

/**
 * The modules installed at one hook point, in order. `decidedBy` says which module (its index
 * in the data path's module list) returned the last verdict other than Pass.
 */
export class HookChain {
  private readonly modules: DataPathModule[] = [];
  /** Index of each module in the data path's module list (its counter slot). */
  private readonly slots: number[] = [];
  decidedBy = -1;
  /** The module that returned that verdict. */
  decider: DataPathModule | null = null;

  get length(): number {
    return this.modules.length;
  }

  add(module: DataPathModule, slot: number): void {
    this.modules.push(module);
    this.slots.push(slot);
  }

  /** Ingress chain: the first verdict other than Pass, or Pass. */
  ingress(frame: PacketBuffer): HookVerdict {
    const ms = this.modules;
    for (let i = 0; i < ms.length; i++) {
      const v = ms[i]!.ingress!(frame);
      if (v !== HookVerdict.Pass) {
        this.decidedBy = this.slots[i]!;
        this.decider = ms[i]!;
        return v;
      }
    }
    return HookVerdict.Pass;
  }

  /** Post-protocol chain: every module observes. */
  afterProtocol(segment: SegmentObservation): void {
    const ms = this.modules;
    for (let i = 0; i < ms.length; i++) ms[i]!.afterProtocol!(segment);
  }

  /** Egress chain: the first verdict other than Pass (any such verdict drops), or Pass. */
  egress(frame: PacketBuffer): HookVerdict {
    const ms = this.modules;
    for (let i = 0; i < ms.length; i++) {
      const v = ms[i]!.egress!(frame);
      if (v !== HookVerdict.Pass) {
        this.decidedBy = this.slots[i]!;
        this.decider = ms[i]!;
        return HookVerdict.Drop;
      }
    }
    return HookVerdict.Pass;
  }
}

/** The reason a module's `ToControlPlane` verdict is counted under. */
export function controlPlaneReasonOf(module: DataPathModule): SlowPathReason {
  return module.controlPlaneReason ?? SlowPathReason.Module;
}
