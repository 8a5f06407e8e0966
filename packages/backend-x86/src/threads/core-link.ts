/**
 * The host thread's end of one NIC core: the worker thread, its control block, and the rings
 * between them. Commands are pushed in issue order; when the command ring (or the frame ring a
 * command needs) is full they wait in a host-side overflow list, flushed before anything newer,
 * so a burst of requests is delayed, never reordered or lost.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { PacketBuffer, SpscRing } from '@flextoe/core';
import { Doorbell, waitAsync } from './doorbell.js';
import { FrameRing, type FrameRingShape } from './frame-ring.js';
import {
  COMMAND_WORDS,
  Ctl,
  EVENT_WORDS,
  NicCommand,
  STATS_BYTES,
  type NicCoreInit,
  type NicCoreReady,
} from './nic-protocol.js';
import { PostCtl, type PostCoreInit } from './post-core.js';
import { PreCtl, type PreCoreInit } from './pre-core.js';
import {
  DESCRIPTOR_WORDS,
  DmaCtl,
  descriptorRingBytes,
  type DmaCoreInit,
  type DmaFault,
} from './dma-core.js';
import type { DmaReplicaLink } from './thread-dma.js';
import type { BridgedCore, PostSource, PreTarget } from './port-bridge.js';
import { StagedRing } from './staged-ring.js';
import type { WorkerEntry } from './worker-entry.js';

/** Workers started and not yet exited, process-wide (tests assert none leak). */
let live = 0;
export function liveNicWorkers(): number {
  return live;
}

/** Words every NIC thread's control block has at the same place (nic-protocol `Ctl`). */
const W = { bell: Ctl.bell, syncReq: Ctl.syncReq, syncAck: Ctl.syncAck, ready: Ctl.ready } as const;

/**
 * The host's end of one NIC thread (a NIC core or a pre-processing replica): starting it,
 * waiting until it is ready, lockstep syncs, stopping it, and noticing when it failed.
 */
export abstract class WorkerLink {
  readonly ctl: Int32Array;
  readonly bell: Doorbell;
  tid = -1;
  worker: Worker | null = null;
  /** Set when the worker failed (an exception on its thread, or it exited early). */
  failure: Error | null = null;
  exited = false;
  /** Lockstep syncs so far. */
  syncs = 0;
  /** The host gave the thread work since the last `sync` (lockstep hosts sync only then). */
  dirty = true;
  protected exitPromise: Promise<void> | null = null;
  private readyPort: MessagePort | null = null;
  private isReady = false;

  constructor(
    readonly what: string,
    protected readonly ctlBuffer: SharedArrayBuffer,
  ) {
    this.ctl = new Int32Array(ctlBuffer);
    this.bell = new Doorbell(this.ctl, W.bell);
  }

