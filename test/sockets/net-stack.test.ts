// createStack(): the documented quick start, configuration precedence and errors, stats, close,
// and what keeps a process alive (child processes: exit is the observable).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { ConfigError, NotImplementedError, type BackendName } from '@flextoe/core';
import { createStack, createVirtualNetwork } from '@flextoe/sockets';
import { backendAvailability, pattern, stackPair, within, type StackPair } from './net-kit.js';

const availability = await backendAvailability();
const usable = availability.filter((b) => b.usable).map((b) => b.name);
const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SOCKETS_ENTRY = pathToFileURL(join(REPO, 'packages/sockets/src/index.ts')).href;
const scriptDir = mkdtempSync(join(tmpdir(), 'flextoe-liveness-'));
let scriptCount = 0;
after(() => rmSync(scriptDir, { recursive: true, force: true }));

describe('createStack: the documented quick start', function () {
  this.timeout(60_000);
  // README: a = agilio-sim, b = x86. Every usable backend takes the server's place (with x86 as
  // the client), so the documented pair runs as soon as the Agilio model builds stacks.
  for (const server of usable) {
    it(`echoes over a lossy, reordering wire: ${server} serves, x86 connects`, async () => {
      const wire = createVirtualNetwork({ loss: 0.01, reorder: 0.02, seed: 1 });
      const a = await createStack({ backend: server as BackendName, port: wire.attach('10.0.0.1/24') });
      const b = await createStack({ backend: 'x86', port: wire.attach('10.0.0.2/24') });
      try {
        a.net.createServer((s) => s.pipe(s)).listen(7);
        const c = b.net.connect(7, '10.0.0.1');
        // ...and then: what the quick start implies, every byte back in order.
        const data = pattern(512 * 1024, 17);
        const chunks: Buffer[] = [];
        c.on('data', (d: Buffer) => chunks.push(d));
        c.end(data);
        await within(new Promise((r) => c.on('close', r)), 40_000, 'quick start echo');
        expect(Buffer.concat(chunks).equals(data)).to.equal(true);
        expect([a.backend, b.backend]).to.deep.equal([server, 'x86']);
        expect(a.address).to.equal('10.0.0.1');
      } finally {
        await Promise.all([a.close(), b.close()]);
        wire.close();
      }
    });
  }
});

describe('createStack: configuration', function () {
  this.timeout(30_000);
  const wire = createVirtualNetwork();
  after(() => wire.close());
  const port = () => wire.attach('10.1.0.1/24');
  const none = { argv: [], env: {} };

  /** The backend the configuration chose: the stack's, or the one that refused to build. */
  async function chosen(p: Promise<{ backend: BackendName; close(): Promise<void> }>): Promise<string> {
    try {
      const s = await p;
      await s.close();
      return s.backend;
    } catch (e) {
      if (e instanceof NotImplementedError) return e.message.match(/(x86|agilio-sim|bluefield-sim)/)![1]!;
      throw e;
    }
  }

  it('precedence: object > --backend flag > FLEXTOE_BACKEND > flextoe.config.json > default (x86)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flextoe-cfg-'));
    try {
      writeFileSync(join(dir, 'flextoe.config.json'), JSON.stringify({ backend: 'bluefield-sim' }));
      const env = { FLEXTOE_BACKEND: 'agilio-sim' };
      const argv = ['--verbose', '--backend', 'x86', 'positional'];
      expect(
        await chosen(createStack({ backend: 'x86', port: port() }, { argv: [], env, cwd: dir })),
      ).to.equal('x86');
      expect(await chosen(createStack({ port: port() }, { argv, env, cwd: dir }))).to.equal('x86');
      expect(
        await chosen(createStack({ port: port() }, { argv: ['--backend=x86'], env, cwd: dir })),
      ).to.equal('x86');
      expect(await chosen(createStack({ port: port() }, { argv: [], env, cwd: dir }))).to.equal('agilio-sim');
      expect(await chosen(createStack({ port: port() }, { argv: [], env: {}, cwd: dir }))).to.equal(
        'bluefield-sim',
      );
      expect(await chosen(createStack({ port: port() }, { argv: [], env: {}, cwd: tmpdir() }))).to.equal(
        'x86',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads only --backend from the command line: an application's --config is its own", async () => {
    const s = await createStack({ port: port() }, { argv: ['--config', '/nonexistent.json'], env: {} });
    await s.close();
    expect(s.backend).to.equal('x86');
  });

  it('bad configuration rejects with ConfigError naming the field, before anything is opened', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ backend: 'nope' }, /backend/],
      [{ port: port(), stack: { rxBufferBytes: 1000 } }, /rxBufferBytes/],
      [{ port: { driver: 'virtual' } }, /port\.ip is missing/],
      ['x86', /must be an object/],
    ];
    for (const [input, message] of cases) {
      const err = await createStack(input as never, none).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(input)).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).code).to.equal('ERR_FLEXTOE_CONFIG');
      expect((err as Error).message).to.match(message);
    }
    const fromEnv = await createStack(
      { port: port() },
      { argv: [], env: { FLEXTOE_BACKEND: 'warp-drive' } },
    ).catch((e: unknown) => e);
    expect(fromEnv).to.be.instanceOf(ConfigError);
    expect((fromEnv as Error).message).to.match(/FLEXTOE_BACKEND/);
  });

  it('exposes the resolved config, address, time base and the libTOE-level stack', async () => {
    const s = await createStack({ port: wire.attach('10.1.0.9/24'), stack: { mss: 1400 } }, none);
    await s.close();
    expect(s.config.stack.mss).to.equal(1400);
    expect(s.address).to.equal('10.1.0.9');
    expect(s.timeBase).to.equal('wall');
    expect(s.backendStack.localIp >>> 0).to.equal(0x0a010009);
  });
});

