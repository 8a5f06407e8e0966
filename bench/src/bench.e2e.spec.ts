/**
 * `npm run bench` end to end: the real suite on this machine, checked for the shape and sanity
 * of what it writes (never for a speed: the machine is shared and noisy). `--smoke` runs
 * in-process and is checked row by row; `--quick` (what CI smoke-tests) runs through the real
 * `flextoe bench` command and its results file goes through the same checks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { collectIo } from './testing/collect-io.js';
import { runBenchCli } from './cli.js';
import { DEFAULT_PLACEMENT } from '@flextoe/backend-x86';
import { PLAN, variantCase, X86_VARIANTS } from './plan.js';
import {
  BACKEND_IDS,
  validateReport,
  WORKLOAD_NAMES,
  type BenchReport,
  type BenchRun,
  type Preset,
} from './report/format.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FLEXTOE = join(REPO, 'packages/sockets/bin/flextoe.js');

/** The files a run wrote: exactly one results file and its chart. */
function outputs(dir: string): { report: BenchReport; chart: string; jsonName: string } {
  const files = readdirSync(dir).sort();
  const json = files.filter((f) => f.endsWith('.json'));
  const html = files.filter((f) => f.endsWith('.html'));
  expect(json, `files in ${dir}: ${files.join(', ')}`).to.have.length(1);
  expect(html.map((f) => f.replace(/\.html$/, ''))).to.deep.equal(json.map((f) => f.replace(/\.json$/, '')));
  expect(json[0]).to.match(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.json$/);
  const report = validateReport(JSON.parse(readFileSync(join(dir, json[0]!), 'utf8')), json[0]);
  return { report, chart: readFileSync(join(dir, html[0]!), 'utf8'), jsonName: json[0]! };
}