  /**
   * Starts the worker thread with `workerData` (plus the ready channel). The thread builds what
   * it runs, posts its ready message and then sets the control block's ready word, so the host
   * can wait for it either way: `ready()` on the event loop, `readySync()` blocking (lockstep
   * test kits build stacks in a synchronous constructor).
   */
  spawn(entry: WorkerEntry, workerData: object, transfer: MessagePort[], name: string): void {
    const channel = new MessageChannel();
    this.readyPort = channel.port1;
    const options = {
      workerData: { ...workerData, readyPort: channel.port2 },
      transferList: [...transfer, channel.port2],
      name,
      ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
    };
    const w =
      entry.eval === null
        ? new Worker(entry.url, options)
        : new Worker(entry.eval, { ...options, eval: true });
    this.worker = w;
    live++;
    this.exitPromise = new Promise((resolve) => {
      w.once('exit', (code) => {
        live--;
        this.exited = true;
        if (code !== 0 && this.failure === null)
          this.failure = new Error(`${this.what} exited with code ${code}`);
        this.readyPort?.close();
        resolve();
      });
    });
    w.on('error', (err) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Resolves once the thread is ready; rejects if it failed or exited first. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ready: boolean;
      try {
        ready = this.takeReady();
      } catch (err) {
        // The thread flagged its failure before throwing; the reason (its 'error' event) comes
        // with its exit: wait for that, so the caller reads why (e.g. a module that would not load).
        if (this.failure === null && !this.exited) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([this.exitPromise, new Promise((r) => (timer = setTimeout(r, 5000)))]);
          clearTimeout(timer);
        }
        throw this.failure ?? err;
      }
      if (ready) {
        // Ref'd while starting (nothing else holds the event loop during this wait); once
        // ready, a NIC core alone must not keep the process alive: only the application's ref'd
        // servers and sockets do, through the sockets layer's liveness hold (Node semantics).
        this.worker?.unref();
        return;
      }
      if (this.exited || Date.now() > deadline) throw this.startFailure();
      const r = waitAsync?.(this.ctl, W.ready, 0, 50);
      if (r === undefined) await new Promise((res) => setTimeout(res, 5));
      else if (r.async) await Promise.race([r.value, this.exitPromise]);
    }
  }

  /** Blocks until the thread is ready (Atomics.wait on the host thread); throws if it failed. */
  readySync(timeoutMs = 30_000): void {
    const deadline = Date.now() + timeoutMs;
    while (!this.takeReady()) {
      if (Date.now() > deadline) throw this.startFailure();
      Atomics.wait(this.ctl, W.ready, 0, 50);
    }
    this.worker?.unref();
  }

  /** What the thread's ready message carries. */
  protected abstract onReady(message: { tid: number }): void;

  private takeReady(): boolean {
    const state = Atomics.load(this.ctl, W.ready);
    if (state === 0) return false;
    if (state < 0) throw this.startFailure();
    if (this.isReady) return true;
    const m = receiveMessageOnPort(this.readyPort!)?.message as { tid: number } | undefined;
    if (m === undefined) throw new Error(`${this.what}: ready without its ready message`);
    this.tid = m.tid;
    this.onReady(m);
    this.readyPort!.close();
    this.readyPort = null;
    this.isReady = true;
    return true;
  }

  private startFailure(): Error {
    const state = Atomics.load(this.ctl, W.ready);
    return (
      this.failure ??
      new Error(
        `${this.what} ${this.exited ? 'exited' : state < 0 ? 'failed' : 'did not start in time'} before it was ready`,
      )
    );
  }

  /** The thread's control block (its doorbell is at word 0). */
  get controlBuffer(): SharedArrayBuffer {
    return this.ctlBuffer;
  }

  /** Clears what makes `needsSync` true (the subclass adds its own flags). */
  protected clearDirty(): void {
    this.dirty = false;
  }

  /**
   * Blocks until the thread finished an idle round that began after this call: everything given
   * to it before has been handled. For lockstep runs (Node allows Atomics.wait on the main
   * thread).
   */
  sync(): void {
    this.syncs++;
    this.clearDirty();
    const ctl = this.ctl;
    const req = (Atomics.add(ctl, W.syncReq, 1) + 1) | 0;
    this.bell.ring();
    for (;;) {
      const ack = Atomics.load(ctl, W.syncAck);
      if (ack === req) return;
      if (this.exited) throw this.failure ?? new Error(`${this.what} has exited`);
      Atomics.wait(ctl, W.syncAck, ack, 100);
      this.bell.ring();
    }
  }

  /** Asks the thread to stop (`requestStop`), then waits; terminates it after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.worker === null || this.exited) return;
    this.requestStop();
    const deadline = Date.now() + timeoutMs;
    while (!this.exited && Date.now() < deadline) {
      this.whileStopping();
      await Promise.race([this.exitPromise, new Promise((r) => setTimeout(r, 5))]);
    }
    if (!this.exited) {
      this.failure ??= new Error(`${this.what} did not stop within ${timeoutMs} ms; terminated`);
      await this.worker.terminate();
      await this.exitPromise;
    }
  }

  protected abstract requestStop(): void;
  protected whileStopping(): void {}

  /** Resolves when the worker has exited (after `stop`, or on failure). */
  get exit(): Promise<void> {
    return this.exitPromise ?? Promise.resolve();
  }
}

