/**
 * The FlexTOE-TS configuration: TypeScript types, the defaults, and the JSON Schema (ajv 8)
 * that every resolved configuration is validated against. The types are written by hand
 * next to the schema; `schema.spec.ts` checks that the defaults satisfy the schema.
 */

export const BACKEND_NAMES = ['x86', 'agilio-sim', 'bluefield-sim'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const PORT_DRIVERS = ['virtual', 'tap', 'dpdk'] as const;
export type PortDriver = (typeof PORT_DRIVERS)[number];

/** FlexTOE's congestion-control choices (DCTCP rate-based is the paper's default) plus NewReno. */
export const CC_ALGORITHMS = ['dctcp-rate', 'dctcp-window', 'timely', 'const-rate', 'newreno'] as const;
export type CcAlgorithm = (typeof CC_ALGORITHMS)[number];

/** How a simulated backend relates modelled time to wall time (ignored by x86). */
export const TIME_MODES = ['virtual', 'paced'] as const;
export type TimeMode = (typeof TIME_MODES)[number];

/** An in-process wire: no root, no DPDK. Ports on the same `network` name see each other. */
export interface VirtualPortConfig {
  driver: 'virtual';
  network?: string;
  /** IPv4 address with prefix length, `a.b.c.d/len`. */
  ip?: string;
  mac?: string;
}

/** A Linux TAP interface (needs /dev/net/tun and CAP_NET_ADMIN). */
export interface TapPortConfig {
  driver: 'tap';
  ifname: string;
  ip: string;
  gateway?: string;
  mac?: string;
}

/** A DPDK port through the x86 addon: a vdev (`net_tap0,iface=...`, `net_af_packet0,...`) or PCI device. */
export interface DpdkPortConfig {
  driver: 'dpdk';
  vdev: string;
  ip: string;
  gateway?: string;
  mac?: string;
  /** Extra EAL arguments, passed through unchanged. */
  eal?: readonly string[];
}

export type PortConfig = VirtualPortConfig | TapPortConfig | DpdkPortConfig;

export interface StackOptions {
  mss: number;
  /** Protocol-stage instances; a flow's group is hash mod flowGroups (FlexTOE uses 4). */
  flowGroups: number;
  cc: CcAlgorithm;
  rxBufferBytes: number;
  txBufferBytes: number;
  delayedAck: boolean;
  /** Out-of-order intervals tracked per flow (FlexTOE tracks one). */
  oooIntervals: number;
  /** RFC 7323 window scaling; FlexTOE had none, we add it. */
  windowScale: boolean;
  maxFlows: number;
}

/**
 * A user module for the data path's hook points (pipeline/hooks.ts): a JavaScript file whose
 * `createModule(options)` (or default export) returns a `DataPathModule`. Every backend loads it
 * where its data path runs (the NIC-core threads of x86, the simulated NIC), in list order.
 */
export interface ModuleConfig {
  /** The module file; relative to the config file it was written in, else to the working directory. */
  path: string;
  /** Passed to `createModule` as it is (JSON: a module on a worker thread gets a copy). */
  options?: Record<string, unknown>;
  /** An eBPF object's program section to run (default: its one XDP section, `SEC("xdp")`). */
  section?: string;
}

/** A fully resolved configuration: every field present. */
export interface FlexToeConfig {
  backend: BackendName;
  port: PortConfig;
  stack: StackOptions;
  timeMode: TimeMode;
  /** Backend-specific options; permissive until the backends define them. */
  x86: Record<string, unknown>;
  agilioSim: Record<string, unknown>;
  bluefieldSim: Record<string, unknown>;
  /** User modules for the data path's hook points, installed in this order (absolute paths). */
  modules: ModuleConfig[];
}

/** What a config file or a `createStack()` caller may write: everything optional, stack per field. */
export interface FlexToeConfigInput {
  $schema?: string;
  backend?: BackendName;
  port?: PortConfig;
  stack?: Partial<StackOptions>;
  timeMode?: TimeMode;
  x86?: Record<string, unknown>;
  agilioSim?: Record<string, unknown>;
  bluefieldSim?: Record<string, unknown>;
  modules?: ModuleConfig[];
}

const KiB = 1024;

export const DEFAULT_STACK: Readonly<StackOptions> = Object.freeze({
  mss: 1448,
  flowGroups: 4,
  cc: 'dctcp-rate',
  rxBufferBytes: 256 * KiB,
  txBufferBytes: 256 * KiB,
  delayedAck: false,
  oooIntervals: 1,
  windowScale: true,
  maxFlows: 16384,
});

/** The default needs no privileges and no DPDK: the x86 backend on the in-process wire. */
export const DEFAULT_CONFIG: Readonly<FlexToeConfig> = Object.freeze({
  backend: 'x86',
  port: Object.freeze({ driver: 'virtual' }),
  stack: DEFAULT_STACK,
  // A simulated NIC follows the wall clock unless asked otherwise, so it can share a wire with
  // real-time parties (x86, TAP); 'virtual' (as fast as the machine allows) is for benches.
  timeMode: 'paced',
  x86: Object.freeze({}),
  agilioSim: Object.freeze({}),
  bluefieldSim: Object.freeze({}),
  modules: Object.freeze([]) as unknown as ModuleConfig[],
}) as Readonly<FlexToeConfig>;

/** Buffers are circular and indexed with a mask, so sizes are powers of two: 4 KiB .. 64 MiB. */
export const BUFFER_SIZES: readonly number[] = Array.from({ length: 15 }, (_, i) => 4 * KiB * 2 ** i);

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = `${OCTET}(\\.${OCTET}){3}`;

/**
 * `mustBe` is our own annotation keyword: how to phrase the requirement in an error message
 * where the raw keyword (a regex, a long enum) would not help a reader.
 */
const cidr = {
  type: 'string',
  pattern: `^${IPV4}/(3[0-2]|[12]?[0-9])$`,
  mustBe: 'an IPv4 address with prefix length, like 10.0.0.2/24',
};
const ipv4 = { type: 'string', pattern: `^${IPV4}$`, mustBe: 'an IPv4 address, like 10.0.0.1' };
const mac = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$',
  mustBe: 'a MAC address, like 02:00:00:00:00:01',
};
const nonEmpty = { type: 'string', minLength: 1 };
const int = (minimum: number, maximum: number, dflt: number) => ({
  type: 'integer',
  minimum,
  maximum,
  default: dflt,
});
const bufferBytes = (dflt: number) => ({
  type: 'integer',
  enum: BUFFER_SIZES,
  default: dflt,
  mustBe: 'a power of two from 4096 (4 KiB) to 67108864 (64 MiB)',
});

