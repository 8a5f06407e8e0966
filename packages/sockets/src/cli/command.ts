/**
 * The shape of a `flextoe` subcommand and the registry `main.ts` dispatches on. Later issues
 * add `serve` here and `bench` (from @flextoe/bench, loaded lazily: bench depends on this
 * package, so it cannot be imported statically) by replacing the placeholders below.
 */
import type { BackendDescriptor } from '@flextoe/core';

/** Anything with `write(string)`: process.stdout, or a string collector in tests. */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: TextSink;
  stderr: TextSink;
  /** The backends `info` lists; tests inject fixed ones instead of probing the host. */
  backends: readonly BackendDescriptor[];
}

export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder in help, e.g. PATH. */
  valueName?: string;
  description: string;
}

export interface CliContext extends CliIo {
  /** The whole command line (global options included), for loadConfig's --backend/--config. */
  argv: readonly string[];
  /** Parsed options, global and the command's own. */
  values: Readonly<Record<string, string | boolean | undefined>>;
}

export interface CliCommand {
  name: string;
  summary: string;
  options: Readonly<Record<string, CliOption>>;
  /** Set while the command is a placeholder: the issue that will provide it. */
  notImplemented?: string;
  /**
   * The command parses its own arguments (`bench`, whose `--compare` takes two values): dispatch
   * passes `argv` through unchecked and `values` is empty.
   */
  ownArgs?: boolean;
  /** Returns the exit code. */
  run(ctx: CliContext): Promise<number>;
}

/** A command listed in help that exits 2 with a clear message until its issue lands. */
export function placeholder(name: string, summary: string, issue: string): CliCommand {
  return {
    name,
    summary,
    options: {},
    notImplemented: issue,
    run: async ({ stderr }) => {
      stderr.write(`flextoe ${name}: not implemented yet (${issue})\n`);
      return 2;
    },
  };
}