/** The host's end of a pre-processing replica: its thread and the staged ring it works on. */
export class PreLink extends WorkerLink {
  readonly ring: StagedRing;
  /** What the bridge deals frames into: the ring, this replica's doorbell, its dirty flag. */
  readonly target: PreTarget;

  constructor(
    readonly index: number,
    shape: FrameRingShape,
  ) {
    super(`pre-processing replica ${index}`, new SharedArrayBuffer(PreCtl.words * 4));
    this.ring = StagedRing.create(shape);
    this.target = { ring: this.ring, bell: this.bell, link: this };
  }

  /** The replica's worker init, feeding the NIC core whose control block is `coreCtl`. */
  init(coreCtl: SharedArrayBuffer, spinRounds: number): PreCoreInit {
    return {
      role: 'pre',
      index: this.index,
      ctl: this.ctlBuffer,
      ring: this.ring.buffer,
      shape: this.ring.shape,
      coreCtl,
      coreBellWord: Ctl.bell,
      spinRounds,
    };
  }

  protected onReady(): void {}

  protected requestStop(): void {
    Atomics.store(this.ctl, PreCtl.stop, 1);
    this.bell.ring();
  }

  /** Frames validated and dropped, and the CPU ms the thread had used when it last slept. */
  get counters(): { validated: number; dropped: number; cpuMs: number } {
    return {
      validated: Atomics.load(this.ctl, PreCtl.validated) >>> 0,
      dropped: Atomics.load(this.ctl, PreCtl.dropped) >>> 0,
      cpuMs: Atomics.load(this.ctl, PreCtl.cpuMs),
    };
  }

  needsSync(): boolean {
    return this.dirty;
  }
}

/** The host's end of a post-processing replica: its thread and the staged ring it works on. */
export class PostLink extends WorkerLink {
  readonly ring: StagedRing;
  /** What the bridge takes finished frames from. */
  readonly source: PostSource;

  constructor(
    readonly index: number,
    shape: FrameRingShape,
  ) {
    super(`post-processing replica ${index}`, new SharedArrayBuffer(PostCtl.words * 4));
    this.ring = StagedRing.create(shape);
    this.source = { ring: this.ring };
  }

  /** The replica's worker init; it rings the host's doorbell (`hostCtl`) when frames are ready. */
  init(hostCtl: SharedArrayBuffer, spinRounds: number): PostCoreInit {
    return {
      role: 'post',
      index: this.index,
      ctl: this.ctlBuffer,
      ring: this.ring.buffer,
      shape: this.ring.shape,
      hostCtl,
      spinRounds,
    };
  }

  protected onReady(): void {}

  protected requestStop(): void {
    Atomics.store(this.ctl, PostCtl.stop, 1);
    this.bell.ring();
  }

  /** TCP frames checksummed, frames passed untouched, CPU ms when the thread last slept. */
  get counters(): { finished: number; passed: number; cpuMs: number } {
    return {
      finished: Atomics.load(this.ctl, PostCtl.finished) >>> 0,
      passed: Atomics.load(this.ctl, PostCtl.passed) >>> 0,
      cpuMs: Atomics.load(this.ctl, PostCtl.cpuMs),
    };
  }

  /** Lockstep: the core dealt it frames it has not finished. */
  needsSync(): boolean {
    return this.ring.stagePending > 0;
  }
}

/**
 * The host's end of a DMA replica: its thread, its descriptor rings (the NIC core produces, the
 * replica consumes) and the channel the core registers memories on.
 */
export class DmaLink extends WorkerLink {
  readonly rings: readonly [SharedArrayBuffer, SharedArrayBuffer];
  /** port1 goes to the NIC core, port2 to the replica. */
  readonly memoryChannel = new MessageChannel();

  constructor(
    readonly index: number,
    readonly ringEntries: number,
  ) {
    super(`DMA replica ${index}`, new SharedArrayBuffer(DmaCtl.words * 4));
    const ring = (): SharedArrayBuffer => {
      const b = new SharedArrayBuffer(descriptorRingBytes(ringEntries));
      new SpscRing(b, 0, DESCRIPTOR_WORDS, ringEntries); // initialised here; both threads attach
      return b;
    };
    this.rings = [ring(), ring()];
  }

