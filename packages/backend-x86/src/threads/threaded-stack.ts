/**
 * A TCP stack whose data path runs on NIC cores (worker threads) while the host control plane
 * and the application stay on this thread: FlexTOE's split, NIC vs host, with shared memory in
 * between. The control plane is core's `ControlPlane` on a `RemoteDataPath`; the application's
 * connections are core's `Connection`s whose handlers fire on this thread.
 *
 * The host loop (one round: pump the port bridge, gather exceptions and flow events, run the
 * control plane, dispatch notifications) runs on the event loop while there is work, and sleeps
 * on the host doorbell (Atomics.waitAsync) when there is none; a NIC core rings it after every
 * round that produced something. `poll()` runs one round in lockstep instead: it lets every core
 * finish what it was given before returning, so the core's virtual-time suites can drive the
 * threaded stack on a ManualClock exactly as they drive the inline one.
 */
import { MessageChannel } from 'node:worker_threads';
import {
  type ModuleConfig,
  ControlPlane,
  ipv4FromString,
  L4Kind,
  Notification,
  ParseFlag,
  ParsedFrame,
  parseFrame,
  hash4,
  DataPathCounters,
  WIRE_ERROR_COUNT,
  Request,
  TcpError,
  resolveStackOptions,
  WireError,
  type BackendStack,
  type Clock,
  type Connection,
  type ConnectionHandlers,
  type ConnectionHost,
  type DataPathStats,
  type Listener,
  type NicPort,
  type PacketBuffer,
  type StackStats,
  type TcpStackOptions,
  type Timers,
  type DmaLimits,
} from '@flextoe/core';
import type { PinResult } from './affinity.js';
import { CoreLink, type CoreQueueSizes, type WorkerLink } from './core-link.js';
import { Doorbell } from './doorbell.js';
import type { DmaFault } from './dma-core.js';
import { DEFAULT_DMA_LIMITS, ringEntriesFor } from './thread-dma.js';
import { HostCtl, TX_ROOM_BURSTS, type NicCoreInit, type OwnPort } from './nic-protocol.js';
import { DEFAULT_HOST_SPIN_US } from './placement.js';
import { PortBridge } from './port-bridge.js';
import { RemoteDataPath } from './remote-data-path.js';
import { HostClock, newOrigin, type HrOrigin } from './shared-clock.js';
import { SharedMemoryTiers } from './shared-memory.js';
import { nicWorkerEntry } from './worker-entry.js';
import { X86Cores } from './x86-cores.js';

export interface ThreadedStackParams {
  readonly options: TcpStackOptions;
  /**
   * The device, opened by this thread: bridged to the cores (this thread moves its frames), or,
   * with `ownPort`, handed to the one NIC core, which runs its bursts itself.
   */
  readonly port: NicPort;
  /**
   * `port`'s bursts handed to the NIC core (a DPDK port: `DpdkPort.handoff()`); the core then
   * registers as a DPDK lcore. Needs exactly one core and no pre-processing replicas.
   */
  readonly ownPort?: OwnPort;
  /**
   * The port is a DPDK device the host opened (EAL initialised here): NIC cores register as DPDK
   * lcores too when they bridge (with `ownPort` they always do).
   */
  readonly dpdkLcores?: boolean;
  /** User modules (config.modules): every NIC core loads and installs them on its own thread. */
  readonly modules?: readonly ModuleConfig[];
  /** The NIC cores (or how many): flow groups are placed on them (group g -> core g mod N). */
  readonly units: X86Cores | number;
  /** Shared memory tiers (the container's); default: new ones. */
  readonly tiers?: SharedMemoryTiers;
  /** Empty rounds a core spins before it sleeps (0: sleep at once). */
  readonly spinRounds?: number;
  /**
   * The host clock and timers. A `HostClock` (the container's, the default) is the wall clock,
   * shared with the cores by its origin; any other clock (a ManualClock: the core's
   * virtual-time suites) makes the stack run in lockstep, driven by `poll()`.
   */
  readonly time?: { readonly clock: Clock; readonly timers: Timers };
  /**
   * Microseconds the host loop keeps polling after its last work while a NIC core is awake,
   * before it sleeps on its doorbell (default `DEFAULT_HOST_SPIN_US`; 0: sleep at once).
   */
  readonly hostSpinUs?: number;
  /** Releases the port when the stack closes. */
  readonly release?: () => void | Promise<void>;
  /** A name for the worker threads (debuggers, `top -H`). */
  readonly name?: string;
  /** Notification ring entries per core (default: the context queue size the options give). */
  readonly contextEntries?: number;
  /** In-flight bound per direction of each core's DMA replicas (default `DEFAULT_DMA_LIMITS`). */
  readonly dmaLimits?: DmaLimits;
  /** Test only: make the DMA replicas a broken engine (negative controls; see `DmaFault`). */
  readonly dmaFault?: DmaFault;
}