/** What every report must satisfy, whatever the machine can run. */
function checkReport(report: BenchReport, preset: Preset): void {
  expect(report.config.preset).to.equal(preset);
  expect(report.machine.cpuCount).to.be.greaterThan(0);
  expect(report.machine.node).to.equal(process.version);
  expect(report.machine.gitCommit).to.match(/^[0-9a-f]{40}$/);
  // One row per (workload, params, backend) of the plan: a backend that cannot run a workload
  // has a row saying why, it does not vanish. The pipeline micro-benchmark is x86-only, the
  // simulators' own benchmarks are theirs only; x86's placement variants have a row on each
  // single-connection case of the plan.
  const variants = X86_VARIANTS.filter((v) => v.x86.placement !== DEFAULT_PLACEMENT).map((v) => v.id);
  if (DEFAULT_PLACEMENT !== 'run-to-completion') variants.push('run-to-completion');
  for (const workload of WORKLOAD_NAMES) {
    for (const params of PLAN[preset][workload]) {
      const backends =
        workload === 'pipeline-micro'
          ? ['x86']
          : workload === 'parallelism-ablation' || workload === 'sim-speed'
            ? ['agilio-sim', 'bluefield-sim']
            : BACKEND_IDS;
      const rowsOf = (backend: string, variant: string | null): BenchRun[] =>
        report.runs.filter(
          (r) =>
            r.workload === workload &&
            r.backend === backend &&
            r.variant === variant &&
            JSON.stringify(r.params) === JSON.stringify(params),
        );
      for (const backend of backends)
        expect(rowsOf(backend, null), `${backend} ${workload} ${JSON.stringify(params)}`).to.have.length(1);
      for (const v of variants) {
        const rows = rowsOf('x86', v);
        expect(rows, `x86:${v} ${workload} ${JSON.stringify(params)}`).to.have.length(
          variantCase(preset, workload, params) ? 1 : 0,
        );
        // Every placement builds and runs here (virtual port, any Linux machine).
        for (const r of rows) expect(r.status, `x86:${v} ${workload}: ${r.reason}`).to.equal('ok');
      }
    }
  }
  expect(report.runs.filter((r) => r.variant !== null).length, 'variant rows').to.be.greaterThan(0);
  expect(
    report.runs.filter((r) => r.status === 'failed').map((r) => `${r.backend} ${r.workload}: ${r.reason}`),
  ).to.deep.equal([]);
  for (const r of report.runs) {
    // The simulation-speed rows measure the simulator against the wall clock.
    const wall = r.backend === 'linux' || r.backend === 'x86' || r.workload === 'sim-speed';
    expect(r.timeBase).to.equal(wall ? 'wall' : 'modelled');
    if (r.status === 'ok') checkOkRun(r);
    else expect(r.reason, `${r.backend} ${r.workload}`).to.be.a('string').and.not.equal('');
  }
  // The baseline and the x86 backend run here, on any Linux machine.
  const ok = (b: string, w: string): BenchRun[] =>
    report.runs.filter((r) => r.backend === b && r.variant === null && r.workload === w && r.status === 'ok');
  for (const w of ['rpc-echo', 'bulk', 'kv', 'many-connections'] as const) {
    expect(ok('linux', w), `linux ${w}`).to.have.length(PLAN[preset][w].length);
    expect(ok('x86', w), `x86 ${w}`).to.have.length(PLAN[preset][w].length);
  }
  expect(ok('x86', 'pipeline-micro')).to.have.length(PLAN[preset]['pipeline-micro'].length);
  // FlexTOE carried the request/response workloads end to end through stack.net.
  const x86Requests = report.runs
    .filter((r) => r.backend === 'x86' && r.status === 'ok' && r.metrics.requestsPerSec !== null)
    .reduce((n, r) => n + r.metrics.requests, 0);
  expect(x86Requests, 'requests x86 completed over the run').to.be.greaterThan(0);
  // Ratios are against the Linux row of the same report, and say so by being consistent with it.
  for (const r of report.runs.filter(
    (x) => x.backend !== 'linux' && x.status === 'ok' && x.workload !== 'pipeline-micro',
  )) {
    const linux = report.runs.find(
      (l) =>
        l.backend === 'linux' &&
        l.status === 'ok' &&
        l.workload === r.workload &&
        JSON.stringify(l.params) === JSON.stringify(r.params),
    );
    if (!linux) {
      expect(r.vsLinux).to.equal(null);
      continue;
    }
    expect(r.vsLinux).to.not.equal(null);
    if (r.metrics.requestsPerSec !== null)
      expect(r.vsLinux!.requestsPerSec).to.be.closeTo(
        r.metrics.requestsPerSec / linux.metrics.requestsPerSec!,
        1e-9,
      );
    if (r.metrics.goodputGbps !== null && linux.metrics.goodputGbps! > 0)
      expect(r.vsLinux!.goodputGbps).to.be.closeTo(r.metrics.goodputGbps / linux.metrics.goodputGbps!, 1e-9);
  }
  // The published figures ride along as references where they apply.
  expect(report.references.map((x) => x.id)).to.include.members([
    'memcached-vs-tas',
    'rtt9999-vs-chelsio',
    'single-conn-x86',
  ]);
  const kvX86 = report.runs.find((r) => r.backend === 'x86' && r.workload === 'kv')!;
  expect(kvX86.references).to.include('memcached-vs-tas');
  const parallelX86 = report.runs.find((r) => r.variant === 'parallel-2' && r.workload === 'rpc-echo')!;
  expect(parallelX86.references).to.include('single-conn-x86');
  // Speedups are against the run-to-completion row of the same case in this same report.
  for (const r of report.runs.filter((x) => x.variant !== null && x.status === 'ok')) {
    const rtc = report.runs.find(
      (b) =>
        b.backend === 'x86' &&
        b.status === 'ok' &&
        b.variant === (DEFAULT_PLACEMENT === 'run-to-completion' ? null : 'run-to-completion') &&
        b.workload === r.workload &&
        JSON.stringify(b.params) === JSON.stringify(r.params),
    );
    if (r.variant === 'run-to-completion' || !rtc) continue;
    const [a, b] = [r.metrics.goodputGbps, rtc.metrics.goodputGbps];
    if (a !== null && b !== null && b > 0)
      expect(r.vsRunToCompletion!.goodputGbps, `x86:${r.variant}`).to.be.closeTo(a / b, 1e-9);
  }
  const ablation = report.runs.find(
    (r) => r.backend === 'bluefield-sim' && r.workload === 'parallelism-ablation',
  )!;
  expect(ablation.references).to.include('single-conn-bluefield');
}

