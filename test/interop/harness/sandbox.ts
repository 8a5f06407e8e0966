/**
 * Network namespaces, interfaces and processes the interop tests create, and the guarantee that
 * they go away: `Sandbox.close()` in an `afterEach`/`after` hook, and for anything still alive
 * when the process ends (a failed hook, an uncaught exception, Ctrl-C), a synchronous sweep on
 * 'exit', SIGINT and SIGTERM. At start, leftovers of earlier runs whose process is dead (kill -9)
 * are swept too. Everything is named with INTEROP_PREFIX and this process's pid, so the sweep
 * never touches anything it did not create; no address is ever configured outside a namespace.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Every netns and interface the interop tests create starts with this. */
export const INTEROP_PREFIX = 'fti';

/** Interface names are at most 15 bytes: prefix + pid (base 36) + counter + role. */
const PID_TAG = process.pid.toString(36);

let counter = 0;
const live = new Set<Sandbox>();
let hooked = false;

export interface CommandResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly out: string;
}

/** Runs a command to completion (10 s limit); never throws. */
export function run(cmd: string, args: readonly string[], input?: string): CommandResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 10_000 });
  return {
    ok: r.status === 0,
    status: r.status,
    out: `${r.stderr ?? ''}${r.stdout ?? ''}${r.error?.message ?? ''}`.trim(),
  };
}

function must(cmd: string, args: readonly string[], input?: string): string {
  const r = run(cmd, args, input);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

/** Why the interop tests cannot run here, or null when they can (root, ip, nft, ethtool, /dev/net/tun). */
export function interopUnavailable(tools: readonly string[] = ['ip', 'nft', 'ethtool', 'nc']): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TAP devices, nftables)';
  for (const t of tools) {
    if (run('sh', ['-c', `command -v ${t}`]).status !== 0) return `needs the \`${t}\` command`;
  }
  return null;
}

/** Candidate /24s for the test wires, documentation and benchmarking ranges first. */
const CANDIDATE_SUBNETS = [
  '198.18.101',
  '198.19.101',
  '203.0.113',
  '198.51.100',
  '192.0.2',
  '10.253.101',
  '172.31.253',
];

function ipv4ToNumber(text: string): number {
  return text.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/**
 * A /24 (as 'a.b.c') that no address or route of the root namespace covers, so our wire can never
 * be confused with the host's own networks (this machine's eth0, for one, is in 192.0.2.0/24).
 */
export function freeSubnet(): string {
  const prefixes: [number, number][] = [];
  const text =
    run('ip', ['-4', 'route', 'show', 'table', 'all']).out + '\n' + run('ip', ['-4', '-o', 'addr']).out;
  for (const m of text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    if (bits === 0) continue; // the default route covers everything and says nothing
    prefixes.push([ipv4ToNumber(m[1]!), bits]);
  }
  const covered = (net: number): boolean =>
    prefixes.some(([addr, bits]) => {
      const common = Math.min(bits, 24);
      const shift = 32 - common;
      return Math.floor(addr / 2 ** shift) === Math.floor(net / 2 ** shift);
    });
  const free = CANDIDATE_SUBNETS.find((c) => !covered(ipv4ToNumber(`${c}.0`)));
  if (free === undefined)
    throw new Error(`every candidate test subnet is in use here: ${CANDIDATE_SUBNETS.join(', ')}`);
  return free;
}

/** A fresh interface name: fti<pid36><n><role>, at most 15 bytes. */
export function interfaceName(role: string): string {
  const name = `${INTEROP_PREFIX}${PID_TAG}${(counter++).toString(36)}${role}`;
  if (name.length > 15) throw new Error(`interface name ${name} is longer than 15 bytes`);
  return name;
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const s of live) s.closeSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const s of live) s.closeSync();
      process.kill(process.pid, sig);
    });
  }
}

/** Names of network namespaces and (root-namespace) interfaces that carry our prefix. */
export function leftovers(pid = process.pid): { namespaces: string[]; links: string[] } {
  const nsPrefix = `${INTEROP_PREFIX}-${pid}-`;
  const linkPrefix = `${INTEROP_PREFIX}${pid.toString(36)}`;
  const namespaces = run('ip', ['netns', 'list'])
    .out.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(nsPrefix));
  const links = run('ip', ['-o', 'link', 'show'])
    .out.split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(linkPrefix));
  return { namespaces, links };
}

/** Removes namespaces of earlier runs whose process is gone (a run killed before its hooks ran). */
export function sweepDeadRuns(): string[] {
  const removed: string[] = [];
  const pattern = new RegExp(`^${INTEROP_PREFIX}-(\\d+)-`);
  for (const line of run('ip', ['netns', 'list']).out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = pattern.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // still running: not ours to remove
    } catch {
      // ESRCH: the run that made it is dead.
    }
    killNamespaceProcesses(name);
    if (run('ip', ['netns', 'del', name]).ok) removed.push(name);
  }
  return removed;
}

