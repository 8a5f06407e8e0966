/**
 * A simulated NIC's hardware as one inversify container module (DESIGN.md 3: a backend is one
 * `ContainerModule`): the model's port, DMA engine, memory tiers, cores and stage probe bound to
 * core's hardware tokens, the engine as the clock and timers. The stack is built from what the
 * container resolves, exactly as the inline runner's.
 */
import { ContainerModule } from 'inversify';
import {
  Clock,
  ContainerHardware,
  DmaEngine,
  ExecutionUnits,
  MemoryTiers,
  NicPort,
  StageProbe,
  Timers,
  hardwareFrom,
} from '@flextoe/core';
import type { SimEngine } from '../engine/sim-engine.js';
import type { SimCores } from '../model/cores.js';
import type { SimMemoryTiers } from '../model/memory-model.js';
import type { NicTiming } from '../model/nic-timing.js';
import type { SimDma } from '../model/pcie.js';
import type { SimPort } from './sim-port.js';

export interface SimHardwareParts {
  readonly engine: SimEngine;
  readonly port: SimPort;
  readonly dma: SimDma;
  readonly tiers: SimMemoryTiers;
  readonly cores: SimCores;
  readonly timing: NicTiming;
  /** The stack's timers (default: the engine's). */
  readonly timers?: Timers;
}

export function simHardwareModule(parts: SimHardwareParts): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(NicPort).toConstantValue(parts.port);
    bind(DmaEngine).toConstantValue(parts.dma);
    bind(MemoryTiers).toConstantValue(parts.tiers);
    bind(ExecutionUnits).toConstantValue(parts.cores);
    bind(StageProbe).toConstantValue(parts.timing);
    bind(Clock).toConstantValue(parts.engine);
    bind(Timers).toConstantValue(parts.timers ?? parts.engine);
    bind(ContainerHardware).toSelf().inSingletonScope();
  });
}

/** The stack's hardware, resolved through the container. */
export function simHardware(parts: SimHardwareParts): ContainerHardware {
  return hardwareFrom(simHardwareModule(parts));
}
