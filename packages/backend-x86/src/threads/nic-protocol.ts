/**
 * The contract between the host thread (control plane + application) and a NIC core (a worker
 * thread running the data path): FlexTOE's host <-> NIC split, as shared-memory queues.
 *
 * Host -> NIC, one command ring in issue order: the application's requests (core's `Request`:
 * "I appended N bytes", "I consumed N bytes") and the control plane's (close, retransmit, install
 * and remove a flow, set a rate, send or re-run a frame). One ring, because order matters across
 * them: a FIN must follow the appends before it, a request for a flow must follow its install.
 * Frames that go with a command (control frames, re-injected segments) travel in a frame ring
 * and are taken in the same order as their commands.
 *
 * NIC -> host: the context queue's notification ring (core's `ContextQueue`), a flow-event ring
 * (`FlowEvent`), an exception frame ring (frames for the control plane, with their reason), and
 * the transmit frame ring of the port bridge.
 */
import type { ModuleConfig } from '@flextoe/core';
import type { DataPathOptions, PortCapabilities } from '@flextoe/core';
import type { DpdkHandoff } from '../drivers/dpdk/dpdk-port.js';
import type { FrameRingShape } from './frame-ring.js';
import type { RegionMessage } from './shared-memory.js';
import type { ThreadDmaInit } from './thread-dma.js';

/**
 * Bursts of free transmit slots a core needs before it takes new work (back-pressure: a round
 * must be able to hand over what it produces). The bridge rings a core only when it had fewer.
 */
export const TX_ROOM_BURSTS = 2;

/** Words per command: [kind, flowId, a, b]. */
export const COMMAND_WORDS = 4;

/**
 * Command kinds beyond core's `Request` (1..6, applied as `DataPath.applyRequest(kind, flowId, a)`).
 */
export const NicCommand = {
  /** Make the flow visible: `a`, `b` = region ids of its host RX and TX rings. */
  InstallFlow: 16,
  RemoveFlow: 17,
  /** `a`, `b` = the low and high words of a float64 ns-per-byte rate. */
  SetRate: 18,
  /** The next frame of the host frame ring goes to the wire. */
  TxFrame: 19,
  /** The next frame of the host frame ring runs through the data path again. */
  Reinject: 20,
  /** Finish the commands before this one, then leave the loop. */
  Stop: 21,
  /**
   * `a` = how many of this core's exceptions the host has handled (mod 2^32): it issued their
   * installs and re-runs (the commands before this one). Releases the flows held since their
   * install (core's `DataPath.holdFlow`: a flow's new segments must not overtake the re-runs).
   */
  ExceptionsHandled: 22,
} as const;

/**
 * Words per flow event: [FlowEvent, flowId, notifications, 0], where `notifications` counts the
 * notifications the core had published before it (mod 2^32): the host applies the event only
 * after it has dispatched that many.
 */
export const EVENT_WORDS = 4;

/**
 * A NIC core's control block: Int32 words of a SharedArrayBuffer. Groups written by different
 * threads sit on different 64-byte lines.
 */
export const Ctl = {
  /** The core's doorbell (2 words): the host and the bridge ring it. */
  bell: 0,
  /** Host: lockstep request counter. Core: the last request it finished idle. */
  syncReq: 16,
  syncAck: 17,
  /** Core: flows waiting in its queue manager (the host's `pacing`). */
  qmWaiting: 18,
  /** Core: its Linux thread id (for pinning and per-thread CPU time). */
  tid: 19,
  /** Core: 1 once its ready message is posted, -1 when it failed to start. */
  ready: 20,
  /** Core: the DPDK lcore id it registered as (a port of its own), -1 when none. */
  lcore: 21,
  /** Core: when its queue manager next hands out a flow (ns; a float64 over words 24-25). */
  qmNextDue: 24,
  /** Host: stats request counter. Core: last request served, and the JSON length. */
  statsReq: 32,
  statsAck: 33,
  statsLength: 34,
  words: 64,
} as const;

