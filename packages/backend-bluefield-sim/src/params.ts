/**
 * The first-generation BlueField model's parameters: every number the model uses, its default
 * and where it comes from (MODEL.md lists them all; a spec keeps the two in step). A
 * configuration's `bluefieldSim` object overrides any of them (nested objects merge).
 */
import { RUN_TO_COMPLETION_GRAPH, type RegionPurpose, type StageGraph, type TierInfo } from '@flextoe/core';
import { deepFreeze, mergeParams, type AccessPathSpec, type NicModelSpec } from '@flextoe/sim';

export interface CacheParams {
  readonly bytes: number;
  readonly ways: number;
}

export interface StageCounts {
  readonly pre: number;
  readonly protocol: number;
  readonly post: number;
  readonly dma: number;
  readonly ctxq: number;
  readonly qm: number;
}

export interface BluefieldParams {
  /** Seed of the model's random streams (memory latencies within their ranges, ISN secrets). */
  readonly seed: number;
  /** 'flextoe': stage replicas spread over the cores; 'run-to-completion': all on one core. */
  readonly layout: 'flextoe' | 'run-to-completion';
  /** ARM cores: BlueField parts have 8 or 16. */
  readonly cores: 8 | 16;
  readonly clockMHz: number;
  /** Stage replicas per core count, in the 'flextoe' layout ('protocol' = flow groups). */
  readonly stages: { readonly 8: StageCounts; readonly 16: StageCounts };
  /** Compute cycles per run of each stage, memory waits excluded. */
  readonly cycles: StageCounts;
  readonly l1: CacheParams & { readonly cycles: readonly [number, number] };
  readonly l2: CacheParams & { readonly cycles: readonly [number, number] };
  readonly l3: CacheParams & { readonly ns: readonly [number, number] };
  readonly dram: { readonly bytes: number; readonly ns: readonly [number, number] };
  readonly pcie: {
    readonly inFlightPerDirection: number;
    readonly gbytesPerSec: number;
    readonly readLatencyNs: number;
    readonly writeLatencyNs: number;
  };
  readonly lineRateGbps: number;
  readonly rxBufferItems: number;
  readonly txCredits: number;
  readonly hostToNicNs: number;
}

export const DEFAULT_BLUEFIELD_PARAMS: BluefieldParams = deepFreeze({
  seed: 1,
  layout: 'flextoe',
  cores: 16,
  clockMHz: 800,
  stages: {
    8: { pre: 2, protocol: 2, post: 1, dma: 1, ctxq: 1, qm: 1 },
    16: { pre: 4, protocol: 4, post: 4, dma: 2, ctxq: 1, qm: 1 },
  },
  cycles: { pre: 250, protocol: 200, post: 300, dma: 150, ctxq: 120, qm: 100 },
  l1: { bytes: 32 * 1024, ways: 2, cycles: [4, 4] },
  l2: { bytes: 1024 * 1024, ways: 16, cycles: [21, 21] },
  l3: { bytes: 6 * 1024 * 1024, ways: 12, ns: [35, 45] },
  dram: { bytes: 16 * 2 ** 30, ns: [90, 130] },
  pcie: { inFlightPerDirection: 128, gbytesPerSec: 12, readLatencyNs: 800, writeLatencyNs: 400 },
  lineRateGbps: 25,
  rxBufferItems: 1024,
  txCredits: 128,
  hostToNicNs: 1000,
} satisfies BluefieldParams);

/** Applies a config's `bluefieldSim` object over the defaults; throws a RangeError naming the bad key. */
export function bluefieldParams(overrides: Record<string, unknown> = {}): BluefieldParams {
  const merged = mergeParams(DEFAULT_BLUEFIELD_PARAMS, overrides, 'bluefieldSim');
  validate(merged);
  return merged;
}

