/**
 * The native DPDK addon (native/src/flextoe_dpdk.cc), its typed interface, and the one clear
 * error when it is missing. The addon is built by the package's install script only where
 * pkg-config finds libdpdk, so a host without DPDK installs fine and fails here, naming what
 * to install, only when a configuration actually chooses the `dpdk` driver.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface EalInitResult {
  /** The arguments EAL was given, after our defaults (argv[0] excluded). */
  readonly args: readonly string[];
  readonly mainLcore: number;
  readonly version: string;
  /** /var/run/dpdk/<file-prefix>: EAL creates it even with --no-shconf. */
  readonly runtimeDir: string;
}

export interface OpenedDevice {
  readonly port: number;
  readonly name: string;
  /** The PMD, e.g. net_af_packet, net_tap. */
  readonly driver: string;
  readonly mac: number;
  /** 0 when the device does not know its speed. */
  readonly linkGbps: number;
  readonly maxRxPktLen: number;
}

export interface DeviceSetup {
  readonly rxDesc: number;
  readonly txDesc: number;
  readonly mbufs: number;
  readonly mtu: number;
}

export interface DeviceStats {
  readonly ipackets: number;
  readonly opackets: number;
  readonly ibytes: number;
  readonly obytes: number;
  readonly imissed: number;
  readonly ierrors: number;
  readonly oerrors: number;
  readonly rxNoMbuf: number;
  readonly rxOversize: number;
  readonly txNoMbuf: number;
  /** Extra empty tx_bursts issued as kicks (net_af_xdp). */
  readonly txKicks: number;
  /**
   * net_af_xdp only: the kernel's XDP_STATISTICS of the port's XDP sockets, which DPDK 22.11's
   * ethdev stats leave out (linux/if_xdp.h `struct xdp_statistics`).
   */
  readonly xdp?: XdpSocketStats;
}

export interface XdpSocketStats {
  /** Received frames dropped for reasons other than invalid descriptors. */
  readonly rxDropped: number;
  readonly rxInvalidDescs: number;
  /** TX descriptors the kernel refused (bad address or length): frames never sent. */
  readonly txInvalidDescs: number;
  /** Received frames dropped because the socket's RX ring was full. */
  readonly rxRingFull: number;
  /** Times the kernel found the fill ring empty (a received frame had no buffer). */
  readonly rxFillRingEmptyDescs: number;
  /** Times the kernel found the TX ring empty (not a drop). */
  readonly txRingEmptyDescs: number;
}

/** A thread as DPDK sees it (`lcoreInfo()`). */
export interface LcoreInfo {
  /** This thread's lcore id; -1 when it is not an EAL thread (rte_lcore_id() is LCORE_ID_ANY). */
  readonly id: number;
  /** The main lcore (the thread that initialised EAL); -1 before EAL is up. */
  readonly main: number;
  /** Lcores in use: EAL's own and registered threads. */
  readonly count: number;
  /** Whether `registerThread()` registered this thread (and `unregisterThread()` will release it). */
  readonly registered: boolean;
}

export interface DpdkAddon {
  ealInit(args: readonly string[]): EalInitResult;
  /** Process-wide: every copy of this module sees the same EAL (`args` as ealInit was given them). */
  ealState(): { ready: boolean; version: string; args: string[]; runtimeDir: string };
  open(devargs: string): OpenedDevice;
  setup(
    port: number,
    setup: DeviceSetup,
    rxSlots: Uint8Array,
    rxLens: Uint32Array,
    txSlots: Uint8Array,
    txLens: Uint32Array,
    slotBytes: number,
    slotCount: number,
  ): void;
  start(port: number): void;
  stop(port: number): void;
  close(port: number): void;
  rxBurst(port: number, max: number): number;
  txBurst(port: number, count: number): number;
  setWakeup(port: number, fn: (() => void) | null): void;
  refWakeup(port: number, ref: boolean): void;
  arm(port: number): void;
  stats(port: number): DeviceStats;
  /**
   * Makes the calling thread an EAL lcore (rte_thread_register) unless it already is one;
   * returns its lcore id. Throws when EAL is not up or no lcore id is free.
   */
  registerThread(): number;
  /** Releases the lcore id `registerThread` took on this thread; false if it took none. */
  unregisterThread(): boolean;
  lcoreInfo(): LcoreInfo;
  readonly maxBurst: number;
  readonly mbufDataRoom: number;
}

/** Where the install script puts the addon (packages/backend-x86/native/build/Release). */
export const DPDK_ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/flextoe_dpdk.node', import.meta.url),
);

/** Choosing `dpdk` on a host where the addon is not there or does not load. */
export class DpdkUnavailableError extends Error {
  readonly code = 'ERR_FLEXTOE_DPDK_UNAVAILABLE';
  constructor(why: string) {
    super(`flextoe: the dpdk port driver is unavailable: ${why}`);
    this.name = 'DpdkUnavailableError';
  }
}

/** Why the addon is missing, in the words a user can act on. */
export function missingAddonReason(libdpdkFound: boolean): string {
  return libdpdkFound
    ? 'its native addon is not built although libdpdk is installed; run `npm rebuild @flextoe/backend-x86` ' +
        '(needs build-essential) and look for the "DPDK addon" line'
    : 'its native addon is not built because libdpdk was not found by pkg-config when the package was ' +
        'installed; run `apt-get install libdpdk-dev pkg-config` and then `npm rebuild @flextoe/backend-x86`';
}

let cached: DpdkAddon | undefined;

/** Loads the addon (once); throws DpdkUnavailableError saying what to install when it cannot. */
export function loadDpdkAddon(path = DPDK_ADDON_PATH): DpdkAddon {
  if (cached !== undefined && path === DPDK_ADDON_PATH) return cached;
  if (!existsSync(path)) {
    const found = spawnSync('pkg-config', ['--exists', 'libdpdk']).status === 0;
    throw new DpdkUnavailableError(missingAddonReason(found));
  }
  let addon: DpdkAddon;
  try {
    addon = createRequire(import.meta.url)(path) as DpdkAddon;
  } catch (e) {
    throw new DpdkUnavailableError(
      `its native addon ${path} does not load (${(e as Error).message.split('\n')[0]}); ` +
        'if libdpdk was upgraded or removed, run `apt-get install libdpdk-dev` and `npm rebuild @flextoe/backend-x86`',
    );
  }
  if (path === DPDK_ADDON_PATH) cached = addon;
  return addon;
}
