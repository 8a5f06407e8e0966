/**
 * The chart written next to the results file: one self-contained HTML page (inline SVG and CSS,
 * no script, no network), so it opens anywhere and can be attached to an issue. What a reader
 * wants first is "how does each backend compare with Linux", so that comes first as bars of
 * ratios with Linux at 1; then the latency tails, host CPU per request, and the full table.
 */
import { paramsLabel } from '../plan.js';
import {
  runWhere,
  WORKLOAD_NAMES,
  type BackendId,
  type BenchReport,
  type BenchRun,
  type WorkloadName,
} from './format.js';
import { fmt, ratio, speedupOf, whollyUnavailable, WORKLOAD_TITLES } from './table.js';
import { throughput } from './compare.js';
import { referenceShort, referencesBeside } from './references.js';
import { backendSummaries } from './summary.js';

const COLOURS: Readonly<Record<BackendId, string>> = {
  linux: '#6b6b6b',
  x86: '#1f6fb4',
  'agilio-sim': '#c8402a',
  'bluefield-sim': '#2a9d4b',
};

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const WIDTH = 820;
const LABEL = 190;
const RIGHT = 150;

/** The throughput a row is judged by (requests/s, else Gbit/s, ...) and its ratio against Linux. */
function thpt(r: BenchRun): { v: number | null; vs: number | null; unit: string } {
  const t = throughput(r);
  const vs = r.metrics.requestsPerSec !== null ? r.vsLinux?.requestsPerSec : r.vsLinux?.goodputGbps;
  return { v: t.value, vs: vs ?? null, unit: t.unit };
}

/** Rows grouped by parameter set, in plan order. */
function groups(runs: BenchRun[]): Array<{ label: string; runs: BenchRun[] }> {
  const out: Array<{ key: string; label: string; runs: BenchRun[] }> = [];
  for (const r of runs) {
    const key = JSON.stringify(r.params);
    let g = out.find((x) => x.key === key);
    if (!g) out.push((g = { key, label: paramsLabel(r.workload, r.params), runs: [] }));
    g.runs.push(r);
  }
  return out;
}

const hatch = (r: BenchRun): string => (r.timeBase === 'modelled' ? ` fill-opacity="0.55"` : '');

/**
 * Horizontal bars, one per backend per parameter set. `ratio`: bars of ratios against Linux on
 * a log scale that diverges from Linux = 1 (0.5x and 2x are the same length, left and right),
 * because ratios multiply. `linear`: absolute values from zero.
 */
function barChart(
  runs: BenchRun[],
  value: (r: BenchRun) => { bar: number | null; text: string },
  opts: {
    scale: 'ratio' | 'linear';
    title: string;
    missing?: (r: BenchRun) => string;
    /** What 1x is on a ratio scale (default Linux). */
    one?: string;
  },
): string {
  const gs = groups(runs);
  const bars = gs
    .flatMap((g) => g.runs.map((r) => value(r).bar))
    .filter((b): b is number => b !== null && b > 0);
  const plot = WIDTH - LABEL - RIGHT;
  let x: (v: number) => number;
  let origin: number;
  const ticks: Array<[number, string]> = [];
  if (opts.scale === 'ratio') {
    // Decades either side of 1, at least 1 (0.1x .. 10x), enough for the largest ratio.
    const span = Math.max(1, Math.ceil(Math.max(0, ...bars.map((b) => Math.abs(Math.log10(b)))) - 1e-9));
    x = (v: number) => LABEL + plot / 2 + (Math.log10(Math.max(v, 10 ** -span)) / span) * (plot / 2);
    origin = x(1);
    for (let e = -span; e <= span; e++)
      ticks.push([x(10 ** e), `${e < 0 ? (10 ** e).toPrecision(1) : 10 ** e}x`]);
  } else {
    const max = Math.max(0, ...bars) * 1.08 || 1;
    x = (v: number) => LABEL + (v / max) * plot;
    origin = LABEL;
  }
  const BAR = 16;
  const GAP = 12;
  let y = 30;
  const parts: string[] = [];
  for (const [tx, label] of ticks) {
    parts.push(
      `<text x="${tx.toFixed(1)}" y="14" text-anchor="middle" class="${label === '1x' ? 'onelabel' : 'tick'}">${label === '1x' ? `${opts.one ?? 'Linux'} = 1` : label}</text>`,
    );
  }
  for (const g of gs) {
    const top = y;
    for (const r of g.runs) {
      const { bar, text } = value(r);
      parts.push(
        `<text x="${LABEL - 8}" y="${y + 12}" class="backend" text-anchor="end">${esc(runWhere(r))}</text>`,
      );
      if (r.status !== 'ok' || bar === null || !(bar > 0 || opts.scale === 'linear')) {
        const why =
          r.status === 'ok'
            ? (opts.missing?.(r) ?? `not measured${r.reason ? `: ${r.reason}` : ''}`)
            : `${r.status === 'failed' ? 'failed' : 'not available'}: ${r.reason ?? ''}`;
        parts.push(
          `<text x="${LABEL + 4}" y="${y + 12}" class="na"><title>${esc(why)}</title>${esc(why.length > 90 ? `${why.slice(0, 89)}…` : why)}</text>`,
        );
      } else {
        const end = x(bar);
        const left = Math.min(origin, end);
        const w = Math.max(1.5, Math.abs(end - origin));
        // Values right of the bar, or right of Linux's line for bars that go left.
        const textX = (end >= origin ? origin + w : origin) + 5;
        parts.push(
          `<rect x="${left.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${COLOURS[r.backend]}"${hatch(r)}><title>${esc(`${runWhere(r)} ${g.label}: ${text}${r.timeBase === 'modelled' ? ' (modelled time)' : ''}`)}</title></rect>`,
          `<text x="${textX.toFixed(1)}" y="${y + 12}" class="val">${esc(text)}</text>`,
        );
      }
      y += BAR + 3;
    }
    parts.push(
      `<text x="6" y="${top + 12}" class="group">${esc(g.label)}</text>`,
      `<line x1="6" x2="${WIDTH - 6}" y1="${y + GAP / 2 - 2}" y2="${y + GAP / 2 - 2}" class="sep"/>`,
    );
    y += GAP;
  }
  // Grid lines go under the bars.
  for (const [tx, label] of ticks)
    parts.unshift(
      `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="20" y2="${y - GAP / 2}" class="${label === '1x' ? 'one' : 'grid'}"/>`,
    );
  return `<figure><figcaption>${esc(opts.title)}</figcaption><svg viewBox="0 0 ${WIDTH} ${y}" width="${WIDTH}" height="${y}" role="img">${parts.join('')}</svg></figure>`;
}

