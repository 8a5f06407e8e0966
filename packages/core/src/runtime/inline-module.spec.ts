import { expect } from 'chai';
import { Container } from 'inversify';
import { DmaEngine } from '../hw/dma-engine.js';
import { ExecutionUnits } from '../hw/execution-units.js';
import { FLEXTOE_AGILIO_GRAPH } from '../pipeline/stage-graph.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { MemcpyDma } from '../dma/memcpy-dma.js';
import { ContainerHardware, hardwareFrom, inlineModule } from './inline-module.js';
import { TcpStack } from './tcp-stack.js';

describe('inline runner container module (inversify)', () => {
  it('binds every hardware token and builds a working stack', () => {
    const clock = new ManualClock();
    const net = new VirtualNetwork({ clock, timers: clock });
    const port = net.attach();
    const hw = hardwareFrom(inlineModule(port, clock));
    expect(hw).to.be.instanceOf(ContainerHardware);
    expect(hw.port).to.equal(port);
    expect(hw.dma).to.be.instanceOf(MemcpyDma);
    expect(hw.clock).to.equal(clock);
    const stack = new TcpStack(hw, { ip: '10.0.0.1/24', maxFlows: 4 });
    expect(stack.localIp).to.equal(0x0a000001);
  });

  it('keeps singletons singletons and places every stage instance on the one core', () => {
    const c = new Container();
    c.load(inlineModule(new VirtualNetwork().attach()));
    expect(c.get(DmaEngine)).to.equal(c.get(DmaEngine));
    const placement = c.get<ExecutionUnits>(ExecutionUnits).place(FLEXTOE_AGILIO_GRAPH);
    expect(placement).to.have.length(16 + 4 + 16 + 3);
    expect(new Set(placement.map((p) => p.core))).to.deep.equal(new Set([0]));
  });
});
