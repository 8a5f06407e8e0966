/**
 * The host's IPv4 -> Ethernet address table (RFC 826 "translation table"), kept by the control
 * plane (FlexTOE: ARP and routing stay on the host; DESIGN.md 1). The data path never consults
 * it: a flow's MACs are copied into its identity record when the flow is installed.
 *
 * Rules and where they come from:
 * - RFC 826, packet reception: "If the pair <protocol type, sender protocol address> is already
 *   in my translation table, update the sender hardware address field of the entry with the new
 *   information in the packet ... If Merge_flag is false [and] I am the target protocol address
 *   ... add the triplet". `merge` implements exactly that; `update` is the unconditional form
 *   for callers that learnt an address some other way (e.g. from the source of a SYN).
 * - RFC 1122 2.3.2.1: entries must be able to time out ("... a timeout mechanism ..."); here a
 *   REACHABLE entry lives `expiryNs` (default 60 s) after its last update or `confirm`.
 * - RFC 1122 2.3.2.1: "a mechanism to prevent ARP flooding (repeatedly sending an ARP Request
 *   for the same IP address, at a high rate) MUST be included. The recommended maximum rate is
 *   1 per second per destination." `markPending` and `dueRequests` enforce that interval.
 * - RFC 1122 2.3.2.2 suggests holding the latest packet per unresolved address; we hold none:
 *   the caller keeps (or retries) its own work, and learns from `lookup` when to go ahead.
 * - Hostile input (DESIGN.md 3): the table, and the pending resolutions inside it, are bounded
 *   with counters. Sender addresses that must never be cached are refused: IP 0.0.0.0 (an RFC
 *   5227 2.1.1 probe's sender), broadcast and multicast IPs, and multicast/broadcast MACs.
 *
 * States: INCOMPLETE (a request is out, no answer yet) and REACHABLE (a known MAC, until it
 * expires). Control plane code, so a `Map` indexes the entries; everything else is typed arrays
 * sized at construction, and the Map never holds more than `maxEntries` keys.
 */

export const ArpState = {
  /** No entry. */
  None: 0,
  /** A request has been sent and not answered (RFC 1122 2.3.2.2's "unresolved"). */
  Incomplete: 1,
  /** The MAC is known and has not expired. */
  Reachable: 2,
} as const;
export type ArpState = (typeof ArpState)[keyof typeof ArpState];

export interface ArpCacheOptions {
  /** Entries in all states (default 1024). */
  maxEntries?: number;
  /** INCOMPLETE entries at once: the pending-resolution queue (default 64). */
  maxPending?: number;
  /** Lifetime of a REACHABLE entry after its last update/confirm (default 60 s). */
  expiryNs?: number;
  /** Least time between two requests for one address (default 1 s, RFC 1122 2.3.2.1). */
  requestIntervalNs?: number;
  /** An INCOMPLETE entry is given up this long after its first request (default 3 s). */
  pendingTimeoutNs?: number;
}

export interface ArpCacheCounters {
  hits: number;
  misses: number;
  updates: number;
  /** INCOMPLETE entries answered. */
  resolved: number;
  /** REACHABLE entries that timed out. */
  expired: number;
  /** INCOMPLETE entries given up after `pendingTimeoutNs`. */
  unresolved: number;
  /** REACHABLE entries evicted to make room (oldest update first). */
  evicted: number;
  /** New entries refused: every entry is INCOMPLETE (nothing may be evicted). */
  tableFull: number;
  /** New resolutions refused: `maxPending` are outstanding. */
  pendingFull: number;
  /** Requests allowed by `markPending`/`dueRequests`. */
  requests: number;
  /** Requests held back by the one-per-second rule. */
  rateLimited: number;
  /** Updates refused: an address that must not be cached (see the file comment). */
  invalid: number;
}

const SECOND_NS = 1e9;
const TWO_POW_48 = 2 ** 48;
const TWO_POW_40 = 2 ** 40;

