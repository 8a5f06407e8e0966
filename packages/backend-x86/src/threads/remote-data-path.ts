/**
 * Core's `DataPathApi` on the host thread, for a data path that runs on NIC cores (worker
 * threads). The control plane is core's, unchanged: it reads and writes the per-flow records in
 * shared memory directly and everything else becomes a command on the ring of the core that
 * owns the flow (flow group -> core). Exceptions and flow events the cores publish are gathered
 * into the arrays the control plane drains, by `gather()`, once per host round.
 */
import {
  FlowStateTables,
  hash4,
  L4Kind,
  PacketBuffer,
  PacketPool,
  ParsedFrame,
  ParseFlag,
  parseFrame,
  WireError,
  type Clock,
  type DataPathApi,
  type DataPathOptions,
  type ExceptionEntry,
  type Request,
  type SlowPathReason,
} from '@flextoe/core';
import type { CoreLink } from './core-link.js';
import { NicCommand } from './nic-protocol.js';
import type { RegionMessage, SharedMemoryTiers } from './shared-memory.js';

export class RemoteDataPath implements DataPathApi {
  readonly tables: FlowStateTables;
  readonly exceptions: ExceptionEntry[] = [];
  readonly flowEvents: number[] = [];
  readonly port: { readonly mac: number };
  /** Host regions by buffer, for naming a ring in an install command. */
  private readonly regionIds = new WeakMap<ArrayBufferLike, number>();
  private readonly pool: PacketPool;
  private readonly scratch: PacketBuffer;
  private readonly parsed = new ParsedFrame();
  private readonly rateWords = new Uint32Array(2);
  private readonly rate = new Float64Array(this.rateWords.buffer);
  /** Control frames that found no room in a core's frame ring (built here, queued in order). */
  controlFramesQueued = 0;

  constructor(
    readonly opts: DataPathOptions,
    mac: number,
    readonly tiers: SharedMemoryTiers,
    private readonly cores: readonly CoreLink[],
    /** The core that owns each flow group (FlexTOE: one protocol-stage instance per group). */
    private readonly groupCore: readonly number[],
    private readonly clock: Clock,
    /** Announces a host region to every core before a command names it. */
    announce: (region: RegionMessage) => void,
  ) {
    this.port = { mac };
    this.tables = new FlowStateTables(opts.maxFlows, tiers);
    const maxFrame = cores[0]!.sizes.frameShape.maxFrameBytes;
    this.pool = new PacketPool(cores.length * cores[0]!.sizes.slowFrameEntries, maxFrame);
    this.scratch = new PacketBuffer(maxFrame);
    tiers.onAllocate = (r) => {
      this.regionIds.set(r.buffer, r.id);
      if (r.purpose === 'host-buffers') announce(r);
    };
  }

  tsNow(): number {
    return Math.floor(this.clock.now() / 1000) >>> 0;
  }

  private coreOf(flowId: number): CoreLink {
    if (this.cores.length === 1) return this.cores[0]!;
    return this.cores[this.groupCore[this.tables.identity.at(flowId).group]!]!;
  }

  applyRequest(kind: Request, flowId: number, n: number): void {
    this.coreOf(flowId).push(kind, flowId, n, 0);
  }

  installFlow(
    flowId: number,
    _localIp: number,
    _remoteIp: number,
    _localPort: number,
    _remotePort: number,
    rxRing: Uint8Array,
    txRing: Uint8Array,
  ): boolean {
    const rx = this.regionIds.get(rxRing.buffer);
    const tx = this.regionIds.get(txRing.buffer);
    if (rx === undefined || tx === undefined) throw new Error('installFlow: rings not from the host tier');
    // The tuple is in the identity record the control plane wrote; the core reads it there.
    this.coreOf(flowId).push(NicCommand.InstallFlow, flowId, rx, tx);
    return true;
  }

  removeFlow(flowId: number): void {
    this.coreOf(flowId).push(NicCommand.RemoveFlow, flowId, 0, 0);
  }

  setRate(flowId: number, nsPerByte: number): void {
    this.rate[0] = nsPerByte;
    this.coreOf(flowId).push(NicCommand.SetRate, flowId, this.rateWords[0]!, this.rateWords[1]!);
  }

