/**
 * Stacks for the application tests: two (or more) x86 stacks on a fresh in-process wire,
 * configured like a user would (a resolved config handed to the backend), and closed by the
 * caller's `after`.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig, type BackendStack, type StackOptions } from '@flextoe/core';
import { createVirtualNetwork, loadBackend, type VirtualNetworkOptions } from '@flextoe/sockets';

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