for (const backend of usable) {
  describe(`Stack on ${backend}: stats and close`, function () {
    this.timeout(30_000);
    // Built per test and always closed (close() is idempotent), also when a test fails.
    let pair: StackPair;
    beforeEach(async () => {
      pair = await stackPair(backend);
    });
    afterEach(async () => {
      await pair.close();
    });

    it('stats() has counters by stage and reason plus the sockets layer', async () => {
      const { a, b } = pair;
      const srv = a.net.createServer((s) => s.pipe(s)).listen(7);
      const c = b.net.connect(7, '10.0.0.1');
      c.end('x'.repeat(5000));
      c.resume();
      await within(new Promise((r) => c.on('close', r)), 20_000, 'echo');
      // The server's socket closes when our ACK of its FIN arrives, just after the client's.
      await within(
        (async () => {
          while (a.stats().sockets.open > 0) await new Promise((r) => setTimeout(r, 5));
        })(),
        20_000,
        'server socket close',
      );
      const st = a.stats();
      for (const stage of ['pre', 'protocol', 'post', 'dma', 'ctxq', 'egress'] as const)
        expect(st.dataPath, stage).to.have.property(stage);
      expect(st.dataPath.protocol.segments).to.be.greaterThan(0);
      expect(st.dataPath.pre.slowPath).to.be.an('object'); // hand-offs to the control plane, by reason
      expect(st.control.connectionsEstablished).to.equal(1);
      expect(st.sockets).to.include({ accepted: 1, open: 0, listening: 1 });
      expect(b.stats().sockets).to.include({ connects: 1, open: 0 });
      srv.close();
    });

    it('close() resets open connections (the peer sees ECONNRESET), closes servers, is idempotent', async () => {
      const { a, b } = pair;
      const serverEvents: string[] = [];
      const srv = a.net.createServer((s) =>
        s.on('close', (h: boolean) => serverEvents.push(`socket-close:${h}`)),
      );
      srv.on('close', () => serverEvents.push('server-close'));
      srv.listen(7);
      const c = b.net.connect(7, '10.0.0.1');
      await new Promise((r) => c.once('connect', r));
      while (a.stats().sockets.open === 0) await new Promise((r) => setImmediate(r));
      const peerError = new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
      const first = a.close();
      expect(a.close()).to.equal(first);
      expect(a.closed).to.equal(true);
      await first;
      expect((await within(peerError, 5_000, 'peer reset')).code).to.equal('ECONNRESET');
      while (serverEvents.length < 2) await new Promise((r) => setImmediate(r));
      expect(serverEvents).to.have.members(['socket-close:false', 'server-close']);
      expect(a.stats().sockets).to.include({ open: 0, listening: 0, holdingProcess: 0 });
    });
  });
}

/**
 * Runs an ES module script on the sources in a child process. Once `marker` appears on its
 * stdout the child has `graceMs` to exit by itself before it is killed (startup time, which
 * varies on a busy machine, does not count); `totalMs` bounds the whole run.
 */