  /**
   * A control frame leaves through the core that owns its flow group, behind what that core was
   * told before (install) and ahead of what it is told after (the application's appends): the
   * handshake's last ACK, built here with the flow's SND.MAX and TSval, must not be overtaken
   * on the wire by the data the flow's core sends next. Sent through another core it could be
   * (that core's transmit ring drains on its own schedule), and the peer's PAWS check (RFC 7323
   * 5.3) then dropped it as an old duplicate. FlexTOE keeps a flow's segments in order from the
   * protocol stage to the wire; frames of no flow (ARP, a RST for an unknown tuple) use core 0.
   */
  sendControlFrame(build: (buf: Buffer) => number): void {
    // Built first, then copied into the core's frame ring: with several cores the frame says
    // which flow it belongs to (control frames are few: handshakes, challenge ACKs, RSTs).
    const f = this.scratch;
    f.length = build(f.data);
    const core = this.cores.length === 1 ? this.cores[0]! : this.coreOfSentFrame(f);
    const slot = core.reserveFrame();
    if (slot !== null) {
      f.data.copy(slot.data, 0, 0, f.length);
      core.commitFrame(NicCommand.TxFrame, f.length);
      return;
    }
    core.push(NicCommand.TxFrame, 0, 0, 0, f.data, f.length);
    this.controlFramesQueued++;
  }

  reinject(frame: PacketBuffer): void {
    this.coreOfFrame(frame).push(NicCommand.Reinject, 0, 0, 0, frame.data, frame.length);
  }

  /** The core owning a received frame's flow group (hash of its 4-tuple, as the NIC computes it). */
  private coreOfFrame(frame: PacketBuffer): CoreLink {
    if (this.cores.length === 1) return this.cores[0]!;
    const p = this.parsed;
    if (parseFrame(frame.data, 0, frame.length, p) !== WireError.None || p.l4 !== L4Kind.Tcp)
      return this.cores[0]!;
    const g = hash4(p.ipv4.dst, p.ipv4.src, p.tcp.dstPort, p.tcp.srcPort) % this.opts.flowGroups;
    return this.cores[this.groupCore[g]!]!;
  }

  /**
   * The core owning a transmitted frame's flow group: the control plane's hash of the flow
   * (local address and port first), which is the received frame's hash with the ends swapped.
   */
  private coreOfSentFrame(frame: PacketBuffer): CoreLink {
    const p = this.parsed;
    const flags = ParseFlag.SkipIpv4Checksum | ParseFlag.SkipTcpChecksum;
    if (parseFrame(frame.data, 0, frame.length, p, flags) !== WireError.None || p.l4 !== L4Kind.Tcp)
      return this.cores[0]!;
    const g = hash4(p.ipv4.src, p.ipv4.dst, p.tcp.srcPort, p.tcp.dstPort) % this.opts.flowGroups;
    return this.cores[this.groupCore[g]!]!;
  }

  releaseException(frame: PacketBuffer): void {
    this.pool.put(frame);
  }

  /**
   * The control plane handled every exception `gather` took: each core that published some is
   * told how many, behind the installs and re-runs issued for them in its command ring, and
   * releases the flows it held at their install (core's `DataPath.holdFlow`).
   */
  exceptionsHandled(): void {
    for (const core of this.cores) {
      if (core.exceptionsAcknowledged === core.exceptionsTaken) continue;
      core.exceptionsAcknowledged = core.exceptionsTaken;
      core.push(NicCommand.ExceptionsHandled, 0, core.exceptionsTaken, 0);
    }
  }

  /**
   * Moves what the cores published into `exceptions` and `flowEvents`; returns items moved. A
   * flow event moves only once the host has dispatched every notification its core published
   * before it (`CoreLink.notificationsTaken`): the application sees a connection's last bytes
   * before the control plane closes it.
   */
  gather(): number {
    let n = 0;
    for (const core of this.cores) {
      const ev = core.events;
      const d = ev.data;
      for (;;) {
        const w = ev.peek();
        if (w < 0 || ((d[w + 2]! - core.notificationsTaken) | 0) > 0) break;
        this.flowEvents.push(d[w]!, d[w + 1]!);
        ev.consume();
        n++;
      }
      const ex = core.exceptions;
      for (;;) {
        const i = ex.peek();
        if (i < 0) break;
        const copy = this.pool.get();
        if (copy === null) break; // the control plane returns them within its poll
        const src = ex.slot(i, true);
        src.data.copy(copy.data, 0, 0, src.length);
        copy.length = src.length;
        this.exceptions.push({ frame: copy, reason: ex.aux(i) as SlowPathReason });
        ex.consume();
        core.exceptionsTaken = (core.exceptionsTaken + 1) | 0;
        n++;
      }
    }
    return n;
  }

  /** True when a core published something `gather` would move now. */
  get pending(): boolean {
    for (const core of this.cores) {
      if (core.exceptions.size > 0) return true;
      const w = core.events.peek();
      if (w >= 0 && ((core.events.data[w + 2]! - core.notificationsTaken) | 0) <= 0) return true;
    }
    return false;
  }
}