/** What `stats()` adds for x86: the NIC cores, the bridge. */
export interface ThreadedStackStats extends StackStats {
  x86: {
    cores: {
      index: number;
      tid: number;
      /** The DPDK lcore id the core registered as (a DPDK port of its own), or -1. */
      lcore: number;
      counters: unknown;
      tiers: unknown;
      port: unknown;
      /** The core's DMA engine with DMA replicas (`ThreadDmaCounters`), or null. */
      dma: unknown;
    }[];
    /** Pre-processing replicas: frames validated and dropped, CPU ms when last idle. */
    pre: { index: number; core: number; tid: number; validated: number; dropped: number; cpuMs: number }[];
    /**
     * Post-processing replicas: TCP frames whose checksum they filled, frames passed untouched
     * (ARP), CPU ms when last idle.
     */
    post: { index: number; core: number; tid: number; finished: number; passed: number; cpuMs: number }[];
    /**
     * DMA replicas: payload copies they completed (to host RX rings, from host TX rings), bytes
     * copied, CPU ms when last idle. Each core's engine counts its side (`cores[i].dma`).
     */
    dma: {
      index: number;
      core: number;
      tid: number;
      copies: number;
      toHost: number;
      fromHost: number;
      bytes: number;
      cpuMs: number;
    }[];
    /** Frames this thread moved between the port and the cores (zeroes with `ownPort`). */
    bridge: PortBridge['counters'];
    /** The host loop: rounds run, rounds that only polled for a core's answer, sleeps. */
    host: HostLoopCounters;
    overflowedCommands: number;
    pinned: PinResult[] | null;
  };
}

export interface HostLoopCounters {
  rounds: number;
  /** Idle rounds run again (not slept) because a core was awake: see `hostSpinUs`. */
  spins: number;
  /** Times the host loop slept on its doorbell (each costs a wakeup to end). */
  sleeps: number;
}

const NO_BRIDGE: PortBridge['counters'] = { rxFrames: 0, txFrames: 0, txRetries: 0, rxRingFull: 0 };

const QUEUES: Omit<CoreQueueSizes, 'frameShape'> = {
  commandEntries: 16384,
  eventEntries: 4096,
  slowFrameEntries: 256,
};
/** Free notification slots below which a core may be waiting for the host (nic-core.ts). */
const NOTIFICATION_LOW_WATER = 1024;
/** Frames per bridge ring: as deep as the wire's receive queue. */
const BRIDGE_FRAMES = 1024;

export class ThreadedStack implements BackendStack, ConnectionHost {
  readonly backend = 'x86' as const;
  readonly timeBase = 'wall' as const;
  readonly localIp: number;
  readonly control: ControlPlane;
  readonly dataPath: RemoteDataPath;
  readonly cores: readonly CoreLink[];
  /** Every NIC thread: the cores, then their pre-processing, post-processing and DMA replicas. */
  readonly threads: readonly WorkerLink[];
  /** Moves frames between the port and the cores; null when the core runs the port (`ownPort`). */
  readonly bridge: PortBridge | null;
  readonly clock: Clock;
  private readonly hostBell: Doorbell;
  private readonly manualTime: Float64Array | null;
  private readonly groupCore: number[];
  /**
   * While true the host does not drain the notification rings: the application's context
   * queues fill as with an application that stops reading (the NIC cores must then wait, never
   * drop a notification). For flow-control tests and experiments.
   */
  holdNotifications = false;
  /** Pinning results per NIC core when the configuration asked for it (backend.ts). */
  pinned: PinResult[] | null = null;
  private readonly hostSpinUs: number;
  private readonly hostCounters: HostLoopCounters = { rounds: 0, spins: 0, sleeps: 0 };
  /** performance.now() of the last host round that did something. */
  private lastWorkMs = 0;
  private running = false;
  private lastPollNs = -1;
  private scheduled = false;
  private asleep = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  /** Builds the stack and starts its NIC cores; resolves once every core is ready. */
  static async create(params: ThreadedStackParams): Promise<ThreadedStack> {
    const s = new ThreadedStack(params);
    try {
      s.spawnCores();
      for (const t of s.threads) await t.ready();
      // A thread that exits while the host sleeps must still be noticed: wake the loop.
      for (const t of s.threads) void t.exit.then(() => s.kick());
    } catch (e) {
      s.control.close(); // its timers must not keep the process alive
      await s.stopCores();
      throw e;
    }
    return s;
  }

