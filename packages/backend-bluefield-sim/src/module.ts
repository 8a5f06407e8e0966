/**
 * The bluefield-sim backend as one inversify container module (DESIGN.md 3): a simulated NIC's
 * parts (the model's port, PCIe DMA engine, memory tiers, ARM cores and stage probe, the engine
 * as clock and timers) bound to core's hardware tokens. `createStack` builds its stack from it.
 */
import type { ContainerModule } from 'inversify';
import { simHardwareModule, type SimHardwareParts } from '@flextoe/sim';

export function bluefieldSimModule(parts: SimHardwareParts): ContainerModule {
  return simHardwareModule(parts);
}