/** A power of ten as an axis label: 1, 10, 100, 1k, 10k, 100k, 1M. */
function decade(e: number): string {
  const v = Math.round(10 ** e);
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return e < 0 ? (10 ** e).toPrecision(1) : String(v);
}

/** p50 -> p99.99 per backend on a log scale, one small plot per parameter set. */
function latencyPlot(runs: BenchRun[]): string {
  const gs = groups(runs).filter((g) => g.runs.some((r) => r.status === 'ok' && r.metrics.p50Us !== null));
  if (gs.length === 0) return '';
  const W = 260;
  const H = 190;
  const L = 48;
  const B = 28;
  const qs = ['p50Us', 'p99Us', 'p999Us', 'p9999Us'] as const;
  const names = ['p50', 'p99', 'p99.9', 'p99.99'];
  const plots = gs.map((g) => {
    const vals = g.runs
      .flatMap((r) => (r.status === 'ok' ? qs.map((q) => r.metrics[q]) : []))
      .filter((v): v is number => v !== null && v > 0);
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...vals))));
    const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals) * 1.01)));
    const yOf = (v: number): number =>
      10 + (H - 10 - B) * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1));
    const xOf = (i: number): number => L + 16 + (i * (W - L - 44)) / (qs.length - 1);
    const parts: string[] = [];
    for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
      const yy = yOf(10 ** e);
      parts.push(
        `<line x1="${L}" x2="${W - 6}" y1="${yy}" y2="${yy}" class="grid"/>`,
        `<text x="${L - 4}" y="${yy + 4}" text-anchor="end" class="tick">${decade(e)}</text>`,
      );
    }
    names.forEach((n, i) =>
      parts.push(`<text x="${xOf(i)}" y="${H - 10}" text-anchor="middle" class="tick">${n}</text>`),
    );
    for (const r of g.runs) {
      if (r.status !== 'ok') continue;
      const pts = qs
        .map((q, i) => [i, r.metrics[q]] as const)
        .filter((p): p is readonly [number, number] => p[1] !== null && p[1] > 0);
      const dash = r.timeBase === 'modelled' ? ' stroke-dasharray="5 3"' : '';
      parts.push(
        `<polyline points="${pts.map(([i, v]) => `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`).join(' ')}" fill="none" stroke="${COLOURS[r.backend]}" stroke-width="2"${dash}/>`,
        ...pts.map(
          ([i, v]) =>
            `<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(v).toFixed(1)}" r="3" fill="${COLOURS[r.backend]}"><title>${esc(`${runWhere(r)} ${names[i]}: ${fmt(v)} us (${r.metrics.latencySamples} samples)`)}</title></circle>`,
        ),
      );
    }
    return `<figure class="small"><figcaption>${esc(`${runs[0]!.workload} ${g.label}`)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img"><text x="4" y="12" class="tick">us</text>${parts.join('')}</svg></figure>`;
  });
  return `<div class="row">${plots.join('')}</div>`;
}

