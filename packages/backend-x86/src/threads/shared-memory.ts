/**
 * The x86 backend's memory tiers: every region is a SharedArrayBuffer, named by tier and
 * purpose, so the same bytes are seen by the data-path worker threads (NIC cores), the host
 * control plane and the application:
 *
 * - `nic`: per-flow records, the flow table, queues; shared by the data-path threads and read by
 *   the control plane (FlexTOE keeps these on the NIC and the host reaches them over PCIe).
 * - `host`: the per-connection RX/TX rings the DMA stage copies payload into and out of, shared
 *   with the application (FlexTOE's host memory, reached by the NIC's DMA engine).
 *
 * A thread that attaches (`SharedMemoryTiers.attach`) gets the regions the creating thread
 * exported: `allocate` hands back the exported region of that purpose and size instead of a new
 * one, so a `DataPath` built in a worker uses the very tables the control plane reads. Regions
 * created later (host rings for new connections) reach the worker as `RegionMessage`s.
 *
 * x86 cannot place bytes in L1 versus DRAM, so tiers are named for who shares them, and accesses
 * are counted, not charged.
 */
import type { MemoryRegion, MemoryTiers, RegionPurpose, TierInfo } from '@flextoe/core/nic';

const X86_TIERS: readonly TierInfo[] = [
  { name: 'nic', sizeBytes: 4 * 2 ** 30, accessCycles: [4, 300], scope: 'nic' },
  { name: 'host', sizeBytes: 16 * 2 ** 30, accessCycles: [4, 300], scope: 'host' },
];

/** A region as it crosses threads (structured clone keeps the SharedArrayBuffer shared). */
export interface RegionMessage {
  readonly id: number;
  readonly tier: string;
  readonly purpose: RegionPurpose;
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
}

export class SharedMemoryTiers implements MemoryTiers {
  /** Tiers of a creating thread; `attach` for the other side. */
  static attach(regions: readonly RegionMessage[], idBase: number): SharedMemoryTiers {
    const t = new SharedMemoryTiers(idBase);
    for (const r of regions) t.adopt(r, true);
    return t;
  }

  readonly tiers: readonly TierInfo[] = X86_TIERS;
  /** Record accesses counted on this thread, by tier. */
  nicAccesses = 0;
  hostAccesses = 0;
  /** Called for every region this thread creates (the host announces host rings to workers). */
  onAllocate: ((region: RegionMessage) => void) | null = null;
  private readonly used = new Map<string, number>();
  private readonly byId = new Map<number, RegionMessage>();
  /** Exported regions not yet handed out by `allocate`, in order. */
  private readonly unclaimed: RegionMessage[] = [];
  private nextId: number;

  /** `idBase` keeps region ids of different threads apart (the host uses 1). */
  constructor(idBase = 1) {
    this.nextId = idBase;
  }

  tierFor(purpose: RegionPurpose): string {
    return purpose === 'host-buffers' ? 'host' : 'nic';
  }

  allocate(purpose: RegionPurpose, byteLength: number, tier = this.tierFor(purpose)): MemoryRegion {
    const i = this.unclaimed.findIndex(
      (r) => r.purpose === purpose && r.byteLength === byteLength && r.tier === tier,
    );
    if (i >= 0) return this.unclaimed.splice(i, 1)[0]!;
    const info = this.tiers.find((t) => t.name === tier);
    if (!info)
      throw new RangeError(
        `memory tier "${tier}" does not exist; tiers: ${this.tiers.map((t) => t.name).join(', ')}`,
      );
    const used = (this.used.get(tier) ?? 0) + byteLength;
    if (used > info.sizeBytes) throw new RangeError(`memory tier "${tier}" is full (${info.sizeBytes} B)`);
    this.used.set(tier, used);
    const region: RegionMessage = {
      id: this.nextId++,
      tier,
      purpose,
      buffer: new SharedArrayBuffer(Math.max(8, byteLength)),
      byteOffset: 0,
      byteLength,
    };
    this.byId.set(region.id, region);
    this.onAllocate?.(region);
    return region;
  }

  /** Makes a region another thread created known here (by id; `claimable`: for `allocate`). */
  adopt(region: RegionMessage, claimable = false): void {
    this.byId.set(region.id, region);
    if (claimable) this.unclaimed.push(region);
  }

  region(id: number): RegionMessage | undefined {
    return this.byId.get(id);
  }

  /** Every region this thread knows, for another thread's `attach`. */
  export(): RegionMessage[] {
    return [...this.byId.values()];
  }

  recordAccess(region: MemoryRegion, _bytes: number, _write: boolean): void {
    if (region.tier === 'host') this.hostAccesses++;
    else this.nicAccesses++;
  }

  /** Accesses by tier name (for stats). */
  accessesByTier(): Record<string, number> {
    return { nic: this.nicAccesses, host: this.hostAccesses };
  }
}
