/**
 * The x86 backend as `flextoe info` shows it. Driver availability is probed on this host the
 * first time `drivers` is read, not at import: probing runs pkg-config and loads the DPDK addon,
 * and importing a package should not spawn processes or load native code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { BackendDescriptor, DriverAvailability } from '@flextoe/core';
import { DPDK_ADDON_PATH, loadDpdkAddon } from './drivers/dpdk/dpdk-addon.js';

/** What the probe needs from the host; tests pass a fake. */
export interface HostProbe {
  exists(path: string): boolean;
  /** Runs a command; `status` is null and `error` set when it could not be started. */
  run(command: string, args: readonly string[]): { status: number | null; stdout: string; error?: Error };
  /** Loads the DPDK addon (built by the install script where libdpdk is present). */
  loadDpdkAddon(): { loaded: true; version: string } | { loaded: false; why: string };
}

const realHost: HostProbe = {
  exists: existsSync,
  run(command, args) {
    const r = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
    return { status: r.status, stdout: r.stdout ?? '', ...(r.error ? { error: r.error } : {}) };
  },
  loadDpdkAddon() {
    if (!existsSync(DPDK_ADDON_PATH)) return { loaded: false, why: 'addon not built' };
    try {
      return { loaded: true, version: loadDpdkAddon().ealState().version };
    } catch (e) {
      return { loaded: false, why: `addon does not load: ${(e as Error).message}` };
    }
  },
};

export function probeX86Drivers(host: HostProbe = realHost): DriverAvailability[] {
  const tun = host.exists('/dev/net/tun');
  const dpdk = probeLibdpdk(host);
  const addon = host.loadDpdkAddon();
  const howTo = dpdk.found
    ? 'run `npm rebuild @flextoe/backend-x86` to build it'
    : 'apt-get install libdpdk-dev pkg-config, then npm rebuild @flextoe/backend-x86';
  return [
    { name: 'virtual', available: true, detail: 'in-process wire; needs no root and no DPDK' },
    {
      name: 'tap',
      available: tun,
      detail: tun ? '/dev/net/tun present (creating a TAP needs CAP_NET_ADMIN)' : '/dev/net/tun not found',
    },
    {
      name: 'dpdk',
      available: addon.loaded,
      detail: addon.loaded
        ? `addon loaded (${addon.version}); ${dpdk.why}; vdevs net_af_packet, net_tap, net_af_xdp, net_ring, PCI NICs with eal`
        : `${dpdk.why}; ${addon.why} (${howTo})`,
    },
  ];
}

function probeLibdpdk(host: HostProbe): { found: boolean; why: string } {
  const exists = host.run('pkg-config', ['--exists', 'libdpdk']);
  if (exists.error) return { found: false, why: 'pkg-config not available, so libdpdk cannot be located' };
  if (exists.status !== 0) return { found: false, why: 'libdpdk not found by pkg-config' };
  const version = host.run('pkg-config', ['--modversion', 'libdpdk']).stdout.trim();
  return { found: true, why: `libdpdk ${version || '(unknown version)'} found by pkg-config` };
}

let probed: readonly DriverAvailability[] | undefined;

export const descriptor: BackendDescriptor = {
  name: 'x86',
  title: 'Native x86',
  description:
    'The FlexTOE data path on host cores: NIC-core worker threads (run to completion, or flow ' +
    'groups over several cores with pre-processing, post-processing and DMA replicas) joined to the host control plane by ' +
    'SharedArrayBuffer rings, or inline on the application thread; real packet I/O over DPDK, TAP ' +
    'or an in-process wire.',
  status: 'implemented',
  issue: '',
  timeBase: 'wall',
  get drivers() {
    return (probed ??= Object.freeze(probeX86Drivers()));
  },
  // What is not there says so (threads/README.md and drivers/README.md, "Not implemented").
  features: {
    'data path stages': 'yes (core stages on NIC-core threads, or inline)',
    'parallel stages':
      'partial (flow groups over N cores, pre, post and DMA replicas; post replicas fill checksums only, headers stay on the core)',
    'flow groups': 'yes (group g on NIC core g mod N; RSS-style steering)',
    'congestion control': 'yes (host control plane)',
    'window scaling': 'yes',
    'out-of-order intervals': 'yes',
    pinning: 'yes (x86.pin: sched_setaffinity)',
    'DPDK lcores': 'yes (x86.portThread nic-core; one queue, no RSS)',
    deterministic: 'n/a (wall time; lockstep for the core suites)',
    'cycle model': 'n/a (real cores)',
    'DMA model': 'memcpy on the NIC core, or DMA replica threads with completions (x86.graph.dma)',
    'time modes': 'wall',
    'fault injection': 'yes (virtual wire; openPort wrap on TAP/DPDK)',
    'pcap capture': 'partial (openPort wrap in code; no config key)',
    'RX interrupts': 'not implemented (idle DPDK polled, 20 us..1 ms)',
    'checksum/TSO offload':
      'not implemented (software checksums; x86.graph.post moves the TX checksum to replica threads)',
    'extension hooks': 'planned',
  },
};
