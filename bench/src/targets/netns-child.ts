/**
 * The Linux baseline's worker: started by `linux-netns.ts` inside a network namespace (`ip netns
 * exec`), it runs workloads on Node's `net` over that namespace's loopback and answers over the
 * IPC channel. One message in, one result out; progress in between. It exits when the parent goes.
 */
import net from 'node:net';
import type { Metrics, Params, WorkloadName } from '../report/format.js';
import type { NetLike } from '../workloads/net-like.js';
import { runInProcess } from './target.js';
import { wallEnv } from './wall-env.js';

export interface ChildRequest {
  id: number;
  workload: WorkloadName;
  params: Params;
  budget: { warmupNs: number; durationNs: number; wallCapMs: number; seed: number };
  cpuScope: string;
}

export type ChildReply =
  | { id: number; kind: 'progress'; fraction: number }
  | { id: number; kind: 'result'; metrics: Metrics }
  | { id: number; kind: 'error'; message: string };

const send = (m: ChildReply | { kind: 'ready' }): void => {
  process.send?.(m);
};

process.on('disconnect', () => process.exit(0));
process.on('message', (raw) => {
  const req = raw as ChildRequest;
  let last = 0;
  runInProcess(
    async () => ({
      server: net as unknown as NetLike,
      client: net as unknown as NetLike,
      host: '127.0.0.1',
      env: wallEnv(req.cpuScope),
      close: async () => {},
    }),
    req.workload,
    req.params,
    {
      ...req.budget,
      onProgress(fraction) {
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        send({ id: req.id, kind: 'progress', fraction });
      },
    },
  ).then(
    (metrics) => send({ id: req.id, kind: 'result', metrics }),
    (e: unknown) => send({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) }),
  );
});
send({ kind: 'ready' });
