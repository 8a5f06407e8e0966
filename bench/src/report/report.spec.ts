import { expect } from 'chai';
import { addSpeedups } from '../suite.js';
import { ABLATION, ECHO, echoMetrics, report, run } from '../testing/reports.js';
import { renderChart } from './chart.js';
import { compareReports } from './compare.js';
import { emptyMetrics, ReportFormatError, validateReport } from './format.js';
import { backendSummaries } from './summary.js';
import { ratio, renderTable } from './table.js';

/** A results file as parsed JSON, for mutating into malformed ones. */
interface Doc {
  format: unknown;
  machine?: unknown;
  config: Record<string, unknown>;
  runs: Array<Record<string, unknown> & { metrics: Record<string, unknown> }>;
}

const unavailable = (why: string) => ({
  status: 'unavailable' as const,
  reason: why,
  metrics: emptyMetrics(),
});

function sample() {
  return report([
    run('linux', 'rpc-echo', ECHO, echoMetrics(20_000, 400, 50)),
    run('x86', 'rpc-echo', ECHO, echoMetrics(10_000, 800, 100)),
    run('agilio-sim', 'rpc-echo', ECHO, echoMetrics(40_000, 100, 0)),
    run('bluefield-sim', 'rpc-echo', ECHO, {}, unavailable('no BlueField model yet')),
    run(
      'x86',
      'pipeline-micro',
      { payloadBytes: 64, totalBytes: 1 },
      {
        extra: {
          segmentsPerSecPerCore: 500_000,
          bytesAllocatedPerSegment: 0.5,
          rxSegmentsPerSecPerCore: 700_000,
          txSegmentsPerSecPerCore: 500_000,
          rxOffloadSegmentsPerSecPerCore: 900_000,
          txOffloadSegmentsPerSecPerCore: 600_000,
          bothEndsSegmentsPerSecPerCore: 400_000,
          targetSegmentsPerSecPerCore: 2_000_000,
        },
      },
    ),
  ]);
}