  /**
   * As `create`, blocking this thread until the cores are ready (Atomics.wait): for lockstep
   * kits that build a stack in a synchronous constructor. Must not be used where the event loop
   * has to keep running meanwhile.
   */
  static createSync(params: ThreadedStackParams): ThreadedStack {
    const s = new ThreadedStack(params);
    try {
      s.spawnCores();
      for (const t of s.threads) t.readySync();
    } catch (e) {
      s.control.close();
      for (const t of s.threads) void t.worker?.terminate();
      throw e;
    }
    return s;
  }

  private readonly hostCtlBuffer = new SharedArrayBuffer(HostCtl.words * 4);
  private readonly origin: HrOrigin;
  private readonly manualBuffer: SharedArrayBuffer | null;
  private readonly regionPorts: MessageChannel[] = [];

  private constructor(private readonly params: ThreadedStackParams) {
    const port = params.port;
    const resolved = resolveStackOptions(params.options, port.capabilities.maxFrameBytes);
    this.localIp = resolved.localIp;
    const units = typeof params.units === 'number' ? new X86Cores(params.units) : params.units;
    const n = units.nicCores;
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new RangeError(`x86 cores is ${n} but a threaded stack needs 1 to 64 NIC cores`);
    const groups = resolved.dataPath.flowGroups;
    this.groupCore = X86Cores.groupCores(units.place(units.graphFor(groups)), groups);
    this.hostBell = new Doorbell(new Int32Array(this.hostCtlBuffer), HostCtl.bell);
    const given = params.time?.clock;
    const clock: Clock = given ?? new HostClock(newOrigin());
    const timers: Timers = params.time?.timers ?? (clock as HostClock);
    this.clock = clock;
    const wall = clock instanceof HostClock;
    this.origin = wall ? clock.origin : newOrigin();
    this.manualBuffer = wall ? null : new SharedArrayBuffer(8);
    this.manualTime = this.manualBuffer === null ? null : new Float64Array(this.manualBuffer);
    if (this.manualTime !== null) this.manualTime[0] = clock.now();
    const sizes: CoreQueueSizes = {
      ...QUEUES,
      frameShape: { capacity: BRIDGE_FRAMES, maxFrameBytes: port.capabilities.maxFrameBytes },
    };
    const k = units.preReplicas;
    const kPost = units.postReplicas;
    const kDma = units.dmaReplicas;
    if (params.ownPort !== undefined && (n !== 1 || k !== 0 || kPost !== 0 || kDma !== 0))
      throw new RangeError(
        `a port handed to a NIC core needs exactly one core and no pre-processing, post-processing or DMA replicas (${n} cores, ${k} pre, ${kPost} post and ${kDma} DMA replicas each): one receive queue, no RSS`,
      );
    const bridged = params.ownPort === undefined;
    this.dmaLimits = params.dmaLimits ?? DEFAULT_DMA_LIMITS;
    const dmaRing = kDma > 0 ? ringEntriesFor(this.dmaLimits, kDma) : 1;
    this.cores = Array.from(
      { length: n },
      (_, i) => new CoreLink(i, sizes, bridged, k, i * k, kPost, i * kPost, kDma, i * kDma, dmaRing),
    );
    this.threads = [
      ...this.cores,
      ...this.cores.flatMap((c) => c.pre),
      ...this.cores.flatMap((c) => c.post),
      ...this.cores.flatMap((c) => c.dma),
    ];
    const tiers = params.tiers ?? new SharedMemoryTiers(1);
    for (let i = 0; i < n; i++) this.regionPorts.push(new MessageChannel());
    this.dataPath = new RemoteDataPath(
      // With pre-processing replicas the cores get frames whose checksums were verified.
      k > 0
        ? {
            ...resolved.dataPath,
            parseFlags: resolved.dataPath.parseFlags | ParseFlag.SkipIpv4Checksum | ParseFlag.SkipTcpChecksum,
          }
        : resolved.dataPath,
      port.mac,
      tiers,
      this.cores,
      this.groupCore,
      clock,
      (region) => {
        for (const ch of this.regionPorts) ch.port1.postMessage(region);
      },
    );
    this.bridge = bridged
      ? new PortBridge(
          port,
          this.cores.map((c) => c.bridge!),
          (f) => this.steer(f),
          TX_ROOM_BURSTS * resolved.dataPath.burst,
        )
      : null;
    this.control = new ControlPlane(
      resolved.control,
      this.dataPath,
      clock,
      // A control-plane timer changes state the next round acts on: each one kicks the loop.
      {
        schedule: (delayNs, fn) =>
          timers.schedule(delayNs, () => {
            fn();
            this.kick();
          }),
        cancel: (handle) => timers.cancel(handle),
      },
      this,
    );
    this.resolvedContextEntries = params.contextEntries ?? resolved.contextEntries;
    this.hostSpinUs = params.hostSpinUs ?? DEFAULT_HOST_SPIN_US;
  }
  private readonly resolvedContextEntries: number;
  private readonly dmaLimits: DmaLimits;