function checkOkRun(r: BenchRun): void {
  const m = r.metrics;
  const what = `${r.backend} ${r.workload} ${JSON.stringify(r.params)}`;
  if (r.workload === 'pipeline-micro') {
    expect(m.extra.segments, what).to.be.greaterThan(0);
    expect(m.extra.segmentsPerSecPerCore, what).to.be.greaterThan(0);
    // Every path is reported, and the headline is the slower of RX and TX (software checksums).
    for (const path of ['rx', 'tx', 'rxOffload', 'txOffload', 'bothEnds'])
      expect(m.extra[`${path}SegmentsPerSecPerCore`], `${what} ${path}`).to.be.greaterThan(0);
    expect(m.extra.segmentsPerSecPerCore, what).to.equal(
      Math.min(m.extra.rxSegmentsPerSecPerCore!, m.extra.txSegmentsPerSecPerCore!),
    );
    return;
  }
  if (r.workload === 'sim-speed') {
    expect(m.extra.segments, what).to.be.greaterThan(0);
    expect(m.extra.segmentsPerWallSecond, what).to.be.closeTo(m.extra.segments! / m.durationS, 1e-6);
    expect(m.extra.simulatedS, what).to.be.greaterThan(0);
    expect(m.bytes, what).to.equal(r.params.bulkBytes);
    return;
  }
  if (r.workload === 'parallelism-ablation') {
    // Both layouts completed every RPC asked for; the speedup is their ratio.
    expect(m.requests, what).to.equal(r.params.rpcs);
    expect(m.latencySamples, what).to.equal(m.requests);
    expect(m.requestsPerSec, what).to.be.closeTo(m.requests / m.durationS, 1e-6 * m.requests);
    expect(m.p50Us!, what).to.be.greaterThan(0).and.at.most(m.p9999Us!);
    const rtc = m.extra.runToCompletionRequestsPerSec!;
    expect(rtc, what).to.be.greaterThan(0);
    expect(r.vsRunToCompletion!.requestsPerSec, what).to.be.closeTo(m.requestsPerSec! / rtc, 1e-9);
    expect(m.stageUtilisation, what).to.be.an('object');
    return;
  }
  expect(m.durationS, what).to.be.greaterThan(0);
  // A slow model may use up its wall-clock allowance before anything completes: no rate then.
  if (r.timeBase === 'modelled' && m.extra.windowTruncated && m.requests === 0 && m.bytes === 0) {
    expect([m.requestsPerSec, m.goodputGbps], what).to.deep.equal([null, null]);
    return;
  }
  // Wall-clock rows count this process's CPU; a simulator's host CPU is not modelled (null).
  if (r.timeBase === 'wall') expect(m.cpuScope, what).to.be.a('string');
  else expect([m.cpuScope, m.appCpuUsPerRequest], what).to.deep.equal([null, null]);
  if (r.workload === 'bulk' || (r.workload === 'lossy' && r.params.mode === 'bulk')) {
    expect(m.requestsPerSec, what).to.equal(null);
    expect(m.goodputGbps, what).to.be.a('number');
    if (r.workload === 'bulk') expect(m.bytes, what).to.be.greaterThan(0);
    return;
  }
  // Request/response workloads: requests completed, latencies from the histogram, CPU per request.
  // Linux must complete requests in any window; a FlexTOE backend that completed none in one
  // window is slow, not malformed (checkReport requires each to complete some in the run).
  expect(m.latencySamples, what).to.equal(m.requests);
  if (r.backend !== 'linux' && m.requests === 0) return;
  expect(m.requests, what).to.be.greaterThan(0);
  expect(m.requestsPerSec, what).to.be.closeTo(m.requests / m.durationS, 1e-6 * m.requests);
  expect(m.p50Us!, what).to.be.greaterThan(0).and.at.most(m.p99Us!);
  expect(m.p99Us!).to.be.at.most(m.p999Us!);
  expect(m.p999Us!).to.be.at.most(m.p9999Us!);
  expect(m.p9999Us!).to.be.at.most(m.maxUs!);
  if (r.timeBase === 'wall') expect(m.appCpuUsPerRequest, what).to.be.greaterThan(0);
  expect(m.connectsPerSec, what).to.be.greaterThan(0);
  if (r.workload === 'rpc-echo' || r.workload === 'many-connections')
    expect(m.bytes, what).to.equal(m.requests * 2 * Number(r.params.messageBytes));
}

