/** The agilio-sim backend's factory: the config's `agilioSim` parameters -> model -> simulated NIC. */
import type { Backend, BackendStack, FlexToeConfig } from '@flextoe/core';
import { createSimStack } from '@flextoe/sim';
import { descriptor } from './descriptor.js';
import { agilioParams, agilioSpec } from './params.js';

async function createStack(config: FlexToeConfig): Promise<BackendStack> {
  return createSimStack('agilio-sim', config, agilioSpec(agilioParams(config.agilioSim)));
}

export const backend: Backend = { descriptor, createStack };
