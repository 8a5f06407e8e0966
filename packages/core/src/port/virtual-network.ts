/**
 * An in-process Ethernet segment (DPDK's ring device, grown into a switch): a learning switch
 * with any number of `VirtualPort`s. A transmitted frame is copied at once into the receive
 * queue of the port(s) it is switched to; with a link rate or a delay it carries the time it
 * becomes receivable, and `rxBurst` hands out only frames whose time has come.
 *
 * Link model (with `rateGbps`): every port has a full-duplex link to the switch. A frame is
 * serialised on the sender's uplink, then on the receiver's downlink, cut-through: it finishes
 * at max(uplink finish, downlink free + serialisation time), so one sender cannot exceed line
 * rate and many senders to one receiver queue at its downlink (incast). Serialisation counts
 * preamble, FCS, padding and the inter-frame gap (`wireTimeNs`). A sender whose transmit queue
 * (frames still serialising on its uplink) is full gets a short count from `txBurst`, as from a
 * full NIC ring. The delay is one-way propagation added after serialisation.
 *
 * Per frame nothing is allocated: receive slots are preallocated per port, copies are native
 * (`copyFrame`) or, between the WebAssembly payload memory's buffers (the slots lie there when
 * the runtime has it, as the inline runner's and the simulated NICs' frames do), one
 * `memory.copy` (`copyFrameVia`), and times travel in Float64Arrays rather than as arguments or fields, because
 * V8 boxes a double (fractional, or beyond 2^30 ns) that crosses a call it did not inline.
 */
import type { Clock, Timers } from '../hw/clock.js';
import type { NicPort, PortCapabilities, PortConfiguration, PortStats } from '../hw/nic-port.js';
import { DEFAULT_FRAME_CAPACITY, type PacketBuffer } from '../hw/packet-buffer.js';
import { copyFrameVia } from '../util/copy-frame.js';
import { allocateOwnedPayloadMemory, releasePayloadMemory } from '../util/wasm-payload.js';
import { realTime } from '../util/real-time.js';
import { MacTable, macHi, macLo } from './mac-table.js';
import { RxWakeup } from './rx-wakeup.js';
import { ETHERNET_HEADER_BYTES, nsPerByte, wireBytes } from './wire-time.js';

export interface VirtualNetworkOptions {
  /** Rate of every port's link in Gbit/s; unlimited (frames move instantly) when omitted. */
  readonly rateGbps?: number;
  /** One-way propagation delay in ns added to every frame (default 0). */
  readonly delayNs?: number;
  /** Time base for rate and delay and for receive timestamps (default: the wall clock). */
  readonly clock?: Clock;
  /** Timers on `clock` for wakeups of frames due later (default: `clock` if it has timers). */
  readonly timers?: Timers;
  /** Receive queue depth per port, in frames (default 1024). */
  readonly rxQueueFrames?: number;
  /** Transmit queue depth per port, frames still serialising on the uplink (default 1024; rate only). */
  readonly txQueueFrames?: number;
  /** Largest frame in bytes, without FCS (default DEFAULT_FRAME_CAPACITY). */
  readonly maxFrameBytes?: number;
  /** Bound on the switch's MAC table (default 1024 entries). */
  readonly macTableEntries?: number;
}

export interface AttachOptions {
  /** The port's MAC as a 48-bit number; default 02:00:00:00:00:NN in attach order. */
  readonly mac?: number;
  /** Overrides the network's receive queue depth for this port. */
  readonly rxQueueFrames?: number;
}

export interface VirtualNetworkStats {
  /** MACs the switch knows (ports' own and learnt). */
  readonly macTableEntries: number;
  /** Source MACs not learnt because the table was full (their frames flood). */
  readonly macTableFull: number;
}

