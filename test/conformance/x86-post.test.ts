// The conformance scenarios on the x86 backend with post-processing replicas: one NIC core runs
// the data path with a port view that offers transmit checksum offload (it builds headers and
// leaves the pseudo-header sum), and two replica threads fill every TCP checksum before the
// frames reach the wire, dealt round robin and taken back in order. The peer verifies each
// checksum it receives, so a wrong one would stall a transfer.
import { expect } from 'chai';
import { liveNicWorkers } from '@flextoe/backend-x86';
import { describeBackendConformance } from './backend-conformance.js';

describe('x86 post-processing replicas (1 NIC core, 2 post replicas filling TCP checksums)', () => {
  describeBackendConformance('x86', {
    config: { x86: { placement: 'run-to-completion', graph: { post: 2 } } },
  });

  after(() => expect(liveNicWorkers(), 'NIC core threads left running').to.equal(0));
});
