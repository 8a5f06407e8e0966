/**
 * eBPF/XDP programs as data-path modules (config.modules naming a clang-built object): the C
 * fixture test/fixtures/modules/drop-tcp-port.bpf.c is compiled by clang at test time into a
 * temp dir and loaded on x86 inline and on agilio-sim. A connection to another port works
 * byte-exact through the program; the SYNs to 7001 are dropped and counted under the module's
 * name. The same object run directly shows the per-frame cost (no allocation; time printed).
 * Needs clang with the BPF target: without it the suite skips with the reason, and fails where
 * FLEXTOE_REQUIRE_INTEROP=1 (CI) says it must run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  allocatedBy,
  extractXdpProgram,
  HookVerdict,
  loadDataPathModules,
  ModuleLoadError,
  PacketBuffer,
  XdpModule,
  type FlexToeConfigInput,
} from '@flextoe/core';
import { skipOrRequire } from '../interop/harness/require.js';
import { runFirewallScenario } from './module-scenario.js';

const SOURCE = fileURLToPath(new URL('../fixtures/modules/drop-tcp-port.bpf.c', import.meta.url));
const BLOCKED = 7001;
const OPEN = 7000;
const NAME = 'drop-tcp-port:xdp';

const CASES: readonly [string, FlexToeConfigInput][] = [
  ['x86 inline', { backend: 'x86', x86: { placement: 'inline' } }],
  ['x86 run-to-completion (NIC-core thread)', { backend: 'x86', x86: { placement: 'run-to-completion' } }],
  ['agilio-sim', { backend: 'agilio-sim' }],
];

/** An Ethernet/IPv4/TCP SYN to `port` (just the header fields the program reads matter). */
function synFrame(port: number): PacketBuffer {
  const f = new PacketBuffer(1536);
  const d = f.data;
  d.writeUInt16BE(0x0800, 12);
  d[14] = 0x45;
  d[23] = 6;
  d.writeUInt16BE(40_000, 34);
  d.writeUInt16BE(port, 36);
  d[46] = 0x50;
  d[47] = 0x02;
  f.length = 54;
  return f;
}

describe('eBPF/XDP data-path modules (clang-compiled objects in config.modules)', function () {
  this.timeout(120_000);
  let dir = '';
  let object = '';

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'flextoe-ebpf-'));
    object = join(dir, 'drop-tcp-port.o');
    try {
      execFileSync('clang', ['-O2', '-target', 'bpf', '-c', SOURCE, '-o', object], { stdio: 'pipe' });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      skipOrRequire(
        this,
        err.code === 'ENOENT'
          ? 'clang is not installed (apt-get install clang)'
          : `clang -target bpf failed: ${err.stderr?.toString() ?? err.message}`,
        '    ',
      );
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [label, base] of CASES) {
    it(`${label}: the XDP program drops TCP to ${BLOCKED}, counted under "${NAME}"; echo on ${OPEN} is byte-exact`, () =>
      runFirewallScenario({
        base,
        modules: [{ path: object }],
        name: NAME,
        subnet: '10.32.0',
        open: OPEN,
        blocked: BLOCKED,
      }));
  }

  it('the compiled program decides per frame without allocating (cost printed, best of 3 rounds)', () => {
    const { code, section } = extractXdpProgram(readFileSync(object));
    expect(section).to.equal('xdp');
    const m = XdpModule.fromCode(code, { name: NAME });
    const syn = synFrame(BLOCKED);
    const other = synFrame(OPEN);
    const truncated = synFrame(BLOCKED);
    truncated.length = 40; // ends inside the IP header: the program's own bounds check passes it
    expect(m.ingress(syn)).to.equal(HookVerdict.Drop);
    expect(m.ingress(other)).to.equal(HookVerdict.Pass);
    expect(m.ingress(truncated)).to.equal(HookVerdict.Pass);
    expect(m.counters).to.include({ drop: 1, pass: 2, aborted: 0 });

    const frames = 100_000;
    const run = (): void => {
      for (let i = 0; i < frames; i++) m.ingress(i & 1 ? syn : other);
    };
    run(); // warm up (optimised code)
    let bestBytes = Infinity;
    let bestNs = Infinity;
    for (let round = 0; round < 3; round++) {
      bestBytes = Math.min(bestBytes, allocatedBy(run));
      const t0 = performance.now();
      run();
      bestNs = Math.min(bestNs, ((performance.now() - t0) * 1e6) / frames);
    }
    console.log(
      `      drop-tcp-port.bpf: ${bestNs.toFixed(0)} ns/frame, ${m.vm.steps} instructions, ` +
        `${bestBytes} bytes allocated over ${frames} frames`,
    );
    expect(bestBytes / frames, 'bytes allocated per frame').to.be.below(1);
  });

  /** Compiles C source `text` into `<dir>/<name>.o` and returns the path. */
  const compile = (name: string, text: string): string => {
    const src = join(dir, `${name}.c`);
    writeFileSync(src, `#define SEC(n) __attribute__((section(n), used))\n${text}`);
    const out = join(dir, `${name}.o`);
    execFileSync('clang', ['-O2', '-target', 'bpf', '-c', src, '-o', out], { stdio: 'pipe' });
    return out;
  };
  const refusal = async (path: string, section?: string): Promise<string> => {
    try {
      await loadDataPathModules([{ path, ...(section ? { section } : {}) }]);
    } catch (e) {
      expect(e).to.be.instanceOf(ModuleLoadError);
      expect((e as Error).message).to.include(path);
      return (e as Error).message;
    }
    throw new Error(`${path} was loaded`);
  };

  it('refuses objects it cannot run, naming the file and why', async () => {
    const global = compile(
      'global',
      'unsigned long long seen;\nSEC("xdp") int count(void *ctx) { seen++; return 2; }',
    );
    expect(await refusal(global)).to.match(/relocation\(s\) \(first against "seen"\).*global data/);
    const helper = compile(
      'helper',
      'static long (*get_pid)(void) = (void *)14;\nSEC("xdp") int pid(void *ctx) { return get_pid() & 1 ? 1 : 2; }',
    );
    expect(await refusal(helper)).to.match(/calls helper id 14, which this runtime does not provide/);
    const two = compile(
      'two',
      'SEC("xdp/a") int a(void *ctx) { return 1; }\nSEC("xdp/b") int b(void *ctx) { return 2; }',
    );
    expect(await refusal(two)).to.match(/several XDP program sections \("xdp\/a", "xdp\/b"\)/);
    expect(await refusal(two, 'xdp/c')).to.match(/no program section "xdp\/c"/);
    const [b] = await loadDataPathModules([{ path: two, section: 'xdp/b' }]);
    expect(b!.name).to.equal('two:xdp/b');
    expect(b!.ingress!(synFrame(1))).to.equal(HookVerdict.Pass);
    try {
      await loadDataPathModules([{ path: object, options: { port: 1 } }]);
      expect.fail('options were accepted');
    } catch (e) {
      expect((e as Error).message).to.match(/takes no options/);
    }
  });
});
