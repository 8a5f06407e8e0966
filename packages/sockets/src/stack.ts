/**
 * `createStack(config?)`: the application's entry point. Resolves the configuration (object >
 * `--backend` flag > FLEXTOE_BACKEND > ./flextoe.config.json > defaults, core's
 * `resolveConfig`), loads the chosen backend (only that one: choosing x86 never loads a
 * simulator), builds its stack and puts a `net`-compatible API on top.
 */
import {
  ConfigError,
  resolveConfig,
  type BackendName,
  type BackendStack,
  type FlexToeConfig,
  type FlexToeConfigInput,
  type StackStats,
} from '@flextoe/core';
import { loadBackend } from './backends.js';
import { newCounters, type NetContext, type SocketCounters } from './net/context.js';
import { Liveness } from './net/liveness.js';
import { createNet, type Net } from './net/net.js';
import { u32ToIpv4 } from './net/args.js';

export interface CreateStackOptions {
  /**
   * Command-line arguments to read `--backend NAME` (or `--backend=NAME`) from. Default:
   * `process.argv`. Only `--backend` is read: an application's own flags stay its own.
   */
  argv?: readonly string[];
  /** Environment for FLEXTOE_BACKEND. Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where ./flextoe.config.json is looked up. Default: `process.cwd()`. */
  cwd?: string;
}

/** `stats()`: the backend's counters by stage and reason, plus the sockets layer's. */
export interface FlexStackStats extends StackStats {
  sockets: SocketCounters & {
    /** Sockets between connect()/accept and 'close'. */
    open: number;
    /** Servers listening. */
    listening: number;
    /** Things keeping the process alive (ref'd sockets, servers, lingering connections). */
    holdingProcess: number;
  };
}

export interface Stack {
  /** Node's `net`, on this stack. */
  readonly net: Net;
  readonly backend: BackendName;
  /** The resolved configuration the stack was built from. */
  readonly config: Readonly<FlexToeConfig>;
  /** The stack's IPv4 address, e.g. '10.0.0.1'. */
  readonly address: string;
  /** 'wall' for x86; 'modelled' for the simulators. */
  readonly timeBase: 'wall' | 'modelled';
  /** The libTOE-level stack (connections over rings) the `net` layer is built on. */
  readonly backendStack: BackendStack;
  readonly closed: boolean;
  stats(): FlexStackStats;
  /**
   * Stops every server, resets every open connection (peers see ECONNRESET; local sockets
   * close without an 'error'), releases the backend (threads, ports, handles) and anything that
   * kept the process alive. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
}

export async function createStack(
  config: FlexToeConfigInput = {},
  options: CreateStackOptions = {},
): Promise<Stack> {
  const { config: resolved } = resolveConfig(config, {
    argv: backendFlag(options.argv ?? process.argv.slice(2)),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  if (resolved.port.ip === undefined) {
    // Every backend needs the stack's address; say so as a config error, before loading anything.
    throw new ConfigError([
      {
        field: '/port/ip',
        value: undefined,
        detail:
          `port.ip is missing: a ${resolved.port.driver} port needs the stack's address with prefix, like ` +
          `10.0.0.1/24 (createVirtualNetwork().attach('10.0.0.1/24') returns such a port)`,
      },
    ]);
  }
  const backend = await loadBackend(resolved.backend);
  const api = await backend.createStack(resolved);
  return new FlexStack(api, resolved);
}

/** Just the `--backend` flag out of a command line, so `--config` and others stay the application's. */
function backendFlag(argv: readonly string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--backend') return i + 1 < argv.length ? ['--backend', argv[i + 1]!] : ['--backend'];
    if (a.startsWith('--backend=')) return [a];
  }
  return [];
}

class FlexStack implements Stack {
  readonly net: Net;
  readonly address: string;
  readonly #ctx: NetContext;
  #closing: Promise<void> | null = null;

  constructor(
    readonly backendStack: BackendStack,
    readonly config: Readonly<FlexToeConfig>,
  ) {
    this.address = u32ToIpv4(backendStack.localIp);
    this.#ctx = {
      api: backendStack,
      localAddress: this.address,
      liveness: new Liveness(),
      sockets: new Set(),
      servers: new Set(),
      counters: newCounters(),
      closing: false,
    };
    this.net = createNet(this.#ctx);
  }

  get backend(): BackendName {
    return this.backendStack.backend;
  }

  get timeBase(): 'wall' | 'modelled' {
    return this.backendStack.timeBase;
  }

  get closed(): boolean {
    return this.#closing !== null;
  }

  stats(): FlexStackStats {
    const ctx = this.#ctx;
    return {
      ...this.backendStack.stats(),
      sockets: {
        ...ctx.counters,
        open: ctx.sockets.size,
        listening: ctx.servers.size,
        holdingProcess: ctx.liveness.count,
      },
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const ctx = this.#ctx;
      ctx.closing = true;
      for (const server of [...ctx.servers]) server.close();
      for (const socket of [...ctx.sockets]) socket.destroy();
      ctx.liveness.dispose();
      await this.backendStack.close();
    })();
    return this.#closing;
  }
}
