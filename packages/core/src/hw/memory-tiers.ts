/**
 * Named memory tiers with a size and an access cost (NFP: LM, CLS, CTM, IMEM, EMEM; BlueField
 * and x86: L1/L2/L3/DRAM; plus `host`, the application's memory that DMA reaches). Per-flow
 * state and queues are allocated here so that the same bytes work in one thread (simulators)
 * or across worker threads (x86, SharedArrayBuffer), and so that simulated backends can charge
 * the accesses a stage really makes.
 */
export interface TierInfo {
  /** Tier name as the backend calls it, e.g. 'lm', 'cls', 'emem', 'dram', 'host'. */
  readonly name: string;
  readonly sizeBytes: number;
  /** Access latency in core cycles, [best, worst]. */
  readonly accessCycles: readonly [number, number];
  /** Who sees the tier: one core, a cluster of cores, the whole NIC, or host memory. */
  readonly scope: 'core' | 'cluster' | 'nic' | 'host';
}

/** What a region is for; a backend maps each purpose to one of its tiers. */
export type RegionPurpose =
  | 'protocol-state'
  | 'flow-identity'
  | 'flow-buffers'
  | 'cc-state'
  | 'flow-table'
  | 'queue'
  | 'packet-buffers'
  | 'host-buffers';

export interface MemoryRegion {
  readonly id: number;
  readonly tier: string;
  readonly purpose: RegionPurpose;
  /** SharedArrayBuffer where the backend shares memory across threads; ArrayBuffer otherwise. */
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface MemoryTiers {
  readonly tiers: readonly TierInfo[];
  /** The tier a purpose is placed in by default (the backend's layout decision). */
  tierFor(purpose: RegionPurpose): string;
  /** Allocates a zeroed region; throws a RangeError naming the tier when it is full. */
  allocate(purpose: RegionPurpose, byteLength: number, tier?: string): MemoryRegion;
  /**
   * Records that the running stage read or wrote `bytes` of `region` (one bulk access, as an
   * NFP thread's CLS/EMEM read). Simulated backends charge the tier's latency to the current
   * thread; real backends count. `key` names the record (a flow id; -1 when a lookup found
   * none) so a simulated cache (FlexTOE's LM/CLS flow-state caches) can tell a hit from a miss.
   * Must not allocate.
   */
  recordAccess(region: MemoryRegion, bytes: number, write: boolean, key?: number): void;
  /**
   * True when `recordAccess` only counts and nothing is timed (the inline runner's heap tiers):
   * the data path's flow-state cursors then report no record access (a call per cursor move on
   * the hot path that only bumped a counter). Absent: every access is reported.
   */
  readonly countOnly?: boolean;
  /**
   * True when 'host-buffers' and 'packet-buffers' regions lie in the WebAssembly payload memory
   * (`util/wasm-payload.ts`, the inline runner's heap tiers): the data path then allocates its
   * frame slots here too, and payload copies and sums between them run in WebAssembly.
   */
  readonly payloadMemory?: boolean;
}
export const MemoryTiers = Symbol.for('flextoe.hw.MemoryTiers');