  private spawnCores(): void {
    const params = this.params;
    const entry = nicWorkerEntry();
    const regions = this.dataPath.tiers.export();
    const port = params.port;
    const spinRounds = params.spinRounds ?? 64;
    const name = params.name ?? 'flextoe';
    this.cores.forEach((core, i) => {
      const init: NicCoreInit = {
        role: 'nic',
        ...core.initFields(),
        dataPath: this.dataPath.opts,
        mac: port.mac,
        // With post replicas the core's port view fills TCP checksums on transmit (they do it):
        // post-processing leaves the pseudo-header sum and never reads the payload. With DMA
        // replicas too, or the transmit copies could not overlap (core waits for each copy before
        // summing its payload); without post replicas the port view then fills them at txBurst.
        capabilities:
          core.post.length > 0 || core.dma.length > 0
            ? { ...port.capabilities, txChecksumOffload: true }
            : port.capabilities,
        fillTxChecksums:
          core.dma.length > 0 && core.post.length === 0 && !port.capabilities.txChecksumOffload,
        dma:
          core.dma.length > 0
            ? {
                replicas: core.dma.map((d) => d.link),
                ringEntries: core.dma[0]!.ringEntries,
                limits: this.dmaLimits,
              }
            : null,
        regions,
        hostCtl: this.hostCtlBuffer,
        ownPort: params.ownPort ?? null,
        dpdkLcore: params.dpdkLcores === true,
        modules: params.modules ?? [],
        clock: { origin: this.origin, manual: this.manualBuffer },
        contextEntries: this.resolvedContextEntries,
        spinRounds,
      };
      const regionPort = this.regionPorts[i]!.port2;
      const dmaPorts = core.dma.map((d) => d.memoryChannel.port1);
      core.spawn(entry, { init, regionPort, dmaPorts }, [regionPort, ...dmaPorts], `${name}-nic${i}`);
      for (const p of core.pre)
        p.spawn(entry, { init: p.init(core.controlBuffer, spinRounds) }, [], `${name}-pre${p.index}`);
      for (const p of core.post)
        p.spawn(entry, { init: p.init(this.hostCtlBuffer, spinRounds) }, [], `${name}-post${p.index}`);
      for (const d of core.dma) {
        const memoryPort = d.memoryChannel.port2;
        d.spawn(
          entry,
          { init: d.init(i, spinRounds, params.dmaFault ?? null), dmaPorts: [memoryPort] },
          [memoryPort],
          `${name}-dma${d.index}`,
        );
      }
    });
  }

  /** RSS: the core owning a received frame's flow group (hash of its 4-tuple). ARP -> core 0. */
  private readonly steerParsed = new ParsedFrame();
  private steer(frame: PacketBuffer): number {
    const p = this.steerParsed;
    const flags = ParseFlag.SkipIpv4Checksum | ParseFlag.SkipTcpChecksum;
    if (parseFrame(frame.data, 0, frame.length, p, flags) !== WireError.None || p.l4 !== L4Kind.Tcp) return 0;
    return this.groupCore[
      hash4(p.ipv4.dst, p.ipv4.src, p.tcp.dstPort, p.tcp.srcPort) % this.groupCore.length
    ]!;
  }