/** The model spec the simulator runs, from parameters. */
export function bluefieldSpec(p: BluefieldParams): NicModelSpec {
  const clusters = p.cores / 2;
  const cyclesOf = (ns: readonly [number, number]): [number, number] => [
    Math.round((ns[0] * p.clockMHz) / 1000),
    Math.round((ns[1] * p.clockMHz) / 1000),
  ];
  const tiers: TierInfo[] = [
    { name: 'l1', sizeBytes: p.l1.bytes * p.cores, accessCycles: [...p.l1.cycles], scope: 'core' },
    { name: 'l2', sizeBytes: p.l2.bytes * clusters, accessCycles: [...p.l2.cycles], scope: 'cluster' },
    { name: 'l3', sizeBytes: p.l3.bytes, accessCycles: cyclesOf(p.l3.ns), scope: 'nic' },
    { name: 'dram', sizeBytes: p.dram.bytes, accessCycles: cyclesOf(p.dram.ns), scope: 'nic' },
    // Host memory: reached only by DMA (its cost is the PCIe model's).
    { name: 'host', sizeBytes: 64 * 2 ** 30, accessCycles: [0, 0], scope: 'host' },
  ];
  const placement: Record<RegionPurpose, string> = {
    'protocol-state': 'dram',
    'flow-identity': 'dram',
    'flow-buffers': 'dram',
    'cc-state': 'dram',
    'flow-table': 'dram',
    queue: 'dram',
    'packet-buffers': 'dram',
    'host-buffers': 'host',
  };
  // The ARM cores' hardware caches: every per-flow access walks L1 -> L2 (per core pair) -> L3.
  const hw = (flowLocked: boolean): AccessPathSpec => ({
    caches: [
      {
        name: 'L1D',
        tier: 'l1',
        kind: 'set-assoc-lru',
        entries: p.l1.bytes / 64,
        ways: p.l1.ways,
        lineBytes: 64,
        scope: 'core',
      },
      {
        name: 'L2',
        tier: 'l2',
        kind: 'set-assoc-lru',
        entries: p.l2.bytes / 64,
        ways: p.l2.ways,
        lineBytes: 64,
        scope: 'cluster',
      },
      {
        name: 'L3',
        tier: 'l3',
        kind: 'set-assoc-lru',
        entries: p.l3.bytes / 64,
        ways: p.l3.ways,
        lineBytes: 64,
        scope: 'nic',
      },
    ],
    backing: 'dram',
    flowLocked,
  });
  const paths: Partial<Record<RegionPurpose, AccessPathSpec>> = {
    'protocol-state': hw(true),
    'flow-identity': hw(false),
    'flow-buffers': hw(false),
    'cc-state': hw(false),
    'flow-table': hw(false),
  };
  const rtc = p.layout === 'run-to-completion';
  const s = p.stages[p.cores];
  const graph: StageGraph = rtc
    ? RUN_TO_COMPLETION_GRAPH
    : {
        ...RUN_TO_COMPLETION_GRAPH,
        reorderQueueEntries: 8192,
        pre: s.pre,
        flowGroups: s.protocol,
        post: s.post,
        dma: s.dma,
        ctxq: s.ctxq,
        qm: s.qm,
      };
  return {
    name: 'bluefield-sim',
    cores: {
      count: p.cores,
      clusterSize: 2,
      threads: 1,
      clockHz: p.clockMHz * 1e6,
      memoryStallsCore: true,
      switchCycles: 0,
      syncAccessCycles: p.l1.cycles[1],
    },
    tiers,
    placement,
    paths,
    stages: {
      cycles: { ...p.cycles, io: 0 },
      intrinsic: {
        pre: [
          {
            tier: 'l3',
            count: 1,
            what: 'read the packet headers the NIC wrote into memory (not in this core’s caches)',
          },
        ],
        protocol: [],
        post: [{ tier: 'l2', count: 1, what: 'write the transmit descriptor for the NIC' }],
        dma: [{ tier: 'l2', count: 1, what: 'write the DMA descriptor' }],
        ctxq: [{ tier: 'l2', count: 1, what: 'read and advance the context queue pointers' }],
        qm: [{ tier: 'l1', count: 1, what: 'read the flow queue and rate state' }],
        io: [],
      },
    },
    // Work moves between cores through shared-memory rings: a ring slot written by one core and
    // read by another is a cache-line transfer (L2 within a core pair, L3 across pairs).
    handoff: { sameCore: 'l1', sameCluster: 'l2', otherCluster: 'l3' },
    pcie: {
      inFlightPerDirection: p.pcie.inFlightPerDirection,
      bytesPerSecond: p.pcie.gbytesPerSec * 1e9,
      readLatencyNs: p.pcie.readLatencyNs,
      writeLatencyNs: p.pcie.writeLatencyNs,
      maxCopyBytes: 1 << 20,
    },
    lineRateGbps: p.lineRateGbps,
    graph,
    layout: rtc ? 'single-core' : 'spread',
    rxItemsInFlight: p.rxBufferItems,
    txCredits: p.txCredits,
    hostToNicNs: p.hostToNicNs,
    seed: p.seed,
  };
}

