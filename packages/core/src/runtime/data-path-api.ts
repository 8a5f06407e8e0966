/**
 * What the host control plane needs from the data path: FlexTOE's host <-> NIC boundary as one
 * typed contract (TAS/FlexTOE: "one typed contract per boundary"). The inline runner's
 * `DataPath` implements it with direct calls on the same thread; the x86 backend implements it
 * on the host thread with shared-memory queues to the data-path worker threads (its NIC cores).
 *
 * Rules that make one implementation of the control plane correct on both:
 * - Per-flow records (`tables`) are fixed-layout memory the NIC shares with the host. The host
 *   reads them at any time (word by word; a value may be one update old) and writes a flow's
 *   protocol/identity/buffer records only while the data path cannot see the flow: before
 *   `installFlow`, and never after `removeFlow` until `FlowEvent.FlowRemoved` for it.
 * - Everything else is a request the data path applies in the order the host issued it:
 *   `applyRequest`, `installFlow`, `removeFlow`, `setRate`, `sendControlFrame`, `reinject`.
 * - A removed flow's slot and host rings may be reused only after `FlowEvent.FlowRemoved`: on
 *   real hardware a removal takes effect later (segments already in the pipeline, DMA in flight).
 */
import type { PacketBuffer } from '../hw/packet-buffer.js';
import type { MemoryTiers } from '../hw/memory-tiers.js';
import type { Request } from '../pipeline/context-queue.js';
import type { FlowStateTables } from '../state/flow-records.js';
import type { ExceptionEntry } from './data-path.js';

export interface DataPathApi {
  readonly opts: { readonly maxFlows: number; readonly flowGroups: number };
  /** The per-flow records (protocol 64 B, identity 32 B, buffers 32 B, CC 32 B). */
  readonly tables: FlowStateTables;
  /** The port's MAC: the control plane's source address for ARP and handshake frames. */
  readonly port: { readonly mac: number };
  /**
   * ParseFlag bits for the control plane's own parse of exception frames: checks a device
   * already did (checksum offload on receive), absent = 0 (verify everything).
   */
  readonly exceptionParseFlags?: number;
  /** Where the host allocates the per-connection rings the DMA stage reaches ('host-buffers'). */
  readonly tiers: MemoryTiers;
  /** Frames handed to the control plane, oldest first; return each with `releaseException`. */
  readonly exceptions: ExceptionEntry[];
  /** `[FlowEvent, flowId]` pairs, oldest first; the control plane empties the array. */
  readonly flowEvents: number[];
  releaseException(frame: PacketBuffer): void;
  /** The data path's timestamp clock (RFC 7323 TSval, microseconds, u32). */
  tsNow(): number;
  /** One request through the protocol stage (Close, Retransmit, PersistProbe, AckTimeout, ...). */
  applyRequest(kind: Request, flowId: number, n: number): void;
  /** Transmits a frame `build` writes (SYN, SYN-ACK, RST, ARP); `build` runs before this returns. */
  sendControlFrame(build: (buf: Buffer) => number): void;
  /** Runs a frame through the data path again (its flow was just installed). */
  reinject(frame: PacketBuffer): void;
  /**
   * The control plane has handled every exception it took from `exceptions`: the installs and
   * re-runs (`reinject`) they called for are issued. A data path that applies requests later
   * than they are made (the x86 NIC cores) holds a flow's segments from its install until then,
   * so none overtakes a segment about to be re-run (FlexTOE keeps per-flow order across the slow
   * path); one that applies them at once (the inline `DataPath`) has nothing to wait for.
   */
  exceptionsHandled?(): void;
  /**
   * Makes flow `flowId` visible to the data path (flow table entry, host rings). The host wrote
   * its records first. False when the data path refused it (table full or duplicate tuple);
   * the x86 backend's threaded data path answers true and counts a refusal on the NIC side.
   */
  installFlow(
    flowId: number,
    localIp: number,
    remoteIp: number,
    localPort: number,
    remotePort: number,
    rxRing: Uint8Array,
    txRing: Uint8Array,
  ): boolean;
  /** Uninstalls the flow; `FlowEvent.FlowRemoved` follows when its slot and rings are free. */
  removeFlow(flowId: number): void;
  /** Transmit pacing for the queue manager, ns per byte (0 = unlimited). */
  setRate(flowId: number, nsPerByte: number): void;
}