/** Locally administered, unicast: 02:00:00:00:00:00 (IEEE 802: bit 1 of the first octet). */
const LOCAL_MAC_BASE = 0x020000000000;
const MAC_LIMIT = 0x1000000000000;
/** IEEE 802.1Q tag; a port's MTU excludes it, like Linux and DPDK. */
const VLAN_TAG_BYTES = 4;
/** Bytes before each receive slot's frame (Linux NET_IP_ALIGN, as the data path's buffers). */
const FRAME_ALIGN = 2;

// Slots of `VirtualNetwork.frameTimes`, the times of the frame being switched: when it was
// sent, when it has left the sender's uplink, when it is receivable at the port delivered to.
const NOW = 0;
const UP_FINISH = 1;
const DUE = 2;
// Slots of `VirtualPort.linkTimes`: when the uplink and the downlink to the port are free.
const TX_BUSY_UNTIL = 0;
const RX_BUSY_UNTIL = 1;

export class VirtualNetwork {
  readonly clock: Clock;
  /** Link rate in Gbit/s; Infinity when unlimited. */
  readonly rateGbps: number;
  readonly delayNs: number;
  readonly maxFrameBytes: number;
  /** @internal */ readonly timers: Timers | undefined;
  /** @internal */ readonly rated: boolean;
  /** @internal Serialisation time of one byte (0 when unlimited). */ readonly nsPerByte: number;
  private readonly rxQueueFrames: number;
  /** @internal */ readonly txQueueFrames: number;
  private readonly portList: (VirtualPort | null)[] = [];
  private readonly table: MacTable;
  private macCounter = 0;
  /** @internal NOW, UP_FINISH and DUE of the frame being switched. */
  readonly frameTimes = new Float64Array(3);

  constructor(opts: VirtualNetworkOptions = {}) {
    this.rateGbps = opts.rateGbps ?? Infinity;
    this.delayNs = opts.delayNs ?? 0;
    if (!(this.rateGbps > 0))
      throw new RangeError(`VirtualNetwork: rateGbps must be > 0, got ${this.rateGbps}`);
    if (!(this.delayNs >= 0 && Number.isFinite(this.delayNs))) {
      throw new RangeError(`VirtualNetwork: delayNs must be finite and >= 0, got ${this.delayNs}`);
    }
    this.rated = this.rateGbps !== Infinity;
    this.nsPerByte = nsPerByte(this.rateGbps);
    this.clock = opts.clock ?? realTime;
    this.timers = opts.timers ?? (opts.clock === undefined ? realTime : asTimers(opts.clock));
    if ((this.rated || this.delayNs > 0) && this.timers === undefined) {
      throw new TypeError('VirtualNetwork: rate or delay with a custom clock needs `timers`');
    }
    this.rxQueueFrames = positiveInt(opts.rxQueueFrames ?? 1024, 'rxQueueFrames');
    this.txQueueFrames = positiveInt(opts.txQueueFrames ?? 1024, 'txQueueFrames');
    this.maxFrameBytes = positiveInt(opts.maxFrameBytes ?? DEFAULT_FRAME_CAPACITY, 'maxFrameBytes');
    this.table = new MacTable(opts.macTableEntries ?? 1024);
  }

  /** Connects a new port to the switch. It starts up (link up); `stop()` takes it down. */
  attach(opts: AttachOptions = {}): VirtualPort {
    const mac = opts.mac ?? this.nextFreeMac();
    checkUnicastMac(mac);
    if (this.portByMac(mac)) throw new Error(`VirtualNetwork: MAC ${formatMac(mac)} is already attached`);
    const depth = positiveInt(opts.rxQueueFrames ?? this.rxQueueFrames, 'rxQueueFrames');
    const port = new VirtualPort(this, this.portList.length, mac, depth);
    this.portList.push(port);
    this.table.setStatic(macHi(mac), macLo(mac), port.index);
    return port;
  }

  /** Disconnects a port; frames addressed to it flood (unknown unicast) from now on. */
  detach(port: VirtualPort): void {
    if (this.portList[port.index] !== port) return;
    this.portList[port.index] = null;
    port.disconnected();
    this.rebuildTable();
  }