function validate(p: BluefieldParams): void {
  const int = (path: string, v: number, lo: number, hi: number): void => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi))
      throw new RangeError(`bluefieldSim.${path} is ${v} but must be an integer from ${lo} to ${hi}`);
  };
  const pos = (path: string, v: number): void => {
    if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`bluefieldSim.${path} is ${v} but must be > 0`);
  };
  const range = (path: string, r: readonly [number, number]): void => {
    if (!(r[0] >= 0 && r[1] >= r[0]))
      throw new RangeError(`bluefieldSim.${path} must be [best, worst], 0 <= best <= worst`);
  };
  if (!['flextoe', 'run-to-completion'].includes(p.layout))
    throw new RangeError(`bluefieldSim.layout is "${p.layout}" but must be 'flextoe' or 'run-to-completion'`);
  if (p.cores !== 8 && p.cores !== 16)
    throw new RangeError(`bluefieldSim.cores is ${p.cores} but must be 8 or 16 (the BlueField parts)`);
  int('seed', p.seed, -(2 ** 31), 2 ** 31);
  pos('clockMHz', p.clockMHz);
  for (const n of [8, 16] as const)
    for (const [k, v] of Object.entries(p.stages[n])) int(`stages.${n}.${k}`, v, 1, 256);
  for (const [k, v] of Object.entries(p.cycles)) int(`cycles.${k}`, v, 0, 1e6);
  for (const k of ['l1', 'l2', 'l3'] as const) {
    const c = p[k];
    const lines = c.bytes / 64;
    const sets = lines / c.ways;
    if (!(Number.isInteger(sets) && sets >= 1 && (sets & (sets - 1)) === 0))
      throw new RangeError(
        `bluefieldSim.${k}: ${c.bytes} B in ${c.ways} ways of 64 B lines must give a power-of-two number of sets`,
      );
  }
  range('l1.cycles', p.l1.cycles);
  range('l2.cycles', p.l2.cycles);
  range('l3.ns', p.l3.ns);
  range('dram.ns', p.dram.ns);
  int('dram.bytes', p.dram.bytes, 1, 2 ** 40);
  int('pcie.inFlightPerDirection', p.pcie.inFlightPerDirection, 1, 65536);
  pos('pcie.gbytesPerSec', p.pcie.gbytesPerSec);
  pos('pcie.readLatencyNs', p.pcie.readLatencyNs);
  pos('pcie.writeLatencyNs', p.pcie.writeLatencyNs);
  pos('lineRateGbps', p.lineRateGbps);
  int('rxBufferItems', p.rxBufferItems, 1, 1 << 20);
  int('txCredits', p.txCredits, 1, 1 << 20);
  pos('hostToNicNs', p.hostToNicNs);
}
