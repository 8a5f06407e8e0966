/**
 * A DPDK ethdev port as a `NicPort`, through the native addon: a vdev (`net_af_packet0,iface=
 * veth0`, `net_tap0,iface=dtap0`, `net_af_xdp0,iface=...`, `net_ring0`) hot-plugged into the
 * process's one EAL, or a PCI NIC (its address, with `eal` allowing it).
 *
 * Frames cross the native boundary through preallocated slots in SharedArrayBuffers, registered
 * once: `rxBurst` is one native call that fills up to `max` RX slots and returns the count, then
 * each frame is copied into the caller's packet buffer; `txBurst` copies the caller's frames into
 * TX slots and makes one native call. Nothing is allocated per packet or per burst.
 *
 * DPDK's split between control and data path holds across threads: the thread that opens a port
 * (probe, queue setup, start, stats, close) can hand its bursts to another with `handoff()`, and
 * that thread (a NIC core) attaches with `DpdkPort.attach` and registers itself as an EAL lcore
 * (`registerThread`). The slots are SharedArrayBuffers, so both threads see the same memory.
 */
import type {
  Clock,
  NicPort,
  PacketBuffer,
  PortCapabilities,
  PortConfiguration,
  PortStats,
} from '@flextoe/core';
import { copyFrame, DEFAULT_FRAME_CAPACITY } from '@flextoe/core';
import { loadDpdkAddon, type DpdkAddon, type OpenedDevice } from './dpdk-addon.js';
import { ensureEal } from './eal.js';

export interface DpdkPortOptions {
  /** Device arguments for rte_dev_probe: a vdev or a PCI address. */
  readonly vdev: string;
  /** Extra EAL arguments (see eal.ts); must match across ports in a process. */
  readonly eal?: readonly string[];
  /** Our (the stack's) MAC as a 48-bit number; the device's when omitted. */
  readonly mac?: number;
  readonly clock: Clock;
  /** Descriptors per queue (adjusted to what the device supports); default 1024. */
  readonly ringSize?: number;
  /** Addon path; tests point it elsewhere to check the error. */
  readonly addonPath?: string;
}

/**
 * What another thread needs to run the bursts of a port this thread opened: plain data and
 * SharedArrayBuffers, so it crosses to a worker in its `workerData`.
 */
export interface DpdkHandoff {
  readonly device: OpenedDevice;
  readonly mac: number;
  readonly maxTxFrame: number;
  readonly rxArea: SharedArrayBuffer;
  readonly txArea: SharedArrayBuffer;
  readonly rxLens: SharedArrayBuffer;
  readonly txLens: SharedArrayBuffer;
  readonly addonPath?: string;
}

/**
 * Slot size: core's packet-buffer capacity (a 1500 B MTU frame with a VLAN tag fits, within one
 * mbuf's data room). Equal sizes let `copyFrame` copy whole slots into packet buffers, its one
 * path that allocates nothing (a longer source would take the `fill` path).
 */
const SLOT_BYTES = DEFAULT_FRAME_CAPACITY;
const ETHERNET_HEADER_BYTES = 14;
const VLAN_TAG_BYTES = 4;
/** Enough for RX ring + TX ring + per-lcore cache + bursts in flight (DPDK sizes pools 2^n - 1). */
const MBUFS = 4095;

/**
 * The AF_XDP PMD probes without touching XDP; it loads its XDP program and creates its socket in
 * RX queue setup, and says why that failed only in libxdp's and DPDK's log (EINVAL either way):
 * name the reasons it can be.
 */
function explainSetupError(vdev: string, e: unknown): unknown {
  if (!vdev.startsWith('net_af_xdp') || !(e instanceof Error) || !e.message.includes('rx_queue_setup'))
    return e;
  const iface = /(?:^|,)iface=([^,]+)/.exec(vdev)?.[1] ?? '?';
  return new Error(
    `${e.message}: the AF_XDP PMD could not attach its XDP program to ${iface} or create its AF_XDP ` +
      `socket (libxdp's and DPDK's log above say which). The interface must take an XDP program ` +
      `(a veth, or a NIC whose driver has XDP; not lo), the kernel needs CONFIG_XDP_SOCKETS and BPF, ` +
      `and the process CAP_NET_ADMIN and CAP_BPF (root)`,
    { cause: e },
  );
}

export class DpdkPort implements NicPort {
  readonly capabilities: PortCapabilities;
  private macAddr: number;
  private readonly id: number;
  private readonly rxSlots: Buffer[];
  private readonly rxLens: Uint32Array;
  private readonly txSlots: Buffer[];
  private readonly txLens: Uint32Array;
  private readonly burst: number;
  private wakeup: (() => void) | null = null;
  private started = false;
  private closed = false;
  private maxTxFrame: number;
  private rxPackets = 0;
  private rxBytes = 0;
  private txPackets = 0;
  private txBytes = 0;
  private dropRxBufferTooSmall = 0;
  private dropTxRunt = 0;
  private dropTxOversize = 0;

  private readonly onWake = (): void => {
    if (this.started) this.wakeup?.();
  };

