/**
 * Stacks for the application tests: x86 stacks on a fresh in-process wire (as a backend's
 * `StackApi`, or as `createStack()` stacks with `net`), and the kernel's TCP for comparison.
 * Everything is closed by the caller's `after`.
 */
import * as nodeNet from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { resolveConfig, type BackendStack, type StackOptions } from '@flextoe/core';
import {
  createStack,
  createVirtualNetwork,
  loadBackend,
  type NetLike,
  type VirtualNetworkOptions,
} from '@flextoe/sockets';

/** No flextoe.config.json here, and no FLEXTOE_BACKEND: the tests say everything. */
const HERE = dirname(fileURLToPath(import.meta.url));

export interface WireStacks {
  readonly stacks: BackendStack[];
  /** Address of stack i without prefix, e.g. 10.0.0.1. */
  address(i: number): string;
  close(): Promise<void>;
}

export async function stacksOnWire(
  count: number,
  wire: VirtualNetworkOptions = {},
  stack: Partial<StackOptions> = {},
): Promise<WireStacks> {
  const network = createVirtualNetwork(wire);
  const backend = await loadBackend('x86');
  const stacks: BackendStack[] = [];
  const address = (i: number) => `10.0.0.${i + 1}`;
  try {
    for (let i = 0; i < count; i++) {
      const { config } = resolveConfig(
        { backend: 'x86', port: network.attach(`${address(i)}/24`), stack },
        { env: {}, cwd: HERE },
      );
      stacks.push(await backend.createStack(config));
    }
  } catch (e) {
    await Promise.all(stacks.map((s) => s.close()));
    network.close();
    throw e;
  }
  return {
    stacks,
    address,
    async close() {
      await Promise.all(stacks.map((s) => s.close()));
      network.close();
    },
  };
}

/**
 * Where an application runs and how a client reaches it: the kernel's TCP on loopback
 * (`node:net`) or two FlexTOE stacks on a virtual wire (`stack.net`). Tests run the same
 * checks on both.
 */
export interface Transport {
  readonly name: string;
  /** The module the server side uses. */
  readonly net: NetLike;
  /** Where clients connect. */
  readonly host: string;
  /** A client connection to `port` (from the client stack, on flextoe). */
  connect(port: number): Duplex & { setNoDelay(noDelay?: boolean): unknown };
  /** What the server stack counts (flextoe) or null (kernel). */
  serverStats(): unknown;
  close(): Promise<void>;
}

export function kernelTransport(): Transport {
  return {
    name: 'node:net on loopback',
    net: nodeNet as unknown as NetLike,
    host: '127.0.0.1',
    connect: (port) => nodeNet.connect({ port, host: '127.0.0.1' }),
    serverStats: () => null,
    close: async () => {},
  };
}

export async function flexTransport(
  wire: VirtualNetworkOptions = {},
  stack: Partial<StackOptions> = {},
): Promise<Transport> {
  const network = createVirtualNetwork(wire);
  const opts = { argv: [], env: {}, cwd: HERE };
  const server = await createStack({ backend: 'x86', port: network.attach('10.0.0.1/24'), stack }, opts);
  const client = await createStack(
    { backend: 'x86', port: network.attach('10.0.0.2/24'), stack },
    opts,
  ).catch(async (e) => {
    await server.close();
    throw e;
  });
  const faults = Object.keys(wire).length > 0 ? ` (${JSON.stringify(wire)})` : '';
  return {
    name: `flextoe x86 on the virtual wire${faults}`,
    net: server.net as unknown as NetLike,
    host: server.address,
    connect: (port) => client.net.connect(port, server.address),
    serverStats: () => server.stats(),
    async close() {
      await Promise.all([client.close(), server.close()]);
      network.close();
    },
  };
}
