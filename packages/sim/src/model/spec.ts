/**
 * What a simulated NIC is, as data: its cores, memory tiers and caches, what each pipeline stage
 * costs, its PCIe DMA engine and its line rate. The Agilio-CX40 and BlueField packages each
 * build one of these from their documented parameters; everything in this package (engine,
 * timing model, ports, stacks) works from it, so the two models share every line of machinery.
 */
import type { RegionPurpose, Seed, StageGraph, StageKind, TierInfo } from '@flextoe/core';

export interface SimCoreSpec {
  readonly count: number;
  /** Cores per cluster (NFP island: 12 FPCs; BlueField: the 2 cores that share an L2). */
  readonly clusterSize: number;
  /** Hardware threads per core (NFP FPC: 8 cooperative threads; ARM: 1). */
  readonly threads: number;
  readonly clockHz: number;
  /**
   * True when a memory wait stalls the whole core (an ARM core: one thread); false when another
   * thread of the core runs meanwhile (an NFP FPC switches threads on every memory wait).
   */
  readonly memoryStallsCore: boolean;
  /** Compute cycles a thread switch costs on each memory wait (NFP ctx_arb; 0 on ARM). */
  readonly switchCycles: number;
  /** Accesses at or below this latency (cycles) complete without a thread switch (NFP LM). */
  readonly syncAccessCycles: number;
}

/** A cache in front of a tier: FlexTOE's software caches (NFP) or hardware caches (ARM). */
export interface CacheSpec {
  /** Name in the statistics, e.g. 'protocol-state LM CAM'. */
  readonly name: string;
  /** The tier a hit costs (its latency), e.g. 'lm'. */
  readonly tier: string;
  /**
   * 'cam-lru': fully associative, least recently used (the NFP's 16-entry LM CAM);
   * 'direct-mapped': one slot per index (FlexTOE's CLS flow-state cache, the flow-hash cache);
   * 'set-assoc-lru': a hardware cache of `lineBytes` lines in `ways`-way sets (ARM L1/L2/L3).
   */
  readonly kind: 'cam-lru' | 'direct-mapped' | 'set-assoc-lru';
  /** Entries: records for 'cam-lru'/'direct-mapped', lines for 'set-assoc-lru'. */
  readonly entries: number;
  readonly ways?: number;
  readonly lineBytes?: number;
  /**
   * How a direct-mapped cache indexes a record: 'key' = flow id mod entries (FlexTOE's CLS
   * cache: `flow_id & 511`), 'hash' = a mix of the flow id (FlexTOE's flow-hash cache indexes by
   * the CRC of the 4-tuple; a mixed id has the same collision statistics).
   */
  readonly index?: 'key' | 'hash';
  /** One instance per core, per cluster, or one for the NIC. */
  readonly scope: 'core' | 'cluster' | 'nic';
}

/** How one kind of state is reached: caches looked up in order, then the backing tier. */
export interface AccessPathSpec {
  readonly caches: readonly CacheSpec[];
  /** Tier the state lives in when no cache holds it. */
  readonly backing: string;
  /**
   * The state is under the per-flow lock (FlexTOE's protocol state): the next segment of the same
   * flow cannot start the stage before this one has read, updated and written it back.
   */
  readonly flowLocked?: boolean;
}

/** An access a stage makes to memory the core does not allocate through MemoryTiers. */
export interface IntrinsicAccess {
  readonly tier: string;
  readonly count: number;
  /** Why (the firmware operation it stands for), for the model document. */
  readonly what: string;
}

export interface StageCostSpec {
  /** Compute cycles per run of each stage, memory waits excluded. */
  readonly cycles: Readonly<Record<StageKind, number>>;
  /** Packet-buffer and work-ring accesses per run (per-flow state is counted from the core). */
  readonly intrinsic: Readonly<Record<StageKind, readonly IntrinsicAccess[]>>;
}

/** The tier an inter-stage hand-off (work queue) goes through, by where the two stages run. */
export interface HandoffSpec {
  readonly sameCore: string;
  readonly sameCluster: string;
  readonly otherCluster: string;
}

export interface PcieSpec {
  /** DMA commands in flight per direction before the next one waits (FlexTOE: 128). */
  readonly inFlightPerDirection: number;
  /** Payload bandwidth per direction, bytes per second (after TLP overheads). */
  readonly bytesPerSecond: number;
  /** Host memory -> NIC (a DMA read: a round trip over PCIe). */
  readonly readLatencyNs: number;
  /** NIC -> host memory (a posted write: one way). */
  readonly writeLatencyNs: number;
  readonly maxCopyBytes: number;
}

export type SimLayout = 'spread' | 'single-core';

export interface NicModelSpec {
  /** Backend name, e.g. 'agilio-sim'. */
  readonly name: string;
  readonly cores: SimCoreSpec;
  /** Tiers with sizes and latencies in core cycles [best, worst]; 'host' is host memory. */
  readonly tiers: readonly TierInfo[];
  /** Backing tier of every region purpose (the model's layout decision). */
  readonly placement: Readonly<Record<RegionPurpose, string>>;
  /** Caches in front of the per-flow state; purposes without a path go straight to their tier. */
  readonly paths: Readonly<Partial<Record<RegionPurpose, AccessPathSpec>>>;
  readonly stages: StageCostSpec;
  readonly handoff: HandoffSpec;
  readonly pcie: PcieSpec;
  readonly lineRateGbps: number;
  /** Stage replicas; `flowGroups` is the number of protocol-stage instances. */
  readonly graph: StageGraph;
  /** 'spread': each stage instance on its own core (wrapping when there are more instances than
   * cores); 'single-core': every stage on core 0 (run to completion). */
  readonly layout: SimLayout;
  /** Receive work items the NIC holds in flight (packet buffers); beyond it the MAC drops. */
  readonly rxItemsInFlight: number;
  /** Transmit segments in flight in the pipeline (FlexTOE's queue-manager credits). */
  readonly txCredits: number;
  /** Host control plane -> NIC: a request or control frame crosses PCIe (doorbell + fetch). */
  readonly hostToNicNs: number;
  /** Seed of the model's random streams (memory latencies within their documented ranges). */
  readonly seed: Seed;
}
