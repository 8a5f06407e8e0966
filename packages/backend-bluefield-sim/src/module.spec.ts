import { expect } from 'chai';
import { Container } from 'inversify';
import { ContainerHardware, ExecutionUnits, resolveConfig, StageProbe } from '@flextoe/core';
import { SimBackendStack } from '@flextoe/sim';
import { backend } from './backend.js';
import { bluefieldSimModule } from './module.js';

describe('bluefield-sim container module', () => {
  it('binds the NIC model to the hardware tokens: 16 ARM cores of one thread, the timing probe', async () => {
    const cfg = resolveConfig(
      {
        backend: 'bluefield-sim',
        timeMode: 'virtual',
        port: { driver: 'virtual', network: 'module-spec', ip: '10.9.1.1/24' },
      },
      { env: {} },
    ).config;
    const s = (await backend.createStack(cfg)) as SimBackendStack;
    try {
      const nic = s.nic;
      const c = new Container();
      c.load(bluefieldSimModule(nic));
      const hw = c.get(ContainerHardware);
      expect(hw.port).to.equal(nic.port);
      expect(hw.clock).to.equal(nic.engine);
      const units = c.get<ExecutionUnits>(ExecutionUnits);
      expect(units.cores).to.have.length(16);
      expect(units.cores[0]!.threads).to.equal(1);
      expect(units.cores[0]!.clockHz).to.equal(800e6);
      expect(c.get(StageProbe)).to.equal(nic.timing);
    } finally {
      await s.close();
    }
  });
});
