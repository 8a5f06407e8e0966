/**
 * Linux kernel TCP through Node's own `net` on the host's loopback: the baseline that needs no
 * privileges. Both ends run in this process, like FlexTOE's two stacks on the virtual wire.
 * Loopback's MTU is 65536, so Linux moves 64 KiB segments where FlexTOE moves 1448 B ones; the
 * namespace baseline (root) sets the MTU to 1500 instead.
 */
import net from 'node:net';
import type { Params, WorkloadName } from '../report/format.js';
import { openFilesLimit } from '../report/machine.js';
import { tcpSettings } from './netns.js';
import { isSocketWorkload, lossOf } from '../workloads/index.js';
import type { NetLike } from '../workloads/net-like.js';
import { runInProcess, socketsNeeded, type Target } from './target.js';
import { wallEnv } from './wall-env.js';

export const LINUX_CPU_SCOPE =
  'both applications plus the kernel TCP work done on their thread (system calls, loopback softirqs)';

export function linuxLoopback(whyNotNamespace?: string): Target {
  const nodeNet = net as unknown as NetLike;
  return {
    backend: 'linux',
    variant: null,
    port: 'loopback',
    timeBase: 'wall',
    note: `host loopback, MTU 65536 (64 KiB segments)${whyNotNamespace ? `; no namespace baseline: ${whyNotNamespace}` : ''}`,
    applies: isSocketWorkload,
    describe: () => ({ mtu: 65536, ...tcpSettings() }),
    unavailable(workload: WorkloadName, params: Params) {
      if (lossOf(params) > 0)
        return 'a lossy Linux link needs root (a namespace with an nftables drop rule); host loopback never drops';
      const limit = openFilesLimit();
      const need = socketsNeeded(workload, params) + 64;
      if (limit !== null && need > limit)
        return `needs ${need} file descriptors, the open-files limit is ${limit} (run as root for the namespace baseline)`;
      return null;
    },
    run: (workload, params, budget) =>
      runInProcess(
        async () => ({
          server: nodeNet,
          client: nodeNet,
          host: '127.0.0.1',
          env: wallEnv(LINUX_CPU_SCOPE),
          close: async () => {},
        }),
        workload,
        params,
        budget,
      ),
    close: async () => {},
  };
}