describe('results file', () => {
  it('ratios are against the Linux row of the same workload and params', () => {
    const r = sample();
    expect(r.runs[0]!.vsLinux).to.equal(null);
    expect(r.runs[1]!.vsLinux).to.deep.include({ requestsPerSec: 0.5, p9999Us: 2, appCpuUsPerRequest: 2 });
    expect(r.runs[2]!.vsLinux).to.deep.include({ requestsPerSec: 2, p9999Us: 0.25 });
    expect(r.runs[4]!.vsLinux).to.equal(null); // no Linux pipeline micro-benchmark
    expect(validateReport(JSON.parse(JSON.stringify(r)))).to.be.an('object');
  });

  it('attaches the published figures where they apply', () => {
    const r = sample();
    expect(r.runs[1]!.references).to.include.members(['rtt9999-vs-chelsio']);
    // The parallelism speedups stand beside speedups over run-to-completion, not beside Linux.
    expect(r.runs[1]!.references).to.not.include.members(['single-conn-x86', 'single-conn-bluefield']);
    expect(r.runs[0]!.references).to.deep.equal([]);
    const parallel = run('x86', 'rpc-echo', ECHO, {}, { variant: 'parallel-2' });
    expect(parallel.references).to.deep.equal(['single-conn-x86']);
    expect(run('x86', 'rpc-echo', ECHO, {}, { variant: 'inline' }).references).to.deep.equal([]);
    expect(run('bluefield-sim', 'parallelism-ablation', ABLATION, {}).references).to.deep.equal([
      'single-conn-bluefield',
    ]);
    expect(run('agilio-sim', 'parallelism-ablation', ABLATION, {}).references).to.deep.equal([]);
  });

  it('speedups: a variant over the run-to-completion row of its case, an ablation row from its own two runs', () => {
    const runs = [
      run('linux', 'rpc-echo', ECHO, echoMetrics(20_000, 400, 50)),
      run('x86', 'rpc-echo', ECHO, echoMetrics(1000, 800, 100)),
      run('x86', 'rpc-echo', ECHO, echoMetrics(3000, 800, 100), { variant: 'parallel-2' }),
      run('x86', 'rpc-echo', ECHO, echoMetrics(500, 800, 100), { variant: 'inline' }),
      // Another case: no run-to-completion row, so no speedup.
      run('x86', 'rpc-echo', { ...ECHO, depth: 8 }, echoMetrics(3000, 800, 100), { variant: 'parallel-2' }),
      run('bluefield-sim', 'parallelism-ablation', ABLATION, {
        requestsPerSec: 2e6,
        goodputGbps: 2,
        extra: { parallelSpeedup: 2.5, parallelGoodputSpeedup: 2.4 },
      }),
    ];
    addSpeedups(runs, [{ backend: 'x86', port: 'virtual', variant: null }]);
    expect(runs.map((r) => r.vsRunToCompletion)).to.deep.equal([
      null,
      null, // the baseline itself
      { requestsPerSec: 3, goodputGbps: 3 },
      { requestsPerSec: 0.5, goodputGbps: 0.5 },
      null,
      { requestsPerSec: 2.5, goodputGbps: 2.4 },
    ]);
    const r = report(runs);
    expect(validateReport(JSON.parse(JSON.stringify(r)))).to.be.an('object');
    const t = renderTable(r);
    expect(t).to.match(
      /x86:parallel-2\/virtual +wall +3000 .* 0\.15x .* 3\.00x +1-conn 2\.4x vs run-to-completion/,
    );
    expect(t).to.match(/bluefield-sim\/virtual +model +2\.00M .* 2\.50x +1-conn 4x vs run-to-completion/);
    expect(t).to.match(/x86:inline +1 rows +0\.025x/); // each variant summarised on its own
    const html = renderChart(r);
    expect(html).to.include('run-to-completion = 1');
    expect(html).to.include('3.00x (paper: 1-conn 2.4x vs run-to-completion (x86))');
  });

  it('reads files written before variants and speedups existed', () => {
    const d = JSON.parse(JSON.stringify(sample())) as Doc;
    for (const r of d.runs) {
      delete r.variant;
      delete r.vsRunToCompletion;
    }
    expect(validateReport(d).runs).to.have.length(5);
  });

  for (const [what, mutate, message] of [
    ['another format', (d: Doc) => (d.format = 'flextoe-bench/0'), /format is "flextoe-bench\/0"/],
    ['a missing machine', (d: Doc) => delete d.machine, /machine is missing/],
    ['an unknown backend', (d: Doc) => (d.runs[0].backend = 'chelsio'), /runs\[0\]\.backend is "chelsio"/],
    ['a bad time base', (d: Doc) => (d.runs[1].timeBase = 'cpu'), /runs\[1\]\.timeBase must be/],
    [
      'a missing metric',
      (d: Doc) => delete d.runs[0].metrics.p9999Us,
      /runs\[0\]\.metrics\.p9999Us is missing/,
    ],
    ['a negative rate', (d: Doc) => (d.runs[0].metrics.requestsPerSec = -1), /requestsPerSec is negative/],
    [
      'a string where a number goes',
      (d: Doc) => (d.runs[0].metrics.p50Us = '12'),
      /p50Us must be a finite number or null/,
    ],
    [
      'percentiles out of order',
      (d: Doc) => (d.runs[0].metrics.p99Us = 1e9),
      /percentiles are not in increasing order/,
    ],
    [
      'an unavailable row without a reason',
      (d: Doc) => (d.runs[3].reason = ''),
      /runs\[3\]\.reason must say why/,
    ],
    [
      'an ok row that measured nothing',
      (d: Doc) => (d.runs[0].metrics = { ...emptyMetrics() }),
      /an ok run measured nothing/,
    ],
    ['no config.targets', (d: Doc) => delete d.config.targets, /config\.targets must be an object/],
    [
      'an empty variant',
      (d: Doc) => (d.runs[1].variant = ''),
      /runs\[1\]\.variant must be a non-empty string/,
    ],
    [
      'a negative speedup',
      (d: Doc) => (d.runs[1].vsRunToCompletion = { requestsPerSec: -2, goodputGbps: null }),
      /runs\[1\]\.vsRunToCompletion\.requestsPerSec must be a finite number >= 0/,
    ],
  ] as const) {
    it(`refuses ${what}, naming the field`, () => {
      const d = JSON.parse(JSON.stringify(sample())) as Doc;
      mutate(d);
      expect(() => validateReport(d, 'x.json')).to.throw(ReportFormatError, message);
    });
  }
});

