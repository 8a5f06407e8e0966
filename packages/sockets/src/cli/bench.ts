/**
 * `flextoe bench`: the cross-backend benchmark suite from `@flextoe/bench`. Bench depends on
 * this package, so it is loaded by name at run time (no package.json dependency, no cycle);
 * where it is not installed, the command says so and how to get it. The suite parses its own
 * options (`flextoe bench --help`), because `--compare A.json B.json` takes two values.
 */
import type { CliCommand, CliContext, CliIo, TextSink } from './command.js';

/** A variable, so TypeScript does not try to resolve a package this one does not depend on. */
const BENCH_PACKAGE = '@flextoe/bench';

/** What this command uses of `@flextoe/bench`. */
interface BenchModule {
  runBenchCli(
    argv: readonly string[],
    io: {
      stdout: TextSink;
      stderr: TextSink;
      cwd: string;
      env: CliIo['env'];
      stderrIsTTY: boolean;
      columns: number;
    },
  ): Promise<number>;
}

/** Global options that take a value: their value is not the command name. */
const VALUE_OPTIONS = new Set(['--backend', '--config']);

/** The command line without the word `bench` (global options before it go to the suite too). */
export function benchArgs(argv: readonly string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (a === 'bench') return [...argv.slice(0, i), ...argv.slice(i + 1)];
  }
  return [...argv];
}

async function loadBench(): Promise<BenchModule | string> {
  try {
    return (await import(BENCH_PACKAGE)) as BenchModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(BENCH_PACKAGE)) {
      return (
        `flextoe bench: the benchmark suite (${BENCH_PACKAGE}) is not installed; ` +
        'in the FlexTOE-TS repository run "npm install && npm run build", or install it next to @flextoe/sockets'
      );
    }
    throw err;
  }
}

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'run the same workloads on every backend and Linux TCP, compare (flextoe bench --help)',
  options: {},
  ownArgs: true,
  async run(ctx: CliContext): Promise<number> {
    const bench = await loadBench();
    if (typeof bench === 'string') {
      ctx.stderr.write(`${bench}\n`);
      return 2;
    }
    const tty = ctx.stderr as TextSink & { isTTY?: boolean; columns?: number };
    return bench.runBenchCli(benchArgs(ctx.argv), {
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      cwd: ctx.cwd,
      env: ctx.env,
      stderrIsTTY: tty.isTTY === true && !ctx.env.CI,
      columns: tty.columns ?? 100,
    });
  },
};
