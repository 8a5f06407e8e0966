/**
 * The inline runner's hardware as an inversify container module: a backend is one
 * `ContainerModule` that binds every hardware token (DESIGN.md 3). Here: the given port, a
 * memcpy DMA engine, SharedArrayBuffer memory tiers, one core, and a clock (wall clock unless
 * one is given, e.g. a ManualClock for virtual time).
 */
import { Container, ContainerModule, inject, injectable } from 'inversify';
import { Clock, Timers } from '../hw/clock.js';
import { DmaEngine } from '../hw/dma-engine.js';
import { ExecutionUnits } from '../hw/execution-units.js';
import { MemoryTiers } from '../hw/memory-tiers.js';
import { NicPort } from '../hw/nic-port.js';
import { SingleCoreUnits } from '../hw/single-core.js';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { RealTimeClock } from '../util/real-time.js';
import { HeapMemoryTiers } from './heap-memory.js';
import type { StackHardware } from './tcp-stack.js';

/** Everything a `TcpStack` needs, resolved from a container (explicit tokens: tsx emits no metadata). */
@injectable()
export class ContainerHardware implements StackHardware {
  constructor(
    @inject(NicPort) readonly port: NicPort,
    @inject(DmaEngine) readonly dma: DmaEngine,
    @inject(Clock) readonly clock: Clock,
    @inject(Timers) readonly timers: Timers,
    @inject(MemoryTiers) readonly tiers: MemoryTiers,
    @inject(ExecutionUnits) readonly units: ExecutionUnits,
  ) {}
}

export function inlineModule(port: NicPort, clock?: Clock & Timers): ContainerModule {
  return new ContainerModule(({ bind }) => {
    const time = clock ?? new RealTimeClock();
    bind(NicPort).toConstantValue(port);
    bind(DmaEngine)
      .toDynamicValue(() => new MemcpyDma())
      .inSingletonScope();
    bind(MemoryTiers)
      .toDynamicValue(() => new HeapMemoryTiers())
      .inSingletonScope();
    bind(ExecutionUnits)
      .toDynamicValue(() => new SingleCoreUnits())
      .inSingletonScope();
    bind(Clock).toConstantValue(time);
    bind(Timers).toConstantValue(time);
    bind(ContainerHardware).toSelf().inSingletonScope();
  });
}

/** Loads `module` into a fresh container and resolves the hardware from it. */
export function hardwareFrom(module: ContainerModule): ContainerHardware {
  const container = new Container();
  container.load(module);
  return container.get(ContainerHardware);
}
