/**
 * Network namespaces this run creates for the Linux baseline, and a worker process in each.
 * Every namespace is deleted when its target closes and, should this process die first, on
 * 'exit' and on SIGINT/SIGTERM: a benchmark must not leave devices behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Metrics } from '../report/format.js';
import type { ChildReply, ChildRequest } from './netns-child.js';

/** Open files a worker may use: both ends of 10 000 connections and then some. */
const CHILD_NOFILE = 65536;
const NFT_TABLE = 'flextoe_bench';

export function run(cmd: string, args: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stderr ?? ''}${r.stdout ?? ''}${r.error?.message ?? ''}`.trim() };
}

/** The kernel's TCP settings that shape the baseline, as `sysctl` names them. */
export const TCP_SYSCTLS = [
  'net.ipv4.tcp_congestion_control',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_sack',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_window_scaling',
  'net.ipv4.tcp_ecn',
  'net.core.netdev_max_backlog',
];

/** Reads `TCP_SYSCTLS` through /proc/sys (in a namespace with `ns`), a null where unreadable. */
export function tcpSettings(ns?: Namespace): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of TCP_SYSCTLS) {
    const path = `/proc/sys/${name.replace(/\./g, '/')}`;
    // Settings a namespace does not have of its own (net.core.*) are the host's.
    let r = ns ? ns.exec(['cat', path]) : run('cat', [path]);
    if (!r.ok && ns) r = run('cat', [path]);
    out[name] = r.ok ? r.out.replace(/\s+/g, ' ').trim() : null;
  }
  return out;
}

/**
 * nftables rules that drop `loss` of the frames (0: none): on input of the namespace's own TCP
 * stack (`inet`), or of the frames its bridge forwards (`bridge`, both directions).
 */
export function lossRuleset(loss: number, family: 'inet' | 'bridge' = 'inet'): string {
  const perMillion = Math.round(loss * 1_000_000);
  const hook = family === 'inet' ? 'input' : 'forward';
  const match = family === 'inet' ? 'meta l4proto tcp ' : '';
  return [
    // Creating then deleting the table makes the file idempotent: it works with or without one.
    `table ${family} ${NFT_TABLE}`,
    `delete table ${family} ${NFT_TABLE}`,
    ...(perMillion > 0
      ? [
          `table ${family} ${NFT_TABLE} {`,
          `  chain ${hook} {`,
          `    type filter hook ${hook} priority 0; policy accept;`,
          `    ${match}numgen random mod 1000000 < ${perMillion} counter drop`,
          `  }`,
          `}`,
        ]
      : []),
    '',
  ].join('\n');
}

const live = new Set<Namespace>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const ns of live) ns.deleteSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const ns of live) ns.deleteSync();
      process.kill(process.pid, sig);
    });
  }
}

export class Namespace {
  private loss = 0;
  private readonly workers = new Set<NetnsWorker>();

  private constructor(readonly name: string) {}

  /** Creates a namespace with its loopback up at MTU 1500; throws with ip's words on failure. */
  static create(role: string): Namespace {
    const name = `flextoe-bench-${process.pid}-${role}-${randomBytes(2).toString('hex')}`;
    const add = run('ip', ['netns', 'add', name]);
    if (!add.ok) throw new Error(`cannot create a network namespace: ${add.out}`);
    const ns = new Namespace(name);
    live.add(ns);
    hookExit();
    const lo = ns.ip(['link', 'set', 'lo', 'mtu', '1500', 'up']);
    if (!lo.ok) {
      ns.deleteSync();
      throw new Error(`cannot bring up loopback in a namespace: ${lo.out}`);
    }
    return ns;
  }

  ip(args: string[]): { ok: boolean; out: string } {
    return run('ip', ['-n', this.name, ...args]);
  }

  exec(args: string[], input?: string): { ok: boolean; out: string } {
    return run('ip', ['netns', 'exec', this.name, ...args], input);
  }

  /** Why a lossy link cannot be made here (no nft), or null. */
  lossUnavailable(loss: number, family: 'inet' | 'bridge' = 'inet'): string | null {
    const probe = this.exec(['nft', '-c', '-f', '-'], lossRuleset(loss, family));
    return probe.ok ? null : `a lossy link needs nftables in the namespace: ${probe.out}`;
  }

  /** Drops `loss` of the TCP segments this namespace receives (or its bridge forwards), from now on. */
  setLoss(loss: number, family: 'inet' | 'bridge' = 'inet'): void {
    if (loss === this.loss) return;
    const r = this.exec(['nft', '-f', '-'], lossRuleset(loss, family));
    if (!r.ok) throw new Error(`nft: ${r.out}`);
    this.loss = loss;
  }

  async startWorker(): Promise<NetnsWorker> {
    const w = await NetnsWorker.start(this);
    this.workers.add(w);
    return w;
  }

  async delete(): Promise<void> {
    for (const w of this.workers) await w.close();
    this.workers.clear();
    this.deleteSync();
  }

  deleteSync(): void {
    for (const w of this.workers) w.kill();
    if (live.delete(this)) run('ip', ['netns', 'del', this.name]);
  }
}

type Request = ChildRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
type Result = Extract<ChildReply, { kind: 'result' }>;

interface Pending {
  resolve(r: Result): void;
  reject(e: Error): void;
  onProgress?(f: number): void;
  onWindow?(edge: 'open' | 'close'): void;
}

/** A Node process inside a namespace running `netns-child`: one request, one result. */
export class NetnsWorker {
  private nextId = 1;
  private stderr = '';
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    child.on('message', (raw) => {
      const m = raw as ChildReply;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.kind === 'progress') p.onProgress?.(m.fraction);
      else if (m.kind === 'window') p.onWindow?.(m.edge);
      else {
        this.pending.delete(m.id);
        if (m.kind === 'result') p.resolve(m);
        else p.reject(new Error(m.message));
      }
    });
    child.on('exit', (code, signal) => {
      const e = new Error(`the namespace worker exited (${signal ?? code}): ${this.lastError()}`);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  private lastError(): string {
    return this.stderr.trim().split('\n').pop() ?? '';
  }

  static async start(ns: Namespace): Promise<NetnsWorker> {
    // The worker runs the same build as this process: from sources under tsx (tests), else dist.
    const self = fileURLToPath(import.meta.url);
    const childPath = self.replace(/netns\.(ts|js)$/, 'netns-child.$1');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
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
    const w = new NetnsWorker(child);
    const failed = await new Promise<string | null>((resolve) => {
      const t = setTimeout(() => resolve('the namespace worker did not start within 30 s'), 30_000);
      child.once('message', () => {
        clearTimeout(t);
        resolve(null);
      });
      child.once('exit', () => {
        clearTimeout(t);
        resolve(`the namespace worker failed to start: ${w.stderr.trim()}`);
      });
    });
    if (failed !== null) {
      w.kill();
      throw new Error(failed);
    }
    return w;
  }

  request(
    req: Request,
    hooks: { onProgress?(f: number): void; onWindow?(edge: 'open' | 'close'): void } = {},
  ): Promise<Result> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...hooks });
      this.child.send({ ...req, id } as ChildRequest);
    });
  }

  async metrics(req: Request, hooks: Parameters<NetnsWorker['request']>[1] = {}): Promise<Metrics> {
    const r = await this.request(req, hooks);
    if (!r.metrics) throw new Error('the namespace worker returned no metrics');
    return r.metrics;
  }

  async close(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.disconnect();
    const t = setTimeout(() => this.kill(), 2000);
    await exited;
    clearTimeout(t);
  }

  kill(): void {
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
