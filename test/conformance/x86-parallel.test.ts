// The conformance scenarios on the x86 backend's parallel placement: two NIC core threads, flow
// groups spread over them, received frames steered to their group's core and validated first by
// a pre-processing replica thread per core.
import { expect } from 'chai';
import { liveNicWorkers } from '@flextoe/backend-x86';
import { describeBackendConformance } from './backend-conformance.js';

describe('x86 parallel placement (2 NIC cores, each fed by a pre-processing replica)', () => {
  describeBackendConformance('x86', {
    config: { x86: { placement: 'parallel', cores: 2, graph: { pre: 1 } } },
  });

  after(() => expect(liveNicWorkers(), 'NIC core threads left running').to.equal(0));
});
