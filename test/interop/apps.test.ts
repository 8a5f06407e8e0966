/**
 * Real tools in a network namespace against the @flextoe/sockets example applications on the
 * x86 backend over a TAP (default placement: the data path on a NIC core thread), and our
 * stack's `net` as a client of Debian's memcached:
 *  - curl downloads bodies from Node's own http.Server running on @flextoe/sockets (Content-
 *    Length and chunked) and uploads one; every byte checked (SHA-256).
 *  - libmemcached's command-line tools (memccp, memccat, memcstat) use the memcached-protocol KV
 *    app on our stack; `memccapable -a` (libmemcached's ASCII-protocol conformance test) passes
 *    against it and `memcslap` loads it with sets and gets, all from Linux in the namespace.
 *  - memcached (Debian's server) in the namespace stores and returns a value our client sends.
 * Needs root and curl, memcached, libmemcached-tools; skips with the reason otherwise (fails
 * where FLEXTOE_REQUIRE_INTEROP=1, as in CI).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  createHttpServer,
  createKvServer,
  createStack,
  listenServer,
  patternSha256,
  type KvServer,
  type Stack,
} from '@flextoe/sockets';
import { OUR_CIDR, OUR_IP, PEER_CIDR, PEER_IP, randomMac } from './harness/drivers.js';
import { interfaceName, interopUnavailable, Sandbox, sweepDeadRuns } from './harness/sandbox.js';
import { skipOrRequire } from './harness/require.js';

const execFileP = promisify(execFile);
const MiB = 1024 * 1024;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('real tools against @flextoe/sockets apps over TAP (Linux peer in a namespace)', function () {
  this.timeout(180_000);
  let sandbox: Sandbox;
  let stack: Stack;
  let dir: string;

  /** Runs a tool inside the namespace without blocking our event loop (our stack must keep running). */
  async function inNs(cmd: string, args: string[], input?: Buffer): Promise<Buffer> {
    const p = execFileP('ip', ['netns', 'exec', sandbox.ns, cmd, ...args], {
      encoding: 'buffer',
      maxBuffer: 64 * MiB,
      timeout: 60_000,
    });
    if (input) {
      p.child.stdin!.on('error', () => {});
      p.child.stdin!.end(input);
    }
    return (await p).stdout;
  }

  before(async function () {
    const why = interopUnavailable([
      'ip',
      'curl',
      'memcached',
      'memccp',
      'memccat',
      'memcstat',
      'memccapable',
      'memcslap',
    ]);
    if (why) skipOrRequire(this, why, '    ');
    sweepDeadRuns();
    dir = mkdtempSync(join(tmpdir(), 'flextoe-apps-'));
    sandbox = Sandbox.create('apps');
    const ifname = interfaceName('t');
    stack = await createStack(
      { port: { driver: 'tap', ifname, ip: OUR_CIDR, mac: randomMac() } },
      { argv: [], env: {}, cwd: dir },
    );
    sandbox.adopt(ifname, PEER_CIDR);
  });

  after(async () => {
    await stack?.close();
    await sandbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('curl and Node`s http.Server on @flextoe/sockets', () => {
    let close: () => Promise<void>;

    before(async () => {
      const app = createHttpServer(stack.net, { description: 'interop over TAP' });
      await listenServer(app.server, 8080);
      close = app.close;
    });

    after(async () => close?.());

    for (const [label, query, bytes] of [
      ['a Content-Length body', '?seed=7', 8 * MiB],
      ['a chunked body', '?seed=8&chunked=1', 3 * MiB + 12345],
    ] as const) {
      it(`downloads ${label} byte-exact`, async () => {
        const body = await inNs('curl', ['-sS', '--fail', `http://${OUR_IP}:8080/bytes/${bytes}${query}`]);
        expect(body.length).to.equal(bytes);
        expect(sha256(body)).to.equal(patternSha256(Number(/seed=(\d+)/.exec(query)![1]), bytes));
      });
    }

    it('uploads a body the server hashes byte-exact', async () => {
      const upload = randomBytes(4 * MiB);
      const reply = await inNs(
        'curl',
        [
          '-sS',
          '--fail',
          '--data-binary',
          '@-',
          '-H',
          'content-type: application/octet-stream',
          `http://${OUR_IP}:8080/sha256`,
        ],
        upload,
      );
      expect(JSON.parse(reply.toString())).to.deep.equal({ bytes: upload.length, sha256: sha256(upload) });
    });
  });

  describe('libmemcached tools and the KV app on @flextoe/sockets', () => {
    let kv: KvServer;

    before(async () => {
      kv = createKvServer(stack.net);
      await listenServer(kv.server, 11211);
    });

    after(() => kv?.server.close());

    it('memccp stores a file, memccat returns it byte-exact, memcstat sees the item', async () => {
      const value = randomBytes(600 * 1024);
      const file = join(dir, 'flextoe-value');
      writeFileSync(file, value);
      const servers = `--servers=${OUR_IP}:11211`;
      await inNs('memccp', [servers, file]);
      // memccat to stdout ends the value with a newline of its own; --file writes it as stored.
      const copy = join(dir, 'flextoe-value.back');
      await inNs('memccat', [servers, `--file=${copy}`, 'flextoe-value']);
      const back = readFileSync(copy);
      expect(back.length).to.equal(value.length);
      expect(sha256(back)).to.equal(sha256(value));
      const stats = (await inNs('memcstat', [servers])).toString();
      expect(stats).to.match(/curr_items: 1\b/);
    });

    it('passes memccapable -a, the ASCII protocol conformance test', async () => {
      const out = (await inNs('memccapable', ['-h', OUR_IP, '-p', '11211', '-a'])).toString();
      expect(out).to.include('All tests passed');
    });

    it('serves memcslap sets and gets', async () => {
      const hitsBefore = kv.store.counters.get_hits;
      for (const test of ['set', 'get'])
        await inNs('memcslap', [
          `--servers=${OUR_IP}:11211`,
          '--concurrency=2',
          '--execute-number=200',
          `--test=${test}`,
        ]);
      expect(kv.store.counters.get_hits, 'memcslap read back what it stored').to.be.greaterThan(hitsBefore);
    });
  });

  describe('a client on our stack and Debian`s memcached in the namespace', () => {
    before(async () => {
      sandbox.spawn('memcached', [
        '-u',
        'root',
        '-l',
        PEER_IP,
        '-p',
        '11311',
        '-U',
        '0',
        '-m',
        '64',
        '-I',
        '2m',
      ]);
      for (let i = 0; i < 200; i++) {
        if (sandbox.exec('ss', ['-ltnH', 'sport = :11311']).trim() !== '') return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('memcached did not start listening');
    });

    it('set then get returns the value byte-exact', async () => {
      const value = randomBytes(900 * 1024);
      const socket = stack.net.connect(11311, PEER_IP);
      const replies = reader(socket);
      socket.write(
        Buffer.concat([Buffer.from(`set flextoe 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]),
      );
      expect((await replies.line()).toString()).to.equal('STORED');
      socket.write('get flextoe\r\n');
      expect((await replies.line()).toString()).to.equal(`VALUE flextoe 0 ${value.length}`);
      const got = await replies.bytes(value.length + 2);
      expect(sha256(got.subarray(0, value.length))).to.equal(sha256(value));
      expect((await replies.line()).toString()).to.equal('END');
      socket.end();
    });
  });
});

/** Reads CRLF lines and counted bytes from a socket, in order. */
function reader(socket: NodeJS.ReadableStream & { on(e: 'data', f: (d: Buffer) => void): unknown }): {
  line(): Promise<Buffer>;
  bytes(n: number): Promise<Buffer>;
} {
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  const until = async (ready: () => number): Promise<Buffer> => {
    for (;;) {
      const n = ready();
      if (n >= 0) {
        const out = buf.subarray(0, n);
        buf = buf.subarray(n);
        return out;
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no reply from memcached within 30 s')), 30_000);
        waiter = () => {
          clearTimeout(t);
          waiter = null;
          resolve();
        };
      });
    }
  };
  return {
    line: async () => {
      const l = await until(() => {
        const i = buf.indexOf('\r\n');
        return i < 0 ? -1 : i + 2;
      });
      return l.subarray(0, l.length - 2);
    },
    bytes: (n) => until(() => (buf.length >= n ? n : -1)),
  };
}
