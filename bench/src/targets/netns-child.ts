/**
 * The Linux baseline's worker, started inside a network namespace (`ip netns exec`): it runs
 * workload halves on Node's `net` in that namespace and answers over the IPC channel. Ops:
 * `run` (both halves here, on the namespace's loopback), `serve` / `unserve` (the server half,
 * for a client in another namespace), `drive` (the client half against an address), `cpu` (this
 * process's CPU time so far). It exits when the parent goes.
 */
import net from 'node:net';
import type { Metrics, Params, WorkloadName } from '../report/format.js';
import { SOCKET_WORKLOADS } from '../workloads/index.js';
import type { NetLike } from '../workloads/net-like.js';
import type { ServerSide } from '../workloads/workload.js';
import { runInProcess } from './target.js';
import { processCpuUs, threadCpuUs, wallEnv } from './wall-env.js';

export interface ChildBudget {
  warmupNs: number;
  durationNs: number;
  wallCapMs: number;
  seed: number;
}

export type ChildRequest =
  | { id: number; op: 'run'; workload: WorkloadName; params: Params; budget: ChildBudget; cpuScope: string }
  | { id: number; op: 'serve'; workload: WorkloadName; params: Params; host: string }
  | { id: number; op: 'unserve'; port: number }
  | {
      id: number;
      op: 'drive';
      workload: WorkloadName;
      params: Params;
      budget: ChildBudget;
      cpuScope: string;
      host: string;
      port: number;
    }
  | { id: number; op: 'cpu' };

export type ChildReply =
  | { id: number; kind: 'progress'; fraction: number }
  | { id: number; kind: 'window'; edge: 'open' | 'close' }
  | { id: number; kind: 'result'; metrics?: Metrics; port?: number; cpuUs?: number }
  | { id: number; kind: 'error'; message: string };

const nodeNet = net as unknown as NetLike;
const servers = new Map<number, ServerSide>();

const send = (m: ChildReply | { kind: 'ready' }): void => {
  process.send?.(m);
};

function progress(id: number): (f: number) => void {
  let last = 0;
  return (fraction) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    send({ id, kind: 'progress', fraction });
  };
}

async function handle(
  req: ChildRequest,
): Promise<Omit<Extract<ChildReply, { kind: 'result' }>, 'id' | 'kind'>> {
  switch (req.op) {
    case 'run': {
      const metrics = await runInProcess(
        async () => ({
          server: nodeNet,
          client: nodeNet,
          host: '127.0.0.1',
          env: wallEnv(req.cpuScope),
          close: async () => {},
        }),
        req.workload,
        req.params,
        { ...req.budget, onProgress: progress(req.id) },
      );
      return { metrics };
    }
    case 'serve': {
      const server = await SOCKET_WORKLOADS[req.workload]!.serve(nodeNet, req.host, req.params);
      servers.set(server.port, server);
      return { port: server.port };
    }
    case 'unserve': {
      await servers.get(req.port)?.close();
      servers.delete(req.port);
      return {};
    }
    case 'drive': {
      const env = {
        ...wallEnv(req.cpuScope),
        onWindow: (edge: 'open' | 'close') => send({ id: req.id, kind: 'window', edge }),
      };
      const metrics = await SOCKET_WORKLOADS[req.workload]!.drive(
        nodeNet,
        req.host,
        req.port,
        req.params,
        env,
        {
          ...req.budget,
          onProgress: progress(req.id),
        },
      );
      return { metrics };
    }
    case 'cpu':
      return { cpuUs: threadCpuUs() ?? processCpuUs() };
  }
}

process.on('disconnect', () => process.exit(0));
process.on('message', (raw) => {
  const req = raw as ChildRequest;
  handle(req).then(
    (r) => send({ id: req.id, kind: 'result', ...r }),
    (e: unknown) => send({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) }),
  );
});
send({ kind: 'ready' });