describe('comparison table', () => {
  it('prints ratios against Linux, the paper column, and a backend unavailable throughout as one line', () => {
    const t = renderTable(sample());
    expect(t).to.match(/64B c1 d1 +linux\/netns-lo +wall +20\.0k .* 1 +1 +1/);
    expect(t).to.match(
      /x86\/virtual +wall +10\.0k .* 0\.50x +2\.00x +2\.00x +- +p99\.99 3\.2x lower vs Chelsio/,
    );
    expect(t).to.match(/agilio-sim\/virtual +model +40\.0k/);
    expect(t).to.include('bluefield-sim/virtual: not available: no BlueField model yet');
    expect(t).to.not.match(/bluefield-sim\/virtual +model/);
    expect(t).to.include('RX 700k, TX 500k segments/s/core');
    expect(t).to.include('target 2.00M');
    expect(t).to.not.include('xRTC:'); // no variant rows, no legend for them
    expect(t).to.match(/x86 +1 rows +0\.50x +2\.00x +2\.00x/);
  });

  it('formats ratios readably across orders of magnitude', () => {
    expect([ratio(123.4), ratio(2), ratio(0.5), ratio(0.0123), ratio(0), ratio(null)]).to.deep.equal([
      '123.4x',
      '2.00x',
      '0.50x',
      '0.012x',
      '0x',
      '-',
    ]);
  });

  it('summarises each backend by geometric means of its ratios', () => {
    const r = report([
      run('linux', 'rpc-echo', ECHO, echoMetrics(100, 100, 10)),
      run('x86', 'rpc-echo', ECHO, echoMetrics(200, 100, 10)),
      run('linux', 'rpc-echo', { ...ECHO, messageBytes: 1024 }, echoMetrics(100, 100, 10)),
      run('x86', 'rpc-echo', { ...ECHO, messageBytes: 1024 }, echoMetrics(50, 100, 10)),
    ]);
    const [x86] = backendSummaries(r);
    expect(x86).to.deep.include({ backend: 'x86', rows: 2, p9999: 1, cpu: 1 });
    expect(x86!.throughput).to.be.closeTo(1, 1e-12); // 2x and 0.5x cancel
  });
});

describe('--compare', () => {
  it('shows per-row changes with their direction, and rows only in one file', () => {
    const a = report([
      run('linux', 'rpc-echo', ECHO, echoMetrics(20_000, 400, 50)),
      run('x86', 'rpc-echo', ECHO, echoMetrics(10_000, 800, 100)),
      run('x86', 'bulk', { connections: 1, chunkBytes: 65536 }, { goodputGbps: 2, bytes: 1e9 }),
    ]);
    const b = report(
      [
        run('linux', 'rpc-echo', ECHO, echoMetrics(20_000, 400, 50)),
        run('x86', 'rpc-echo', ECHO, echoMetrics(15_000, 400, 100)),
        run('x86', 'rpc-echo', ECHO, echoMetrics(9_000, 400, 100), { variant: 'inline' }),
        run(
          'x86',
          'kv',
          { getRatio: 0.9, keys: 1, valueBytes: 64, connections: 1, depth: 1 },
          echoMetrics(1, 1, 1),
        ),
      ],
      { seed: 9 },
    );
    const out = compareReports(a, b, 'a.json', 'b.json');
    expect(out).to.match(/^A = a\.json: 2026-11-25T16:00:00\.000Z quick, bench-box/);
    expect(out).to.include('note: different seeds (1 vs 9).');
    expect(out).to.match(
      /rpc-echo +64B c1 d1 +x86\/virtual +10\.0k +15\.0k +req\/s +\+50\.0% better +\S+ +\S+ +-50\.0% better +-50\.0% better +\+0\.0%/,
    );
    expect(out).to.match(/rpc-echo +64B c1 d1 +linux\/netns-lo .* \+0\.0% /);
    expect(out).to.include('only in A: bulk c1 x86/virtual');
    // A variant is a row of its own.
    expect(out).to.include(
      'only in B: rpc-echo 64B c1 d1 x86:inline/virtual; kv get 90% 64B c1 d1 x86/virtual',
    );
  });
});

describe('chart', () => {
  it('is one self-contained page: bars of ratios on a log scale around Linux = 1, latency plots, the table', () => {
    const html = renderChart(sample());
    expect(html).to.match(/^<!doctype html>/);
    expect(html).to.not.match(/<script|src=|href="http/);
    expect(html).to.include('Linux = 1');
    expect(html).to.include('0.50x (10.0k req/s)');
    expect(html).to.include('2.00x (40.0k req/s)');
    expect(html).to.include('<b>bluefield-sim/virtual</b>: not available: no BlueField model yet');
    expect(html).to.match(/<polyline [^>]*stroke="#c8402a"[^>]*stroke-dasharray/); // modelled: dashed
    expect(html).to.include('<h2>At a glance</h2>');
    expect(html.match(/<svg /g)!.length).to.be.greaterThanOrEqual(3);
  });

  it('escapes text from the results file', () => {
    const r = sample();
    r.runs[3]!.reason = '<img src=x onerror=alert(1)>';
    expect(renderChart(r)).to.include('&lt;img src=x onerror=alert(1)&gt;').and.not.include('<img');
  });
});