describe('npm run bench (end to end)', function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'flextoe-bench-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('--smoke runs every workload on every backend and Linux, and writes a valid results file and chart', async () => {
    const dir = tempDir();
    const io = collectIo(REPO);
    const code = await runBenchCli(['--smoke', '--out', dir, '--seed', '7'], io);
    expect(code, io.err()).to.equal(0);
    const { report, chart, jsonName } = outputs(dir);
    checkReport(report, 'smoke');
    expect(report.config.seed).to.equal(7);
    expect(report.config.argv).to.deep.equal(['--smoke', '--out', dir, '--seed', '7']);
    // The printed table has every workload's section, a row per backend, and the legend.
    const out = io.out();
    for (const w of WORKLOAD_NAMES) expect(out).to.include(`\n${w}: `);
    expect(out).to.match(/linux\/(loopback|netns-lo) +wall/);
    expect(out).to.match(/x86\/virtual +wall/);
    expect(out).to.include('xL: this backend divided by Linux in this same run');
    expect(out).to.include(`wrote `);
    // Progress went to stderr as plain lines (not a terminal here), one per run.
    expect(io.err().match(/^\[\d+\/\d+\] /gm)).to.have.length(report.runs.length);
    // The chart is one self-contained page: inline SVG, no script, no external resources.
    expect(chart).to.match(/^<!doctype html>/);
    expect(chart).to.include('<svg');
    expect(chart).to.include('Linux = 1');
    expect(chart).to.not.match(/<script|src="http|href="http/);
    for (const w of WORKLOAD_NAMES) expect(chart).to.include(`<h2>${w}</h2>`);

    // --compare of the file with itself: every row present in both, nothing changed.
    const cmp = collectIo(REPO);
    const file = join(dir, jsonName);
    expect(await runBenchCli(['--compare', file, file], cmp)).to.equal(0);
    expect(cmp.out()).to.match(/^A = .*smoke/);
    expect(cmp.out()).to.match(/rpc-echo +64B c1 d1 +linux\/\S+ .*\+0\.0%/);
    expect(cmp.out()).to.not.include('only in A');
  });

  it('--quick through the flextoe command writes a valid results file and chart (what CI runs)', () => {
    const dir = tempDir();
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [FLEXTOE, 'bench', '--quick', '--out', dir], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
      timeout: 200_000,
    });
    expect(r.status, `${r.stderr}\n${r.stdout}`).to.equal(0);
    const { report } = outputs(dir);
    checkReport(report, 'quick');
    // Reported, not asserted: the issue asks for under 60 s, and speed is for benchmarks to show.
    console.log(
      `      --quick took ${((Date.now() - t0) / 1000).toFixed(1)} s wall, suite ${report.config.wallS.toFixed(1)} s`,
    );
  });

  it('(root) --port tap puts Linux across a veth pair between two namespaces, lossy included, and cleans up', async function () {
    if (process.getuid?.() !== 0) this.skip(); // needs root: namespaces, veth, nftables
    const dir = tempDir();
    const io = collectIo(REPO);
    const code = await runBenchCli(
      ['--smoke', '--backend', 'linux', '--port', 'tap', '--workload', 'rpc-echo,lossy', '--out', dir],
      io,
    );
    expect(code, io.err()).to.equal(0);
    const { report } = outputs(dir);
    expect(report.config.port).to.equal('tap');
    const rows = report.runs.map((r) => [r.backend, r.port, r.workload, r.status]);
    const nft = spawnSync('nft', ['--version']).status === 0;
    expect(rows).to.deep.equal([
      ['linux', 'veth', 'rpc-echo', 'ok'],
      ['linux', 'veth', 'lossy', nft ? 'ok' : 'unavailable'],
    ]);
    checkOkRun(report.runs[0]!);
    if (nft) expect(report.runs[1]!.metrics.goodputGbps).to.be.a('number');
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(left).to.not.include(`flextoe-bench-${process.pid}-`);
  });

  it('a malformed option through the flextoe command is one clear line and exit 2', () => {
    const r = spawnSync(process.execPath, [FLEXTOE, 'bench', '--quick', '--workload', 'rpc'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(r.status).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(
      `flextoe bench: --workload: unknown value "rpc"; valid: ${WORKLOAD_NAMES.join(', ')}\n`,
    );
    expect(existsSync(join(REPO, 'bench-results', 'rpc'))).to.equal(false);
  });
});