export class ArpCache {
  readonly maxEntries: number;
  readonly maxPending: number;
  readonly expiryNs: number;
  readonly requestIntervalNs: number;
  readonly pendingTimeoutNs: number;

  private readonly index = new Map<number, number>();
  private readonly ips: Uint32Array;
  private readonly macs: Float64Array;
  private readonly states: Uint8Array;
  /** REACHABLE: last update/confirm. INCOMPLETE: first request. */
  private readonly stamp: Float64Array;
  private readonly lastRequest: Float64Array;
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  /** Slots of INCOMPLETE entries, in the order they were created (a bounded queue). */
  private readonly pendingSlots: Int32Array;
  private pendingCount = 0;
  private readonly _counters: ArpCacheCounters = {
    hits: 0,
    misses: 0,
    updates: 0,
    resolved: 0,
    expired: 0,
    unresolved: 0,
    evicted: 0,
    tableFull: 0,
    pendingFull: 0,
    requests: 0,
    rateLimited: 0,
    invalid: 0,
  };

  constructor(opts: ArpCacheOptions = {}) {
    this.maxEntries = positiveInt('maxEntries', opts.maxEntries ?? 1024);
    this.maxPending = Math.min(positiveInt('maxPending', opts.maxPending ?? 64), this.maxEntries);
    this.expiryNs = positiveTime('expiryNs', opts.expiryNs ?? 60 * SECOND_NS);
    this.requestIntervalNs = positiveTime('requestIntervalNs', opts.requestIntervalNs ?? SECOND_NS);
    this.pendingTimeoutNs = positiveTime('pendingTimeoutNs', opts.pendingTimeoutNs ?? 3 * SECOND_NS);
    const n = this.maxEntries;
    this.ips = new Uint32Array(n);
    this.macs = new Float64Array(n);
    this.states = new Uint8Array(n);
    this.stamp = new Float64Array(n);
    this.lastRequest = new Float64Array(n);
    this.freeSlots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeSlots[i] = n - 1 - i;
    this.freeCount = n;
    this.pendingSlots = new Int32Array(this.maxPending);
  }

  get counters(): Readonly<ArpCacheCounters> {
    return this._counters;
  }

  /** Entries in any state. */
  get size(): number {
    return this.index.size;
  }

  /** Outstanding resolutions (INCOMPLETE entries). */
  get pending(): number {
    return this.pendingCount;
  }

  /** The MAC of `ip` (a 48-bit number) if REACHABLE and not expired at `nowNs`; else -1. */
  lookup(ip: number, nowNs: number): number {
    const slot = this.index.get(ip >>> 0);
    if (slot !== undefined && this.states[slot] === ArpState.Reachable) {
      if (nowNs - this.stamp[slot]! < this.expiryNs) {
        this._counters.hits++;
        return this.macs[slot]!;
      }
      this._counters.expired++;
      this.free(slot);
    }
    this._counters.misses++;
    return -1;
  }

  /** The entry's state at `nowNs` (an expired entry reads as None). */
  state(ip: number, nowNs: number): ArpState {
    const slot = this.index.get(ip >>> 0);
    if (slot === undefined) return ArpState.None;
    const st = this.states[slot] as ArpState;
    if (st === ArpState.Reachable && nowNs - this.stamp[slot]! >= this.expiryNs) return ArpState.None;
    return st;
  }

  /**
   * Records ip -> mac as REACHABLE at `nowNs`, creating the entry if needed (evicting the
   * REACHABLE entry updated longest ago when the table is full). False, counted, when the
   * address must not be cached or nothing can be evicted.
   */
  update(ip: number, mac: number, nowNs: number): boolean {
    ip >>>= 0;
    if (!cacheable(ip, mac)) {
      this._counters.invalid++;
      return false;
    }
    let slot = this.index.get(ip);
    if (slot === undefined) {
      slot = this.allocate(ip, nowNs);
      if (slot < 0) return false;
    } else if (this.states[slot] === ArpState.Incomplete) {
      this.unqueue(slot);
      this._counters.resolved++;
    }
    this.macs[slot] = mac;
    this.states[slot] = ArpState.Reachable;
    this.stamp[slot] = nowNs;
    this._counters.updates++;
    return true;
  }

