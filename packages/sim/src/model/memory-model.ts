/**
 * The simulated NIC's memory: the `MemoryTiers` the core allocates its per-flow state from, and
 * the cost of every access the core reports (`recordAccess`), decided by the model's caches.
 *
 * An access to a region walks the region's access path: each cache (per core, per cluster or
 * per NIC, as the spec says) is looked up in order and the first hit serves it at its tier's
 * latency; when none holds the record, the backing tier serves it and every cache on the path
 * installs it (inclusive fill; FlexTOE's LM -> CLS victim swap is approximated by the CLS cache
 * keeping what it was filled with). Latencies are drawn uniformly from each tier's documented
 * [best, worst] range with the model's seeded stream, so the same seed gives the same cycles.
 */
import {
  regionBacking,
  wasmPayload,
  type MemoryRegion,
  type MemoryTiers,
  type Prng,
  type RegionPurpose,
  type TierInfo,
} from '@flextoe/core';
import { CamLruCache, DirectMappedCache, SetAssocLruCache, type SimCache } from './caches.js';
import type { AccessPathSpec, CacheSpec, NicModelSpec } from './spec.js';

/** Bytes between consecutive records of a purpose (address arithmetic for line caches). */
const RECORD_STRIDE: Readonly<Record<RegionPurpose, number>> = {
  'protocol-state': 64,
  'flow-identity': 32,
  'flow-buffers': 32,
  'cc-state': 32,
  'flow-table': 16,
  queue: 64,
  'packet-buffers': 2048,
  'host-buffers': 64,
};

/** Uniform draws generated per refill of the latency table. */
const UNIFORM_TABLE = 4096;

interface CompiledLevel {
  readonly spec: CacheSpec;
  readonly tier: number;
  readonly instances: SimCache[];
  /** The instance each core uses (its own, its cluster's or the NIC's): no scope test per access. */
  readonly byCore: SimCache[];
  readonly scope: 'core' | 'cluster' | 'nic';
  readonly lineBytes: number;
}

interface CompiledPath {
  readonly levels: readonly CompiledLevel[];
  readonly backing: number;
  readonly flowLocked: boolean;
  /** True when the caches are address-based (hardware); false for record caches (software). */
  readonly byLine: boolean;
}

interface RegionInfo {
  readonly purpose: RegionPurpose;
  readonly tier: number;
  readonly base: number;
  readonly path: CompiledPath | null;
  /** Bytes between records (RECORD_STRIDE of the purpose). */
  readonly stride: number;
}

/** Where the cost of the last access went (read by the timing model; avoids returning objects). */
export interface AccessResult {
  /** Cycles the access waits (read side). */
  cycles: number;
  /** Cycles of the write-back under the flow lock (uncached flow-locked state), else 0. */
  writeCycles: number;
  /** True when the state is under the per-flow lock. */
  flowLocked: boolean;
  /** Tier that served the access. */
  tier: number;
}

/** Receives every access the core reports (the timing model charges it to the running stage). */
export interface AccessSink {
  onAccess(region: MemoryRegion, bytes: number, write: boolean, key: number): void;
}

export class MemoryModel {
  readonly tiers: readonly TierInfo[];
  private readonly tierLo: Int32Array;
  private readonly tierSpan: Int32Array;
  /** Accesses and bytes served per tier (index as `tiers`). */
  readonly tierAccesses: Float64Array;
  readonly tierBytes: Float64Array;
  private readonly regions: RegionInfo[] = [];
  /** Region id -> 1 when it is the flow table (the timing model reads the flow id from it). */
  private flowTable = new Uint8Array(16);
  private readonly paths = new Map<RegionPurpose, CompiledPath>();
  private readonly caches: { name: string; cache: SimCache }[] = [];
  private readonly clusters: number;
  private readonly clusterSize: number;
  readonly out: AccessResult = { cycles: 0, writeCycles: 0, flowLocked: false, tier: 0 };
  private readonly uniform = new Float64Array(UNIFORM_TABLE);
  private drawNext = UNIFORM_TABLE;

  constructor(
    readonly spec: NicModelSpec,
    private readonly rng: Prng,
  ) {
    this.tiers = spec.tiers;
    const n = spec.tiers.length;
    this.tierLo = new Int32Array(n);
    this.tierSpan = new Int32Array(n);
    this.tierAccesses = new Float64Array(n);
    this.tierBytes = new Float64Array(n);
    spec.tiers.forEach((t, i) => {
      const [lo, hi] = t.accessCycles;
      if (!(lo >= 0 && hi >= lo))
        throw new RangeError(`tier ${t.name}: latency [${lo}, ${hi}] is not a range`);
      this.tierLo[i] = Math.round(lo);
      this.tierSpan[i] = Math.round(hi) - Math.round(lo) + 1;
    });
    this.clusterSize = spec.cores.clusterSize;
    this.clusters = Math.ceil(spec.cores.count / spec.cores.clusterSize);
    for (const [purpose, path] of Object.entries(spec.paths) as [RegionPurpose, AccessPathSpec][])
      this.paths.set(purpose, this.compile(purpose, path));
  }

