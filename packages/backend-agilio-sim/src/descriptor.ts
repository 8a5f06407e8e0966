/** The simulated Agilio-CX40 as `flextoe info` shows it. */
import type { BackendDescriptor } from '@flextoe/core';

export const descriptor: BackendDescriptor = {
  name: 'agilio-sim',
  title: 'Simulated Agilio-CX40 (NFP-4000)',
  description:
    'A deterministic discrete-event model of the Netronome Agilio-CX40 running the FlexTOE data path: ' +
    '60 flow processing cores with 8 threads each at 800 MHz, LM/CLS/CTM/IMEM/EMEM latencies, PCIe DMA, 2 x 40 GbE.',
  status: 'not-implemented',
  issue: 'discrete-event Agilio-CX40 model (issue: Simulated Agilio-CX40 and BlueField backends)',
  timeBase: 'modelled',
  // A model drives only its simulated wire; there is no host device to probe.
  drivers: [{ name: 'virtual', available: true, detail: 'simulated wire at the modelled 40 GbE line rate' }],
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
