/** The simulated BlueField as `flextoe info` shows it. */
import type { BackendDescriptor } from '@flextoe/core';
import { simDrivers } from '@flextoe/sim';

export const descriptor: BackendDescriptor = {
  name: 'bluefield-sim',
  title: 'Simulated BlueField (1st gen)',
  description:
    'A deterministic discrete-event model of a first-generation BlueField running the FlexTOE data path: ' +
    '16 (or 8) ARM Cortex-A72 cores at 800 MHz, L1/L2/L3/DRAM latencies behind hardware caches, ' +
    "PCIe DMA to the host, 25 GbE. The core's stages run for real; the model times them.",
  status: 'implemented',
  issue: '',
  timeBase: 'modelled',
  get drivers() {
    return simDrivers('25 Gbit/s');
  },
  features: {
    'data path stages': 'yes (the core stages, timed per work item)',
    'parallel stages': 'yes (modelled: 4 pre, 4 protocol, 4 post, 2 DMA cores of 16; counts are parameters)',
    'flow groups': 'yes (protocol core per flow group)',
    'congestion control': 'yes (host control plane)',
    'window scaling': 'yes',
    'out-of-order intervals': 'yes',
    pinning: 'n/a (modelled cores)',
    deterministic: 'yes (seeded; virtual time)',
    'cycle model': 'yes (documented stage cycles + counted memory accesses, MODEL.md)',
    'DMA model': 'yes (PCIe to the host, 128 commands in flight per direction)',
    'time modes': 'virtual, paced',
    'fault injection': 'yes (virtual wire faults)',
    'pcap capture': 'planned',
    'extension hooks': 'planned',
  },
};