  /** Index of tier `name`; throws naming the tiers when it does not exist. */
  tierIndex(name: string): number {
    const i = this.tiers.findIndex((t) => t.name === name);
    if (i < 0)
      throw new RangeError(
        `${this.spec.name}: memory tier "${name}" does not exist; tiers: ${this.tiers.map((t) => t.name).join(', ')}`,
      );
    return i;
  }

  /** A latency drawn from tier `t`'s range, in cycles (uniform, from the seeded stream). */
  latency(t: number): number {
    const span = this.tierSpan[t]!;
    if (span <= 1) return this.tierLo[t]!;
    // Draws come from a table refilled from the seeded generator: per access this is one load,
    // and the sequence is still a pure function of the seed.
    if (this.drawNext === UNIFORM_TABLE) this.refill();
    return this.tierLo[t]! + Math.floor(this.uniform[this.drawNext++]! * span);
  }

  private refill(): void {
    for (let i = 0; i < UNIFORM_TABLE; i++) this.uniform[i] = this.rng.nextU32() / 4294967296;
    this.drawNext = 0;
  }

  /** Charges one access of a stage-intrinsic kind (packet buffer, work ring) to tier `t`. */
  intrinsic(t: number, bytes: number): number {
    this.tierAccesses[t]!++;
    this.tierBytes[t]! += bytes;
    return this.latency(t);
  }

  registerRegion(region: MemoryRegion, purpose: RegionPurpose, tierName: string, base: number): void {
    this.regions[region.id] = {
      purpose,
      tier: this.tierIndex(tierName),
      base,
      path: this.paths.get(purpose) ?? null,
      stride: RECORD_STRIDE[purpose],
    };
    if (region.id >= this.flowTable.length) {
      const grown = new Uint8Array(Math.max(region.id + 1, this.flowTable.length * 2));
      grown.set(this.flowTable);
      this.flowTable = grown;
    }
    this.flowTable[region.id] = purpose === 'flow-table' ? 1 : 0;
  }

  /** Purpose of a region this model allocated. */
  purposeOf(region: MemoryRegion): RegionPurpose {
    return this.regions[region.id]!.purpose;
  }

  /** True for the flow table's region (a table lookup, no string compare per access). */
  isFlowTable(region: MemoryRegion): boolean {
    return this.flowTable[region.id] === 1;
  }

  /**
   * The cost of `bytes` of `region`, record `key`, accessed from `core`: fills `out`. A key < 0
   * (the record is unknown, e.g. a flow lookup that missed) bypasses the caches.
   */
  access(region: MemoryRegion, bytes: number, write: boolean, key: number, core: number): AccessResult {
    const info = this.regions[region.id]!;
    const out = this.out;
    out.writeCycles = 0;
    const path = info.path;
    out.flowLocked = path !== null && path.flowLocked;
    if (path === null || key < 0) {
      out.tier = info.tier;
      out.cycles = this.serve(info.tier, bytes);
      if (write && out.flowLocked) out.writeCycles = this.latency(info.tier);
      return out;
    }
    const levels = path.levels;
    if (!path.byLine) {
      const tag = region.id * 4294967296 + key;
      for (let l = 0; l < levels.length; l++) {
        const level = levels[l]!;
        // A miss installs the record (the levels above a hit were filled as they were walked).
        if (level.byCore[core]!.lookup(tag)) {
          out.tier = level.tier;
          out.cycles = this.serve(level.tier, bytes);
          return out;
        }
      }
      out.tier = path.backing;
      out.cycles = this.serve(path.backing, bytes);
      if (write && path.flowLocked) out.writeCycles = this.latency(path.backing);
      return out;
    }
    // Hardware caches: every line of the access walks the hierarchy.
    const stride = info.stride;
    const lineBytes = levels[0]!.lineBytes;
    const first = Math.floor((info.base + key * stride) / lineBytes);
    const last = Math.floor((info.base + key * stride + Math.max(1, bytes) - 1) / lineBytes);
    let cycles = 0;
    let served = path.backing;
    for (let line = first; line <= last; line++) {
      let hit = -1;
      for (let l = 0; l < levels.length; l++) {
        const level = levels[l]!;
        if (level.byCore[core]!.lookup(line)) {
          hit = level.tier;
          break;
        }
      }
      const t = hit >= 0 ? hit : path.backing;
      if (line === first) served = t;
      cycles += this.serve(t, Math.min(lineBytes, bytes));
    }
    out.tier = served;
    out.cycles = cycles;
    return out;
  }

  /** Hits and misses per cache name, summed over instances. */
  cacheStats(): Record<string, { hits: number; misses: number }> {
    const out: Record<string, { hits: number; misses: number }> = {};
    for (const { name, cache } of this.caches) {
      const s = (out[name] ??= { hits: 0, misses: 0 });
      s.hits += cache.hits;
      s.misses += cache.misses;
    }
    return out;
  }