  /** Initialises EAL if needed, probes the device and starts it. */
  static async open(opts: DpdkPortOptions): Promise<DpdkPort> {
    if (typeof opts.vdev !== 'string' || opts.vdev.trim().length === 0)
      throw new TypeError('dpdk: vdev must name a device, like net_af_packet0,iface=veth0');
    const addon = loadDpdkAddon(opts.addonPath);
    ensureEal(addon, opts.eal ?? []);
    const dev = addon.open(opts.vdev);
    try {
      return new DpdkPort(addon, dev, opts);
    } catch (e) {
      addon.close(dev.port);
      throw explainSetupError(opts.vdev, e);
    }
  }

  /**
   * The bursts of a port another thread opened and handed off (`handoff()`). Control stays with
   * the opener: stopping or closing this object releases nothing but itself.
   */
  static attach(h: DpdkHandoff, clock: Clock): DpdkPort {
    const addon = loadDpdkAddon(h.addonPath);
    return new DpdkPort(addon, h.device, { vdev: h.device.name, clock, mac: h.mac }, h);
  }

  private constructor(
    private readonly addon: DpdkAddon,
    readonly device: OpenedDevice,
    private readonly opts: DpdkPortOptions,
    /** The opener's slots when this object only runs the bursts of a handed-off port. */
    private readonly attachedTo: DpdkHandoff | null = null,
  ) {
    this.id = device.port;
    this.macAddr = opts.mac ?? device.mac;
    this.burst = addon.maxBurst;
    const shared = attachedTo ?? {
      rxArea: new SharedArrayBuffer(SLOT_BYTES * this.burst),
      txArea: new SharedArrayBuffer(SLOT_BYTES * this.burst),
      rxLens: new SharedArrayBuffer(4 * this.burst),
      txLens: new SharedArrayBuffer(4 * this.burst),
    };
    this.areas = shared;
    const rxArea = new Uint8Array(shared.rxArea);
    const txArea = new Uint8Array(shared.txArea);
    this.rxLens = new Uint32Array(shared.rxLens);
    this.txLens = new Uint32Array(shared.txLens);
    const slot = (area: Uint8Array, i: number) =>
      Buffer.from(area.buffer as ArrayBuffer, i * SLOT_BYTES, SLOT_BYTES);
    this.rxSlots = Array.from({ length: this.burst }, (_, i) => slot(rxArea, i));
    this.txSlots = Array.from({ length: this.burst }, (_, i) => slot(txArea, i));
    const maxFrame = Math.min(SLOT_BYTES, 1500 + ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES);
    this.maxTxFrame = attachedTo?.maxTxFrame ?? maxFrame;
    if (attachedTo === null) {
      const ring = opts.ringSize ?? 1024;
      addon.setup(
        this.id,
        { rxDesc: ring, txDesc: ring, mbufs: MBUFS, mtu: 1500 },
        rxArea,
        this.rxLens,
        txArea,
        this.txLens,
        SLOT_BYTES,
        this.burst,
      );
    }
    this.started = true;
    this.capabilities = Object.freeze({
      driver: `dpdk:${device.driver}`,
      maxFrameBytes: maxFrame,
      maxBurst: this.burst,
      rxChecksumOffload: false,
      txChecksumOffload: false,
      linkGbps: device.linkGbps > 0 ? device.linkGbps : Infinity,
    });
  }

  private readonly areas: Pick<DpdkHandoff, 'rxArea' | 'txArea' | 'rxLens' | 'txLens'>;
  /** Set once the bursts were handed to another thread: this one must not call them any more. */
  private handedOff = false;

  /**
   * Hands this port's bursts to another thread (`DpdkPort.attach` there). From now on only that
   * thread receives and transmits; this one keeps the control operations (stats, stop, close).
   */
  handoff(): DpdkHandoff {
    this.assertOpen();
    if (this.attachedTo !== null)
      throw new Error(`dpdk ${this.device.name}: an attached port cannot be handed off`);
    if (this.wakeup !== null)
      throw new Error(`dpdk ${this.device.name}: clear the rx wakeup before a handoff`);
    this.handedOff = true;
    return {
      device: this.device,
      mac: this.macAddr,
      maxTxFrame: this.maxTxFrame,
      ...this.areas,
      ...(this.opts.addonPath === undefined ? {} : { addonPath: this.opts.addonPath }),
    };
  }

  /**
   * Makes the calling thread an EAL lcore (rte_thread_register) unless it is one already (the
   * thread that initialised EAL is the main lcore); returns its lcore id. A NIC core that runs
   * this port's bursts calls it, so DPDK knows the thread (per-lcore mempool caches).
   */
  registerThread(): number {
    return this.addon.registerThread();
  }

  /** Gives back what `registerThread` took on this thread (before the thread ends). */
  unregisterThread(): boolean {
    return this.addon.unregisterThread();
  }

  get mac(): number {
    return this.macAddr;
  }

  /** The ethdev name, e.g. net_af_packet0. */
  get name(): string {
    return this.device.name;
  }

