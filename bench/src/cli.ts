/**
 * `npm run bench` / `flextoe bench`: option parsing, the run, and the outputs (table on stdout,
 * progress on stderr, `<out>/<date>.json` and `<out>/<date>.html`). `runBenchCli` takes its
 * environment as arguments and returns the exit code, so the tests run it in-process.
 *
 * Exit codes: 0 done (even if some rows are unavailable: the table says why), 1 a run failed or
 * an unexpected error, 2 a malformed command line.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compareReports } from './report/compare.js';
import { renderChart } from './report/chart.js';
import {
  BACKEND_IDS,
  ReportFormatError,
  validateReport,
  WORKLOAD_NAMES,
  type BackendId,
  type BenchReport,
  type Preset,
  type WorkloadName,
} from './report/format.js';
import { machineInfo } from './report/machine.js';
import { renderTable } from './report/table.js';
import type { BenchIo } from './report/text-sink.js';
import { TIMING } from './plan.js';
import { runSuite } from './suite.js';
import { buildTargets } from './targets/index.js';

export class BenchUsageError extends Error {}

export const PORTS = ['virtual', 'tap', 'dpdk'] as const;

export interface BenchOptions {
  preset: Preset;
  backends: BackendId[];
  workloads: WorkloadName[];
  port: (typeof PORTS)[number];
  outDir: string;
  seed: number;
  durationS: number | null;
  compare: [string, string] | null;
  help: boolean;
}

export const HELP = `usage: npm run bench [-- options]   or   flextoe bench [options]

Runs the same workloads on every available FlexTOE backend and on Linux kernel TCP (Node's net)
in one run, prints one comparison table, and writes <out>/<date>.json and <out>/<date>.html.

options:
  --quick               short runs (under a minute; what CI runs)
  --smoke               the shortest runs, for tests
  --backend a,b         backends: ${BACKEND_IDS.join(', ')} (default: all)
  --workload a,b        workloads: ${WORKLOAD_NAMES.join(', ')} (default: all)
  --port P              FlexTOE port: virtual (default), tap or dpdk (real I/O, root)
  --out DIR             where results go (default: bench-results)
  --seed N              base seed for workloads and lossy links (default: 1)
  --duration S          measured seconds per run (default: 3; --quick 0.5; --smoke 0.15)
  --compare A.json B.json
                        print the differences between two results files and exit
  --help                this text
`;

/** A token that is an option, not a value: negative numbers are values (`--duration -1` is a bad value). */
const isOption = (a: string): boolean => a.startsWith('-') && a !== '-' && !/^-\d/.test(a);

function list<T extends string>(option: string, value: string, valid: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim());
  for (const v of items) {
    if (!(valid as readonly string[]).includes(v))
      throw new BenchUsageError(`flextoe bench: ${option}: unknown value "${v}"; valid: ${valid.join(', ')}`);
  }
  return [...new Set(items)] as T[];
}

