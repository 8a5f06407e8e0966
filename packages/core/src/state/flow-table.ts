/**
 * FlexTOE's flow lookup: the 4-tuple of an established connection -> its flow id, as the
 * pre-processing stage does it for every received segment (DESIGN.md 1: "flow lookup (4-tuple
 * hash table), assign the flow group").
 *
 * Layout: open addressing with linear probing over one Uint32Array in memory the caller gives
 * (a `MemoryRegion` from the backend's tiers, possibly a SharedArrayBuffer). A 16-byte header,
 * then `capacity` slots of 4 words each, so one slot never straddles a 16-byte line:
 *
 *   header: [magic, capacity, maxEntries, size]
 *   slot:   [localIp, remoteIp, localPort << 16 | remotePort, flowId + 1]   (tag 0 = empty)
 *
 * Storing `flowId + 1` makes an all-zero slot the empty slot, so a zeroed region (which is what
 * `MemoryTiers.allocate` returns) only needs its header written. Deletion shifts later entries
 * of the probe run backwards (Knuth, TAOCP vol. 3, 6.4 Algorithm R), so there are no tombstones
 * and a lookup's probe length depends only on the live entries. The load factor is capped
 * (default 50%): linear probing's expected probe count for a miss is ~(1 + 1/(1-a)^2)/2, i.e.
 * 2.5 slots at a = 0.5 but 50 at a = 0.9, and a miss is what an attacker can ask for.
 *
 * Concurrency: one writer (the control plane installs and removes flows) and readers on the same
 * thread, or readers elsewhere that the caller keeps away from concurrent writes (FlexTOE
 * installs flow state through the pipeline, not behind its back). `attach` gives a second view
 * of an initialised table, e.g. in a worker thread.
 *
 * Nothing here allocates after construction; a full table is a counted `tableFull`, not a throw.
 */

import type { MemoryRegion, MemoryTiers } from '../hw/memory-tiers.js';

const MAGIC = 0x464c_5754; // 'FLWT'
const HEADER_WORDS = 4;
const H_MAGIC = 0;
const H_CAPACITY = 1;
const H_MAX_ENTRIES = 2;
const H_SIZE = 3;
const SLOT_WORDS = 4;

/** Largest flow id: the slot stores `flowId + 1` in a u32 and 0 means empty. */
export const MAX_FLOW_ID = 0xffff_fffe;

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). FlexTOE hashes the 4-tuple with the
// NFP's CRC unit; on x86 the same role is played by DPDK's rte_hash_crc, which is CRC-32C because
// SSE4.2 has an instruction for it. CRC is linear, which is fine for spreading well-formed keys
// but is NOT a keyed hash: the table is only filled by the control plane for established
// connections (a peer cannot insert at will), and the load cap bounds the worst probe run.
// Int32 throughout (XOR and shifts only see the bits): no value here ever needs a heap number.
const CRC32C_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f6_3b78 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

function crcU32(crc: number, v: number): number {
  // Bytes in network order (most significant first), as they sit in the IPv4/TCP headers.
  crc = CRC32C_TABLE[(crc ^ (v >>> 24)) & 0xff]! ^ (crc >>> 8);
  crc = CRC32C_TABLE[(crc ^ (v >>> 16)) & 0xff]! ^ (crc >>> 8);
  crc = CRC32C_TABLE[(crc ^ (v >>> 8)) & 0xff]! ^ (crc >>> 8);
  return CRC32C_TABLE[(crc ^ v) & 0xff]! ^ (crc >>> 8);
}

/**
 * CRC-32C of the 12 bytes localIp(4) remoteIp(4) localPort(2) remotePort(2), big-endian, with
 * the usual ~0 initial value and final inversion. Unsigned 32-bit result. The flow group is
 * `hash4(...) % G` (FlexTOE), and the table's home slot is `hash4(...) & (capacity - 1)`.
 * Matches `crc32c(bytes)` of any standard implementation (iSCSI, RFC 3720 B.4).
 */
export function hash4(localIp: number, remoteIp: number, localPort: number, remotePort: number): number {
  return hash4Bits(localIp, remoteIp, localPort, remotePort) >>> 0;
}