  // ---------------------------------------------------------------- application API

  listen(port: number, onConnection: (c: Connection) => void, backlog = 511): Listener {
    this.assertOpen();
    return this.control.listen(port, backlog, (c) => {
      onConnection(c);
      this.kick();
    });
  }

  unlisten(l: Listener): void {
    this.control.unlisten(l);
  }

  connect(
    remoteIp: string | number,
    remotePort: number,
    handlers: ConnectionHandlers = {},
    localPort = 0,
  ): Connection {
    this.assertOpen();
    const ip = typeof remoteIp === 'number' ? remoteIp : ipv4FromString(remoteIp);
    const c = this.control.connect(ip, remotePort, handlers, localPort);
    this.kick();
    return c;
  }

  // ConnectionHost: requests go to the NIC core in order with the control plane's (one ring).
  appended(c: Connection, n: number): void {
    this.dataPath.applyRequest(Request.TxAppended, c.flowId, n);
  }

  consumed(c: Connection, n: number): void {
    if (c.flowId >= 0) this.dataPath.applyRequest(Request.RxConsumed, c.flowId, n);
  }

  shutdown(c: Connection): void {
    // The Close request follows the appends already in the command ring: FIN after the data.
    this.control.shutdown(c);
    this.kick();
  }

  abort(c: Connection): void {
    this.control.abort(c);
    this.kick();
  }

  // ---------------------------------------------------------------- the host loop

  /**
   * One host round. Without `start()` (lockstep), every core first finishes what it was given,
   * on the manual clock's current time. Returns the work done (0 = idle).
   */
  poll(): number {
    let work = 0;
    for (const c of this.cores) if (c.overflowed > 0) work += c.overflowed - c.flush();
    if (!this.running) {
      // Lockstep: each core with new input (or pacing, when time moved) runs until idle.
      const now = this.clock.now();
      const moved = now !== this.lastPollNs;
      this.lastPollNs = now;
      if (this.manualTime !== null) this.manualTime[0] = now;
      if (this.bridge !== null) work += this.bridge.pump();
      for (const c of this.cores) {
        // Replicas first: what they finish is the core's new input.
        let fed = false;
        for (const p of c.pre)
          if (p.needsSync()) {
            p.sync();
            fed = true;
          }
        if (fed || c.needsSync(now, moved)) c.sync();
        // Then what the core transmitted: its post replicas finish it for the bridge.
        for (const p of c.post) if (p.needsSync()) p.sync();
      }
    }
    if (this.bridge !== null) work += this.bridge.pump();
    // Notifications first: a flow event is applied only after the notifications published before
    // it (gather's gate), so the application has its last bytes before a FIN closes it.
    work += this.dispatchNotifications();
    work += this.dataPath.gather();
    work += this.control.poll();
    work += this.releaseEnds();
    this.checkCores();
    return work;
  }

  /** Connections whose FIN notification waits for the control plane to see their FIN. */
  private readonly pendingEnds: Connection[] = [];

  /** onEnd for connections whose FinReceived the control plane has now applied. */
  private releaseEnds(): number {
    const p = this.pendingEnds;
    let n = 0;
    for (let i = 0; i < p.length;) {
      const c = p[i]!;
      if (c.rxEnded || !this.control.byId.has(c.id)) {
        p.splice(i, 1);
        n++;
        c.handlers.onEnd?.(c);
      } else i++;
    }
    return n;
  }

  /** NIC notifications -> connection state -> application callbacks, for every core. */
  private dispatchNotifications(): number {
    let n = 0;
    for (const core of this.cores) n += this.dispatchFrom(core);
    return n;
  }