/** SIGKILLs every process inside a namespace (ours or ones that outlived a killed run). */
function killNamespaceProcesses(ns: string): void {
  for (const pid of run('ip', ['netns', 'pids', ns]).out.split(/\s+/).filter(Boolean).map(Number)) {
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** One network namespace for a Linux peer, with what the test put in it and around it. */
export class Sandbox {
  private readonly processes = new Set<ChildProcess>();
  private readonly rootLinks = new Set<string>();
  private closed = false;

  private constructor(readonly ns: string) {}

  /** Creates `fti-<pid>-<n>-<label>` with loopback up. */
  static create(label: string): Sandbox {
    hookExit();
    const ns = `${INTEROP_PREFIX}-${process.pid}-${counter++}-${label}`;
    const sandbox = new Sandbox(ns);
    live.add(sandbox); // before creating: a failure half way is still swept
    must('ip', ['netns', 'add', ns]);
    sandbox.ip('link', 'set', 'lo', 'up');
    return sandbox;
  }

  /** `ip -n <ns> ...`; throws with ip's message on failure. */
  ip(...args: string[]): string {
    return must('ip', ['-n', this.ns, ...args]);
  }

  /** Runs a command inside the namespace to completion; throws on failure. */
  exec(cmd: string, args: readonly string[], input?: string): string {
    return must('ip', ['netns', 'exec', this.ns, cmd, ...args], input);
  }

  /** Starts a long-running process inside the namespace; it is killed by close(). */
  spawn(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, cmd, ...args], { stdio: 'pipe', ...options });
    this.processes.add(child);
    child.once('exit', () => this.processes.delete(child));
    return child;
  }

  /** Moves an interface of ours (a TAP, a DPDK net_tap) into the namespace and addresses it. */
  adopt(ifname: string, cidr: string): void {
    must('ip', ['link', 'set', ifname, 'netns', this.ns]);
    this.ip('addr', 'add', cidr, 'dev', ifname);
    this.ip('link', 'set', ifname, 'up');
  }

  /**
   * A veth pair: `inside` in the namespace with `cidr`, `outside` in the root namespace, up, with
   * no address, IPv6 off, no ARP replies and no forwarding (so the root namespace neither sends
   * on it by itself nor answers for our stack). Checksum
   * offload, TSO, GSO and GRO are off on both ends: a packet socket (DPDK net_af_packet) would
   * otherwise see partial checksums and 64 KiB super-frames.
   */
  veth(outside: string, inside: string, cidr: string): void {
    this.rootLinks.add(outside);
    must('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', this.ns]);
    must('sysctl', ['-q', '-w', `net.ipv6.conf.${outside}.disable_ipv6=1`]);
    // The root namespace must not answer ARP on it for its own addresses (arp_ignore 8: never)
    // nor forward what arrives on it: the wire belongs to our stack and the peer alone.
    must('sysctl', ['-q', '-w', `net.ipv4.conf.${outside}.arp_ignore=8`]);
    must('sysctl', ['-q', '-w', `net.ipv4.conf.${outside}.forwarding=0`]);
    must('ethtool', ['-K', outside, ...OFFLOADS_OFF]);
    must('ip', ['link', 'set', outside, 'up']);
    this.exec('ethtool', ['-K', inside, ...OFFLOADS_OFF]);
    this.ip('addr', 'add', cidr, 'dev', inside);
    this.ip('link', 'set', inside, 'up');
  }

  /**
   * Drops `percent` % of the frames in each direction on `ifname` (nftables netdev ingress and
   * egress, `numgen random`): this kernel has no `tc netem`. Egress drops happen after the
   * peer's TCP handed the frame to the device, like loss on the wire.
   */
  loss(ifname: string, percent: number): void {
    const rule = `numgen random mod 1000000 < ${Math.round(percent * 10_000)} counter drop`;
    this.exec(
      'nft',
      ['-f', '-'],
      [
        'table netdev flextoe_interop {',
        `  chain in { type filter hook ingress device "${ifname}" priority 0; ${rule}; }`,
        `  chain out { type filter hook egress device "${ifname}" priority 0; ${rule}; }`,
        '}',
        '',
      ].join('\n'),
    );
  }

  /** Frames the loss rules dropped so far, both directions. */
  lossCount(): number {
    const out = run('ip', [
      'netns',
      'exec',
      this.ns,
      'nft',
      'list',
      'table',
      'netdev',
      'flextoe_interop',
    ]).out;
    return [...out.matchAll(/packets (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  }

  /** Kills our processes, deletes the namespace (and so the veths inside) and our root links. */
  async close(): Promise<void> {
    if (this.closed) return;
    const exits = [...this.processes].map(
      (p) =>
        new Promise<void>((resolve) =>
          p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve()),
        ),
    );
    for (const p of this.processes) p.kill('SIGKILL');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 2000))]);
    this.closeSync();
  }

  /** The synchronous part of close(), for 'exit' handlers. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.processes) p.kill('SIGKILL');
    // Also whatever our processes started in there (nc's children, a shell's jobs).
    killNamespaceProcesses(this.ns);
    run('ip', ['netns', 'del', this.ns]);
    for (const l of this.rootLinks) {
      if (run('ip', ['link', 'show', l]).ok) run('ip', ['link', 'del', l]);
    }
    live.delete(this);
  }
}

const OFFLOADS_OFF = ['rx', 'off', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];
