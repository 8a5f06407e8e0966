/**
 * Real memcached clients against the KV server: libmemcached's own tools (Debian package
 * libmemcached-tools) on the kernel's TCP over loopback. `memccapable -a` is libmemcached's
 * ASCII-protocol conformance test; `memcslap` loads it with sets and gets; `memcstat` reads
 * `stats`. (The same tools reach a FlexTOE stack through a tap or dpdk port.)
 */
import { execFile, execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { expect } from 'chai';
import { closeServer, createKvServer, listenServer, type KvServer } from '@flextoe/sockets';

function installed(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(tool: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: `${stdout}${stderr}` });
    });
  });
}

describe('sockets/apps: the KV server with libmemcached-tools (memccapable, memcslap, memcstat)', function () {
  this.timeout(120_000);
  let kv: KvServer;
  let port: number;

  before(async function () {
    if (!installed('memccapable')) {
      // Needs the Debian package libmemcached-tools (CI installs it); reported as pending, not passed.
      this.skip();
    }
    kv = createKvServer(net);
    await listenServer(kv.server, 0, '127.0.0.1');
    port = (kv.server.address() as net.AddressInfo).port;
  });
  after(async () => {
    if (kv) await closeServer(kv.server);
  });

  it('passes memccapable -a, the ASCII protocol conformance test', async () => {
    const r = await run('memccapable', ['-h', '127.0.0.1', '-p', String(port), '-a']);
    expect(r.out).to.include('All tests passed');
    expect(r.out).to.not.match(/\[FAIL\]/);
    expect(r.code, r.out).to.equal(0);
  });

  it('serves memcslap sets and gets, and memcstat reads the counters', async () => {
    const servers = `--servers=127.0.0.1:${port}`;
    const set = await run('memcslap', [servers, '--concurrency=2', '--execute-number=500', '--test=set']);
    expect(set.code, set.out).to.equal(0);
    const get = await run('memcslap', [servers, '--concurrency=2', '--execute-number=500', '--test=get']);
    expect(get.code, get.out).to.equal(0);
    expect(kv.store.counters.get_hits, 'memcslap read back what it stored').to.be.greaterThan(0);
    const stat = await run('memcstat', [servers]);
    expect(stat.code, stat.out).to.equal(0);
    expect(stat.out).to.match(/cmd_set: [1-9]\d*/);
    expect(stat.out).to.match(/version: 1\.6\.18-flextoe/);
  });
});