  /**
   * RFC 826's reception rule for an ARP packet from `senderIp`/`senderMac`: update an existing
   * entry (in any state); add one only when `targetIsUs`. Returns true when the table changed.
   */
  merge(senderIp: number, senderMac: number, targetIsUs: boolean, nowNs: number): boolean {
    if (!targetIsUs && !this.index.has(senderIp >>> 0)) return false;
    return this.update(senderIp, senderMac, nowNs);
  }

  /**
   * Upper-layer reachability confirmation (RFC 1122 2.3.2.1: e.g. TCP saw new data acknowledged):
   * restarts a REACHABLE entry's lifetime. False if there is no such entry.
   */
  confirm(ip: number, nowNs: number): boolean {
    const slot = this.index.get(ip >>> 0);
    if (slot === undefined || this.states[slot] !== ArpState.Reachable) return false;
    if (nowNs - this.stamp[slot]! >= this.expiryNs) return false;
    this.stamp[slot] = nowNs;
    return true;
  }

  /**
   * The caller needs `ip` resolved. True when it should send an ARP request now: a new
   * resolution (INCOMPLETE entry created), or an outstanding one whose last request was at least
   * `requestIntervalNs` ago. False when the address is already REACHABLE, a request went out
   * less than a second ago (RFC 1122 2.3.2.1, counted `rateLimited`), or the pending queue or
   * table is full (counted).
   */
  markPending(ip: number, nowNs: number): boolean {
    ip >>>= 0;
    let slot = this.index.get(ip);
    if (slot !== undefined) {
      if (this.states[slot] === ArpState.Incomplete) return this.requestDue(slot, nowNs);
      if (nowNs - this.stamp[slot]! < this.expiryNs) return false;
      // Expired: re-resolve in place, keeping the time of the last request we sent for it.
      this._counters.expired++;
      if (this.pendingCount >= this.maxPending) {
        this._counters.pendingFull++;
        this.free(slot);
        return false;
      }
      this.startPending(slot, nowNs);
      return this.requestDue(slot, nowNs);
    }
    if (!cacheable(ip, 0)) {
      this._counters.invalid++;
      return false;
    }
    if (this.pendingCount >= this.maxPending) {
      this._counters.pendingFull++;
      return false;
    }
    slot = this.allocate(ip, nowNs);
    if (slot < 0) return false;
    this.startPending(slot, nowNs);
    return this.requestDue(slot, nowNs);
  }

  /**
   * The control loop's retry pass: writes to `out` the addresses whose request should be sent
   * again now (one per `requestIntervalNs`), marks them requested, and returns how many.
   * Resolutions older than `pendingTimeoutNs` are given up first (counted `unresolved`), at a
   * moment when a new request for the address would be allowed, so the rate rule holds across.
   */
  dueRequests(nowNs: number, out: Uint32Array): number {
    this.expirePending(nowNs);
    let n = 0;
    for (let i = 0; i < this.pendingCount && n < out.length; i++) {
      const slot = this.pendingSlots[i]!;
      if (nowNs - this.lastRequest[slot]! >= this.requestIntervalNs) {
        this.lastRequest[slot] = nowNs;
        this._counters.requests++;
        out[n++] = this.ips[slot]!;
      }
    }
    return n;
  }

