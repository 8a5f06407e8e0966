/**
 * FlexTOE stacks on real devices for the interop tests: the x86 backend's port drivers (openPort)
 * under core's run-to-completion TcpStack, as the x86 backend's inline placement builds it, with
 * an optional device wrapper (core's FaultInjectingPort for reordering) between the two.
 */
import {
  hardwareFrom,
  inlineModule,
  InlineStack,
  realTime,
  resolveConfig,
  stackOptionsFromConfig,
  TcpStack,
  type FlexToeConfigInput,
  type NicPort,
  type PortConfig,
} from '@flextoe/core';
import { openPort } from '@flextoe/backend-x86';

export interface InteropStack {
  readonly stack: InlineStack;
  readonly port: NicPort;
}

/** Opens `port` (tap or dpdk), wraps it, and starts a stack on it. */
export async function openStack(
  port: PortConfig,
  opts: { wrap?: (p: NicPort) => NicPort; stack?: FlexToeConfigInput['stack'] } = {},
): Promise<InteropStack> {
  const { config } = resolveConfig({ port, stack: opts.stack ?? {} }, { env: {} });
  const options = stackOptionsFromConfig(config);
  const opened = await openPort(
    config.port,
    { clock: realTime, timers: realTime },
    opts.wrap ? { wrap: opts.wrap } : {},
  );
  try {
    const tcp = new TcpStack(hardwareFrom(inlineModule(opened.port)), options);
    return { stack: new InlineStack(tcp, 'x86', 'wall', () => opened.close()), port: opened.port };
  } catch (e) {
    await opened.close();
    throw e;
  }
}