  configure(conf: PortConfiguration): void {
    const frame = conf.mtu + ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES;
    if (!(Number.isInteger(conf.mtu) && conf.mtu >= 68 && frame <= this.capabilities.maxFrameBytes))
      throw new RangeError(
        `dpdk: mtu ${conf.mtu} does not fit the port's ${this.capabilities.maxFrameBytes} B frames`,
      );
    this.macAddr = conf.mac;
    this.maxTxFrame = frame;
  }

  async start(): Promise<void> {
    this.assertOpen();
    if (this.attachedTo !== null) {
      this.started = true; // the device is the opener's: it started it
      return;
    }
    this.addon.start(this.id);
    this.started = true;
    if (this.wakeup) {
      this.addon.refWakeup(this.id, true);
      this.addon.arm(this.id);
    }
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.started = false;
    if (this.attachedTo !== null) return;
    this.addon.stop(this.id);
    this.addon.refWakeup(this.id, false);
  }

  /** Stops and unplugs the device (a net_tap's interface disappears); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.started = false;
    this.closed = true;
    if (this.attachedTo === null) this.addon.close(this.id);
  }

  stats(): PortStats {
    if (this.closed) return this.lastStats();
    const s = this.addon.stats(this.id);
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      drops: {
        'rx-missed': s.imissed,
        'rx-error': s.ierrors,
        'rx-no-mbuf': s.rxNoMbuf,
        'rx-oversize': s.rxOversize,
        'rx-buffer-too-small': this.dropRxBufferTooSmall,
        'tx-error': s.oerrors,
        'tx-no-mbuf': s.txNoMbuf,
        'tx-runt': this.dropTxRunt,
        'tx-oversize': this.dropTxOversize,
        // net_af_xdp: what the kernel dropped on the port's XDP socket (XDP_STATISTICS).
        ...(s.xdp
          ? {
              'xdp-rx-dropped': s.xdp.rxDropped,
              'xdp-rx-invalid': s.xdp.rxInvalidDescs,
              'xdp-rx-ring-full': s.xdp.rxRingFull,
              'xdp-tx-invalid': s.xdp.txInvalidDescs,
            }
          : {}),
      },
    };
  }

  setRxWakeup(wakeup: (() => void) | null): void {
    if (this.closed) return;
    // The addon's wakeup calls back into the opener's event loop; a thread running the bursts
    // of a handed-off port polls (a NIC core sleeping on its doorbell, with a timeout).
    if (this.attachedTo !== null || this.handedOff) {
      if (wakeup === null) return;
      throw new Error(`dpdk ${this.device.name}: no rx wakeup on a handed-off port; poll it`);
    }
    this.wakeup = wakeup;
    this.addon.setWakeup(this.id, wakeup === null ? null : this.onWake);
    if (wakeup === null) return;
    this.addon.refWakeup(this.id, this.started);
    if (this.started) this.addon.arm(this.id);
  }

  rxBurst(bufs: PacketBuffer[], max: number): number {
    if (!this.started) return 0;
    if (this.handedOff) throw this.handedOffError();
    const n = Math.min(max, bufs.length, this.burst);
    const got = this.addon.rxBurst(this.id, n);
    if (got < n && this.wakeup !== null) this.addon.arm(this.id);
    if (got === 0) return 0;
    const now = this.opts.clock.now();
    let out = 0;
    for (let i = 0; i < got; i++) {
      const len = this.rxLens[i]!;
      const b = bufs[out]!;
      if (len > b.data.length) {
        this.dropRxBufferTooSmall++;
        continue;
      }
      copyFrame(this.rxSlots[i]!, b.data, len);
      b.length = len;
      b.timestampNs = now;
      this.rxPackets++;
      this.rxBytes += len;
      out++;
    }
    return out;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    if (!this.started) return 0;
    if (this.handedOff) throw this.handedOffError();
    const n = Math.min(count, bufs.length);
    let i = 0;
    while (i < n) {
      // Stage one native burst of consecutive valid frames. A frame that can never be sent is
      // dropped (counted, and accepted) only at the head of a batch, so a partial send below
      // leaves no counted frame for the caller to offer again.
      let staged = 0;
      for (; i < n && staged < this.burst; i++) {
        const b = bufs[i]!;
        const runt = b.length < ETHERNET_HEADER_BYTES;
        if (runt || b.length > this.maxTxFrame || b.length > b.data.length) {
          if (staged > 0) break;
          if (runt) this.dropTxRunt++;
          else this.dropTxOversize++;
          continue;
        }
        copyFrame(b.data, this.txSlots[staged]!, b.length);
        this.txLens[staged] = b.length;
        staged++;
      }
      if (staged === 0) return i;
      const sent = this.addon.txBurst(this.id, staged);
      for (let k = 0; k < sent; k++) {
        this.txPackets++;
        this.txBytes += this.txLens[k]!;
      }
      // The device took the first `sent` staged frames; the caller retries from the next one.
      if (sent < staged) return i - staged + sent;
    }
    return n;
  }

  private handedOffError(): Error {
    return new Error(`dpdk ${this.device.name}: its bursts were handed to another thread`);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`dpdk ${this.device.name}: port is closed`);
  }

  private lastStats(): PortStats {
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      drops: {},
    };
  }
}
