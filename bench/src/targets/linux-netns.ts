/**
 * Linux kernel TCP in network namespaces this run creates (root only), Node's `net` in worker
 * processes inside them (a process's sockets live in the namespace it runs in):
 *
 * - `netns-lo` (default): both halves in one namespace over its loopback, MTU 1500, so Linux
 *   moves MSS-sized segments like FlexTOE on its virtual wire (host loopback has MTU 65536).
 * - `veth` (with `--port tap|dpdk`): the server in one namespace, the client in another, joined
 *   by a veth pair: a real device path, as FlexTOE has on TAP or DPDK.
 *
 * The lossy workload gets an nftables `numgen random` drop rule on input in each namespace
 * (this machine has no `tc netem`), so both directions lose `loss` of their segments.
 */
import type { Metrics, Params, WorkloadName } from '../report/format.js';
import { isSocketWorkload, lossOf } from '../workloads/index.js';
import type { Budget } from '../workloads/workload.js';
import { LINUX_CPU_SCOPE } from './linux-loopback.js';
import { Namespace, tcpSettings, type NetnsWorker } from './netns.js';
import type { Target } from './target.js';

export type LinuxNetnsTarget = Target & { prepare(): Promise<void>; readonly why: string | null };

const childBudget = (b: Budget) => ({
  warmupNs: b.warmupNs,
  durationNs: b.durationNs,
  wallCapMs: b.wallCapMs,
  seed: b.seed,
});

/** Both halves in one namespace, over its loopback. */
export function linuxNetns(): LinuxNetnsTarget {
  let ns: Namespace | null = null;
  let worker: NetnsWorker | null = null;
  let why: string | null = 'not prepared';
  return {
    backend: 'linux',
    variant: null,
    port: 'netns-lo',
    timeBase: 'wall',
    note: 'Linux in a namespace, loopback MTU 1500',
    describe: () => ({ mtu: 1500, ...(ns ? tcpSettings(ns) : {}) }),
    get why() {
      return why;
    },
    applies: isSocketWorkload,
    async prepare() {
      try {
        ns = Namespace.create('lo');
        worker = await ns.startWorker();
        why = null;
      } catch (e) {
        why = (e as Error).message;
      }
    },
    unavailable(_w: WorkloadName, params: Params) {
      if (why !== null) return why;
      return lossOf(params) > 0 ? ns!.lossUnavailable(lossOf(params)) : null;
    },
    async run(workload, params, budget): Promise<Metrics> {
      ns!.setLoss(lossOf(params));
      return worker!.metrics(
        { op: 'run', workload, params, budget: childBudget(budget), cpuScope: LINUX_CPU_SCOPE },
        { onProgress: budget.onProgress },
      );
    },
    async close() {
      await ns?.delete();
    },
  };
}

const VETH_SERVER = { ifname: 'fts0', ip: '10.77.0.1' };
const VETH_CLIENT = { ifname: 'ftc0', ip: '10.77.0.2' };

/** The server in one namespace, the client in another, joined by a veth pair (MTU 1500). */
export function linuxVeth(): LinuxNetnsTarget {
  let server: { ns: Namespace; worker: NetnsWorker } | null = null;
  let client: { ns: Namespace; worker: NetnsWorker } | null = null;
  let why: string | null = 'not prepared';
  return {
    backend: 'linux',
    variant: null,
    port: 'veth',
    timeBase: 'wall',
    note: 'Linux in two namespaces joined by a veth pair, MTU 1500',
    describe: () => ({ mtu: 1500, ...(client ? tcpSettings(client.ns) : {}) }),
    get why() {
      return why;
    },
    applies: isSocketWorkload,
    async prepare() {
      try {
        const s = Namespace.create('srv');
        server = { ns: s, worker: await s.startWorker() };
        const c = Namespace.create('cli');
        client = { ns: c, worker: await c.startWorker() };
        const link = s.ip([
          'link',
          'add',
          VETH_SERVER.ifname,
          'type',
          'veth',
          'peer',
          'name',
          VETH_CLIENT.ifname,
          'netns',
          c.name,
        ]);
        if (!link.ok) throw new Error(`cannot create a veth pair: ${link.out}`);
        for (const [ns, end] of [
          [s, VETH_SERVER],
          [c, VETH_CLIENT],
        ] as const) {
          const a = ns.ip(['addr', 'add', `${end.ip}/24`, 'dev', end.ifname]);
          const u = ns.ip(['link', 'set', end.ifname, 'mtu', '1500', 'up']);
          if (!a.ok || !u.ok) throw new Error(`cannot configure ${end.ifname}: ${a.out} ${u.out}`);
        }
        why = null;
      } catch (e) {
        why = (e as Error).message;
      }
    },
    unavailable(_w: WorkloadName, params: Params) {
      if (why !== null) return why;
      return lossOf(params) > 0 ? server!.ns.lossUnavailable(lossOf(params)) : null;
    },
    async run(workload, params, budget): Promise<Metrics> {
      const s = server!;
      const c = client!;
      s.ns.setLoss(lossOf(params));
      c.ns.setLoss(lossOf(params));
      const { port } = await s.worker.request({ op: 'serve', workload, params, host: VETH_SERVER.ip });
      // The server half's CPU over the client's measured window, asked for when the window opens
      // and closes (an IPC round trip late, which is small beside the window).
      const cpuAt: Promise<number>[] = [];
      const askCpu = (): Promise<number> => s.worker.request({ op: 'cpu' }).then((r) => r.cpuUs ?? 0);
      try {
        const m = await c.worker.metrics(
          {
            op: 'drive',
            workload,
            params,
            budget: childBudget(budget),
            cpuScope: `${LINUX_CPU_SCOPE} (client and server processes)`,
            host: VETH_SERVER.ip,
            port: port!,
          },
          { onProgress: budget.onProgress, onWindow: () => cpuAt.push(askCpu()) },
        );
        if (cpuAt.length === 2) addServerCpu(m, (await cpuAt[1]!) - (await cpuAt[0]!));
        return m;
      } finally {
        await s.worker.request({ op: 'unserve', port: port! });
      }
    },
    async close() {
      await client?.ns.delete();
      await server?.ns.delete();
    },
  };
}

/** Adds the server process's CPU to a client-measured row (its per-request and per-MiB figures). */
function addServerCpu(m: Metrics, serverUs: number): void {
  if (m.appCpuUsPerRequest !== null && m.requests > 0) m.appCpuUsPerRequest += serverUs / m.requests;
  if (m.extra.appCpuUsPerMiB !== undefined && m.bytes > 0)
    m.extra.appCpuUsPerMiB += serverUs / (m.bytes / 1048576);
}