export const CONFIG_SCHEMA = {
  title: 'FlexTOE-TS configuration (flextoe.config.json)',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    backend: { enum: BACKEND_NAMES, default: DEFAULT_CONFIG.backend },
    port: {
      type: 'object',
      // ajv validates only the branch named by `driver`, so errors speak about that driver.
      discriminator: { propertyName: 'driver' },
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['driver'],
          properties: { driver: { const: 'virtual' }, network: nonEmpty, ip: cidr, mac },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['driver', 'ifname', 'ip'],
          properties: { driver: { const: 'tap' }, ifname: nonEmpty, ip: cidr, gateway: ipv4, mac },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['driver', 'vdev', 'ip'],
          properties: {
            driver: { const: 'dpdk' },
            vdev: nonEmpty,
            ip: cidr,
            gateway: ipv4,
            mac,
            eal: { type: 'array', items: { type: 'string' } },
          },
        },
      ],
    },
    stack: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mss: int(536, 9000, DEFAULT_STACK.mss),
        flowGroups: int(1, 64, DEFAULT_STACK.flowGroups),
        cc: { enum: CC_ALGORITHMS, default: DEFAULT_STACK.cc },
        rxBufferBytes: bufferBytes(DEFAULT_STACK.rxBufferBytes),
        txBufferBytes: bufferBytes(DEFAULT_STACK.txBufferBytes),
        delayedAck: { type: 'boolean', default: DEFAULT_STACK.delayedAck },
        oooIntervals: int(1, 64, DEFAULT_STACK.oooIntervals),
        windowScale: { type: 'boolean', default: DEFAULT_STACK.windowScale },
        // Flow state is preallocated in shared memory, so the table needs a sane upper bound.
        maxFlows: int(1, 1 << 20, DEFAULT_STACK.maxFlows),
      },
    },
    timeMode: { enum: TIME_MODES, default: DEFAULT_CONFIG.timeMode },
    x86: { type: 'object' },
    agilioSim: { type: 'object' },
    bluefieldSim: { type: 'object' },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: { path: nonEmpty, options: { type: 'object' }, section: nonEmpty },
      },
    },
  },
} as const;

/** Top-level keys of a configuration, in display order. */
export const CONFIG_KEYS = [
  'backend',
  'port',
  'stack',
  'timeMode',
  'x86',
  'agilioSim',
  'bluefieldSim',
  'modules',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];
