/**
 * The examples start with one command and answer: each runs as its own process, as a user
 * starts it (`npx tsx packages/sockets/examples/<name>.ts --demo`: tsx for the example file,
 * the built @flextoe/sockets for the rest, which `npm test` builds first), serves on the
 * virtual wire, and its demo client (a second stack on that wire) prints what came back.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');

function runExample(
  file: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'packages/sockets/examples', file), ...args],
      { cwd: REPO },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('sockets/examples: one command each, answering on the virtual wire', function () {
  this.timeout(120_000);
  const runs: Record<string, ReturnType<typeof runExample>> = {};

  before(() => {
    // Started together: each is a separate process, and the box may have only two cores.
    runs.echo = runExample('echo.ts', ['--demo']);
    runs.http = runExample('http.ts', ['--demo', '--port', '8080']);
    runs.kv = runExample('kv.ts', ['--demo', '--backend', 'agilio-sim']);
    runs.toe = runExample('toe-echo.ts', ['--demo']);
    runs.bad = runExample('kv.ts', ['--port', '99999']);
  });

  it('echo.ts --demo echoes the client line', async () => {
    const r = await runs.echo!;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('echo: listening on 10.0.0.1:7 (backend x86)');
    expect(r.stdout).to.include('got back "hello, FlexTOE\\n"');
  });

  it('http.ts --demo serves Node http.get: the index and 1 MB matching its SHA-256', async () => {
    const r = await runs.http!;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('http: listening on 10.0.0.1:8080');
    expect(r.stdout).to.include('GET / -> 200\nFlexTOE-TS HTTP example');
    expect(r.stdout).to.include('GET /bytes/1000000 -> 200, 1000000 bytes, sha256 matches the pattern');
  });

  it('kv.ts --demo --backend agilio-sim stores and returns a value on the simulated NIC', async () => {
    const r = await runs.kv!;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('(backend agilio-sim)');
    expect(r.stdout).to.include('STORED\r\nVALUE greeting 0 14\r\nhello, FlexTOE\r\nEND');
  });

  it('toe-echo.ts --demo echoes through the zero-copy low-level API', async () => {
    const r = await runs.toe!;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('toe-echo: the client got back "zero-copy hello\\n"');
  });

  it('refuses a bad option with a short message and exit code 2', async () => {
    const r = await runs.bad!;
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/^kv: --port is "99999" but must be an integer 1\.\.65535\nkv: options: /);
  });
});
