import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendDescriptor } from '@flextoe/core';
import type { CliIo } from './command.js';
import type { InfoReport } from './info.js';
import { BACKENDS as REAL_BACKENDS, runCli } from './main.js';

/** Fixed backends, so the specs do not depend on this host's /dev/net/tun or DPDK. */
const fake = (
  name: BackendDescriptor['name'],
  timeBase: BackendDescriptor['timeBase'],
): BackendDescriptor => ({
  name,
  title: `Fake ${name}`,
  description: 'a test double',
  status: 'not-implemented',
  issue: `the ${name} thing (issue: Test issue)`,
  timeBase,
  drivers: [
    { name: 'virtual', available: true, detail: 'always' },
    ...(name === 'x86' ? [{ name: 'dpdk' as const, available: false, detail: 'addon not built yet' }] : []),
  ],
  features: { 'parallel stages': 'planned' },
});
const BACKENDS = [fake('x86', 'wall'), fake('agilio-sim', 'modelled'), fake('bluefield-sim', 'modelled')];

describe('flextoe command', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flextoe-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the command in an empty directory with an empty environment. */
  async function run(argv: string[], io: Partial<CliIo> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: {},
      cwd: dir,
      backends: BACKENDS,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      ...io,
    });
    return { code, stdout, stderr };
  }
  const json = async (argv: string[], io: Partial<CliIo> = {}) => {
    const r = await run([...argv, 'info', '--json'], io);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    return JSON.parse(r.stdout) as InfoReport;
  };
  /** A usage error is one line on stderr, exit code 2, and no stack trace. */
  const expectUsageError = (r: { code: number; stdout: string; stderr: string }) => {
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(r.stderr).to.not.match(/\n\s+at /);
  };

  describe('help and version', () => {
    it('--help lists the commands and the global options', async () => {
      const r = await run(['--help']);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.include('Usage: flextoe [options] <command>');
      for (const word of [
        'info',
        'serve',
        'bench',
        '--backend NAME',
        '--config PATH',
        '-h, --help',
        '--version',
      ]) {
        expect(r.stdout).to.include(word);
      }
      expect(r.stdout).to.match(/serve .*echo, http or kv/);
      expect(r.stdout).to.match(/bench .*flextoe bench --help/);
    });

    it('prints help without a command', async () => {
      expect((await run([])).stdout).to.include('Usage: flextoe');
    });

    it('--version prints the package version', async () => {
      const r = await run(['--version']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^flextoe \d+\.\d+\.\d+\n$/);
    });

    it('info --help describes info and its --json option', async () => {
      const r = await run(['info', '--help']);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.include('flextoe info:').and.include('--json');
    });
  });

  describe('info', () => {
    it('prints the configuration, where it came from, and the backends', async () => {
      const r = await run(['info']);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.match(/backend\s+x86\s+default/);
      expect(r.stdout).to.match(/port\s+virtual\s+default/);
      expect(r.stdout).to.match(/stack\.mss\s+1448\s+default/);
      expect(r.stdout).to.include(`file: none (no flextoe.config.json in ${dir})`);
      expect(r.stdout).to.match(/\*\s+x86\s+not-implemented\s+wall\s+virtual yes, dpdk no/);
      expect(r.stdout).to.match(/agilio-sim\s+not-implemented\s+modelled/);
      expect(r.stdout).to.match(/parallel stages\s+planned\s+planned\s+planned/);
      expect(r.stdout).to.include(
        'backend x86 is not implemented yet: missing the x86 thing (issue: Test issue)',
      );
    });

    it('--json is a machine-readable report', async () => {
      const report = await json([]);
      expect(report.config.backend).to.equal('x86');
      expect(report.config.port).to.deep.equal({ driver: 'virtual' });
      expect(report.config.stack.flowGroups).to.equal(4);
      expect(report.source.backend).to.equal('default');
      expect(report.file).to.equal(null);
      expect(report.backends.map((b) => b.name)).to.deep.equal(['x86', 'agilio-sim', 'bluefield-sim']);
      expect(report.backends[0]!.drivers[1]).to.deep.equal({
        name: 'dpdk',
        available: false,
        detail: 'addon not built yet',
      });
      expect(report.notes[0]).to.include('not implemented yet');
    });

    it('notes a port driver the selected backend does not support', async () => {
      writeFileSync(
        join(dir, 'flextoe.config.json'),
        JSON.stringify({ port: { driver: 'tap', ifname: 'tap0', ip: '10.0.0.2/24' } }),
      );
      const report = await json(['--backend', 'agilio-sim']);
      expect(report.notes).to.include(
        'port driver tap is not supported by backend agilio-sim (supported: virtual)',
      );
    });

    it('works with the real backend descriptors', async () => {
      const report = await json([], { backends: REAL_BACKENDS });
      expect(report.backends.map((b) => b.name)).to.deep.equal(['x86', 'agilio-sim', 'bluefield-sim']);
      for (const b of report.backends) expect(b.status).to.be.oneOf(['implemented', 'not-implemented']);
      // The simulated NICs are built (issue 6).
      expect(report.backends.slice(1).map((b) => b.status)).to.deep.equal(['implemented', 'implemented']);
      expect(report.backends[0]!.drivers.map((d) => d.name)).to.deep.equal(['virtual', 'tap', 'dpdk']);
    });
  });

  describe('precedence through the command line: flag > env > file > default', () => {
    beforeEach(() =>
      writeFileSync(join(dir, 'flextoe.config.json'), JSON.stringify({ backend: 'bluefield-sim' })),
    );

    it('file', async () => {
      const report = await json([]);
      expect(report.config.backend).to.equal('bluefield-sim');
      expect(report.source.backend).to.equal('file');
      expect(report.file).to.equal(join(dir, 'flextoe.config.json'));
    });

    it('env beats file', async () => {
      const report = await json([], { env: { FLEXTOE_BACKEND: 'agilio-sim' } });
      expect(report.config.backend).to.equal('agilio-sim');
      expect(report.origin['/backend']).to.equal('env FLEXTOE_BACKEND');
    });

    it('flag beats env, before or after the command', async () => {
      const env = { FLEXTOE_BACKEND: 'agilio-sim' };
      expect((await json(['--backend', 'x86'], { env })).source.backend).to.equal('flag');
      const r = await run(['info', '--json', '--backend=x86'], { env });
      expect((JSON.parse(r.stdout) as InfoReport).config.backend).to.equal('x86');
    });

    it('--config PATH replaces ./flextoe.config.json', async () => {
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ backend: 'agilio-sim', stack: { mss: 9000 } }));
      const report = await json(['--config', 'other.json']);
      expect(report.config.backend).to.equal('agilio-sim');
      expect(report.config.stack.mss).to.equal(9000);
      expect(report.origin['/stack/mss']).to.equal(`file ${join(dir, 'other.json')}`);
    });
  });

  describe('mistakes', () => {
    it('names an unknown command and the valid ones', async () => {
      const r = await run(['infoo']);
      expectUsageError(r);
      expect(r.stderr).to.equal('flextoe: unknown command "infoo"; valid commands: info, serve, bench\n');
    });

    it('names an unknown option and the valid ones', async () => {
      const r = await run(['info', '--jsn']);
      expectUsageError(r);
      expect(r.stderr).to.equal(
        'flextoe info: unknown option --jsn; valid options: --backend, --config, --help, --version, --json\n',
      );
    });

    it('says command options go after the command', async () => {
      const r = await run(['--json', 'info']);
      expectUsageError(r);
      expect(r.stderr)
        .to.include('unknown option --json')
        .and.include('(command options go after the command)');
    });

    it('rejects a bad --backend value with the choices and the source', async () => {
      const r = await run(['--backend', 'agilio', 'info']);
      expectUsageError(r);
      expect(r.stderr).to.equal(
        'flextoe config: /backend is "agilio" but must be one of: x86, agilio-sim, bluefield-sim (from flag --backend)\n',
      );
    });

    it('rejects a bad FLEXTOE_BACKEND naming the variable', async () => {
      const r = await run(['info'], { env: { FLEXTOE_BACKEND: 'nfp' } });
      expectUsageError(r);
      expect(r.stderr).to.include('/backend is "nfp"').and.include('(from env FLEXTOE_BACKEND)');
    });

    it('says an option needs a value', async () => {
      const r = await run(['info', '--backend']);
      expectUsageError(r);
      expect(r.stderr).to.equal('flextoe info: option --backend needs a value (NAME)\n');
      expect((await run(['info', '--config', '--json'])).stderr).to.include('option --config needs a value');
    });

    it('rejects a value for a boolean option and stray arguments', async () => {
      expectUsageError(await run(['info', '--json=yes']));
      const r = await run(['info', 'extra']);
      expectUsageError(r);
      expect(r.stderr).to.equal('flextoe info: unexpected argument "extra"\n');
    });

    it('reports a missing --config file', async () => {
      const r = await run(['--config', 'nope.json', 'info']);
      expectUsageError(r);
      expect(r.stderr).to.include(
        `cannot read config file ${join(dir, 'nope.json')}: no such file (from flag --config)`,
      );
    });

    it('bench passes its arguments to @flextoe/bench, which refuses an unknown option', async () => {
      const r = await run(['bench', '--anything']);
      expectUsageError(r);
      expect(r.stderr).to.match(/^flextoe bench: unknown option --anything; valid: --quick/);
    });

    it('serve refuses an unknown option in one line (serve.spec.ts covers the rest)', async () => {
      const r = await run(['serve', 'echo', '--anything']);
      expectUsageError(r);
      expect(r.stderr).to.match(/^flextoe serve: unknown option --anything; valid options: --backend/);
    });
  });
});