/** `hash4` as an int32 (same bits): what the table uses, so the hash is never a boxed number. */
function hash4Bits(localIp: number, remoteIp: number, localPort: number, remotePort: number): number {
  let crc = -1;
  crc = crcU32(crc, localIp);
  crc = crcU32(crc, remoteIp);
  crc = crcU32(crc, ((localPort & 0xffff) << 16) | (remotePort & 0xffff));
  return ~crc;
}

/** Counters; `tableFull` is the drop counter for the load-factor bound. */
export interface FlowTableCounters {
  inserts: number;
  removes: number;
  hits: number;
  misses: number;
  /** Insert refused: the table holds `maxEntries` flows already. */
  tableFull: number;
  /** Insert refused: the 4-tuple is already installed (the existing mapping is kept). */
  duplicate: number;
  /** Insert refused: flow id outside 0..MAX_FLOW_ID. */
  invalidFlowId: number;
  /** Remove of a 4-tuple that is not installed. */
  removeMiss: number;
  /** Longest probe sequence any operation has walked (slots), a health gauge. */
  maxProbe: number;
}

export interface FlowTableOptions {
  /** Highest fill ratio, 0 < maxLoad <= 0.9; default 0.5 (see the file comment). */
  maxLoad?: number;
}

/** Module-private marker: `attach` keeps the contents and trusts the header. */
const ATTACH: FlowTableOptions = Object.freeze({});

export class FlowTable {
  /** Bytes of memory a table of `capacity` slots needs (header + 16 B per slot). */
  static bytesFor(capacity: number): number {
    checkCapacity(capacity);
    return (HEADER_WORDS + capacity * SLOT_WORDS) * 4;
  }

  /** A second view of a table another thread (or earlier code) initialised in `buffer`. */
  static attach(buffer: ArrayBufferLike, byteOffset: number): FlowTable {
    const header = new Uint32Array(buffer, byteOffset, HEADER_WORDS);
    if (header[H_MAGIC] !== MAGIC) throw new RangeError(`flow table: no table at byte offset ${byteOffset}`);
    return new FlowTable(buffer, byteOffset, header[H_CAPACITY]!, ATTACH);
  }

  readonly capacity: number;
  /** Most flows the table accepts (capacity x maxLoad). */
  readonly maxEntries: number;
  /** Hash of the 4-tuple of the last insert/lookup/remove: FlexTOE's flow group is this mod G. */
  lastHash = 0;
  private readonly _counters: FlowTableCounters = {
    inserts: 0,
    removes: 0,
    hits: 0,
    misses: 0,
    tableFull: 0,
    duplicate: 0,
    invalidFlowId: 0,
    removeMiss: 0,
    maxProbe: 0,
  };
  /**
   * Int32 rather than Uint32: addresses from 2^31 up stay small integers (no boxing when they
   * cross a call V8 did not inline, wire/bytes.ts) and compare with `| 0` keys directly.
   */
  private readonly words: Int32Array;
  private readonly mask: number;

  /**
   * Initialises an empty table of `capacity` slots (a power of two >= 2) in `buffer` at
   * `byteOffset` (a multiple of 4), overwriting `FlowTable.bytesFor(capacity)` bytes.
   */
  constructor(buffer: ArrayBufferLike, byteOffset: number, capacity: number, options?: FlowTableOptions) {
    checkCapacity(capacity);
    if (byteOffset % 4 !== 0) {
      throw new RangeError(`flow table: byte offset ${byteOffset} is not a multiple of 4`);
    }
    const words = HEADER_WORDS + capacity * SLOT_WORDS;
    if (byteOffset + words * 4 > buffer.byteLength) {
      throw new RangeError(
        `flow table: needs ${words * 4} bytes at offset ${byteOffset} but the buffer has ${buffer.byteLength}`,
      );
    }
    this.words = new Int32Array(buffer, byteOffset, words);
    this.capacity = capacity;
    this.mask = capacity - 1;
    if (options === ATTACH) {
      this.maxEntries = this.words[H_MAX_ENTRIES]!;
      return;
    }
    const maxLoad = options?.maxLoad ?? 0.5;
    if (!(maxLoad > 0 && maxLoad <= 0.9)) {
      throw new RangeError(`flow table: maxLoad ${maxLoad} must be in (0, 0.9]`);
    }
    // At least one slot always stays empty, so every probe loop terminates.
    this.maxEntries = Math.max(1, Math.min(capacity - 1, Math.floor(capacity * maxLoad)));
    this.words.fill(0);
    this.words[H_CAPACITY] = capacity;
    this.words[H_MAX_ENTRIES] = this.maxEntries;
    this.words[H_SIZE] = 0;
    this.words[H_MAGIC] = MAGIC;
  }