  /** What the NIC core's engine needs of this replica. */
  get link(): DmaReplicaLink {
    return { index: this.index, ctl: this.ctlBuffer, rings: this.rings };
  }

  /** The replica's worker init, running the copies of NIC core `core`. */
  init(core: number, spinRounds: number, fault: DmaFault | null = null): DmaCoreInit {
    return {
      role: 'dma',
      index: this.index,
      core,
      ctl: this.ctlBuffer,
      rings: this.rings,
      ringEntries: this.ringEntries,
      spinRounds,
      fault,
    };
  }

  override spawn(entry: WorkerEntry, workerData: object, transfer: MessagePort[], name: string): void {
    super.spawn(entry, workerData, transfer, name);
    // However the thread ends, a core waiting for its copies must learn it (ThreadDma.poll
    // throws then): the thread sets the word itself when it leaves its loop, this covers a crash.
    void this.exit.then(() => {
      Atomics.store(this.ctl, DmaCtl.gone, 1);
      new Doorbell(this.ctl, DmaCtl.doneBell).ring();
    });
  }

  protected onReady(): void {}

  protected requestStop(): void {
    Atomics.store(this.ctl, DmaCtl.stop, 1);
    this.bell.ring();
  }

  /** Copies and bytes done, CPU ms when the thread last slept. */
  get counters(): { copies: number; toHost: number; fromHost: number; bytes: number; cpuMs: number } {
    const toHost = Atomics.load(this.ctl, DmaCtl.copiesToHost) >>> 0;
    const fromHost = Atomics.load(this.ctl, DmaCtl.copiesFromHost) >>> 0;
    return {
      copies: toHost + fromHost,
      toHost,
      fromHost,
      // One writer (the replica); a float64 read here may be one batch behind, never torn on x86-64.
      bytes: new Float64Array(this.ctlBuffer, DmaCtl.bytes * 4, 1)[0]!,
      cpuMs: Atomics.load(this.ctl, DmaCtl.cpuMs),
    };
  }

  /** Lockstep: the core waits for its copies itself; a replica has nothing of its own to finish. */
  needsSync(): boolean {
    return false;
  }
}

interface Pending {
  readonly kind: number;
  readonly flowId: number;
  readonly a: number;
  readonly b: number;
  readonly frame: Buffer | null;
}

/** Ring sizes of one core's host queues. */
export interface CoreQueueSizes {
  readonly commandEntries: number;
  readonly eventEntries: number;
  readonly frameShape: FrameRingShape;
  /** Host frame ring and exception ring entries (control frames are few). */
  readonly slowFrameEntries: number;
}

export class CoreLink extends WorkerLink {
  private readonly qmNextDue: Float64Array;
  readonly commands: SpscRing;
  readonly events: SpscRing;
  readonly hostFrames: FrameRing;
  readonly exceptions: FrameRing;
  readonly bridge: BridgedCore | null;
  notifications: SpscRing | null = null;
  /** Notifications the host has dispatched from this core (mod 2^32; gates its flow events). */
  notificationsTaken = 0;
  /**
   * Exceptions the host took from this core (mod 2^32), and the count it last told the core it
   * handled (`NicCommand.ExceptionsHandled`).
   */
  exceptionsTaken = 0;
  exceptionsAcknowledged = 0;
  /** The pre-processing replicas feeding this core (none: it pre-processes in full itself). */
  readonly pre: PreLink[];
  /** The post-processing replicas finishing this core's transmitted frames (none: it does). */
  readonly post: PostLink[];
  /** The DMA replicas running this core's payload copies (none: it copies itself). */
  readonly dma: DmaLink[];
  private readonly overflow: Pending[] = [];
  private readonly statsBytes: Uint8Array;
  private lastStats: unknown = null;
  private readonly commandBuffer: SharedArrayBuffer;
  private readonly eventBuffer: SharedArrayBuffer;
  private readonly statsBuffer: SharedArrayBuffer;

