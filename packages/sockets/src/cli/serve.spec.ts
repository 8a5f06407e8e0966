import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createStack } from '../stack.js';
import { createVirtualNetwork } from '../virtual-network.js';
import type { CliContext } from './command.js';
import { runCli } from './main.js';
import { serve, type Serving } from './serve.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '../../../..');

describe('flextoe serve', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flextoe-serve-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function io() {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      ctx: (argv: string[]): CliContext => ({
        argv,
        values: {},
        env: {},
        cwd: dir,
        backends: [],
        stdout: { write: (s: string) => (out.stdout += s) },
        stderr: { write: (s: string) => (out.stderr += s) },
      }),
    };
  }

  describe('refuses a bad command line with one line and exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['serve'], /^flextoe serve: which application\? one of echo, http, kv/],
      [['serve', 'ftp'], /^flextoe serve: unknown application "ftp"; choose one of echo, http, kv/],
      [['serve', 'echo', 'http'], /^flextoe serve: unexpected argument "http"/],
      [['serve', 'kv', '--port', '0'], /--port is "0" but must be an integer 1\.\.65535/],
      [['serve', 'kv', '--port', '65536'], /--port is "65536"/],
      [['serve', 'kv', '--port', 'eighty'], /--port is "eighty"/],
      [['serve', 'kv', '--port'], /option --port needs a value \(N\)/],
      [['serve', 'kv', '--port-config', '{driver:tap}'], /--port-config is not JSON/],
      [['serve', 'kv', '--port-config', '[1]'], /--port-config must be a JSON object/],
      [['serve', 'echo', '--memory-mb', '8'], /--memory-mb is a kv option/],
      [['serve', 'echo', '--verbose'], /unknown option --verbose; valid options: --backend, --config/],
      // Field errors come from the config schema, through the command's ConfigError path.
      [['serve', 'kv', '--port-config', '{"driver":"tap","ip":"10.9.0.1/24"}'], /\/port\/ifname is missing/],
      [['--backend', 'sparc', 'serve', 'kv'], /backend/],
    ];
    for (const [argv, message] of cases) {
      it(argv.join(' '), async () => {
        let stdout = '';
        let stderr = '';
        const code = await runCli(argv, {
          env: {},
          cwd: dir,
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
        });
        expect(code).to.equal(2);
        expect(stdout).to.equal('');
        expect(stderr).to.match(message);
        expect(stderr.trimEnd().split('\n'), stderr).to.have.length(1);
      });
    }
  });

  it('--help names the applications and options', async () => {
    const { out, ctx } = io();
    expect(await serve(ctx(['serve', '--help']), () => Promise.resolve())).to.equal(0);
    for (const word of ['echo', 'http', 'kv', '--port N', '--port-config JSON', '--memory-mb MB', '11211'])
      expect(out.stdout).to.include(word);
  });

  it('--version prints the version', async () => {
    const { out, ctx } = io();
    expect(await serve(ctx(['serve', '--version']), () => Promise.resolve())).to.equal(0);
    expect(out.stdout).to.match(/^flextoe \d+\.\d+\.\d+\n$/);
  });

  it('says in one line, exit code 1, when the stack cannot start', async () => {
    writeFileSync(join(dir, 'flextoe.config.json'), JSON.stringify({ stack: { mss: 9000 } }));
    const { out, ctx } = io();
    expect(await serve(ctx(['serve', 'echo']), () => Promise.resolve())).to.equal(1);
    expect(out.stderr).to.match(/^flextoe serve: cannot start the x86 stack: mss is 9000 but must be/);
    expect(out.stderr.trimEnd().split('\n')).to.have.length(1);
  });

  it('serves kv on the configured virtual port until told to stop, then closes the stack', async () => {
    const wire = createVirtualNetwork({}, `serve-kv-${process.pid}`);
    const client = await createStack(
      { backend: 'x86', port: wire.attach('10.0.0.2/24') },
      { argv: [], env: {}, cwd: dir },
    );
    const { out, ctx } = io();
    let stop!: () => void;
    let serving!: Serving;
    let up!: () => void;
    const listening = new Promise<void>((r) => (up = r));
    const stopped = new Promise<void>((r) => (stop = r));
    const code = serve(
      ctx([
        'serve',
        'kv',
        '--port',
        '11311',
        '--memory-mb',
        '8',
        '--port-config',
        JSON.stringify(wire.attach('10.0.0.1/24')),
      ]),
      () => stopped,
      (s) => {
        serving = s;
        up();
      },
    );
    await listening;
    expect(out.stdout).to.match(
      /^flextoe serve: kv \(memcached text protocol\) on 10\.0\.0\.1:11311, backend x86/,
    );
    const reply = await new Promise<string>((resolve, reject) => {
      const s = client.net.connect(11311, '10.0.0.1');
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.endsWith('END\r\n')) {
          s.end();
          resolve(got);
        }
      });
      s.on('error', reject);
      s.write('set greeting 0 0 5\r\nhello\r\nget greeting\r\nstats settings\r\n');
    });
    expect(reply).to.match(/^STORED\r\nVALUE greeting 0 5\r\nhello\r\nEND\r\nSTAT maxbytes 8388608\r\n/);
    stop();
    expect(await code).to.equal(0);
    expect(serving.stack.closed).to.equal(true);
    expect(out.stdout).to.match(/stopped; 1 connection served\n$/);
    await client.close();
    wire.close();
  });

  it('stops on SIGINT and exits 0 (the flextoe command, built)', async () => {
    // bin/flextoe.js runs the build, as a user's `flextoe` does (npm test builds first).
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'packages/sockets/bin/flextoe.js'),
        'serve',
        'http',
        '--port-config',
        '{"driver":"virtual","ip":"10.0.0.1/24"}',
      ],
      { cwd: dir },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          if (stdout.includes('Ctrl-C')) resolve();
        });
        child.on('exit', () => reject(new Error(`exited early: ${stdout}${stderr}`)));
      });
      expect(stdout).to.match(/http \(Node's http\.Server\) on 10\.0\.0\.1:80, backend x86, port virtual/);
      child.kill('SIGINT');
      expect(await exited, stderr).to.equal(0);
      expect(stdout).to.match(/flextoe serve: stopped; 0 connections served\n$/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