  /** Attached ports in attach order. */
  get ports(): VirtualPort[] {
    return this.portList.filter((p): p is VirtualPort => p !== null);
  }

  stats(): VirtualNetworkStats {
    return { macTableEntries: this.table.size, macTableFull: this.table.full };
  }

  /** @internal A port changes its MAC (configure). */
  changeMac(port: VirtualPort, mac: number): void {
    checkUnicastMac(mac);
    const owner = this.portByMac(mac);
    if (owner && owner !== port) throw new Error(`VirtualNetwork: MAC ${formatMac(mac)} is already attached`);
    port.setMac(mac);
    this.rebuildTable();
  }

  /**
   * @internal Switches one frame from `from`, transmitted at frameTimes[NOW] and off the
   * sender's uplink at frameTimes[UP_FINISH]. The caller has checked the length.
   */
  switchFrame(from: VirtualPort, frame: PacketBuffer, length: number): void {
    const data = frame.data;
    const srcHi = (data[6]! << 8) | data[7]!;
    const srcLo = ((data[8]! << 24) | (data[9]! << 16) | (data[10]! << 8) | data[11]!) >>> 0;
    // A port's own MAC is a static entry learning never moves: skip the table for it.
    if ((data[6]! & 1) === 0 && (srcHi !== from.macHiBits || srcLo !== from.macLoBits)) {
      this.table.learn(srcHi, srcLo, from.index);
    }
    // IEEE 802: the I/G bit (bit 0 of the first octet) marks group addresses, broadcast included.
    if ((data[0]! & 1) === 0) {
      const dstHi = (data[0]! << 8) | data[1]!;
      const dstLo = ((data[2]! << 24) | (data[3]! << 16) | (data[4]! << 8) | data[5]!) >>> 0;
      const to = this.table.lookup(dstHi, dstLo);
      if (to === from.index) {
        from.countSelfAddressed(); // a switch never sends a frame back out of its ingress port
        return;
      }
      if (to >= 0) {
        this.deliver(this.portList[to]!, frame, length);
        return;
      }
    }
    this.flood(from, frame, length);
  }

  private flood(from: VirtualPort, frame: PacketBuffer, length: number): void {
    const list = this.portList;
    for (let i = 0; i < list.length; i++) {
      const to = list[i];
      if (to && to !== from) this.deliver(to, frame, length);
    }
  }

  private deliver(to: VirtualPort, frame: PacketBuffer, length: number): void {
    const t = this.frameTimes;
    if (!this.rated) {
      t[DUE] = t[NOW]! + this.delayNs;
      to.enqueue(frame, length);
      return;
    }
    const link = to.linkTimes;
    const downFinish = Math.max(t[UP_FINISH]!, link[RX_BUSY_UNTIL]! + wireBytes(length) * this.nsPerByte);
    t[DUE] = downFinish + this.delayNs;
    // A frame the receiver cannot queue never occupies its downlink (tail drop at the switch).
    if (to.enqueue(frame, length)) link[RX_BUSY_UNTIL] = downFinish;
  }

  private nextFreeMac(): number {
    for (;;) {
      const mac = LOCAL_MAC_BASE + ++this.macCounter;
      if (!this.portByMac(mac)) return mac;
    }
  }

  private portByMac(mac: number): VirtualPort | undefined {
    return this.portList.find((p) => p !== null && p.mac === mac) ?? undefined;
  }

  private rebuildTable(): void {
    this.table.clear();
    for (const p of this.portList) if (p) this.table.setStatic(macHi(p.mac), macLo(p.mac), p.index);
  }
}