  private dispatchFrom(core: CoreLink): number {
    const ring = core.notifications;
    if (ring === null || this.holdNotifications) return 0;
    const d = ring.data;
    // A core stops taking work while its notification ring is nearly full: wake it once there is room.
    const wasLow = ring.capacity - ring.size < NOTIFICATION_LOW_WATER;
    let n = 0;
    for (;;) {
      const w = ring.peek();
      if (w < 0) break;
      const kind = d[w]! as Notification;
      const c = this.control.byId.get(d[w + 1]!);
      const count = d[w + 2]!;
      ring.consume();
      core.notificationsTaken = (core.notificationsTaken + 1) | 0;
      n++;
      if (c === undefined) continue;
      switch (kind) {
        case Notification.RxData:
          c.readableLength += count;
          c.handlers.onReadable?.(c);
          break;
        case Notification.TxFreed:
          c.txQueued -= count;
          c.handlers.onWritable?.(c);
          break;
        case Notification.Fin:
          // The control plane sees the FIN first (CLOSE-WAIT before the application's onEnd, as
          // inline): its FinReceived event follows this notification.
          if (!c.rxEnded) {
            this.dataPath.gather();
            this.control.poll();
          }
          if (c.rxEnded || !this.control.byId.has(c.id)) c.handlers.onEnd?.(c);
          else this.pendingEnds.push(c); // the event is not published yet: releaseEnds delivers it
          break;
      }
    }
    if (n > 0 && wasLow) {
      core.dirty = true;
      core.bell.ring();
    }
    return n;
  }

  /** Frames the cores queued for the bridge to transmit. */
  private get txPending(): number {
    return this.bridge === null ? 0 : this.bridge.txPending;
  }

  /** True when the queue managers hold flows waiting for their rate. */
  get pacing(): boolean {
    for (const c of this.cores) if (c.qmWaiting > 0) return true;
    return false;
  }

  /** Runs the host loop on the event loop (real time) until `stop()` or `close()`. */
  start(): void {
    if (this.running) return;
    if (this.manualTime !== null) throw new Error('a lockstep (manual clock) stack is driven by poll()');
    this.running = true;
    // A port the core runs is polled there; a bridged one wakes this loop when frames arrive.
    if (this.bridge !== null) this.params.port.setRxWakeup(() => this.kick());
    this.kick();
  }

  stop(): void {
    this.running = false;
    if (this.bridge !== null) this.params.port.setRxWakeup(null);
  }

