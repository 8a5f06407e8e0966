/**
 * The interop harness leaves nothing behind, even when a scenario fails: a child process builds
 * what an interop test builds (fixtures/abandoned-scenario.ts) and then dies in the three ways a
 * test run can: an uncaught exception, SIGTERM, and SIGKILL. The first two are cleaned up by the
 * harness's exit and signal handlers in the dying process; what a SIGKILLed run leaves (no
 * handler runs) is swept by the next run (`sweepDeadRuns`). After each, nothing named with the
 * child's prefix remains and its processes in the namespace are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { interopUnavailable, leftovers, sweepDeadRuns } from './harness/sandbox.js';
import { skipOrRequire } from './harness/require.js';

const SCENARIO = fileURLToPath(new URL('./fixtures/abandoned-scenario.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Built {
  readonly ns: string;
  readonly outside: string;
  readonly tap: string;
  readonly pids: number[];
}

/** Starts the scenario; resolves with what it built once it has printed it. */
function startScenario(mode: 'throw' | 'wait'): { child: ChildProcess; built: Promise<Built> } {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SCENARIO, mode], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: `${ROOT}tsconfig.base.json` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const built = new Promise<Built>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Built);
    });
    child.once('exit', (code) => reject(new Error(`scenario exited (${code}) before building: ${stderr}`)));
  });
  return { child, built };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** True while `pid` runs: a killed process whose parent has not reaped it yet (a zombie) is dead. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('interop harness cleanup', function () {
  this.timeout(120_000);
  // The three scenarios start together (each child needs seconds to load its TypeScript).
  let throwing: ReturnType<typeof startScenario>;
  let terminated: ReturnType<typeof startScenario>;
  let killed: ReturnType<typeof startScenario>;

  before(function () {
    const why = interopUnavailable(['ip', 'ethtool']);
    if (why) skipOrRequire(this, why, '    ');
    throwing = startScenario('throw');
    terminated = startScenario('wait');
    killed = startScenario('wait');
    for (const s of [throwing, terminated, killed]) s.built.catch(() => {});
  });

  after(() => {
    for (const s of [throwing, terminated, killed]) s?.child.kill('SIGKILL');
    sweepDeadRuns();
  });

  it('removes the namespace, interfaces and processes of a scenario that throws', async () => {
    const { child, built } = throwing;
    const made = await built;
    expect(made.ns).to.match(/^fti-\d+-/);
    expect(await exited(child), 'exit code of the failed scenario').to.equal(1);
    expect(leftovers(child.pid!)).to.deep.equal({ namespaces: [], links: [] });
    for (const pid of made.pids) expect(alive(pid), `process ${pid} in the namespace`).to.equal(false);
  });

  it('removes them when the run is terminated (SIGTERM)', async () => {
    const { child, built } = terminated;
    const made = await built;
    expect(leftovers(child.pid!).namespaces).to.deep.equal([made.ns]);
    expect(leftovers(child.pid!).links).to.include(made.outside);
    child.kill('SIGTERM');
    await exited(child);
    expect(leftovers(child.pid!)).to.deep.equal({ namespaces: [], links: [] });
    for (const pid of made.pids) expect(alive(pid), `process ${pid} in the namespace`).to.equal(false);
  });

  it('sweeps what a killed run (SIGKILL, no handler runs) left, on the next run', async () => {
    const { child, built } = killed;
    const made = await built;
    child.kill('SIGKILL');
    await exited(child);
    // Nothing could clean up: the namespace, the veth and the process inside are still there.
    expect(leftovers(child.pid!).namespaces).to.deep.equal([made.ns]);
    expect(made.pids.some(alive)).to.equal(true);
    expect(sweepDeadRuns()).to.include(made.ns);
    expect(leftovers(child.pid!)).to.deep.equal({ namespaces: [], links: [] });
    for (const pid of made.pids) expect(alive(pid), `process ${pid} in the namespace`).to.equal(false);
  });
});
