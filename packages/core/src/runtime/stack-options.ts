/**
 * `TcpStackOptions` resolved into what the two halves of a stack are built from: the data
 * path's options (NIC side) and the control plane's (host side). One place for the defaults and
 * the checks, for every runner: the inline `TcpStack` and the x86 backend's threaded stack.
 */
import { rfc6528Isn } from '../control/isn.js';
import type { ControlPlaneOptions } from '../control/control-plane.js';
import { ipv4FromString } from '../wire/ipv4.js';
import type { DataPathOptions } from './data-path.js';
import type { CcName } from '../control/cc/congestion-control.js';
import type { TcpStackOptions } from './tcp-stack.js';

export const DEFAULT_STACK_OPTIONS = {
  mss: 1460,
  rxBufferBytes: 256 * 1024,
  txBufferBytes: 256 * 1024,
  flowGroups: 4,
  maxFlows: 16384,
  cc: 'dctcp-rate' as CcName,
  delayedAck: false,
  oooIntervals: 1,
  windowScale: true,
  timestamps: true,
  ecn: true,
  synRetries: 6,
  dataRetries: 15,
  synRtoMs: 1000,
  minRtoMs: 200,
  timeWaitMs: 60_000,
  controlTickUs: 1000,
  burst: 32,
  maxHalfOpen: 4096,
};

export interface ResolvedStackOptions {
  readonly localIp: number;
  readonly dataPath: DataPathOptions;
  readonly control: ControlPlaneOptions;
  /** Notification ring entries of the application's context queue. */
  readonly contextEntries: number;
}

/** Applies the defaults and checks the options against a port's largest frame. */
export function resolveStackOptions(options: TcpStackOptions, maxFrameBytes: number): ResolvedStackOptions {
  const o = { ...DEFAULT_STACK_OPTIONS, ...stripUndefined(options) };
  const [addr, prefix] = parseCidr(options.ip);
  for (const [name, v] of [
    ['rxBufferBytes', o.rxBufferBytes],
    ['txBufferBytes', o.txBufferBytes],
  ] as const) {
    if (!Number.isInteger(v) || v < 4096 || (v & (v - 1)) !== 0)
      throw new RangeError(`${name} is ${v} but must be a power of two >= 4096`);
  }
  // Ethernet (14) + one VLAN tag (4) + IPv4 (20) + TCP (20) around an MSS of payload.
  const maxMss = maxFrameBytes - 58;
  if (!Number.isInteger(o.mss) || o.mss < 64 || o.mss > maxMss) {
    throw new RangeError(
      `mss is ${o.mss} but must be 64..${maxMss} for this port's ${maxFrameBytes} B frames`,
    );
  }
  return {
    localIp: addr,
    dataPath: {
      localIp: addr,
      maxFlows: o.maxFlows,
      flowGroups: o.flowGroups,
      mss: o.mss - (o.timestamps ? 12 : 0),
      delayedAck: o.delayedAck,
      oooIntervals: o.oooIntervals,
      burst: o.burst,
      exceptionQueueEntries: 1024,
      contextQueueEntries: 4096,
      txCredits: 128,
      parseFlags: 0,
    },
    control: {
      localIp: addr,
      prefixLength: prefix,
      gateway: options.gateway ? ipv4FromString(options.gateway) : 0,
      mss: o.mss,
      rxBufferBytes: o.rxBufferBytes,
      txBufferBytes: o.txBufferBytes,
      windowScale: o.windowScale,
      timestamps: o.timestamps,
      ecn: o.ecn,
      cc: o.cc,
      isn: options.isn ?? rfc6528Isn(),
      synRetries: o.synRetries,
      dataRetries: o.dataRetries,
      synRtoNs: o.synRtoMs * 1e6,
      minRtoNs: o.minRtoMs * 1e6,
      timeWaitNs: o.timeWaitMs * 1e6,
      controlTickNs: o.controlTickUs * 1e3,
      arpTimeoutNs: 1e9,
      maxHalfOpen: o.maxHalfOpen,
    },
    contextEntries: 16384,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** '10.0.0.1/24' -> [address, prefix]; a bare address means /32. */
export function parseCidr(text: string): [number, number] {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d{1,2}))?$/.exec(text);
  if (!m) throw new RangeError(`ip is "${text}" but must look like 10.0.0.1/24`);
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (prefix > 32) throw new RangeError(`ip "${text}": prefix length must be 0..32`);
  return [ipv4FromString(m[1]!), prefix];
}