  constructor(
    readonly index: number,
    readonly sizes: CoreQueueSizes,
    bridged: boolean,
    /** Pre-processing replicas, numbered from `firstPre`. */
    preReplicas = 0,
    firstPre = 0,
    /** Post-processing replicas, numbered from `firstPost`. */
    postReplicas = 0,
    firstPost = 0,
    /** DMA replicas, numbered from `firstDma`, each with descriptor rings of `dmaRingEntries`. */
    dmaReplicas = 0,
    firstDma = 0,
    dmaRingEntries = 1,
  ) {
    super(`NIC core ${index}`, new SharedArrayBuffer(Ctl.words * 4));
    Atomics.store(this.ctl, Ctl.lcore, -1);
    this.qmNextDue = new Float64Array(this.ctlBuffer, Ctl.qmNextDue * 4, 1);
    this.commandBuffer = new SharedArrayBuffer(SpscRing.bytesFor(COMMAND_WORDS, sizes.commandEntries));
    this.commands = new SpscRing(this.commandBuffer, 0, COMMAND_WORDS, sizes.commandEntries);
    this.eventBuffer = new SharedArrayBuffer(SpscRing.bytesFor(EVENT_WORDS, sizes.eventEntries));
    this.events = new SpscRing(this.eventBuffer, 0, EVENT_WORDS, sizes.eventEntries);
    const slow = { ...sizes.frameShape, capacity: sizes.slowFrameEntries };
    this.hostFrames = FrameRing.create(slow);
    this.exceptions = FrameRing.create(slow);
    this.statsBuffer = new SharedArrayBuffer(STATS_BYTES);
    this.statsBytes = new Uint8Array(this.statsBuffer);
    this.pre = Array.from({ length: preReplicas }, (_, i) => new PreLink(firstPre + i, sizes.frameShape));
    this.post = Array.from({ length: postReplicas }, (_, i) => new PostLink(firstPost + i, sizes.frameShape));
    this.dma = Array.from({ length: dmaReplicas }, (_, i) => new DmaLink(firstDma + i, dmaRingEntries));
    this.bridge = bridged
      ? {
          rx: preReplicas === 0 ? FrameRing.create(sizes.frameShape) : null,
          pre: this.pre.map((p) => p.target),
          tx: FrameRing.create(sizes.frameShape),
          post: this.post.map((p) => p.source),
          bell: this.bell,
          dirty: false,
        }
      : null;
  }

  /** The shared part of the worker's init (the caller adds the data path and the port). */
  initFields(): Pick<
    NicCoreInit,
    | 'index'
    | 'ctl'
    | 'commands'
    | 'commandEntries'
    | 'events'
    | 'eventEntries'
    | 'hostFrames'
    | 'exceptions'
    | 'frameShape'
    | 'slowFrameShape'
    | 'bridge'
    | 'stats'
  > {
    return {
      index: this.index,
      ctl: this.ctlBuffer,
      commands: this.commandBuffer,
      commandEntries: this.sizes.commandEntries,
      events: this.eventBuffer,
      eventEntries: this.sizes.eventEntries,
      hostFrames: this.hostFrames.buffer,
      exceptions: this.exceptions.buffer,
      frameShape: this.sizes.frameShape,
      slowFrameShape: this.hostFrames.shape,
      bridge: this.bridge
        ? {
            rx: this.bridge.rx?.buffer ?? null,
            pre: this.pre.map((p) => p.ring.buffer),
            tx: this.bridge.tx.buffer,
            post: this.post.map((p) => ({ ring: p.ring.buffer, ctl: p.controlBuffer })),
          }
        : null,
      stats: this.statsBuffer,
    };
  }

  protected onReady(message: { tid: number }): void {
    const m = message as NicCoreReady;
    this.notifications = SpscRing.attach(m.notifications, m.notificationsOffset, 4, m.notificationEntries);
  }

  // ---------------------------------------------------------------- commands

  /** Queues a command (with the frame it carries) in order, then rings the core. */
  push(
    kind: number,
    flowId: number,
    a: number,
    b: number,
    frame: Uint8Array | null = null,
    length = 0,
  ): void {
    if (this.overflow.length > 0 || !this.tryPush(kind, flowId, a, b, frame, length)) {
      this.overflow.push({
        kind,
        flowId,
        a,
        b,
        frame: frame === null ? null : Buffer.from(frame.subarray(0, length)),
      });
    }
    this.dirty = true;
    this.bell.ring();
  }

