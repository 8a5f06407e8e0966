import { expect } from 'chai';
import { BenchUsageError, parseBenchArgs, runBenchCli } from './cli.js';
import { collectIo } from './testing/collect-io.js';

describe('bench command line', () => {
  it('defaults to the full preset on every backend and workload', () => {
    const o = parseBenchArgs([]);
    expect(o.preset).to.equal('full');
    expect(o.backends).to.deep.equal(['linux', 'x86', 'agilio-sim', 'bluefield-sim']);
    expect(o.workloads).to.include.members([
      'rpc-echo',
      'bulk',
      'kv',
      'many-connections',
      'lossy',
      'pipeline-micro',
    ]);
    expect(o.port).to.equal('virtual');
    expect(o.seed).to.equal(1);
  });

  it('parses lists, values with = and the compare pair', () => {
    const o = parseBenchArgs([
      '--quick',
      '--backend',
      'linux,x86',
      '--workload=kv',
      '--seed',
      '42',
      '--duration',
      '0.25',
    ]);
    expect(o).to.include({ preset: 'quick', seed: 42, durationS: 0.25 });
    expect(o.backends).to.deep.equal(['linux', 'x86']);
    expect(o.workloads).to.deep.equal(['kv']);
    expect(parseBenchArgs(['--compare', 'a.json', 'b.json']).compare).to.deep.equal(['a.json', 'b.json']);
  });

  for (const [argv, message] of [
    [['--fast'], /unknown option --fast; valid: --quick/],
    [
      ['--backend', 'chelsio'],
      /--backend: unknown value "chelsio"; valid: linux, x86, agilio-sim, bluefield-sim/,
    ],
    [['--workload', 'rpc-echo,nope'], /--workload: unknown value "nope"/],
    [['--port', 'pci'], /--port: unknown value "pci"; valid: virtual, tap, dpdk/],
    [['--duration', 'abc'], /--duration must be seconds in \(0, 3600\], got "abc"/],
    [['--duration', '-1'], /--duration must be seconds in \(0, 3600\], got "-1"/],
    [['--duration', '--quick'], /--duration needs a value \(seconds\)/],
    [['--duration', '0'], /--duration must be seconds/],
    [['--seed', '1.5'], /--seed must be an integer, got "1.5"/],
    [['--out'], /--out needs a value/],
    [['--quick', '--smoke'], /choose one of --quick and --smoke/],
    [['--quick', '--quick'], /--quick given twice/],
    [['--quick=yes'], /--quick takes no value/],
    [['--compare', 'a.json'], /--compare needs two results files/],
    [['--compare', 'a.json', 'b.json', '--quick'], /--compare takes no other options/],
    [['extra'], /unexpected argument "extra"/],
  ] as const) {
    it(`refuses ${argv.join(' ')} with a clear message`, () => {
      expect(() => parseBenchArgs(argv)).to.throw(BenchUsageError, message);
    });
  }

  it('exits 2 with one line on stderr for a malformed option, and runs nothing', async () => {
    const io = collectIo('/nonexistent-dir-for-bench-test');
    expect(await runBenchCli(['--duration', 'soon'], io)).to.equal(2);
    expect(io.err()).to.equal('flextoe bench: --duration must be seconds in (0, 3600], got "soon"\n');
    expect(io.out()).to.equal('');
  });

  it('prints help and exits 0', async () => {
    const io = collectIo();
    expect(await runBenchCli(['--help'], io)).to.equal(0);
    expect(io.out())
      .to.match(/--quick/)
      .and.match(/--compare A.json B.json/);
  });

  it('refuses to compare a file that is not a results file, naming the field', async () => {
    const io = collectIo();
    expect(await runBenchCli(['--compare', 'package.json', 'package.json'], io)).to.equal(2);
    expect(io.err()).to.match(
      /^flextoe bench: package.json: format is undefined, expected "flextoe-bench\/1"\n$/,
    );
    const io2 = collectIo();
    expect(await runBenchCli(['--compare', 'missing-a.json', 'missing-b.json'], io2)).to.equal(2);
    expect(io2.err()).to.match(/cannot read missing-a.json: ENOENT/);
  });
});
