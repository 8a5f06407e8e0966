/**
 * FlexTOE on one backend: two stacks from `@flextoe/sockets`' `createStack` on one virtual
 * wire (with the run's loss, seeded), the server on 10.0.0.1 and the client on 10.0.0.2, both
 * in this process, driven through `stack.net`, the same `net` surface the Linux baseline gets
 * from Node. The x86 target also runs the pipeline micro-benchmark (the data path alone).
 */
import { fileURLToPath } from 'node:url';
import type { BackendName, FlexToeConfigInput } from '@flextoe/core';
import { createStack, createVirtualNetwork, type Stack } from '@flextoe/sockets';
import { runPipelineMicro } from '../pipeline-micro.js';
import { emptyMetrics, type Metrics, type Params, type WorkloadName } from '../report/format.js';
import { lossOf } from '../workloads/index.js';
import type { NetLike } from '../workloads/net-like.js';
import type { Budget, WorkloadEnv } from '../workloads/workload.js';
import { runInProcess, type InProcessEnv, type Target } from './target.js';
import { wallEnv } from './wall-env.js';

/** Where `createStack` looks for flextoe.config.json: bench's own directory, which has none, so a
 *  config file in the caller's directory cannot silently change what is measured. */
const NO_CONFIG_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A stack as the suite builds it: everything explicit (no --backend flag, env or file applies). */
function newStack(config: FlexToeConfigInput): Promise<Stack> {
  return createStack(config, { argv: [], env: {}, cwd: NO_CONFIG_DIR });
}

export const X86_CPU_SCOPE =
  'process CPU (user+sys) of all threads: both applications plus the FlexTOE data path, which the x86 backend runs on host cores';

/** Connections above this get small per-connection buffers, or 10 000 of them would need gigabytes. */
const MANY = 256;
const SMALL_BUFFER = 16384;

export interface FlexToeTargetOptions {
  readonly backend: BackendName;
  readonly port: 'virtual' | 'tap' | 'dpdk';
}

export function flextoeTarget(o: FlexToeTargetOptions): Target {
  let why: string | null = 'not prepared';
  const modelled = o.backend !== 'x86';
  const target: Target & { prepare(): Promise<void> } = {
    backend: o.backend,
    port: o.port,
    timeBase: modelled ? 'modelled' : 'wall',
    note: null,
    applies: (w) => w !== 'pipeline-micro' || o.backend === 'x86',
    async prepare() {
      if (o.port !== 'virtual') {
        why = `FlexTOE on a ${o.port} port pair is not wired into the bench yet (the ${o.port} driver is another issue)`;
        return;
      }
      if (modelled) {
        why = `the ${o.backend} model does not expose a benchmark (modelled time) entry point yet`;
        return;
      }
      // One throwaway pair proves the backend builds here (a NotImplementedError says why not).
      try {
        const pair = await openPair(o.backend, {}, 1);
        await pair.close();
        why = null;
      } catch (e) {
        why = e instanceof Error ? e.message : String(e);
      }
    },
    unavailable(workload: WorkloadName) {
      if (workload === 'pipeline-micro') return null;
      return why;
    },
    async run(workload: WorkloadName, params: Params, budget: Budget): Promise<Metrics> {
      if (workload === 'pipeline-micro') return pipelineMicro(params);
      return runInProcess(() => openPair(o.backend, params, budget.seed), workload, params, budget);
    },
    close: async () => {},
  };
  return target;
}

async function openPair(backend: BackendName, params: Params, seed: number): Promise<InProcessEnv> {
  const loss = lossOf(params);
  const connections = typeof params.connections === 'number' ? params.connections : 1;
  // The wire's fault injector is seeded by the run, so a lossy run drops the same frames again.
  const wire = createVirtualNetwork(loss > 0 ? { loss, seed } : {});
  const stack =
    connections > MANY
      ? { rxBufferBytes: SMALL_BUFFER, txBufferBytes: SMALL_BUFFER, maxFlows: 2 * connections }
      : {};
  const stacks: Stack[] = [];
  const close = async (): Promise<void> => {
    for (const st of stacks) await st.close();
    wire.close();
  };
  try {
    stacks.push(await newStack({ backend, port: wire.attach('10.0.0.1/24'), stack }));
    stacks.push(await newStack({ backend, port: wire.attach('10.0.0.2/24'), stack }));
  } catch (e) {
    await close();
    throw e;
  }
  const env: WorkloadEnv = wallEnv(X86_CPU_SCOPE);
  return {
    server: stacks[0]!.net as unknown as NetLike,
    client: stacks[1]!.net as unknown as NetLike,
    host: '10.0.0.1',
    env,
    close,
  };
}

function pipelineMicro(params: Params): Metrics {
  const payload = Number(params.payloadBytes);
  const r = runPipelineMicro(payload, Number(params.totalBytes));
  const m = emptyMetrics();
  m.durationS = r.cpuMs / 1000;
  m.wallS = r.cpuMs / 1000;
  m.bytes = r.dataSegments * payload;
  m.cpuScope = "CPU time of the benchmark thread: both stacks' data paths, no application";
  m.extra = {
    segmentsPerSecPerCore: r.segmentsPerSecPerCore,
    bytesAllocatedPerSegment: r.bytesAllocatedPerSegment,
    segments: r.segments,
    dataSegments: r.dataSegments,
    cpuMs: r.cpuMs,
    goodputGbpsPerCore: (r.dataSegments * payload * 8) / (r.cpuMs / 1000) / 1e9,
  };
  return m;
}
