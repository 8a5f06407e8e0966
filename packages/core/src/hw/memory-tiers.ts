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
   * Where the data path appends the accesses it would report through `recordAccess`, when the
   * backend times them after the fact (a simulated NIC charges a stage run's accesses when the
   * run ends): a few stores per access instead of a call through the tiers to the timing model.
   * Absent: every access is a `recordAccess` call.
   */
  readonly accessLog?: AccessLog;
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

/** Reads the accesses an `AccessLog` holds, oldest first (the backend's timing model). */
export interface AccessLogReader {
  /** Entry i is `entries[4i .. 4i+3]`: region id, key (-1: none), bytes, 1 for a write. */
  readAccesses(entries: Int32Array, count: number): void;
}

/** Entries an `AccessLog` holds before it hands them to its reader unasked. */
const ACCESS_LOG_CAPACITY = 256;

/**
 * Accesses in the order they were made (`MemoryTiers.accessLog`), until the backend reads them
 * (`flush`), at the latest when the log is full. Nothing is allocated per access.
 */
export class AccessLog {
  readonly entries = new Int32Array(4 * ACCESS_LOG_CAPACITY);
  count = 0;
  /** Null: flushed entries are dropped (nothing times them). */
  reader: AccessLogReader | null = null;

  /** Appends one access: `bytes` of record `key` (-1 when none) of region `region` (its id). */
  add(region: number, key: number, bytes: number, write: boolean): void {
    if (this.count === ACCESS_LOG_CAPACITY) this.flush();
    const i = this.count++ << 2;
    const e = this.entries;
    e[i] = region;
    e[i + 1] = key;
    e[i + 2] = bytes;
    e[i + 3] = write ? 1 : 0;
  }

  /** Hands every entry to the reader and empties the log. */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    if (this.reader !== null) this.reader.readAccesses(this.entries, n);
  }
}
