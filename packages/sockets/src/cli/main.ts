/**
 * The `flextoe` command. All logic is in `runCli`, which takes its environment as arguments
 * and returns the exit code, so specs run it in-process; `main` only wires it to `process`.
 *
 * Exit codes: 0 success, 1 unexpected failure, 2 usage or configuration error (as in
 * getopt-style tools) including commands that are not implemented yet.
 */
import { parseArgs } from 'node:util';
import { ConfigError, NotImplementedError, type BackendDescriptor } from '@flextoe/core';
import { descriptor as agilioSim } from '@flextoe/backend-agilio-sim';
import { descriptor as bluefieldSim } from '@flextoe/backend-bluefield-sim';
import { descriptor as x86 } from '@flextoe/backend-x86';
import { type CliCommand, type CliIo, type CliOption } from './command.js';
import { benchCommand } from './bench.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';
import { version } from './version.js';

export const GLOBAL_OPTIONS: Readonly<Record<string, CliOption>> = {
  backend: {
    type: 'string',
    valueName: 'NAME',
    description: 'x86, agilio-sim or bluefield-sim (beats FLEXTOE_BACKEND and the config file)',
  },
  config: {
    type: 'string',
    valueName: 'PATH',
    description: 'config file (default: ./flextoe.config.json if present)',
  },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', description: 'print the version' },
};

export const BACKENDS: readonly BackendDescriptor[] = [x86, agilioSim, bluefieldSim];

/** Subcommands in help order. `registerCommand` replaces an entry of the same name. */
export const COMMANDS = new Map<string, CliCommand>(
  [infoCommand, serveCommand, benchCommand].map((c) => [c.name, c]),
);

export function registerCommand(command: CliCommand): void {
  COMMANDS.set(command.name, command);
}

/** A mistake on the command line: one line on stderr, exit code 2, no stack trace. */
class UsageError extends Error {}

export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    backends: io.backends ?? BACKENDS,
  };
  try {
    return await dispatch(argv, full);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof NotImplementedError) {
      full.stderr.write(`${err.message}\n`);
      return 2;
    }
    full.stderr.write(
      `flextoe: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  // Global options go before the command (flextoe --backend x86 info) or anywhere after it.
  const global = parse(argv, GLOBAL_OPTIONS, { untilCommand: true });
  const name = global.positionals[0];
  if (name === undefined) {
    if (global.values.version) return print(io, `flextoe ${version()}\n`);
    return print(io, generalHelp());
  }
  const command = COMMANDS.get(name);
  if (!command) {
    throw new UsageError(
      `flextoe: unknown command "${name}"; valid commands: ${[...COMMANDS.keys()].join(', ')}`,
    );
  }
  // A placeholder has no options yet, so there is nothing to check: say it is not there.
  if (command.notImplemented !== undefined) return command.run({ ...io, argv, values: {} });
  if (command.ownArgs) return command.run({ ...io, argv, values: {} });

  const options = { ...GLOBAL_OPTIONS, ...command.options };
  const { values, positionals } = parse(argv, options, { command: name });
  if (positionals.length > 1)
    throw new UsageError(`flextoe ${name}: unexpected argument "${positionals[1]}"`);
  if (values.help) return print(io, commandHelp(command));
  if (values.version) return print(io, `flextoe ${version()}\n`);
  return command.run({ ...io, argv, values });
}

function print(io: CliIo, text: string): number {
  io.stdout.write(text);
  return 0;
}

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * util.parseArgs in non-strict mode (so we see every token), then our own checks, because
 * parseArgs' strict errors are long, name no valid choices, and differ across Node versions.
 * With `untilCommand`, only the options before the first positional are checked.
 */
function parse(
  argv: readonly string[],
  options: Readonly<Record<string, CliOption>>,
  how: { untilCommand?: boolean; command?: string },
): Parsed {
  const config = Object.fromEntries(
    Object.entries(options).map(([k, o]) => [
      k,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  );
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const where = how.command ? `flextoe ${how.command}` : 'flextoe';
  const valid = () =>
    Object.keys(options)
      .map((k) => `--${k}`)
      .join(', ');
  for (const token of tokens) {
    if (token.kind === 'positional' && how.untilCommand) break;
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) {
      const hint = how.untilCommand ? ' (command options go after the command)' : '';
      throw new UsageError(`${where}: unknown option ${token.rawName}; valid options: ${valid()}${hint}`);
    }
    // parseArgs (non-strict) takes the next word as the value even if it is another option.
    if (
      option.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      throw new UsageError(
        `${where}: option ${token.rawName} needs a value (${option.valueName ?? 'a value'})`,
      );
    }
    if (option.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${where}: option ${token.rawName} takes no value`);
    }
  }
  return { values: values as Parsed['values'], positionals };
}

function optionLines(options: Readonly<Record<string, CliOption>>): string[][] {
  return Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ''}--${name}${o.valueName ? ` ${o.valueName}` : ''}`,
    o.description,
  ]);
}

function columns(rows: string[][]): string {
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([a, b]) => `  ${a!.padEnd(width)}  ${b}`).join('\n');
}

export function generalHelp(): string {
  const commands = [...COMMANDS.values()].map((c) => [
    c.name,
    c.notImplemented !== undefined ? `${c.summary}: not implemented yet (${c.notImplemented})` : c.summary,
  ]);
  return `flextoe: FlexTOE-TS, the FlexTOE TCP offload data path on simulated SmartNICs and x86

Usage: flextoe [options] <command> [command options]

Commands:
${columns(commands)}

Options:
${columns(optionLines(GLOBAL_OPTIONS))}

The backend is chosen by --backend, else the FLEXTOE_BACKEND environment variable, else the
config file, else the default (x86 on the in-process virtual port). Run "flextoe info" to see
the resolved configuration and where each choice came from.
`;
}

function commandHelp(command: CliCommand): string {
  const own =
    Object.keys(command.options).length > 0 ? `\nOptions:\n${columns(optionLines(command.options))}\n` : '';
  return `flextoe ${command.name}: ${command.summary}

Usage: flextoe [options] ${command.name}${Object.keys(command.options).length > 0 ? ' [command options]' : ''}
${own}
Global options:
${columns(optionLines(GLOBAL_OPTIONS))}
`;
}

/** The process entry point used by bin/flextoe.js. */
export async function main(): Promise<void> {
  // `flextoe info | head` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await runCli(process.argv.slice(2));
}