  /** Installed flows. */
  get size(): number {
    return this.words[H_SIZE]!;
  }

  get counters(): Readonly<FlowTableCounters> {
    return this._counters;
  }

  /**
   * Installs 4-tuple -> flowId. False (and a counter) when the table is at its load bound, the
   * tuple is already installed, or flowId is out of range. Ports are 16-bit, IPs 32-bit.
   */
  insert(localIp: number, remoteIp: number, localPort: number, remotePort: number, flowId: number): boolean {
    const c = this._counters;
    if (!(flowId >= 0 && flowId <= MAX_FLOW_ID) || flowId !== Math.floor(flowId)) {
      c.invalidFlowId++;
      return false;
    }
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = packPorts(localPort, remotePort);
    const found = this.find(lip, rip, ports);
    if (found >= 0) {
      c.duplicate++;
      return false;
    }
    const i = ~found;
    const w = this.words;
    if (this.probeLength > c.maxProbe) c.maxProbe = this.probeLength;
    // The duplicate check above walks the run first: a full table must still say "duplicate"
    // for an installed tuple rather than "full".
    if (w[H_SIZE]! >= this.maxEntries) {
      c.tableFull++;
      return false;
    }
    const base = HEADER_WORDS + i * SLOT_WORDS;
    w[base] = lip;
    w[base + 1] = rip;
    w[base + 2] = ports;
    w[base + 3] = flowId + 1;
    w[H_SIZE] = w[H_SIZE]! + 1;
    c.inserts++;
    return true;
  }

  /**
   * The flow id of the 4-tuple, or -1. Sets `lastHash` either way. A segment usually belongs to
   * the same flow as the one before it (a burst of one connection), so the last tuple found is
   * remembered with its slot and hash (FlexTOE keeps a flow-hash cache in the pre-processing
   * cores): when it comes again and its slot still holds it, the hash and the probe are skipped.
   * The slot is re-read every time, so a table changed meanwhile (also through another view of
   * the same memory) is never answered from memory. The probe length reported is the original
   * one, so a simulated backend charges the same accesses either way.
   */
  lookup(localIp: number, remoteIp: number, localPort: number, remotePort: number): number {
    const lip = localIp | 0;
    const rip = remoteIp | 0;
    const ports = packPorts(localPort, remotePort);
    const w = this.words;
    const m = this.memoSlot;
    const mb = HEADER_WORDS + m * SLOT_WORDS;
    let found: number;
    if (
      m >= 0 &&
      lip === this.memoLip &&
      rip === this.memoRip &&
      ports === this.memoPorts &&
      w[mb] === lip &&
      w[mb + 1] === rip &&
      w[mb + 2] === ports &&
      w[mb + 3] !== 0
    ) {
      found = m;
      this.lastHash = this.memoHash;
      this.probeLength = this.memoProbe;
    } else {
      found = this.find(lip, rip, ports);
      if (found >= 0) {
        this.memoSlot = found;
        this.memoLip = lip;
        this.memoRip = rip;
        this.memoPorts = ports;
        this.memoHash = this.lastHash;
        this.memoProbe = this.probeLength;
      }
    }
    const c = this._counters;
    if (this.probeLength > c.maxProbe) c.maxProbe = this.probeLength;
    const flowId = found < 0 ? -1 : (this.words[HEADER_WORDS + found * SLOT_WORDS + 3]! >>> 0) - 1;
    if (found < 0) c.misses++;
    else c.hits++;
    // The slots walked are the memory the pre-processing stage really reads.
    if (this.accessTiers !== null)
      this.accessTiers.recordAccess(this.accessRegion!, this.probeLength * SLOT_WORDS * 4, false, flowId);
    return flowId;
  }

