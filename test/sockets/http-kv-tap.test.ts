/**
 * The applications on a real TAP port, answering Linux: a FlexTOE x86 stack opens a TAP
 * device, the test moves the device into a network namespace it creates and addresses the
 * kernel's side there, and real clients run inside the namespace: libmemcached's `memccapable`
 * (the ASCII protocol conformance test) and `memcslap` against the KV server, `curl` against
 * the HTTP server, byte-exact by SHA-256. Needs root and /dev/net/tun (CI has both) and the
 * Debian packages curl and libmemcached-tools; without them the tests are reported pending.
 * The namespace (and the TAP device inside it) is removed after the tests, also when one fails,
 * and on process exit.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  createHttpServer,
  createKvServer,
  createStack,
  listenServer,
  patternSha256,
  type HttpApp,
  type KvServer,
  type Stack,
} from '@flextoe/sockets';

const NS = `ftapps-${process.pid}`;
const IFNAME = `ftap${process.pid.toString(36)}`.slice(0, 15);
const SERVER_IP = '10.79.0.1';
const PEER_IP = '10.79.0.2';

function missing(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  for (const tool of ['ip', 'curl', 'memccapable', 'memcslap'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  return null;
}

function must(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

function removeNamespace(): void {
  spawnSync('ip', ['netns', 'del', NS], { timeout: 10_000 });
}

/** Runs a command inside the namespace without blocking the event loop (the stack runs on it). */
function inNamespace(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', NS, cmd, ...args],
      { timeout: 60_000, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0;
        resolve({ code, out: `${stdout.toString('latin1')}${stderr.toString()}` });
      },
    );
  });
}

describe('sockets/apps on a TAP port, with Linux clients in a network namespace', function () {
  this.timeout(120_000);
  let stack: Stack | null = null;
  let kv: KvServer;
  let http: HttpApp;
  let dir: string;

  before(async function () {
    const why = missing();
    if (why !== null) {
      // Reported as pending with the reason, never as passed.
      this.test!.title += ` (${why})`;
      this.skip();
    }
    process.once('exit', removeNamespace);
    removeNamespace(); // a leftover of a killed run with the same pid
    dir = mkdtempSync(join(tmpdir(), 'flextoe-tap-'));
    stack = await createStack(
      { backend: 'x86', port: { driver: 'tap', ifname: IFNAME, ip: `${SERVER_IP}/24` } },
      { argv: [], env: {} },
    );
    must('ip', ['netns', 'add', NS]);
    must('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    // The stack keeps its file descriptor; the kernel's end of the TAP moves into the namespace.
    must('ip', ['link', 'set', IFNAME, 'netns', NS]);
    must('ip', ['-n', NS, 'addr', 'add', `${PEER_IP}/24`, 'dev', IFNAME]);
    must('ip', ['-n', NS, 'link', 'set', IFNAME, 'up']);
    kv = createKvServer(stack.net);
    await listenServer(kv.server, 11211);
    http = createHttpServer(stack.net);
    await listenServer(http.server, 8080);
  });

  after(async () => {
    if (stack) {
      kv.server.close();
      await http.close();
      const hold = setInterval(() => {}, 1000); // a closing TAP port does not hold the process
      await stack.close();
      clearInterval(hold);
    }
    removeNamespace();
    process.off('exit', removeNamespace);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kv passes memccapable -a run by Linux in the namespace', async () => {
    const r = await inNamespace('memccapable', ['-h', SERVER_IP, '-p', '11211', '-a']);
    expect(r.out).to.include('All tests passed');
    expect(r.code, r.out).to.equal(0);
  });

  it('kv serves memcslap sets and gets', async () => {
    const servers = `--servers=${SERVER_IP}:11211`;
    for (const test of ['set', 'get']) {
      const r = await inNamespace('memcslap', [
        servers,
        '--concurrency=2',
        '--execute-number=100',
        `--test=${test}`,
      ]);
      expect(r.code, r.out).to.equal(0);
    }
    expect(kv.store.counters.get_hits).to.be.greaterThan(0);
  });

  it('http answers curl: 1 MiB download and upload, byte-exact', async () => {
    const down = await inNamespace('curl', [
      '-sS',
      '--fail',
      `http://${SERVER_IP}:8080/bytes/1048576?seed=9`,
    ]);
    expect(down.code, down.out.slice(0, 200)).to.equal(0);
    const got = Buffer.from(down.out, 'latin1');
    expect(got.length).to.equal(1048576);
    expect(createHash('sha256').update(got).digest('hex')).to.equal(patternSha256(9, 1048576));
    const body = randomBytes(1048576);
    writeFileSync(join(dir, 'body'), body);
    const up = await inNamespace('curl', [
      '-sS',
      '--fail',
      '--data-binary',
      `@${join(dir, 'body')}`,
      `http://${SERVER_IP}:8080/sha256`,
    ]);
    expect(up.code, up.out).to.equal(0);
    expect(JSON.parse(up.out)).to.deep.equal({
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  });
});