function tableHtml(runs: BenchRun[]): string {
  const head = [
    'workload',
    'params',
    'backend/port',
    'time',
    'status',
    'req/s',
    'Gbit/s',
    'p50 us',
    'p99 us',
    'p99.9 us',
    'p99.99 us',
    'CPU us/req',
    'thpt xL',
    'p99.99 xL',
    'CPU xL',
    'xRTC',
    'stage / core busy',
    'paper',
  ];
  const rows = runs.map((r) => {
    const m = r.metrics;
    const t = thpt(r);
    return [
      r.workload,
      paramsLabel(r.workload, r.params),
      runWhere(r),
      r.timeBase,
      r.status === 'ok' ? 'ok' : `${r.status}: ${r.reason ?? ''}`,
      fmt(m.requestsPerSec),
      fmt(m.goodputGbps),
      fmt(m.p50Us),
      fmt(m.p99Us),
      fmt(m.p999Us),
      fmt(m.p9999Us),
      fmt(m.appCpuUsPerRequest),
      r.backend === 'linux' ? '1' : ratio(t.vs),
      r.backend === 'linux' ? '1' : ratio(r.vsLinux?.p9999Us),
      r.backend === 'linux' ? '1' : ratio(r.vsLinux?.appCpuUsPerRequest),
      ratio(speedupOf(r)),
      Object.entries(m.stageUtilisation ?? {})
        .map(([k, v]) => `${k} ${Math.round(v * 100)}%`)
        .join(', '),
      r.references.map(referenceShort).join('; '),
    ];
  });
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${i >= 5 && i <= 15 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
}

/** Bars of the speedup over run-to-completion, for the rows that have one. */
function speedupChart(runs: BenchRun[]): string {
  const rows = runs.filter((r) => r.vsRunToCompletion !== null || r.workload === 'parallelism-ablation');
  if (rows.length === 0) return '';
  return barChart(
    rows,
    (r) => {
      const s = speedupOf(r);
      const refs = referencesBeside(r, 'vsRunToCompletion');
      return { bar: s, text: `${ratio(s)}${refs.length > 0 ? ` (paper: ${refs.join('; ')})` : ''}` };
    },
    {
      scale: 'ratio',
      one: 'run-to-completion',
      title:
        'Speedup from data-path parallelism: throughput over the same backend run to completion on one core, this run (log scale)',
    },
  );
}

function workloadSection(w: WorkloadName, runs: BenchRun[]): string {
  const hasLinux = runs.some((r) => r.backend === 'linux' && r.status === 'ok');
  const parts: string[] = [`<h2>${esc(w)}</h2><p class="sub">${esc(WORKLOAD_TITLES[w])}</p>`];
  if (w === 'parallelism-ablation') {
    parts.push(speedupChart(runs));
  } else if (hasLinux) {
    parts.push(
      barChart(
        runs,
        (r) => {
          const t = thpt(r);
          const bar = r.backend === 'linux' ? (t.v !== null ? 1 : null) : t.vs;
          return { bar, text: `${r.backend === 'linux' ? '1x' : ratio(bar)} (${fmt(t.v)} ${t.unit})` };
        },
        {
          scale: 'ratio',
          title: 'Throughput relative to Linux measured in this run (log scale; right of the line is faster)',
        },
      ),
    );
  } else {
    parts.push(
      barChart(
        runs,
        (r) => {
          const t = thpt(r);
          return { bar: t.v, text: `${fmt(t.v)} ${t.unit}` };
        },
        {
          scale: 'linear',
          title:
            w === 'sim-speed'
              ? `The simulator's speed: simulated segments per wall-clock second (the target: ${fmt(runs.find((r) => r.metrics.extra.targetSegmentsPerSecond)?.metrics.extra.targetSegmentsPerSecond)} on one core)`
              : 'Throughput',
        },
      ),
    );
  }
  if (w !== 'parallelism-ablation') parts.push(speedupChart(runs));
  const lat = latencyPlot(runs);
  if (lat) parts.push(`<h3>Latency percentiles (log scale, lower is better)</h3>${lat}`);
  if (runs.some((r) => r.metrics.appCpuUsPerRequest !== null)) {
    parts.push(
      barChart(
        runs,
        (r) => ({
          bar: r.metrics.appCpuUsPerRequest,
          text: `${fmt(r.metrics.appCpuUsPerRequest)} us/request`,
        }),
        {
          scale: 'linear',
          title: 'Host CPU per request, application thread (shorter is better)',
          missing: (r) => (r.timeBase === 'modelled' ? 'host CPU is not modelled' : 'not measured'),
        },
      ),
    );
  }
  return `<section>${parts.join('')}</section>`;
}

export function renderChart(report: BenchReport): string {
  const m = report.machine;
  const c = report.config;
  const backends = [...new Set(report.runs.map((r) => r.backend))];
  const legend = backends
    .map((b) => `<span class="key"><span class="sw" style="background:${COLOURS[b]}"></span>${esc(b)}</span>`)
    .join('');
  const absent = whollyUnavailable(report);
  const absentNote =
    absent.size === 0
      ? ''
      : `<p class="note">${[...absent]
          .map(([k, why]) => `<b>${esc(k)}</b>: not available: ${esc(why)}`)
          .join('<br>')}</p>`;
  const sections = WORKLOAD_NAMES.map(
    (w) => [w, report.runs.filter((r) => r.workload === w && !absent.has(runWhere(r)))] as const,
  )
    .filter(([, rs]) => rs.length > 0)
    .map(([w, rs]) => workloadSection(w, rs));
  const summaryRows = backendSummaries(report)
    .filter((b) => b.rows > 0)
    .map(
      (b) =>
        `<tr><td><span class="sw" style="background:${COLOURS[b.backend]}"></span>${esc(b.label)}</td><td class="n">${b.rows}</td><td class="n big">${ratio(b.throughput)}</td><td class="n big">${ratio(b.p9999)}</td><td class="n big">${ratio(b.cpu)}</td></tr>`,
    )
    .join('');
  const summary = summaryRows
    ? `<h2>At a glance</h2><p class="sub">Geometric mean of each backend's ratios against Linux, over the rows where both ran.</p><table class="glance"><thead><tr><th>backend</th><th>rows</th><th>throughput xLinux<br>(higher is better)</th><th>p99.99 latency xLinux<br>(lower is better)</th><th>host CPU/request xLinux<br>(lower is better)</th></tr></thead><tbody>${summaryRows}</tbody></table>`
    : '';
  const refs = report.references
    .map((r) => `<li><b>${esc(r.id)}</b>: ${esc(r.claim)} <i>(baseline: ${esc(r.baseline)})</i></li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FlexTOE-TS bench ${esc(c.startedAt)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 0;border-top:1px solid #ddd;padding-top:14px}
h3{font-size:14px;margin:14px 0 4px;color:#444}.sub{color:#666;margin:2px 0 8px}
figure{margin:8px 0}figcaption{font-weight:600;color:#444;margin-bottom:2px}
.row{display:flex;flex-wrap:wrap;gap:10px}.small{margin:0}
svg text{font:12px system-ui,sans-serif}.group{font-weight:600}.backend{fill:#444}.val{fill:#222}.na{fill:#999;font-style:italic}
.sep{stroke:#eee}.one{stroke:#222;stroke-dasharray:4 3}.onelabel{fill:#222;font-size:11px}
.grid{stroke:#eee}.tick{fill:#777;font-size:10px}
.key{margin-right:16px;white-space:nowrap}.sw{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}
.meta{color:#555}table{border-collapse:collapse;font-size:12px;margin-top:8px}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f6f6}
.glance td.big{font-size:16px;font-weight:600}.glance th{text-align:right}.glance th:first-child{text-align:left}
.note{background:#f8f8f0;border-left:3px solid #cc9;padding:6px 10px;margin:10px 0}
</style></head><body>
<h1>FlexTOE-TS benchmark</h1>
<p class="meta">${esc(c.startedAt)} &middot; preset <b>${esc(c.preset)}</b> &middot; ${c.durationS} s per run &middot; seed ${c.seed} &middot;
${m.cpuCount} x ${esc(m.cpuModel)} &middot; ${esc(m.platform)} ${esc(m.release)} &middot; node ${esc(m.node)} &middot;
commit ${esc(m.gitCommit?.slice(0, 12) ?? 'unknown')}${m.gitDirty ? '+dirty' : ''} &middot; load ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')}</p>
<p>${legend}</p>
<p class="note">Ratios compare each backend with Linux kernel TCP measured in this same run on this machine.
Wall-time rows (Linux, x86) are this machine's clock; <b>modelled</b> rows (simulators, drawn paler or dashed) are the simulator's clock.
Paper figures are references against other baselines (TAS, Chelsio, no parallelism), not targets.</p>
${absentNote}
${summary}
${sections.join('\n')}
<h2>All runs</h2>${tableHtml(report.runs)}
<h2>Published FlexTOE figures (NSDI 2022)</h2><ul>${refs}</ul>
</body></html>
`;
}
