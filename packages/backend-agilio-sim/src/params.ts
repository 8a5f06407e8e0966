/**
 * The Agilio-CX40 (NFP-4000) model's parameters: every number the model uses, its default, and
 * where the default comes from (MODEL.md lists them all; a spec keeps the two in step). A
 * configuration's `agilioSim` object overrides any of them (nested objects merge).
 */
import {
  FLEXTOE_AGILIO_GRAPH,
  RUN_TO_COMPLETION_GRAPH,
  type RegionPurpose,
  type StageGraph,
  type TierInfo,
} from '@flextoe/core';
import { deepFreeze, mergeParams, type AccessPathSpec, type NicModelSpec } from '@flextoe/sim';

export interface TierParams {
  readonly bytes: number;
  /** Access latency in FPC cycles, [best, worst]. */
  readonly cycles: readonly [number, number];
}

export interface AgilioParams {
  /** Seed of the model's random streams (memory latencies within their ranges, ISN secrets). */
  readonly seed: number;
  /** 'flextoe': FlexTOE's parallel layout; 'run-to-completion': every stage on one FPC. */
  readonly layout: 'flextoe' | 'run-to-completion';
  readonly clockMHz: number;
  readonly fpcs: number;
  readonly islandSize: number;
  readonly threadsPerFpc: number;
  /** Cycles a thread switch costs on a memory wait. */
  readonly contextSwitchCycles: number;
  /** Stage replicas in the 'flextoe' layout ('protocol' = flow groups = protocol FPCs). */
  readonly stages: {
    readonly pre: number;
    readonly protocol: number;
    readonly post: number;
    readonly dma: number;
    readonly ctxq: number;
    readonly qm: number;
  };
  /** Compute cycles per run of each stage, memory waits excluded. */
  readonly cycles: {
    readonly pre: number;
    readonly protocol: number;
    readonly post: number;
    readonly dma: number;
    readonly ctxq: number;
    readonly qm: number;
  };
  readonly memory: {
    readonly lm: TierParams;
    readonly cls: TierParams;
    readonly ctm: TierParams;
    readonly imem: TierParams;
    readonly emem: TierParams;
  };
  readonly flowHashCacheEntries: number;
  readonly connCacheEntries: number;
  readonly protocolStateLmEntries: number;
  readonly protocolStateClsEntries: number;
  /** 'cached': LM (16) -> CLS (512) -> EMEM as FlexTOE; 'emem': no caches (the ablation). */
  readonly protocolState: 'cached' | 'emem';
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

export const DEFAULT_AGILIO_PARAMS: AgilioParams = deepFreeze({
  seed: 1,
  layout: 'flextoe',
  clockMHz: 800,
  fpcs: 60,
  islandSize: 12,
  threadsPerFpc: 8,
  contextSwitchCycles: 2,
  stages: {
    pre: FLEXTOE_AGILIO_GRAPH.pre,
    protocol: FLEXTOE_AGILIO_GRAPH.flowGroups,
    post: FLEXTOE_AGILIO_GRAPH.post,
    dma: FLEXTOE_AGILIO_GRAPH.dma,
    ctxq: FLEXTOE_AGILIO_GRAPH.ctxq,
    qm: FLEXTOE_AGILIO_GRAPH.qm,
  },
  cycles: { pre: 1000, protocol: 250, post: 1000, dma: 200, ctxq: 120, qm: 150 },
  memory: {
    lm: { bytes: 4096, cycles: [1, 3] },
    cls: { bytes: 64 * 1024, cycles: [20, 50] },
    ctm: { bytes: 256 * 1024, cycles: [50, 100] },
    imem: { bytes: 4 * 1024 * 1024, cycles: [150, 250] },
    emem: { bytes: 2 * 1024 * 1024 * 1024, cycles: [150, 250] },
  },
  flowHashCacheEntries: 128,
  connCacheEntries: 16,
  protocolStateLmEntries: 16,
  protocolStateClsEntries: 512,
  protocolState: 'cached',
  pcie: { inFlightPerDirection: 128, gbytesPerSec: 6.5, readLatencyNs: 600, writeLatencyNs: 300 },
  lineRateGbps: 40,
  rxBufferItems: 1024,
  txCredits: 128,
  hostToNicNs: 1000,
} satisfies AgilioParams);

/** Applies a config's `agilioSim` object over the defaults; throws a RangeError naming the bad key. */
export function agilioParams(overrides: Record<string, unknown> = {}): AgilioParams {
  const merged = mergeParams(DEFAULT_AGILIO_PARAMS, overrides, 'agilioSim');
  validate(merged);
  return merged;
}

/** The model spec the simulator runs, from parameters. */
export function agilioSpec(p: AgilioParams): NicModelSpec {
  const m = p.memory;
  const islands = Math.ceil(p.fpcs / p.islandSize);
  const tier = (name: string, t: TierParams, scope: TierInfo['scope'], instances: number): TierInfo => ({
    name,
    sizeBytes: t.bytes * instances,
    accessCycles: [t.cycles[0], t.cycles[1]],
    scope,
  });
  const tiers: TierInfo[] = [
    tier('lm', m.lm, 'core', p.fpcs),
    tier('cls', m.cls, 'cluster', islands),
    tier('ctm', m.ctm, 'cluster', islands),
    tier('imem', m.imem, 'nic', 1),
    tier('emem', m.emem, 'nic', 1),
    // Host memory: reached only by DMA (its cost is the PCIe model's).
    { name: 'host', sizeBytes: 64 * 2 ** 30, accessCycles: [0, 0], scope: 'host' },
  ];
  const placement: Record<RegionPurpose, string> = {
    'protocol-state': 'emem',
    'flow-identity': 'emem',
    'flow-buffers': 'emem',
    'cc-state': 'emem',
    'flow-table': 'imem',
    queue: 'cls',
    'packet-buffers': 'ctm',
    'host-buffers': 'host',
  };
  const conn = (name: string): AccessPathSpec => ({
    caches: [{ name, tier: 'lm', kind: 'cam-lru', entries: p.connCacheEntries, scope: 'core' }],
    backing: 'emem',
  });
  const paths: Partial<Record<RegionPurpose, AccessPathSpec>> = {
    'protocol-state': {
      caches:
        p.protocolState === 'cached'
          ? [
              {
                name: 'protocol-state LM CAM',
                tier: 'lm',
                kind: 'cam-lru',
                entries: p.protocolStateLmEntries,
                scope: 'core',
              },
              {
                name: 'protocol-state CLS',
                tier: 'cls',
                kind: 'direct-mapped',
                entries: p.protocolStateClsEntries,
                index: 'key',
                scope: 'cluster',
              },
            ]
          : [],
      backing: 'emem',
      flowLocked: true,
    },
    'flow-identity': conn('connection cache (LM CAM)'),
    'flow-buffers': conn('buffer-info cache (LM CAM)'),
    'cc-state': { caches: [], backing: 'emem' },
    'flow-table': {
      caches: [
        {
          name: 'flow-hash cache (LM)',
          tier: 'lm',
          kind: 'direct-mapped',
          entries: p.flowHashCacheEntries,
          index: 'hash',
          scope: 'core',
        },
      ],
      backing: 'imem',
    },
  };
  const s = p.stages;
  const rtc = p.layout === 'run-to-completion';
  const graph: StageGraph = rtc
    ? RUN_TO_COMPLETION_GRAPH
    : {
        ...FLEXTOE_AGILIO_GRAPH,
        pre: s.pre,
        flowGroups: s.protocol,
        post: s.post,
        dma: s.dma,
        ctxq: s.ctxq,
        qm: s.qm,
      };
  return {
    name: 'agilio-sim',
    cores: {
      count: p.fpcs,
      clusterSize: p.islandSize,
      threads: p.threadsPerFpc,
      clockHz: p.clockMHz * 1e6,
      memoryStallsCore: false,
      switchCycles: p.contextSwitchCycles,
      // Local memory answers within the instruction (no thread switch).
      syncAccessCycles: m.lm.cycles[1],
    },
    tiers,
    placement,
    paths,
    stages: {
      cycles: { ...p.cycles, io: 0 },
      intrinsic: {
        pre: [
          { tier: 'ctm', count: 1, what: 'read the packet headers from the CTM packet buffer' },
          { tier: 'ctm', count: 1, what: 'write the segment summary and ACK header template back' },
        ],
        protocol: [{ tier: 'ctm', count: 1, what: 'read the segment summary from the CTM packet buffer' }],
        post: [{ tier: 'ctm', count: 1, what: 'write the TCP/IP headers into the CTM packet buffer' }],
        dma: [{ tier: 'cls', count: 1, what: 'take a DMA descriptor from the CLS pool' }],
        ctxq: [{ tier: 'cls', count: 1, what: 'read and advance the context queue pointers in CLS' }],
        qm: [{ tier: 'cls', count: 1, what: 'read the flow queue and rate state in CLS' }],
        io: [],
      },
    },
    // Work moves between stages through rings: LM on one FPC, CLS within an island, EMEM work
    // queues across islands (FlexTOE's flow-group rings live in EMEM).
    handoff: { sameCore: 'lm', sameCluster: 'cls', otherCluster: 'emem' },
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

// ------------------------------------------------------------------ checking overrides

function validate(p: AgilioParams): void {
  const int = (path: string, v: number, lo: number, hi: number): void => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi))
      throw new RangeError(`agilioSim.${path} is ${v} but must be an integer from ${lo} to ${hi}`);
  };
  const pos = (path: string, v: number): void => {
    if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`agilioSim.${path} is ${v} but must be > 0`);
  };
  if (!['flextoe', 'run-to-completion'].includes(p.layout))
    throw new RangeError(`agilioSim.layout is "${p.layout}" but must be 'flextoe' or 'run-to-completion'`);
  if (!['cached', 'emem'].includes(p.protocolState))
    throw new RangeError(`agilioSim.protocolState is "${p.protocolState}" but must be 'cached' or 'emem'`);
  int('seed', p.seed, -(2 ** 31), 2 ** 31);
  pos('clockMHz', p.clockMHz);
  int('fpcs', p.fpcs, 1, 1024);
  int('islandSize', p.islandSize, 1, 1024);
  int('threadsPerFpc', p.threadsPerFpc, 1, 64);
  int('contextSwitchCycles', p.contextSwitchCycles, 0, 1000);
  for (const [k, v] of Object.entries(p.stages)) int(`stages.${k}`, v, 1, 256);
  for (const [k, v] of Object.entries(p.cycles)) int(`cycles.${k}`, v, 0, 1e6);
  for (const [k, t] of Object.entries(p.memory)) {
    int(`memory.${k}.bytes`, t.bytes, 1, 2 ** 40);
    if (!(t.cycles[0] >= 0 && t.cycles[1] >= t.cycles[0]))
      throw new RangeError(`agilioSim.memory.${k}.cycles must be [best, worst] with 0 <= best <= worst`);
  }
  int('flowHashCacheEntries', p.flowHashCacheEntries, 1, 1 << 20);
  if ((p.flowHashCacheEntries & (p.flowHashCacheEntries - 1)) !== 0)
    throw new RangeError(`agilioSim.flowHashCacheEntries must be a power of two`);
  int('connCacheEntries', p.connCacheEntries, 1, 1024);
  int('protocolStateLmEntries', p.protocolStateLmEntries, 1, 1024);
  int('protocolStateClsEntries', p.protocolStateClsEntries, 1, 1 << 20);
  if ((p.protocolStateClsEntries & (p.protocolStateClsEntries - 1)) !== 0)
    throw new RangeError(`agilioSim.protocolStateClsEntries must be a power of two`);
  // The caches must fit the memories they live in (FlexTOE: 16 x 64 B of protocol state per FPC).
  const lmUse = p.protocolStateLmEntries * 64 + p.connCacheEntries * 32 * 2 + p.flowHashCacheEntries * 16;
  if (lmUse > p.memory.lm.bytes)
    throw new RangeError(
      `agilioSim: the LM caches need ${lmUse} B per FPC but local memory has ${p.memory.lm.bytes} B`,
    );
  if (p.protocolStateClsEntries * 64 > p.memory.cls.bytes)
    throw new RangeError(`agilioSim: ${p.protocolStateClsEntries} x 64 B of protocol state do not fit CLS`);
  int('pcie.inFlightPerDirection', p.pcie.inFlightPerDirection, 1, 65536);
  pos('pcie.gbytesPerSec', p.pcie.gbytesPerSec);
  pos('pcie.readLatencyNs', p.pcie.readLatencyNs);
  pos('pcie.writeLatencyNs', p.pcie.writeLatencyNs);
  pos('lineRateGbps', p.lineRateGbps);
  int('rxBufferItems', p.rxBufferItems, 1, 1 << 20);
  int('txCredits', p.txCredits, 1, 1 << 20);
  pos('hostToNicNs', p.hostToNicNs);
}