  private accessTiers: MemoryTiers | null = null;
  private accessRegion: MemoryRegion | null = null;

  /**
   * Reports every `lookup` to `tiers` as one access to `region` (the slots probed, keyed by the
   * flow id found or -1), so a simulated backend charges the flow lookup to the stage doing it.
   */
  reportLookupsTo(tiers: MemoryTiers, region: MemoryRegion): void {
    this.accessTiers = tiers;
    this.accessRegion = region;
  }

  /** Uninstalls the 4-tuple; false (counted `removeMiss`) when it was not installed. */
  remove(localIp: number, remoteIp: number, localPort: number, remotePort: number): boolean {
    const found = this.find(localIp | 0, remoteIp | 0, packPorts(localPort, remotePort));
    if (found < 0) {
      this._counters.removeMiss++;
      return false;
    }
    const w = this.words;
    const mask = this.mask;
    const i = found;
    // Backward shift (Algorithm R): walk the rest of the run; an entry whose home slot is not
    // cyclically in (hole, j] would become unreachable past the hole, so it moves into the hole.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const jb = HEADER_WORDS + j * SLOT_WORDS;
      if (w[jb + 3] === 0) break;
      const p = w[jb + 2]!;
      const home = hash4Bits(w[jb]!, w[jb + 1]!, p >>> 16, p & 0xffff) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      const hb = HEADER_WORDS + hole * SLOT_WORDS;
      w[hb] = w[jb]!;
      w[hb + 1] = w[jb + 1]!;
      w[hb + 2] = p;
      w[hb + 3] = w[jb + 3]!;
      hole = j;
    }
    const hb = HEADER_WORDS + hole * SLOT_WORDS;
    w[hb] = 0;
    w[hb + 1] = 0;
    w[hb + 2] = 0;
    w[hb + 3] = 0;
    w[H_SIZE] = w[H_SIZE]! - 1;
    this._counters.removes++;
    return true;
  }

  /** Slots walked by the last `find` (for the `maxProbe` gauge). */
  private probeLength = 0;
  /** The last tuple `lookup` found: its slot (-1: none), key words, hash and probe length. */
  private memoSlot = -1;
  private memoLip = 0;
  private memoRip = 0;
  private memoPorts = 0;
  private memoHash = 0;
  private memoProbe = 0;

  /**
   * Linear probe from the tuple's home slot: the slot holding it, or `~slot` of the empty slot
   * that ends its run (where an insert goes). Sets `lastHash` and `probeLength`.
   */
  private find(lip: number, rip: number, ports: number): number {
    const h = hash4Bits(lip, rip, ports >>> 16, ports & 0xffff);
    this.lastHash = h >>> 0;
    const w = this.words;
    let i = h & this.mask;
    let probe = 1;
    for (;;) {
      const base = HEADER_WORDS + i * SLOT_WORDS;
      if (w[base + 3] === 0) {
        this.probeLength = probe;
        return ~i;
      }
      if (w[base] === lip && w[base + 1] === rip && w[base + 2] === ports) {
        this.probeLength = probe;
        return i;
      }
      i = (i + 1) & this.mask;
      probe++;
    }
  }

  /** Removes every flow (control plane reset). */
  clear(): void {
    this.words.fill(0, HEADER_WORDS);
    this.words[H_SIZE] = 0;
  }
}

function checkCapacity(capacity: number): void {
  if (
    !Number.isInteger(capacity) ||
    capacity < 2 ||
    capacity > 1 << 28 ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new RangeError(`flow table: capacity ${capacity} must be a power of two from 2 to 2^28`);
  }
}

/** Local port in the high half, remote port in the low half, as slots store them (int32). */
function packPorts(localPort: number, remotePort: number): number {
  return ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
}
