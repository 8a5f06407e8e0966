/**
 * What every example shares: the command line (which backend and port, as `flextoe serve`
 * takes them) and, for `--demo`, a second stack on the same virtual wire to play the client.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type FlexToeConfig, type PortConfig } from '@flextoe/core';
import { createStack, type Stack } from '@flextoe/sockets';

export interface ExampleSetup {
  /** The resolved configuration: --backend, --config, --port-config, else the defaults. */
  readonly config: FlexToeConfig;
  /** The TCP port to serve. */
  readonly port: number;
  /** Run a client against the server, print what it saw, and exit. */
  readonly demo: boolean;
}

const USAGE = `options: [--backend x86|agilio-sim|bluefield-sim] [--config FILE] [--port-config JSON] [--port N] [--demo]`;

/** Reads the command line; on a mistake prints one line and exits 2. */
export function exampleSetup(name: string, defaultPort: number): ExampleSetup {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        backend: { type: 'string' },
        config: { type: 'string' },
        'port-config': { type: 'string' },
        port: { type: 'string' },
        demo: { type: 'boolean' },
      },
    });
    const port = values.port === undefined ? defaultPort : Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`--port is "${values.port}" but must be an integer 1..65535`);
    const overrides = values['port-config'] ? { port: JSON.parse(values['port-config']) as PortConfig } : {};
    const { config } = loadConfig({ argv: process.argv.slice(2), overrides });
    // The in-process wire needs no setup; give the server the quick start's address.
    if (config.port.driver === 'virtual' && config.port.ip === undefined)
      config.port = { ...config.port, ip: '10.0.0.1/24' };
    return { config, port, demo: values.demo === true };
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message.split('\n')[0]}\n${name}: ${USAGE}\n`);
    process.exit(2);
  }
}

/** A second stack on the server's virtual wire, one address up, to play the client. */
export async function clientStack(setup: ExampleSetup): Promise<Stack> {
  const port = setup.config.port;
  if (port.driver !== 'virtual')
    throw new Error(
      '--demo runs its client on the virtual wire; with a tap or dpdk port, use curl, nc or memcslap',
    );
  const [a, b, c, d, prefix] = port.ip!.split(/[./]/).map(Number) as [number, number, number, number, number];
  const ip = `${a}.${b}.${c}.${d === 254 ? d - 1 : d + 1}/${prefix}`;
  return createStack({ ...setup.config, port: { ...port, ip, mac: undefined } }, { argv: [], env: {} });
}

/** Resolves on SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** `createStack(setup.config)`, or, when the stack cannot start, one line and exit code 1. */
export async function startStack(name: string, setup: ExampleSetup): Promise<Stack> {
  try {
    return await createStack(setup.config, { argv: [] });
  } catch (err) {
    process.stderr.write(
      `${name}: cannot start the ${setup.config.backend} stack: ${(err as Error).message}\n`,
    );
    process.exit(1);
  }
}

/**
 * `stack.close()`, holding the process until it resolves: a closing TAP port waits on handles
 * that do not keep Node alive by themselves, and the stack has already let go of its own.
 */
export async function closeStack(stack: Stack): Promise<void> {
  const hold = setInterval(() => {}, 1000);
  try {
    await stack.close();
  } finally {
    clearInterval(hold);
  }
}
