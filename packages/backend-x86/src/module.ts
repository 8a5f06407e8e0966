/**
 * The x86 backend as one inversify container module (DESIGN.md 3): the host's hardware bound to
 * core's tokens. The port is whatever device the configuration opened (DPDK, TAP, the in-process
 * wire); memory tiers are SharedArrayBuffer regions shared by the NIC core threads, the control
 * plane and the application; DMA is memcpy between packet buffers and those host regions (each
 * NIC core runs its own engine over the same memory, or, with `x86.graph.dma`, hands its copies
 * to DMA replica threads: threads/thread-dma.ts); the execution units are NIC core threads
 * on host CPUs, placed per `config.x86`; the clock is the wall clock on an origin every thread of
 * the stack shares. `createStack` (backend.ts) builds its stack from this container.
 */
import { ContainerModule } from 'inversify';
import {
  Clock,
  ContainerHardware,
  DmaEngine,
  ExecutionUnits,
  MemcpyDma,
  MemoryTiers,
  NicPort,
  Timers,
} from '@flextoe/core';
import type { X86Options } from './threads/placement.js';
import { HostClock, newOrigin } from './threads/shared-clock.js';
import { SharedMemoryTiers } from './threads/shared-memory.js';
import { X86Cores } from './threads/x86-cores.js';

/** What the module binds: the opened device and the validated `config.x86`. */
export interface X86Hardware {
  readonly port: NicPort;
  readonly x86: Pick<X86Options, 'cores'> &
    Partial<Pick<X86Options, 'preReplicas' | 'postReplicas' | 'dmaReplicas'>>;
}

export function x86Module(hw: X86Hardware): ContainerModule {
  return new ContainerModule(({ bind }) => {
    const clock = new HostClock(newOrigin());
    bind(NicPort).toConstantValue(hw.port);
    bind(DmaEngine)
      .toDynamicValue(() => new MemcpyDma())
      .inSingletonScope();
    bind(MemoryTiers)
      .toDynamicValue(() => new SharedMemoryTiers(1))
      .inSingletonScope();
    bind(ExecutionUnits)
      .toDynamicValue(
        () =>
          new X86Cores(
            hw.x86.cores,
            hw.x86.preReplicas ?? 0,
            hw.x86.postReplicas ?? 0,
            hw.x86.dmaReplicas ?? 0,
          ),
      )
      .inSingletonScope();
    bind(Clock).toConstantValue(clock);
    bind(Timers).toConstantValue(clock);
    bind(ContainerHardware).toSelf().inSingletonScope();
  });
}
