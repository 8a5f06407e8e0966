/**
 * The port drivers a simulated NIC can use as its wire, probed on this host for `flextoe info`:
 * the in-process wire always; in paced mode, the x86 backend's TAP and DPDK drivers (real
 * frames in real time). Probed once, on first read.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { DriverAvailability } from '@flextoe/core';

let probed: { tun: boolean; dpdk: boolean } | undefined;
const lists = new Map<string, readonly DriverAvailability[]>();

export function simDrivers(lineRate: string): readonly DriverAvailability[] {
  probed ??= {
    tun: existsSync('/dev/net/tun'),
    dpdk: spawnSync('pkg-config', ['--exists', 'libdpdk'], { stdio: 'ignore' }).status === 0,
  };
  const { tun, dpdk } = probed;
  let list = lists.get(lineRate);
  if (list === undefined) {
    list = Object.freeze([
      {
        name: 'virtual',
        available: true,
        detail: `in-process wire; the NIC's MAC serialises at ${lineRate}`,
      },
      {
        name: 'tap',
        available: tun,
        detail: `timeMode 'paced' only, through the x86 TAP driver; ${tun ? '/dev/net/tun present' : '/dev/net/tun missing'}`,
      },
      {
        name: 'dpdk',
        available: dpdk,
        detail: `timeMode 'paced' only, through the x86 DPDK driver; ${dpdk ? 'libdpdk found' : 'libdpdk not found by pkg-config'}`,
      },
    ] satisfies DriverAvailability[]);
    lists.set(lineRate, list);
  }
  return list;
}