/** The host's control block: its doorbell, rung by every core. */
export const HostCtl = { bell: 0, words: 16 } as const;

/** Bytes for a core's stats snapshot (JSON). */
export const STATS_BYTES = 64 * 1024;

/** Everything a NIC core worker starts from (structured-cloned; SharedArrayBuffers stay shared). */
export interface NicCoreInit {
  readonly role: 'nic';
  /** Index of this core among the NIC cores. */
  readonly index: number;
  readonly dataPath: DataPathOptions;
  readonly mac: number;
  readonly capabilities: PortCapabilities;
  /** Regions of the flow-state tables the control plane created. */
  readonly regions: readonly RegionMessage[];
  readonly ctl: SharedArrayBuffer;
  readonly hostCtl: SharedArrayBuffer;
  readonly commands: SharedArrayBuffer;
  readonly commandEntries: number;
  readonly events: SharedArrayBuffer;
  readonly eventEntries: number;
  readonly hostFrames: SharedArrayBuffer;
  readonly exceptions: SharedArrayBuffer;
  /** Shape of the bridge's frame rings. */
  readonly frameShape: FrameRingShape;
  /** Shape of the host frame ring and the exception ring. */
  readonly slowFrameShape: FrameRingShape;
  /**
   * The port bridge's rings, or null when the core runs a port of its own (`ownPort`). Received frames
   * come in `rx`, or, with pre-processing replicas, in their staged rings `pre` (round robin).
   * Frames to transmit go to `tx`, or, with post-processing replicas, are dealt round robin to
   * their staged rings `post` (each with the replica's control block, whose doorbell is rung).
   */
  readonly bridge: {
    readonly rx: SharedArrayBuffer | null;
    readonly pre: readonly SharedArrayBuffer[];
    readonly tx: SharedArrayBuffer;
    readonly post: readonly { readonly ring: SharedArrayBuffer; readonly ctl: SharedArrayBuffer }[];
  } | null;
  /**
   * A device the host opened and handed to this core: the core runs its bursts on its own
   * thread (no bridge, no frame crosses threads) and registers as a DPDK lcore.
   */
  readonly ownPort: OwnPort | null;
  /**
   * The host's port is a DPDK device (EAL is up in this process): the core registers itself as a
   * DPDK lcore (`rte_thread_register`) even though the host bridges its frames, so every data-path
   * thread is known to DPDK (lcore id in stats) as with a port of its own.
   */
  readonly dpdkLcore: boolean;
  /** User modules to load on this thread and install in its data path, in order. */
  readonly modules: readonly ModuleConfig[];
  /**
   * DMA replicas running this core's payload copies (`ThreadDma`; the memory ports travel in the
   * worker data), or null: the core copies itself (memcpy).
   */
  readonly dma: ThreadDmaInit | null;
  /**
   * The bridge's port view fills TCP checksums at `txBurst` (DMA replicas and no post replicas:
   * the core advertises transmit checksum offload so its copies overlap; the frames are complete
   * by then, core's data path waited for their copies).
   */
  readonly fillTxChecksums: boolean;
  readonly stats: SharedArrayBuffer;
  /** The host clock: a shared process.hrtime() origin, or a mirrored manual clock. */
  readonly clock: { readonly origin: readonly [number, number]; readonly manual: SharedArrayBuffer | null };
  readonly contextEntries: number;
  /** Idle policy: spin this many empty rounds before sleeping on the doorbell. */
  readonly spinRounds: number;
}

/** A port whose bursts run on the NIC core (only DPDK: its bursts are callable from any thread). */
export interface OwnPort {
  readonly driver: 'dpdk';
  readonly dpdk: DpdkHandoff;
}

/** What a core posts once its data path is built. */
export interface NicCoreReady {
  readonly type: 'ready';
  /** The context queue's notification ring (core's SpscRing at `notificationsOffset`). */
  readonly notifications: SharedArrayBuffer;
  readonly notificationsOffset: number;
  readonly notificationEntries: number;
  readonly tid: number;
}
