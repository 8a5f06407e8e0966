// A paced simulated NIC shares a virtual wire with a real-time party: the conformance scenarios
// between an agilio-sim stack in paced time and an x86 stack on the wall clock. In virtual time
// the two cannot meet (one wire, one clock): that is refused with an error that says what to do.
import { expect } from 'chai';
import { resolveConfig } from '@flextoe/core';
import { createVirtualNetwork, loadBackend } from '@flextoe/sockets';
import { describeBackendConformance } from '../conformance/backend-conformance.js';

describe('agilio-sim (paced) and x86 on one virtual wire', () => {
  describeBackendConformance('agilio-sim', {
    peer: 'x86',
    mib: 1,
    config: { timeMode: 'paced', x86: { placement: 'run-to-completion' } },
  });

  it('refuses an x86 stack on the wire of a virtual-time simulated NIC, naming paced time', async () => {
    const wire = createVirtualNetwork({});
    const sim = await (
      await loadBackend('agilio-sim')
    ).createStack(
      resolveConfig(
        { backend: 'agilio-sim', timeMode: 'virtual', port: wire.attach('10.0.0.1/24') },
        { env: {} },
      ).config,
    );
    try {
      const x86 = await loadBackend('x86');
      const cfg = resolveConfig(
        { backend: 'x86', port: wire.attach('10.0.0.2/24'), x86: { placement: 'run-to-completion' } },
        { env: {} },
      ).config;
      let err: unknown = null;
      await x86.createStack(cfg).then(
        (s) => s.close(),
        (e: unknown) => (err = e),
      );
      expect(String(err))
        .to.match(/share one clock/)
        .and.match(/paced/);
    } finally {
      await sim.close();
      wire.close();
    }
  });
});