  resetCounters(): void {
    this.tierAccesses.fill(0);
    this.tierBytes.fill(0);
    for (const { cache } of this.caches) {
      cache.hits = 0;
      cache.misses = 0;
    }
  }

  private serve(t: number, bytes: number): number {
    this.tierAccesses[t]!++;
    this.tierBytes[t]! += bytes;
    return this.latency(t);
  }

  private instanceOf(scope: 'core' | 'cluster' | 'nic', core: number): number {
    return scope === 'core' ? core : scope === 'cluster' ? Math.floor(core / this.clusterSize) : 0;
  }

  private compile(purpose: RegionPurpose, path: AccessPathSpec): CompiledPath {
    const levels = path.caches.map((c): CompiledLevel => {
      const count = c.scope === 'core' ? this.spec.cores.count : c.scope === 'cluster' ? this.clusters : 1;
      const instances: SimCache[] = [];
      for (let i = 0; i < count; i++) {
        const cache =
          c.kind === 'cam-lru'
            ? new CamLruCache(c.entries)
            : c.kind === 'direct-mapped'
              ? new DirectMappedCache(c.entries, c.index === 'hash')
              : new SetAssocLruCache(c.entries, c.ways ?? 1);
        instances.push(cache);
        this.caches.push({ name: c.name, cache });
      }
      const byCore: SimCache[] = [];
      for (let core = 0; core < this.spec.cores.count; core++)
        byCore.push(instances[this.instanceOf(c.scope, core)]!);
      return {
        spec: c,
        tier: this.tierIndex(c.tier),
        instances,
        byCore,
        scope: c.scope,
        lineBytes: c.lineBytes ?? 64,
      };
    });
    const byLine = path.caches.length > 0 && path.caches.every((c) => c.kind === 'set-assoc-lru');
    if (!byLine && path.caches.some((c) => c.kind === 'set-assoc-lru'))
      throw new RangeError(`${this.spec.name}: access path of ${purpose} mixes record and line caches`);
    return { levels, backing: this.tierIndex(path.backing), flowLocked: path.flowLocked ?? false, byLine };
  }
}

/**
 * The core's view: regions allocated in the model's tiers, capacities enforced, every reported
 * access forwarded to the sink. The model knows a region by its id and its own address counter
 * (`registerRegion`), never by where its bytes are, so where they are is free: host rings
 * ('host-buffers') and the data path's frame slots ('packet-buffers') lie in the WebAssembly
 * payload memory where the runtime has it (`payloadMemory`, as the inline runner's heap tiers:
 * payload copies and checksums between them then run in WebAssembly SIMD); every other region
 * is a plain ArrayBuffer (a simulated NIC runs on one thread).
 */
export class SimMemoryTiers implements MemoryTiers {
  readonly tiers: readonly TierInfo[];
  readonly payloadMemory = wasmPayload() !== null;
  private readonly used = new Map<string, number>();
  private nextId = 0;
  private nextAddress = 0;
  /** Regions by purpose, in allocation order (the sim wires the flow table's region). */
  readonly allocated: MemoryRegion[] = [];
  sink: AccessSink | null = null;

  constructor(private readonly model: MemoryModel) {
    this.tiers = model.tiers;
  }

  tierFor(purpose: RegionPurpose): string {
    return this.model.spec.placement[purpose];
  }

  allocate(purpose: RegionPurpose, byteLength: number, tier = this.tierFor(purpose)): MemoryRegion {
    const t = this.model.tierIndex(tier);
    const info = this.tiers[t]!;
    // The data path asks for its frame slots here only because the tiers offer payload memory.
    // The model bounds the NIC's packet buffers by receive items in flight and charges their
    // accesses per stage (`stages.intrinsic`), not as regions (MODEL.md: "packet-buffer and
    // ring accesses the core does not allocate through MemoryTiers"): they take no capacity.
    const counted = purpose !== 'packet-buffers';
    const used = (this.used.get(tier) ?? 0) + (counted ? byteLength : 0);
    if (used > info.sizeBytes)
      throw new RangeError(
        `${this.model.spec.name}: memory tier "${tier}" is full: ${purpose} needs ${byteLength} B, ` +
          `${info.sizeBytes - (used - byteLength)} B of ${info.sizeBytes} B are free`,
      );
    this.used.set(tier, used);
    const { buffer, byteOffset } = regionBacking(
      purpose,
      byteLength,
      this.payloadMemory,
      (n) => new ArrayBuffer(n),
    );
    const region: MemoryRegion = { id: this.nextId++, tier, purpose, buffer, byteOffset, byteLength };
    this.model.registerRegion(region, purpose, tier, this.nextAddress);
    this.nextAddress += Math.ceil(Math.max(1, byteLength) / 4096) * 4096;
    this.allocated.push(region);
    return region;
  }

  recordAccess(region: MemoryRegion, bytes: number, write: boolean, key?: number): void {
    if (this.sink !== null) this.sink.onAccess(region, bytes, write, key ?? -1);
  }

  /** Bytes allocated per tier. */
  usage(): Record<string, number> {
    return Object.fromEntries(this.used);
  }
}