/** One port on a `VirtualNetwork`; create with `VirtualNetwork.attach`. */
export class VirtualPort implements NicPort {
  readonly capabilities: PortCapabilities;
  private net: VirtualNetwork | null;
  private macAddr: number;
  /** @internal The MAC as the switch reads it from a frame: high 16 bits, low 32 bits (u32). */
  macHiBits: number;
  /** @internal */
  macLoBits: number;
  /** Longest frame this port sends: MTU + Ethernet header + one VLAN tag, within the slot size. */
  private maxTxFrame: number;
  private started = true;

  // Receive queue: a ring of preallocated slots (one backing buffer), each with length and the
  // time it becomes receivable. Due times are non-decreasing along the ring (FIFO per link).
  private readonly depth: number;
  private readonly slots: Buffer[];
  /** The words of the slots' one backing buffer, and where each slot starts in it. */
  private readonly slotWords: Int32Array;
  private readonly slotBase: Int32Array;
  /** The slots lie in the payload memory (`slotBase` are addresses there). */
  private readonly slotsInPayloadMemory: boolean;
  private readonly rxLen: Int32Array;
  private readonly rxDue: Float64Array;
  private rxHead = 0;
  private rxCount = 0;

  // Transmit queue (rate only): finish times of frames still serialising on the uplink.
  private readonly txFinish: Float64Array;
  private txHead = 0;
  private txCount = 0;
  /** @internal When the uplink (TX_BUSY_UNTIL) and the downlink to this port (RX_BUSY_UNTIL) are free. */
  readonly linkTimes = new Float64Array(2);

  private rxPackets = 0;
  private rxBytes = 0;
  private txPackets = 0;
  private txBytes = 0;
  private dropRxQueueFull = 0;
  private dropLinkDown = 0;
  private dropRunt = 0;
  private dropOversize = 0;
  private dropSelfAddressed = 0;
  private dropRxBufferTooSmall = 0;

  private readonly wakeup: RxWakeup;

  /** @internal */
  constructor(
    net: VirtualNetwork,
    readonly index: number,
    mac: number,
    depth: number,
  ) {
    this.net = net;
    this.macAddr = mac;
    this.macHiBits = macHi(mac);
    this.macLoBits = macLo(mac);
    this.maxTxFrame = net.maxFrameBytes;
    this.depth = depth;
    // Slots start FRAME_ALIGN bytes into whole cache lines, as the data path's packet buffers
    // do (NET_IP_ALIGN): a frame copied word by word between the two stays word-aligned.
    const stride = (net.maxFrameBytes + FRAME_ALIGN + 63) & ~63;
    // The slots are the port's alone (frames are copied in and out, no view leaves it), so their
    // payload memory is recycled when the port is detached (`disconnected`) or collected.
    const range = allocateOwnedPayloadMemory(this, depth * stride);
    this.slotsInPayloadMemory = range !== null;
    const backing =
      range !== null
        ? Buffer.from(range.buffer, range.byteOffset, depth * stride)
        : Buffer.alloc(depth * stride);
    this.slotWords = new Int32Array(backing.buffer, 0, backing.buffer.byteLength >>> 2);
    this.slots = new Array<Buffer>(depth);
    this.slotBase = new Int32Array(depth);
    for (let i = 0; i < depth; i++) {
      const at = i * stride + FRAME_ALIGN;
      this.slots[i] = backing.subarray(at, at + net.maxFrameBytes);
      this.slotBase[i] = backing.byteOffset + at;
    }
    this.rxLen = new Int32Array(depth);
    this.rxDue = new Float64Array(depth);
    this.txFinish = new Float64Array(net.rated ? net.txQueueFrames : 0);
    this.capabilities = Object.freeze({
      driver: 'virtual',
      maxFrameBytes: net.maxFrameBytes,
      maxBurst: depth,
      rxChecksumOffload: false,
      txChecksumOffload: false,
      linkGbps: net.rateGbps,
    });
    this.wakeup = new RxWakeup(net.clock, net.timers, () => this.nextDueNs());
  }

  get mac(): number {
    return this.macAddr;
  }

