/**
 * `flextoe serve <echo|http|kv>`: builds a stack from the configuration (plus `--port-config`)
 * and serves one of the applications in `src/apps` on it until SIGINT or SIGTERM, then closes
 * the stack (its connections are reset, its port released) and exits 0.
 *
 *   flextoe serve kv --port-config '{"driver":"tap","ifname":"ftoe0","ip":"10.0.0.1/24"}'
 *   flextoe --backend agilio-sim serve http --port 8080
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type FlexToeConfigInput, type PortConfig } from '@flextoe/core';
import { createEchoServer } from '../apps/echo.js';
import { createHttpServer } from '../apps/http.js';
import { createKvServer } from '../apps/kv/server.js';
import { listenServer, type AppServer, type NetLike } from '../apps/net-like.js';
import { createStack, type Stack } from '../stack.js';
import type { CliCommand, CliContext, CliOption } from './command.js';
import { version } from './version.js';

export const SERVE_APPS = {
  echo: { port: 7, title: 'echo (RFC 862)' },
  http: { port: 80, title: "http (Node's http.Server)" },
  kv: { port: 11211, title: 'kv (memcached text protocol)' },
} as const;
export type ServeApp = keyof typeof SERVE_APPS;

export const SERVE_OPTIONS: Readonly<Record<string, CliOption>> = {
  port: {
    type: 'string',
    valueName: 'N',
    description: 'TCP port to listen on (default: echo 7, http 80, kv 11211)',
  },
  'port-config': {
    type: 'string',
    valueName: 'JSON',
    description:
      'the NIC port, beating the config file: {"driver":"virtual","ip":"10.0.0.1/24"}, ' +
      '{"driver":"tap","ifname":"ftoe0","ip":"10.0.0.1/24"} or {"driver":"dpdk","vdev":"net_tap0","ip":...}',
  },
  'memory-mb': {
    type: 'string',
    valueName: 'MB',
    description: 'kv: memory for items (memcached -m), default 64',
  },
};

/** The global options (main.ts) as serve parses them itself; descriptions come from main's help. */
const GLOBAL: Readonly<Record<string, CliOption>> = {
  backend: { type: 'string', valueName: 'NAME', description: 'x86, agilio-sim or bluefield-sim' },
  config: { type: 'string', valueName: 'PATH', description: 'config file' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', description: 'print the version' },
};

/** A virtual port without an address gets this one (the quick start's server address). */
export const DEFAULT_VIRTUAL_IP = '10.0.0.1/24';

class UsageError extends Error {}

export interface ServeRequest {
  app: ServeApp;
  port: number;
  portConfig: PortConfig | undefined;
  memoryMb: number;
  help: boolean;
  version: boolean;
}

/** Reads `serve`'s command line (global options may stand before or after the word `serve`). */
export function parseServeArgs(argv: readonly string[]): ServeRequest {
  const options = { ...GLOBAL, ...SERVE_OPTIONS };
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.entries(options).map(([k, o]) => [
        k,
        o.short ? { type: o.type, short: o.short } : { type: o.type },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) {
      const valid = Object.keys(options)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(`flextoe serve: unknown option ${token.rawName}; valid options: ${valid}`);
    }
    if (
      option.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    )
      throw new UsageError(`flextoe serve: option ${token.rawName} needs a value (${option.valueName})`);
    if (option.type === 'boolean' && token.value !== undefined)
      throw new UsageError(`flextoe serve: option ${token.rawName} takes no value`);
  }
  const help = values.help === true;
  const showVersion = values.version === true;
  const words = positionals.slice(positionals.indexOf('serve') + 1);
  const apps = Object.keys(SERVE_APPS).join(', ');
  if (words.length === 0) {
    if (help || showVersion)
      return { app: 'echo', port: 0, portConfig: undefined, memoryMb: 64, help, version: showVersion };
    throw new UsageError(`flextoe serve: which application? one of ${apps} (flextoe serve --help)`);
  }
  if (words.length > 1) throw new UsageError(`flextoe serve: unexpected argument "${words[1]}"`);
  const app = words[0]!;
  if (!(app in SERVE_APPS))
    throw new UsageError(`flextoe serve: unknown application "${app}"; choose one of ${apps}`);
  const port = intOption(values.port, 'port', 1, 65535, SERVE_APPS[app as ServeApp].port);
  const memoryMb = intOption(values['memory-mb'], 'memory-mb', 1, 1024 * 1024, 64);
  if (values['memory-mb'] !== undefined && app !== 'kv')
    throw new UsageError('flextoe serve: --memory-mb is a kv option');
  return {
    app: app as ServeApp,
    port,
    portConfig: portConfigOption(values['port-config']),
    memoryMb,
    help,
    version: showVersion,
  };
}

function intOption(raw: unknown, name: string, min: number, max: number, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(
      `flextoe serve: --${name} is "${String(raw)}" but must be an integer ${min}..${max}`,
    );
  return n;
}

function portConfigOption(raw: unknown): PortConfig | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch (err) {
    throw new UsageError(`flextoe serve: --port-config is not JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError('flextoe serve: --port-config must be a JSON object, like {"driver":"virtual"}');
  return parsed as PortConfig; // the config schema checks the fields
}

export function serveHelp(): string {
  const rows = Object.entries({ ...SERVE_OPTIONS, ...GLOBAL }).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ''}--${name}${o.valueName ? ` ${o.valueName}` : ''}`,
    o.description,
  ]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  const apps = Object.entries(SERVE_APPS)
    .map(([name, a]) => `  ${name.padEnd(6)}${a.title}, port ${a.port}`)
    .join('\n');
  return `flextoe serve: run a stack and serve an application on it until SIGINT/SIGTERM

Usage: flextoe [options] serve <echo|http|kv> [options]

Applications:
${apps}

Options:
${rows.map(([a, b]) => `  ${a!.padEnd(width)}  ${b}`).join('\n')}

A virtual port (the default) is reachable only from stacks in the same process; serve a tap or
dpdk port to reach the application from the host (curl, nc, memcslap).
`;
}

/** What is running: for the caller (and tests) to reach it. */
export interface Serving {
  readonly stack: Stack;
  readonly app: ServeApp;
  readonly port: number;
}

/**
 * Runs `serve` until the promise `until()` returns (asked for once serving) settles. `onServing` sees the running stack (tests connect to it).
 * Returns the exit code.
 */
export async function serve(
  ctx: CliContext,
  until: () => Promise<unknown>,
  onServing?: (s: Serving) => void,
): Promise<number> {
  let request: ServeRequest;
  try {
    request = parseServeArgs(ctx.argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    ctx.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (request.help) {
    ctx.stdout.write(serveHelp());
    return 0;
  }
  if (request.version) {
    ctx.stdout.write(`flextoe ${version()}\n`);
    return 0;
  }
  const overrides: FlexToeConfigInput = request.portConfig ? { port: request.portConfig } : {};
  // ConfigError (bad file, bad --port-config fields) goes to main: one line, exit 2.
  const { config } = loadConfig({ argv: ctx.argv, env: ctx.env, cwd: ctx.cwd, overrides });
  if (config.port.driver === 'virtual' && config.port.ip === undefined)
    config.port = { ...config.port, ip: DEFAULT_VIRTUAL_IP };

  let stack: Stack;
  try {
    stack = await createStack(config, { argv: [], env: {}, cwd: ctx.cwd });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    ctx.stderr.write(`flextoe serve: cannot start the ${config.backend} stack: ${oneLine(err)}\n`);
    return 1;
  }
  const net: NetLike = stack.net;
  let server: AppServer;
  let closeApp: () => unknown;
  switch (request.app) {
    case 'echo':
      server = createEchoServer(net);
      closeApp = () => server.close();
      break;
    case 'http': {
      const http = createHttpServer(net, {
        stats: () => stack.stats(),
        description: `${stack.backend} on ${describePort(config.port)}`,
      });
      server = http.server;
      closeApp = () => http.close();
      break;
    }
    case 'kv':
      server = createKvServer(net, { maxBytes: request.memoryMb * 1024 * 1024 }).server;
      closeApp = () => server.close();
      break;
  }
  try {
    await listenServer(server, request.port);
  } catch (err) {
    ctx.stderr.write(`flextoe serve: cannot listen on port ${request.port}: ${oneLine(err)}\n`);
    await stack.close();
    return 1;
  }
  // Listen for the stop request before saying we serve: whoever reads that may send it at once.
  const stopping = until();
  ctx.stdout.write(
    `flextoe serve: ${SERVE_APPS[request.app].title} on ${stack.address}:${request.port}, ` +
      `backend ${stack.backend}, port ${describePort(config.port)}\n` +
      (config.port.driver === 'virtual'
        ? '  (a virtual port: reachable only from stacks in this process)\n'
        : '') +
      '  SIGINT or SIGTERM (Ctrl-C) stops it\n',
  );
  onServing?.({ stack, app: request.app, port: request.port });
  await stopping;
  const served = stack.stats().control.connectionsEstablished;
  closeApp();
  if (!(await closeWithin(stack, CLOSE_TIMEOUT_MS))) {
    ctx.stderr.write(`flextoe serve: the stack did not close within ${CLOSE_TIMEOUT_MS / 1000} s\n`);
    return 1;
  }
  ctx.stdout.write(`flextoe serve: stopped; ${served} connection${served === 1 ? '' : 's'} served\n`);
  return 0;
}

/** How long a stack may take to close before serve gives up on it. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * `stack.close()` with a deadline. The deadline's timer also keeps the event loop alive while
 * the backend releases its port: a driver may wait on handles that do not hold the process
 * (seen with the TAP driver), and without it Node would exit mid-close.
 */
async function closeWithin(stack: Stack, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([stack.close().then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describePort(port: PortConfig): string {
  switch (port.driver) {
    case 'virtual':
      return `virtual "${port.network ?? 'default'}" ${port.ip ?? ''}`.trimEnd();
    case 'tap':
      return `tap ${port.ifname} ${port.ip}`;
    case 'dpdk':
      return `dpdk ${port.vdev} ${port.ip}`;
  }
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** Resolves on the first SIGINT or SIGTERM (and stops listening for them). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'run a stack and serve an application on it: echo, http or kv (flextoe serve --help)',
  options: {},
  // `serve` takes the application as a word and its own options; it reads them itself.
  ownArgs: true,
  run: (ctx) => serve(ctx, untilSignal),
};
