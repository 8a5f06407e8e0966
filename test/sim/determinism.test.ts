// Same configuration and seed -> the same results, every run: every modelled statistic of both
// NICs (throughput, latency percentiles, utilisation, tier and cache counts, queue depths) is
// identical across two runs, including on a lossy, reordering wire. A different seed changes
// the memory latencies drawn, so the results move: the seed is really used.
import { expect } from 'chai';
import { agilioParams, agilioSpec } from '@flextoe/backend-agilio-sim';
import { bluefieldParams, bluefieldSpec } from '@flextoe/backend-bluefield-sim';
import {
  runSimBenchmark,
  type NicModelSpec,
  type SimBenchmarkOptions,
  type SimBenchmarkResult,
} from '@flextoe/sim';

/**
 * Everything the model reports. What may differ between runs is not modelled: the simulator's
 * own wall/CPU speed, and the name of the (fresh) wire each run gets.
 */
function modelled(r: SimBenchmarkResult) {
  const { speed, server, client, ...rest } = r;
  const { wire: _s, ...srv } = server;
  const { wire: _c, ...cli } = client;
  return { ...rest, server: srv, client: cli, events: speed.events };
}

const MODELS: Record<string, (seed: number) => NicModelSpec> = {
  'agilio-sim': (seed) => agilioSpec(agilioParams({ seed })),
  'bluefield-sim': (seed) => bluefieldSpec(bluefieldParams({ seed })),
};

const WORKLOADS: Record<string, Omit<SimBenchmarkOptions, 'spec'>> = {
  'pipelined RPCs': { workload: 'rpc', rpcs: 3000, warmup: 300 },
  'a bulk transfer over a lossy, reordering wire': {
    workload: 'bulk',
    bulkBytes: 2 << 20,
    warmup: 256 << 10,
    wire: { loss: 0.01, reorder: 0.01, seed: 5 },
  },
};

describe('simulated NICs are deterministic', function () {
  this.timeout(120_000);
  for (const [model, spec] of Object.entries(MODELS))
    for (const [name, workload] of Object.entries(WORKLOADS))
      it(`${model}, ${name}: two runs with seed 7 give identical statistics`, async () => {
        const a = await runSimBenchmark({ ...workload, spec: spec(7) });
        const b = await runSimBenchmark({ ...workload, spec: spec(7) });
        expect(a.simulatedNs).to.be.greaterThan(0);
        expect(a.server.latency.rx.count).to.be.greaterThan(0);
        expect(modelled(b)).to.deep.equal(modelled(a));
        if (workload.wire?.loss) {
          const rtx = (r: SimBenchmarkResult) =>
            r.client.throughput.txPayloadBytes - (workload.bulkBytes ?? 0);
          expect(rtx(a), 'the lossy wire forced retransmissions').to.be.greaterThan(0);
        }
        const c = await runSimBenchmark({ ...workload, spec: spec(8) });
        expect(modelled(c)).to.not.deep.equal(modelled(a));
      });
});
