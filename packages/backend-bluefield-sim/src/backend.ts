/** The bluefield-sim backend's factory: the config's `bluefieldSim` parameters -> model -> simulated NIC. */
import type { Backend, BackendStack, FlexToeConfig } from '@flextoe/core';
import { createSimStack } from '@flextoe/sim';
import { descriptor } from './descriptor.js';
import { bluefieldParams, bluefieldSpec } from './params.js';

async function createStack(config: FlexToeConfig): Promise<BackendStack> {
  return createSimStack('bluefield-sim', config, bluefieldSpec(bluefieldParams(config.bluefieldSim)));
}

export const backend: Backend = { descriptor, createStack };