  /** The network this port is attached to (null once detached). */
  get network(): VirtualNetwork | null {
    return this.net;
  }

  configure(conf: PortConfiguration): void {
    const net = this.attached();
    if (!(
      Number.isInteger(conf.mtu) &&
      conf.mtu > 0 &&
      conf.mtu + ETHERNET_HEADER_BYTES <= net.maxFrameBytes
    )) {
      throw new RangeError(`VirtualPort: mtu ${conf.mtu} does not fit frames of ${net.maxFrameBytes} B`);
    }
    if (conf.mac !== this.macAddr) net.changeMac(this, conf.mac);
    this.maxTxFrame = Math.min(net.maxFrameBytes, conf.mtu + ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES);
  }

  async start(): Promise<void> {
    this.attached();
    this.started = true;
    this.wakeup.idle();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.wakeup.dispose();
  }

  /** Leaves the network (same as `network.detach(port)`). */
  detach(): void {
    this.net?.detach(this);
  }

  stats(): PortStats {
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      drops: {
        'rx-queue-full': this.dropRxQueueFull,
        'link-down': this.dropLinkDown,
        'tx-runt': this.dropRunt,
        'tx-oversize': this.dropOversize,
        'self-addressed': this.dropSelfAddressed,
        'rx-buffer-too-small': this.dropRxBufferTooSmall,
      },
    };
  }

  setRxWakeup(wakeup: (() => void) | null): void {
    this.wakeup.set(wakeup);
  }

  /** Frames waiting in the receive queue, due or not. */
  get rxQueued(): number {
    return this.rxCount;
  }

  rxBurst(bufs: PacketBuffer[], max: number): number {
    if (!this.started) return 0;
    const n = Math.min(max, bufs.length);
    const now = this.rxCount > 0 ? this.net!.clock.now() : 0;
    let got = 0;
    while (got < n && this.rxCount > 0 && this.rxDue[this.rxHead]! <= now) {
      if (this.copyOut(this.rxHead, bufs[got]!)) got++;
      this.rxHead = this.rxHead + 1 === this.depth ? 0 : this.rxHead + 1;
      this.rxCount--;
    }
    if (this.rxCount === 0 || this.rxDue[this.rxHead]! > now) this.wakeup.idle();
    return got;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    const net = this.net;
    if (!this.started || net === null) return 0;
    const n = Math.min(count, bufs.length);
    const t = net.frameTimes;
    t[NOW] = net.clock.now();
    for (let i = 0; i < n; i++) {
      const b = bufs[i]!;
      if (b.length < ETHERNET_HEADER_BYTES) {
        this.dropRunt++;
        continue;
      }
      if (b.length > this.maxTxFrame || b.length > b.data.length) {
        this.dropOversize++;
        continue;
      }
      if (net.rated) {
        if (!this.txRoom(t)) return i; // transmit queue full: the caller retries the rest
        this.serialise(t, b.length, net.nsPerByte);
      }
      this.txPackets++;
      this.txBytes += b.length;
      net.switchFrame(this, b, b.length);
    }
    return n;
  }

  /** @internal Copies a frame, receivable at network.frameTimes[DUE], into the receive queue; false (and counted) when it cannot. */
  enqueue(frame: PacketBuffer, length: number): boolean {
    if (!this.started) {
      this.dropLinkDown++;
      return false;
    }
    if (this.rxCount === this.depth) {
      this.dropRxQueueFull++;
      return false;
    }
    let tail = this.rxHead + this.rxCount;
    if (tail >= this.depth) tail -= this.depth;
    copyFrameVia(
      frame.data,
      frame.words,
      frame.wordBase,
      this.slots[tail]!,
      this.slotWords,
      this.slotBase[tail]!,
      length,
      frame.inPayloadMemory && this.slotsInPayloadMemory,
    );
    this.rxLen[tail] = length;
    this.rxDue[tail] = this.net!.frameTimes[DUE]!;
    this.rxCount++;
    if (this.wakeup.isArmed) this.wakeup.queued(this.rxDue[tail]!);
    return true;
  }

  /** @internal */
  countSelfAddressed(): void {
    this.dropSelfAddressed++;
  }

  /** @internal */
  setMac(mac: number): void {
    this.macAddr = mac;
    this.macHiBits = macHi(mac);
    this.macLoBits = macLo(mac);
  }

  /**
   * @internal Called by the network on detach. A detached port never starts again, so it never
   * touches its slots again: their payload memory goes back for other ports.
   */
  disconnected(): void {
    this.net = null;
    this.started = false;
    this.wakeup.dispose();
    releasePayloadMemory(this);
  }

  private copyOut(slot: number, buf: PacketBuffer): boolean {
    const len = this.rxLen[slot]!;
    if (len > buf.data.length) {
      this.dropRxBufferTooSmall++;
      return false;
    }
    copyFrameVia(
      this.slots[slot]!,
      this.slotWords,
      this.slotBase[slot]!,
      buf.data,
      buf.words,
      buf.wordBase,
      len,
      this.slotsInPayloadMemory && buf.inPayloadMemory,
    );
    buf.length = len;
    buf.timestampNs = this.rxDue[slot]!;
    this.rxPackets++;
    this.rxBytes += len;
    return true;
  }

  /** Frees transmit-queue entries whose serialisation finished; true if one is free. */
  private txRoom(t: Float64Array): boolean {
    const cap = this.txFinish.length;
    while (this.txCount > 0 && this.txFinish[this.txHead]! <= t[NOW]!) {
      this.txHead = this.txHead + 1 === cap ? 0 : this.txHead + 1;
      this.txCount--;
    }
    return this.txCount < cap;
  }

  /** Puts a frame on the uplink; sets t[UP_FINISH] to when it has left it. */
  private serialise(t: Float64Array, length: number, nsPerByte: number): void {
    const link = this.linkTimes;
    link[TX_BUSY_UNTIL] = Math.max(t[NOW]!, link[TX_BUSY_UNTIL]!) + wireBytes(length) * nsPerByte;
    t[UP_FINISH] = link[TX_BUSY_UNTIL]!;
    let tail = this.txHead + this.txCount;
    if (tail >= this.txFinish.length) tail -= this.txFinish.length;
    this.txFinish[tail] = link[TX_BUSY_UNTIL]!;
    this.txCount++;
  }

  private nextDueNs(): number {
    return this.rxCount > 0 && this.started ? this.rxDue[this.rxHead]! : Infinity;
  }

  private attached(): VirtualNetwork {
    if (this.net === null) throw new Error('VirtualPort: detached from its network');
    return this.net;
  }
}

/** "02:00:00:00:00:01" for a 48-bit MAC number (error messages). */
function formatMac(mac: number): string {
  const hex = mac.toString(16).padStart(12, '0');
  return hex.match(/../g)!.join(':');
}

function checkUnicastMac(mac: number): void {
  if (!(Number.isInteger(mac) && mac >= 0 && mac < MAC_LIMIT)) {
    throw new RangeError(`VirtualNetwork: MAC must be a 48-bit integer, got ${mac}`);
  }
  if (Math.floor(mac / 0x10000000000) & 1) {
    throw new RangeError(`VirtualNetwork: ${formatMac(mac)} is a group address, not a port MAC`);
  }
}

function asTimers(clock: Clock): Timers | undefined {
  const c = clock as Partial<Timers>;
  return typeof c.schedule === 'function' && typeof c.cancel === 'function'
    ? (clock as Clock & Timers)
    : undefined;
}

function positiveInt(n: number, name: string): number {
  if (!(Number.isInteger(n) && n > 0))
    throw new RangeError(`VirtualNetwork: ${name} must be a positive integer, got ${n}`);
  return n;
}
