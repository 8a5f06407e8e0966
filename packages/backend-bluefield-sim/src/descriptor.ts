/** The simulated BlueField as `flextoe info` shows it. */
import type { BackendDescriptor } from '@flextoe/core';

export const descriptor: BackendDescriptor = {
  name: 'bluefield-sim',
  title: 'Simulated BlueField (1st gen)',
  description:
    'A deterministic discrete-event model of a first-generation BlueField running the FlexTOE data path: ' +
    'up to 16 ARM Cortex-A72 cores, L1/L2/DRAM latencies, PCIe DMA and memory copies, 2 x 25 GbE.',
  status: 'not-implemented',
  issue: 'discrete-event BlueField model (issue: Simulated Agilio-CX40 and BlueField backends)',
  timeBase: 'modelled',
  // A model drives only its simulated wire; there is no host device to probe.
  drivers: [{ name: 'virtual', available: true, detail: 'simulated wire at the modelled 25 GbE line rate' }],
  features: {
    'data path stages': 'planned',
    'parallel stages': 'planned',
    'flow groups': 'planned',
    'congestion control': 'planned',
    'window scaling': 'planned',
    'out-of-order intervals': 'planned',
    pinning: 'n/a (modelled cores)',
    deterministic: 'planned',
    'cycle model': 'planned',
    'DMA model': 'planned',
    'fault injection': 'planned',
    'pcap capture': 'planned',
    'extension hooks': 'planned',
  },
};