  kick(): void {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.round);
  }

  private readonly round = (): void => {
    this.scheduled = false;
    if (!this.running) return;
    this.hostCounters.rounds++;
    let work: number;
    try {
      work = this.poll();
    } catch (e) {
      this.fail(e);
      return;
    }
    const now = performance.now();
    if (work > 0 || this.txPending > 0) {
      this.lastWorkMs = now;
      this.kick();
    } else if ((now - this.lastWorkMs) * 1000 < this.hostSpinUs && this.coreAwake()) {
      // A core is working on what this thread gave it (or was just rung): its answer is
      // microseconds away. Polling for it on the event loop (setImmediate: I/O still runs) beats
      // sleeping: waking this thread from Atomics.waitAsync costs the core a futex system call
      // and this thread a task hop through V8 and libuv, and an echo round trip takes four such
      // core -> host hand-offs (scripts/rpc-latency.ts: the spin doubles single-connection RPCs).
      // Bounded by hostSpinUs after the last work, and only while a core is awake, so an idle
      // stack still sleeps.
      this.hostCounters.spins++;
      this.kick();
    } else this.idle();
  };

  /** True while some NIC core is awake: running, spinning, or rung and about to run. */
  private coreAwake(): boolean {
    for (const c of this.cores) if (!c.bell.isSleeping) return true;
    return false;
  }

  /**
   * A NIC thread failed (an exception on it, or it exited): the data path is gone. The stack
   * stops and every connection ends with the reason, rather than hanging or taking the process
   * down; `listen`/`connect` then throw it, and `close()` still releases everything.
   */
  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.stop();
    for (const c of [...this.control.connections.values()])
      this.control.abort(c, new TcpError('ECONNRESET', this.failure.message));
  }

  /** Why the stack stopped working (a NIC thread failed), or null. */
  failure: Error | null = null;

  /** Nothing to do: sleep on the host doorbell until a core rings it (or the port, a timer). */
  private idle(): void {
    if (this.asleep) return;
    const seq = this.hostBell.announce();
    if (this.hasOutput()) {
      this.hostBell.cancel();
      this.kick();
      return;
    }
    this.asleep = true;
    this.hostCounters.sleeps++;
    void this.hostBell.sleepAsync(seq).then(() => {
      this.asleep = false;
      this.kick();
    });
  }

  /** Something a core published that the host has not taken. */
  private hasOutput(): boolean {
    if (this.dataPath.pending || this.txPending > 0) return true;
    for (const c of this.cores) {
      if (c.notifications !== null && c.notifications.size > 0) return true;
      if (c.overflowed > 0) return true;
    }
    return false;
  }

  private checkCores(): void {
    for (const c of this.threads)
      if (c.failure !== null && !this.closed) throw new Error(`x86 ${c.what} failed: ${c.failure.message}`);
  }

  // ---------------------------------------------------------------- stats, close

  stats(): ThreadedStackStats {
    const per = this.cores.map((c) => {
      const s = (c.stats() ?? {}) as {
        dataPath?: DataPathStats;
        core?: unknown;
        tiers?: unknown;
        port?: unknown;
        dma?: unknown;
      };
      return { index: c.index, tid: c.tid, s };
    });
    // Zeroes where no core could answer (it never started, or died before its first snapshot).
    const dataPath = per
      .map((p) => p.s.dataPath)
      .filter((d): d is DataPathStats => d !== undefined)
      .reduce((a, b) => sumStats(a, b) as DataPathStats, new DataPathCounters(WIRE_ERROR_COUNT).snapshot());
    return {
      dataPath,
      control: { ...this.control.counters },
      connections: this.control.connections.size,
      x86: {
        cores: per.map((p) => ({
          index: p.index,
          tid: p.tid,
          lcore: this.cores[p.index]!.lcore,
          counters: p.s.core,
          tiers: p.s.tiers,
          port: p.s.port,
          dma: p.s.dma ?? null,
        })),
        pre: this.cores.flatMap((c) =>
          c.pre.map((p) => ({ index: p.index, core: c.index, tid: p.tid, ...p.counters })),
        ),
        post: this.cores.flatMap((c) =>
          c.post.map((p) => ({ index: p.index, core: c.index, tid: p.tid, ...p.counters })),
        ),
        dma: this.cores.flatMap((c) =>
          c.dma.map((d) => ({ index: d.index, core: c.index, tid: d.tid, ...d.counters })),
        ),
        bridge: this.bridge === null ? { ...NO_BRIDGE } : { ...this.bridge.counters },
        host: { ...this.hostCounters },
        overflowedCommands: this.cores.reduce((n, c) => n + c.overflowed, 0),
        pinned: this.pinned,
      },
    };
  }

  /** Linux thread ids of the NIC cores (for pinning and per-thread CPU time). */
  get coreThreadIds(): number[] {
    return this.cores.map((c) => c.tid);
  }

  /** Linux thread ids of every NIC thread: the cores, then their pre, post and DMA replicas. */
  get threadIds(): number[] {
    return this.threads.map((t) => t.tid);
  }

  /** Aborts every connection, stops the NIC cores (their threads end) and releases the port. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.closed) {
        this.closed = true;
        this.control.close();
        // Let the cores send the RSTs, then stop them; pump what they transmitted.
        await this.stopCores();
        // Every frame the cores (and post replicas) finished goes out, as far as the port takes them.
        for (let i = 0; i < 64 && this.bridge !== null && this.bridge.pump() > 0; i++);
        this.dataPath.gather();
        this.control.poll();
      }
      this.stop();
      this.hostBell.ring(); // settles a pending waitAsync
      for (const ch of this.regionPorts) ch.port1.close();
      await this.params.release?.();
    })();
    return this.closing;
  }

  private async stopCores(): Promise<void> {
    // Cores first (they flush their last frames, which post replicas finish and the bridge keeps
    // pumping), then replicas (a post replica finishes what it holds before it leaves).
    const pump = setInterval(() => this.bridge?.pump(), 1);
    try {
      await Promise.all(this.cores.map((c) => c.stop()));
      // DMA replicas after their cores: a core waits for every copy it submitted.
      await Promise.all(this.cores.flatMap((c) => [...c.pre, ...c.post, ...c.dma].map((p) => p.stop())));
    } finally {
      clearInterval(pump);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('stack is closed');
    if (this.failure !== null) throw this.failure;
  }
}

/** Adds two counter trees (numbers summed, nested records merged). */
export function sumStats(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const out: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      out[k] = sumStats((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    return out;
  }
  return a;
}