/** Parses the command line; throws BenchUsageError with one clear line on anything malformed. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    preset: 'full',
    backends: [...BACKEND_IDS],
    workloads: [...WORKLOAD_NAMES],
    port: 'virtual',
    outDir: 'bench-results',
    seed: 1,
    durationS: null,
    compare: null,
    help: false,
  };
  const presets: Preset[] = [];
  const seen = new Set<string>();
  const args = [...argv];
  for (let i = 0; i < args.length; i++) {
    const raw = args[i]!;
    if (!isOption(raw)) throw new BenchUsageError(`flextoe bench: unexpected argument "${raw}"`);
    const eq = raw.indexOf('=');
    const name = eq === -1 ? raw : raw.slice(0, eq);
    const inline = eq === -1 ? undefined : raw.slice(eq + 1);
    const value = (what: string): string => {
      const v = inline ?? args[++i];
      if (v === undefined || (inline === undefined && isOption(v)))
        throw new BenchUsageError(`flextoe bench: ${name} needs a value (${what})`);
      return v;
    };
    if (seen.has(name)) throw new BenchUsageError(`flextoe bench: ${name} given twice`);
    seen.add(name);
    switch (name) {
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--quick':
      case '--smoke':
        if (inline !== undefined) throw new BenchUsageError(`flextoe bench: ${name} takes no value`);
        presets.push(name === '--quick' ? 'quick' : 'smoke');
        break;
      case '--backend':
        o.backends = list(name, value('a list like linux,x86'), BACKEND_IDS);
        break;
      case '--workload':
        o.workloads = list(name, value('a list like rpc-echo,kv'), WORKLOAD_NAMES);
        break;
      case '--port':
        o.port = list(name, value(PORTS.join('|')), PORTS)[0]!;
        break;
      case '--out':
        o.outDir = value('a directory');
        break;
      case '--seed': {
        const v = value('an integer');
        if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
          throw new BenchUsageError(`flextoe bench: --seed must be an integer, got "${v}"`);
        o.seed = Number(v);
        break;
      }
      case '--duration': {
        const v = value('seconds');
        const s = Number(v);
        if (v.trim() === '' || !Number.isFinite(s) || s <= 0 || s > 3600)
          throw new BenchUsageError(`flextoe bench: --duration must be seconds in (0, 3600], got "${v}"`);
        o.durationS = s;
        break;
      }
      case '--compare': {
        if (inline !== undefined)
          throw new BenchUsageError('flextoe bench: --compare takes two files: --compare A.json B.json');
        const a = args[i + 1];
        const b = args[i + 2];
        if (a === undefined || b === undefined || isOption(a) || isOption(b))
          throw new BenchUsageError(
            'flextoe bench: --compare needs two results files: --compare A.json B.json',
          );
        o.compare = [a, b];
        i += 2;
        break;
      }
      default:
        throw new BenchUsageError(
          `flextoe bench: unknown option ${name}; valid: --quick, --smoke, --backend, --workload, --port, --out, --seed, --duration, --compare, --help`,
        );
    }
  }
  if (presets.length > 1) throw new BenchUsageError('flextoe bench: choose one of --quick and --smoke');
  if (presets[0]) o.preset = presets[0];
  if (o.compare && seen.size > 1 && !o.help)
    throw new BenchUsageError('flextoe bench: --compare takes no other options');
  return o;
}

/** The date-stamped base name of a results file: 2026-11-25T15-50-27-830Z. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export interface BenchOutcome {
  readonly report: BenchReport;
  readonly jsonPath: string;
  readonly chartPath: string;
}

export async function runBench(o: BenchOptions, io: BenchIo, argv: readonly string[]): Promise<BenchOutcome> {
  const timing = TIMING[o.preset];
  const durationS = o.durationS ?? timing.durationS;
  const machine = machineInfo(io.cwd);
  const targets = await buildTargets({
    backends: o.backends,
    port: o.port,
    root: machine.root,
    preset: o.preset,
  });
  let report: BenchReport;
  try {
    report = await runSuite({
      config: {
        preset: o.preset,
        backends: o.backends,
        workloads: o.workloads,
        port: o.port,
        seed: o.seed,
        durationS,
        warmupS: Math.min(timing.warmupS, durationS),
        argv: [...argv],
      },
      machine,
      targets,
      progress: { out: io.stderr, isTTY: io.stderrIsTTY, columns: io.columns },
    });
  } finally {
    for (const t of targets) await t.close();
  }
  const dir = path.resolve(io.cwd, o.outDir);
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, stamp(new Date(report.config.startedAt)));
  const jsonPath = `${base}.json`;
  const chartPath = `${base}.html`;
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(chartPath, renderChart(report));
  return { report, jsonPath, chartPath };
}

function readReport(file: string, cwd: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (e) {
    throw new BenchUsageError(
      `flextoe bench: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BenchUsageError(`flextoe bench: ${file} is not JSON: ${(e as Error).message}`);
  }
  try {
    return validateReport(data, file);
  } catch (e) {
    if (e instanceof ReportFormatError) throw new BenchUsageError(`flextoe bench: ${e.message}`);
    throw e;
  }
}

export function defaultIo(): BenchIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true && !process.env.CI,
    columns: process.stderr.columns ?? 100,
  };
}

export async function runBenchCli(argv: readonly string[], io: BenchIo = defaultIo()): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
    if (o.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (o.compare) {
      const [a, b] = o.compare.map((f) => readReport(f, io.cwd)) as [BenchReport, BenchReport];
      io.stdout.write(compareReports(a, b, o.compare[0], o.compare[1]));
      return 0;
    }
  } catch (e) {
    if (e instanceof BenchUsageError) {
      io.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  try {
    const { report, jsonPath, chartPath } = await runBench(o, io, argv);
    io.stdout.write(header(report));
    io.stdout.write(renderTable(report));
    io.stdout.write(
      `\nwrote ${path.relative(io.cwd, jsonPath)}\n      ${path.relative(io.cwd, chartPath)} (open in a browser)\n`,
    );
    const failed = report.runs.filter((r) => r.status === 'failed').length;
    if (failed > 0) {
      io.stderr.write(`flextoe bench: ${failed} run(s) failed (see the table)\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    io.stderr.write(`flextoe bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

function header(r: BenchReport): string {
  const m = r.machine;
  return (
    `\nFlexTOE-TS bench (${r.config.preset}): ${m.cpuCount} x ${m.cpuModel}, ${m.platform} ${m.release}, ` +
    `node ${m.node}, commit ${m.gitCommit?.slice(0, 10) ?? 'unknown'}${m.gitDirty ? '+dirty' : ''}, ` +
    `load ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')}, seed ${r.config.seed}, ` +
    `${r.config.durationS} s per run\n`
  );
}