  /** Drops expired REACHABLE entries and timed-out INCOMPLETE ones; returns how many. */
  tick(nowNs: number): number {
    let removed = this.expirePending(nowNs);
    for (let slot = 0; slot < this.maxEntries; slot++) {
      if (this.states[slot] === ArpState.Reachable && nowNs - this.stamp[slot]! >= this.expiryNs) {
        this._counters.expired++;
        this.free(slot);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets `ip` (e.g. an administrator's flush). */
  remove(ip: number): boolean {
    const slot = this.index.get(ip >>> 0);
    if (slot === undefined) return false;
    this.free(slot);
    return true;
  }

  // ---------------------------------------------------------------- internals

  private startPending(slot: number, nowNs: number): void {
    this.states[slot] = ArpState.Incomplete;
    this.macs[slot] = -1;
    this.stamp[slot] = nowNs;
    this.pendingSlots[this.pendingCount++] = slot;
  }

  private requestDue(slot: number, nowNs: number): boolean {
    if (nowNs - this.lastRequest[slot]! < this.requestIntervalNs) {
      this._counters.rateLimited++;
      return false;
    }
    this.lastRequest[slot] = nowNs;
    this._counters.requests++;
    return true;
  }

  private expirePending(nowNs: number): number {
    let removed = 0;
    for (let i = 0; i < this.pendingCount;) {
      const slot = this.pendingSlots[i]!;
      // Give up only once another request would be allowed anyway, so that a caller starting
      // a fresh resolution right away still sends at most one request per interval.
      if (
        nowNs - this.stamp[slot]! >= this.pendingTimeoutNs &&
        nowNs - this.lastRequest[slot]! >= this.requestIntervalNs
      ) {
        this._counters.unresolved++;
        this.free(slot); // swaps the last pending slot into position i
        removed++;
      } else i++;
    }
    return removed;
  }

  /** A free slot indexed under `ip`, evicting if needed; -1 (counted `tableFull`) if none. */
  private allocate(ip: number, nowNs: number): number {
    if (this.freeCount === 0) {
      // Evict an expired entry if there is one, else the REACHABLE entry updated longest ago.
      let victim = -1;
      let oldest = Infinity;
      for (let s = 0; s < this.maxEntries; s++) {
        if (this.states[s] !== ArpState.Reachable) continue;
        const t = this.stamp[s]!;
        if (nowNs - t >= this.expiryNs) {
          victim = s;
          this._counters.expired++;
          break;
        }
        if (t < oldest) {
          oldest = t;
          victim = s;
        }
      }
      if (victim < 0) {
        this._counters.tableFull++;
        return -1;
      }
      if (nowNs - this.stamp[victim]! < this.expiryNs) this._counters.evicted++;
      this.free(victim);
    }
    const slot = this.freeSlots[--this.freeCount]!;
    this.ips[slot] = ip;
    this.lastRequest[slot] = -Infinity;
    this.index.set(ip, slot);
    return slot;
  }

  private free(slot: number): void {
    if (this.states[slot] === ArpState.Incomplete) this.unqueue(slot);
    this.index.delete(this.ips[slot]!);
    this.states[slot] = ArpState.None;
    this.macs[slot] = -1;
    this.freeSlots[this.freeCount++] = slot;
  }

  private unqueue(slot: number): void {
    for (let i = 0; i < this.pendingCount; i++) {
      if (this.pendingSlots[i] === slot) {
        this.pendingSlots[i] = this.pendingSlots[--this.pendingCount]!;
        return;
      }
    }
  }
}

/**
 * May ip -> mac be cached? Not for 0.0.0.0 (RFC 5227 probes), 255.255.255.255 or class D/E
 * (RFC 1122 3.3.6 / RFC 5771: never a unicast neighbour), nor for a MAC outside 48 bits or with
 * the group bit set (IEEE 802: the first octet's least significant bit marks multicast).
 */
function cacheable(ip: number, mac: number): boolean {
  if (ip === 0 || ip >>> 28 >= 0xe) return false;
  if (!(Number.isInteger(mac) && mac >= 0 && mac < TWO_POW_48)) return false;
  return (Math.floor(mac / TWO_POW_40) & 1) === 0;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`arp cache: ${name} ${v} must be an integer >= 1`);
  return v;
}

function positiveTime(name: string, v: number): number {
  if (!(v > 0 && v < Infinity)) throw new RangeError(`arp cache: ${name} ${v} must be > 0`);
  return v;
}
