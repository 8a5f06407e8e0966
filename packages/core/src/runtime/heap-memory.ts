/**
 * Memory tiers for the inline runner: every region is its own SharedArrayBuffer, except host
 * rings and frame slots, which share the WebAssembly payload memory where the runtime has it
 * (`payloadMemory`); tiers are named after what they model,
 * and accesses are counted per tier rather than charged. `countOnly`: the flow-state record
 * cursors do not report their accesses here (the flow table's and other regions' still count).
 */
import type { MemoryRegion, MemoryTiers, RegionPurpose, TierInfo } from '../hw/memory-tiers.js';
import { regionBacking, wasmPayload } from '../util/wasm-payload.js';

const HOST_TIERS: readonly TierInfo[] = [
  { name: 'nic', sizeBytes: 4 * 2 ** 30, accessCycles: [4, 200], scope: 'nic' },
  { name: 'host', sizeBytes: 16 * 2 ** 30, accessCycles: [4, 200], scope: 'host' },
];

export class HeapMemoryTiers implements MemoryTiers {
  readonly tiers: readonly TierInfo[] = HOST_TIERS;
  readonly countOnly = true;
  /**
   * Host rings ('host-buffers') and frame slots ('packet-buffers') are placed in the WebAssembly
   * payload memory when the runtime has it (`util/wasm-payload.ts`): payload copies and sums
   * between them then run in WebAssembly SIMD. `false` gives every region its own buffer.
   */
  readonly payloadMemory: boolean;

  constructor(opts: { payloadMemory?: boolean } = {}) {
    this.payloadMemory = (opts.payloadMemory ?? true) && wasmPayload() !== null;
  }
  private readonly used = new Map<string, number>();
  private nextId = 0;
  /** Accesses recorded per region id (the x86 backend's per-tier counts). */
  readonly accesses: number[] = [];
  private readonly regionTier: string[] = [];

  tierFor(purpose: RegionPurpose): string {
    return purpose === 'host-buffers' ? 'host' : 'nic';
  }

  allocate(purpose: RegionPurpose, byteLength: number, tier = this.tierFor(purpose)): MemoryRegion {
    const info = this.tiers.find((t) => t.name === tier);
    if (!info)
      throw new RangeError(
        `memory tier "${tier}" does not exist; tiers: ${this.tiers.map((t) => t.name).join(', ')}`,
      );
    const used = (this.used.get(tier) ?? 0) + byteLength;
    if (used > info.sizeBytes) throw new RangeError(`memory tier "${tier}" is full (${info.sizeBytes} B)`);
    this.used.set(tier, used);
    const id = this.nextId++;
    this.accesses.push(0);
    this.regionTier.push(tier);
    const { buffer, byteOffset } = regionBacking(
      purpose,
      byteLength,
      this.payloadMemory,
      (n) => new SharedArrayBuffer(n),
    );
    return { id, tier, purpose, buffer, byteOffset, byteLength };
  }

  recordAccess(region: MemoryRegion, _bytes: number, _write: boolean): void {
    this.accesses[region.id]!++;
  }

  /** Accesses summed per tier name. */
  accessesByTier(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.accesses.length; i++)
      out[this.regionTier[i]!] = (out[this.regionTier[i]!] ?? 0) + this.accesses[i]!;
    return out;
  }
}
