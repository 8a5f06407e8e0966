/**
 * The x86 backend's factory: opens the configured port and runs the data path on it. Today the
 * stages run to completion on the application's thread (the run-to-completion placement); the
 * parallel placement on worker threads is listed as planned in the descriptor.
 */
import {
  hardwareFrom,
  inlineModule,
  InlineStack,
  stackOptionsFromConfig,
  TcpStack,
  type Backend,
  type BackendStack,
  type FlexToeConfig,
} from '@flextoe/core';
import { descriptor } from './descriptor.js';
import { openPort } from './drivers/open-port.js';

async function createStack(config: FlexToeConfig): Promise<BackendStack> {
  const options = stackOptionsFromConfig(config); // validates port.ip before opening anything
  const opened = await openPort(config.port);
  try {
    const hw = hardwareFrom(inlineModule(opened.port));
    const stack = new TcpStack(hw, options);
    return new InlineStack(stack, 'x86', 'wall', () => opened.close());
  } catch (e) {
    await opened.close();
    throw e;
  }
}

export const backend: Backend = { descriptor, createStack };
