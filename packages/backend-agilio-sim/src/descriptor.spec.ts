import { expect } from 'chai';
import { NotImplementedError } from '@flextoe/core';
import { descriptor } from './descriptor.js';

describe('agilio-sim descriptor', () => {
  it('is honest: not implemented, modelled time, the missing capability named', () => {
    expect(descriptor.name).to.equal('agilio-sim');
    expect(descriptor.status).to.equal('not-implemented');
    expect(descriptor.timeBase).to.equal('modelled');
    expect(descriptor.issue).to.include('(issue: Simulated Agilio-CX40 and BlueField backends)');
    expect(Object.values(descriptor.features)).to.not.include('yes');
  });

  it('drives only the simulated wire', () => {
    expect(descriptor.drivers.map((d) => d.name)).to.deep.equal(['virtual']);
  });

  it('gives a NotImplementedError that names the backend and the missing model', () => {
    const err = new NotImplementedError(descriptor);
    expect(err.code).to.equal('ERR_FLEXTOE_NOT_IMPLEMENTED');
    expect(err.message).to.include('backend agilio-sim').and.include(descriptor.issue);
  });
});
