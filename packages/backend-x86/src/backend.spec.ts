// The x86 backend's factory refuses configurations it cannot honour before it opens anything.
import { expect } from 'chai';
import { ConfigError, registerVirtualWire, resolveConfig, unregisterVirtualWire } from '@flextoe/core';
import { backend } from './backend.js';
import { liveNicWorkers } from './threads/core-link.js';

describe('x86 backend createStack', () => {
  it('refuses x86.portThread nic-core on a port that is not dpdk, naming the field', async () => {
    const wire = registerVirtualWire({});
    try {
      const { config } = resolveConfig(
        {
          backend: 'x86',
          port: { driver: 'virtual', network: wire, ip: '10.31.0.1/24' },
          x86: { portThread: 'nic-core' },
        },
        { argv: [], env: {}, cwd: '/' },
      );
      let err: unknown = null;
      await backend.createStack(config).then(
        (s) => s.close(),
        (e: unknown) => (err = e),
      );
      expect(err).to.be.instanceOf(ConfigError);
      const problem = (err as ConfigError).problems[0]!;
      expect(problem.field).to.equal('/x86/portThread');
      expect(problem.detail).to.match(/needs a dpdk port; this port's driver is virtual/);
      expect(liveNicWorkers()).to.equal(0);
    } finally {
      unregisterVirtualWire(wire);
    }
  });
});