  /** Moves overflowed commands into the rings; returns how many are still waiting. */
  flush(): number {
    const o = this.overflow;
    let i = 0;
    while (i < o.length) {
      const p = o[i]!;
      if (!this.tryPush(p.kind, p.flowId, p.a, p.b, p.frame, p.frame?.length ?? 0)) break;
      i++;
    }
    if (i > 0) {
      o.splice(0, i);
      this.bell.ring();
    }
    return o.length;
  }

  get overflowed(): number {
    return this.overflow.length;
  }

  private tryPush(
    kind: number,
    flowId: number,
    a: number,
    b: number,
    frame: Uint8Array | null,
    length: number,
  ): boolean {
    const q = this.commands;
    if (q.free === 0) return false;
    if (frame !== null && !this.hostFrames.push(frame, length, 0)) return false;
    const w = q.reserve();
    const d = q.data;
    d[w] = kind;
    d[w + 1] = flowId;
    d[w + 2] = a;
    d[w + 3] = b;
    q.commit();
    return true;
  }

  /** A frame the control plane builds in place in the host frame ring (no overflow copy). */
  reserveFrame(): PacketBuffer | null {
    if (this.overflow.length > 0 || this.commands.free === 0) return null;
    const i = this.hostFrames.reserve();
    if (i < 0) return null;
    this.reservedFrame = i;
    return this.hostFrames.slot(i);
  }

  /** Publishes the frame `reserveFrame` returned and the command that sends it. */
  commitFrame(kind: number, length: number): void {
    this.hostFrames.setFrame(this.reservedFrame, length, 0);
    this.hostFrames.commit();
    const q = this.commands;
    const w = q.reserve(); // room checked in reserveFrame
    const d = q.data;
    d[w] = kind;
    d[w + 1] = 0;
    d[w + 2] = 0;
    d[w + 3] = 0;
    q.commit();
    this.dirty = true;
    this.bell.ring();
  }
  private reservedFrame = -1;

  // ---------------------------------------------------------------- lockstep, stats, stop

  protected override clearDirty(): void {
    this.dirty = false;
    if (this.bridge !== null) this.bridge.dirty = false;
  }

  /** True when the core has work it has not finished since the last `sync`. */
  needsSync(nowNs: number, timeMoved: boolean): boolean {
    if (this.dirty || this.bridge?.dirty === true) return true;
    // Pacing: only once the queue manager's next flow is due (the core published when).
    return timeMoved && this.qmWaiting > 0 && nowNs >= this.qmNextDue[0]!;
  }

  /** The DPDK lcore id the core registered as (it runs a DPDK port of its own), or -1. */
  get lcore(): number {
    return Atomics.load(this.ctl, Ctl.lcore);
  }

  /** Flows waiting in the core's queue manager. */
  get qmWaiting(): number {
    return Atomics.load(this.ctl, Ctl.qmWaiting);
  }

  /** The core's counters (asks the running core; the last snapshot once it has exited). */
  stats(timeoutMs = 1000): unknown {
    const ctl = this.ctl;
    if (!this.exited && this.worker !== null) {
      const req = (Atomics.add(ctl, Ctl.statsReq, 1) + 1) | 0;
      this.bell.ring();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ack = Atomics.load(ctl, Ctl.statsAck);
        if (ack === req || this.exited || Date.now() > deadline) break;
        Atomics.wait(ctl, Ctl.statsAck, ack, 10);
      }
    }
    const len = Atomics.load(ctl, Ctl.statsLength);
    if (len > 0) this.lastStats = JSON.parse(new TextDecoder().decode(this.statsBytes.slice(0, len)));
    return this.lastStats;
  }

  /** A Stop command after everything queued: the core finishes its queue, then exits. */
  protected requestStop(): void {
    this.push(NicCommand.Stop, 0, 0, 0);
  }

  protected override whileStopping(): void {
    this.flush(); // commands waiting for ring space go first, the Stop last
  }
}