function runScript(
  script: string,
  marker: string,
  graceMs: number,
  totalMs = 40_000,
): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  // A file, not --eval: worker threads inherit execArgv, and --input-type would break theirs.
  const file = join(scriptDir, `liveness-${++scriptCount}.mts`);
  writeFileSync(file, script.replaceAll("'@flextoe/sockets'", JSON.stringify(SOCKETS_ENTRY)));
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: REPO,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.base.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const kill = (): void => {
      killed = true;
      child.kill('SIGKILL');
    };
    const total = setTimeout(kill, totalMs);
    let grace: ReturnType<typeof setTimeout> | null = null;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (grace === null && stdout.includes(marker)) grace = setTimeout(kill, graceMs);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(total);
      if (grace !== null) clearTimeout(grace);
      resolvePromise({ code, killed, stdout, stderr });
    });
  });
}

/** Two stacks with an echo server and one open, echoed connection; `tail` decides what happens next. */
function livenessScript(backend: string, tail: string): string {
  return `
    import { createStack, createVirtualNetwork } from '@flextoe/sockets';
    const wire = createVirtualNetwork();
    const a = await createStack({ backend: '${backend}', port: wire.attach('10.0.0.1/24') }, { argv: [] });
    const b = await createStack({ backend: '${backend}', port: wire.attach('10.0.0.2/24') }, { argv: [] });
    const accepted = [];
    const srv = a.net.createServer((s) => { accepted.push(s); s.pipe(s); }).listen(7);
    const c = b.net.connect(7, '10.0.0.1');
    c.on('error', () => {}); // closing stack a resets c: ECONNRESET is expected
    c.write('ping');
    await new Promise((r) => c.once('data', r));
    console.log('echoed');
    ${tail}
  `;
}

/** How long a process that should exit may take after its last step (event loop drain, worker exit). */
const EXIT_GRACE_MS = 3_000;
/** How long a process that should stay alive must stay alive. */
const HOLD_MS = 1_500;

type ScriptResult = Awaited<ReturnType<typeof runScript>>;

for (const backend of usable) {
  describe(`process liveness on ${backend} (child processes)`, function () {
    this.timeout(90_000);
    let bare: ScriptResult;
    let closed: ScriptResult;
    let held: ScriptResult;
    let unrefd: ScriptResult;

    before(async function () {
      this.timeout(90_000);
      // All four at once: each child spends seconds starting up, mostly waiting.
      [bare, closed, held, unrefd] = await Promise.all([
        // Whether the backend keeps a process alive by itself (ref'd timers or threads).
        runScript(
          `import { createStack, createVirtualNetwork } from '@flextoe/sockets';
           await createStack({ backend: '${backend}', port: createVirtualNetwork().attach('10.0.0.1/24') }, { argv: [] });
           console.log('created');`,
          'created',
          EXIT_GRACE_MS,
        ),
        runScript(
          livenessScript(backend, `await a.close(); await b.close(); console.log('closed');`),
          'closed',
          EXIT_GRACE_MS,
        ),
        runScript(livenessScript(backend, `c.destroy(); console.log('idle');`), 'idle', HOLD_MS),
        runScript(
          livenessScript(
            backend,
            `srv.unref(); c.unref(); for (const s of accepted) s.unref(); console.log('unrefd');`,
          ),
          'unrefd',
          EXIT_GRACE_MS,
        ),
      ]);
    });

    const how = (r: ScriptResult) => `exit ${r.code}${r.killed ? ' (killed)' : ''}; stderr: ${r.stderr}`;

    it('stack.close() releases everything: open servers and connections do not keep the process', () => {
      expect(closed.stdout, how(closed)).to.include('echoed');
      expect(closed.stdout, how(closed)).to.include('closed');
      expect(closed.killed, 'the process had to be killed').to.equal(false);
      expect(closed.code, how(closed)).to.equal(0);
    });

    it('a listening server (ref) keeps the process alive, like a Node server', () => {
      expect(held.stdout, how(held)).to.include('idle');
      expect(held.killed, 'the process exited although a ref’d server was listening').to.equal(true);
    });

    it('a bare stack, or only unref()ed servers and sockets: the process exits by itself', () => {
      // The backend's own machinery (timers, NIC-core threads, the simulation loop) never holds
      // the process; only the application's ref'd servers and sockets do, as in Node.
      expect(bare.stdout, how(bare)).to.include('created');
      expect(bare.killed, 'a stack with nothing open kept the process alive').to.equal(false);
      expect(bare.code, how(bare)).to.equal(0);
      expect(unrefd.stdout, how(unrefd)).to.include('unrefd');
      expect(unrefd.killed, 'unref’d handles kept the process alive').to.equal(false);
      expect(unrefd.code, how(unrefd)).to.equal(0);
    });
  });
}
