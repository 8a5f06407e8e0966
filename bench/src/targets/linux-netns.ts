/**
 * Linux kernel TCP in a network namespace this run creates (root only): Node's `net` over the
 * namespace's own loopback with the MTU set to 1500, so Linux moves MSS-sized segments like
 * FlexTOE on its virtual wire, and with an nftables `numgen random` drop rule on input for
 * the lossy workload (this machine has no `tc netem`). The workloads run in a child process
 * inside the namespace (a process's sockets live in the namespace it runs in); it reports the
 * same metrics, its own CPU included. The namespace is deleted when the run ends, also on a
 * crash or Ctrl-C of this process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Metrics, Params, WorkloadName } from '../report/format.js';
import { lossOf } from '../workloads/index.js';
import type { Budget } from '../workloads/workload.js';
import { LINUX_CPU_SCOPE } from './linux-loopback.js';
import type { ChildReply, ChildRequest } from './netns-child.js';
import type { Target } from './target.js';

/** Open files the child may use: both ends of 10 000 connections and then some. */
const CHILD_NOFILE = 65536;
const NFT_TABLE = 'flextoe_bench';

function run(cmd: string, args: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stderr ?? ''}${r.stdout ?? ''}${r.error?.message ?? ''}`.trim() };
}

/** nftables rules that drop `loss` of the TCP segments entering the namespace's stack. */
export function lossRuleset(loss: number): string {
  const perMillion = Math.round(loss * 1_000_000);
  return [
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    ...(perMillion > 0
      ? [
          `table inet ${NFT_TABLE} {`,
          `  chain input {`,
          `    type filter hook input priority 0; policy accept;`,
          `    meta l4proto tcp numgen random mod 1000000 < ${perMillion} counter drop`,
          `  }`,
          `}`,
        ]
      : []),
    '',
  ].join('\n');
}

export function linuxNetns(): Target & { prepare(): Promise<void>; readonly why: string | null } {
  const ns = `flextoe-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  let child: ChildProcess | null = null;
  let why: string | null = 'not prepared';
  let nextId = 1;
  let currentLoss = 0;
  let stderr = '';
  const pending = new Map<number, { resolve(m: Metrics): void; reject(e: Error): void; budget: Budget }>();

  const cleanupSync = (): void => {
    if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    run('ip', ['netns', 'del', ns]);
  };
  const onExit = (): void => cleanupSync();
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanupSync();
    process.kill(process.pid, sig);
  };

  const target = {
    backend: 'linux' as const,
    port: 'netns-lo',
    timeBase: 'wall' as const,
    note: 'Linux in a namespace, loopback MTU 1500',
    get why() {
      return why;
    },
    applies: (w: WorkloadName) => w !== 'pipeline-micro',
    async prepare(): Promise<void> {
      const add = run('ip', ['netns', 'add', ns]);
      if (!add.ok) {
        why = `cannot create a network namespace: ${add.out}`;
        return;
      }
      process.once('exit', onExit);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const lo = run('ip', ['-n', ns, 'link', 'set', 'lo', 'mtu', '1500', 'up']);
      if (!lo.ok) {
        why = `cannot bring up loopback in the namespace: ${lo.out}`;
        return;
      }
      const self = fileURLToPath(import.meta.url);
      const childPath = self.replace(/linux-netns\.(ts|js)$/, 'netns-child.$1');
      child = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'sh',
          '-c',
          `ulimit -n ${CHILD_NOFILE} 2>/dev/null; exec "$@"`,
          'sh',
          process.execPath,
          ...process.execArgv,
          childPath,
        ],
        { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: process.env },
      );
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      child.on('message', (raw) => {
        const m = raw as ChildReply;
        const p = pending.get(m.id);
        if (!p) return;
        if (m.kind === 'progress') p.budget.onProgress(m.fraction);
        else {
          pending.delete(m.id);
          if (m.kind === 'result') p.resolve(m.metrics);
          else p.reject(new Error(m.message));
        }
      });
      child.on('exit', (code, signal) => {
        const e = new Error(
          `the namespace worker exited (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}`,
        );
        for (const p of pending.values()) p.reject(e);
        pending.clear();
      });
      const ready = await new Promise<string | null>((resolve) => {
        const t = setTimeout(() => resolve('the namespace worker did not start within 30 s'), 30_000);
        child!.once('message', () => {
          clearTimeout(t);
          resolve(null);
        });
        child!.once('exit', () => {
          clearTimeout(t);
          resolve(`the namespace worker failed to start: ${stderr.trim()}`);
        });
      });
      why = ready;
    },
    unavailable(_w: WorkloadName, params: Params): string | null {
      if (why !== null) return why;
      if (lossOf(params) > 0) {
        const probe = run('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], lossRuleset(lossOf(params)));
        if (!probe.ok) return `lossy link needs nftables in the namespace: ${probe.out}`;
      }
      return null;
    },
    async run(workload: WorkloadName, params: Params, budget: Budget): Promise<Metrics> {
      const loss = lossOf(params);
      if (loss !== currentLoss) {
        const r = run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], lossRuleset(loss));
        if (!r.ok) throw new Error(`nft: ${r.out}`);
        currentLoss = loss;
      }
      const id = nextId++;
      const req: ChildRequest = {
        id,
        workload,
        params,
        budget: {
          warmupNs: budget.warmupNs,
          durationNs: budget.durationNs,
          wallCapMs: budget.wallCapMs,
          seed: budget.seed,
        },
        cpuScope: LINUX_CPU_SCOPE,
      };
      return new Promise<Metrics>((resolve, reject) => {
        pending.set(id, { resolve, reject, budget });
        child!.send(req);
      });
    },
    async close(): Promise<void> {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.disconnect();
        const t = setTimeout(() => child?.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
      run('ip', ['netns', 'del', ns]);
      process.removeListener('exit', onExit);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
  return target;
}
