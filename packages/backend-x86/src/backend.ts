/**
 * The x86 backend's factory: opens the configured port and starts the data path where
 * `config.x86.placement` says (threads/placement.ts): on NIC cores (worker threads, the default)
 * with the control plane and the application on this thread, or inline on this thread.
 */
import { availableParallelism } from 'node:os';
import {
  ConfigError,
  hardwareFrom,
  InlineStack,
  loadDataPathModules,
  stackOptionsFromConfig,
  TcpStack,
  type Backend,
  type BackendStack,
  type FlexToeConfig,
} from '@flextoe/core';
import { descriptor } from './descriptor.js';
import type { DpdkPort } from './drivers/dpdk/dpdk-port.js';
import { openPort } from './drivers/open-port.js';
import { x86Module } from './module.js';
import { pinThread, type PinResult } from './threads/affinity.js';
import { x86Options } from './threads/placement.js';
import type { SharedMemoryTiers } from './threads/shared-memory.js';
import { ThreadedStack } from './threads/threaded-stack.js';
import type { X86Cores } from './threads/x86-cores.js';

async function createStack(config: FlexToeConfig): Promise<BackendStack> {
  const options = stackOptionsFromConfig(config); // validates port.ip before opening anything
  const x86 = x86Options(config.x86, availableParallelism());
  if (x86.portThread === 'nic-core' && config.port.driver !== 'dpdk')
    throw new ConfigError([
      {
        field: '/x86/portThread',
        value: x86.portThread,
        detail:
          `/x86/portThread nic-core needs a dpdk port; this port's driver is ${config.port.driver} ` +
          '(the virtual wire lives on the main thread; the TAP driver loads ffi-rs, which crashes a worker at exit)',
        allowed: ['host'],
      },
    ]);
  const opened = await openPort(config.port);
  try {
    const hw = hardwareFrom(x86Module({ port: opened.port, x86 }));
    if (x86.placement === 'inline') {
      const modules = await loadDataPathModules(config.modules);
      return new InlineStack(new TcpStack(hw, { ...options, modules }), 'x86', 'wall', () => opened.close());
    }
    const stack = await ThreadedStack.create({
      options,
      port: hw.port,
      units: hw.units as X86Cores,
      tiers: hw.tiers as SharedMemoryTiers,
      time: { clock: hw.clock, timers: hw.timers },
      spinRounds: x86.spinRounds,
      hostSpinUs: x86.hostSpinUs,
      dpdkLcores: config.port.driver === 'dpdk',
      // Each NIC core loads its own instances on its thread (a module's state is per data path).
      modules: config.modules,
      // DPDK's control/data split across threads: this thread opened and set up the device and
      // keeps its control operations; the NIC core runs its bursts as a registered lcore.
      ...(x86.portThread === 'nic-core'
        ? { ownPort: { driver: 'dpdk' as const, dpdk: (opened.port as DpdkPort).handoff() } }
        : {}),
      release: () => opened.close(),
    });
    if (x86.pin !== null) stack.pinned = pinCores(stack.threadIds, x86.pin);
    stack.start();
    return stack;
  } catch (e) {
    await opened.close();
    throw e;
  }
}

/** Pins NIC thread i to cpus[i]; a refusal leaves that thread unpinned (reported in stats). */
function pinCores(tids: readonly number[], cpus: readonly number[]): PinResult[] {
  return tids.map((tid, i) => pinThread(tid, [cpus[i]!]));
}

export const backend: Backend = { descriptor, createStack };
