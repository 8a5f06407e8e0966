/** The simulated Agilio-CX40 as `flextoe info` shows it. */
import type { BackendDescriptor } from '@flextoe/core';
import { simDrivers } from '@flextoe/sim';

export const descriptor: BackendDescriptor = {
  name: 'agilio-sim',
  title: 'Simulated Agilio-CX40 (NFP-4000)',
  description:
    'A deterministic discrete-event model of the Netronome Agilio-CX40 running the FlexTOE data path: ' +
    '60 flow processing cores with 8 threads each at 800 MHz, LM/CLS/CTM/IMEM/EMEM latencies and ' +
    "FlexTOE's caches, PCIe Gen3 x8 DMA, 40 GbE. The core's stages run for real; the model times them.",
  status: 'implemented',
  issue: '',
  timeBase: 'modelled',
  get drivers() {
    return simDrivers('40 Gbit/s');
  },
  features: {
    'data path stages': 'yes (the core stages, timed per work item)',
    'parallel stages': 'yes (modelled: 16 pre, 4 protocol, 16 post FPCs; counts are parameters)',
    'flow groups': 'yes (protocol FPC per flow group)',
    'congestion control': 'yes (host control plane)',
    'window scaling': 'yes',
    'out-of-order intervals': 'yes',
    pinning: 'n/a (modelled cores)',
    deterministic: 'yes (seeded; virtual time)',
    'cycle model': 'yes (documented stage cycles + counted memory accesses, MODEL.md)',
    'DMA model': 'yes (PCIe Gen3 x8, 128 commands in flight per direction)',
    'time modes': 'virtual, paced',
    'fault injection': 'yes (virtual wire faults)',
    'pcap capture': 'planned',
    'extension hooks': 'planned',
  },
};
