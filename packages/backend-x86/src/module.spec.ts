import { expect } from 'chai';
import { Container } from 'inversify';
import {
  Clock,
  ContainerHardware,
  DmaEngine,
  ExecutionUnits,
  hardwareFrom,
  MemcpyDma,
  MemoryTiers,
  RUN_TO_COMPLETION_GRAPH,
  TcpStack,
  Timers,
  VirtualNetwork,
} from '@flextoe/core';
import { x86Module } from './module.js';
import { HostClock } from './threads/shared-clock.js';
import { SharedMemoryTiers } from './threads/shared-memory.js';
import { X86Cores } from './threads/x86-cores.js';

describe('x86 container module (inversify)', () => {
  it('binds every hardware token: the port, SharedArrayBuffer tiers, memcpy DMA, NIC cores, one clock', () => {
    const port = new VirtualNetwork().attach();
    const c = new Container();
    c.load(x86Module({ port, x86: { cores: 2 } }));
    const hw = c.get(ContainerHardware);
    expect(hw.port).to.equal(port);
    expect(hw.dma).to.be.instanceOf(MemcpyDma);
    expect(c.get(DmaEngine)).to.equal(hw.dma);
    const tiers = c.get<MemoryTiers>(MemoryTiers);
    expect(tiers).to.be.instanceOf(SharedMemoryTiers);
    expect(tiers.allocate('protocol-state', 64).buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(tiers.tierFor('host-buffers')).to.equal('host');
    expect(c.get(Clock)).to.be.instanceOf(HostClock).and.equal(c.get(Timers));
    expect(c.get<ExecutionUnits>(ExecutionUnits).cores).to.have.length(2);
  });

  it('places flow groups over the NIC cores and refuses a split it does not run', () => {
    const units = hardwareFrom(x86Module({ port: new VirtualNetwork().attach(), x86: { cores: 2 } }))
      .units as X86Cores;
    const placement = units.place(units.graphFor(4));
    expect(X86Cores.groupCores(placement, 4)).to.deep.equal([0, 1, 0, 1]);
    expect(placement.filter((p) => p.stage === 'pre').map((p) => p.core)).to.deep.equal([0, 1]);
    // FlexTOE's Agilio graph has 16 pre replicas: not something two x86 NIC cores run.
    expect(() => units.place({ ...RUN_TO_COMPLETION_GRAPH, pre: 16 })).to.throw(/pre is 16 .* 2 NIC core/);
  });

  it('builds an inline stack (placement inline: no NIC core threads)', () => {
    const hw = hardwareFrom(x86Module({ port: new VirtualNetwork().attach(), x86: { cores: 0 } }));
    const stack = new TcpStack(hw, { ip: '10.0.0.1/24', maxFlows: 4 });
    expect(stack.localIp).to.equal(0x0a000001);
    expect(hw.units.place(RUN_TO_COMPLETION_GRAPH).every((p) => p.core === 0)).to.equal(true);
    stack.close();
    (hw.clock as HostClock).cancelAll();
  });
});
