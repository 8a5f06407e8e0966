import { expect } from 'chai';
import { Container } from 'inversify';
import { x86Module } from './module.js';

describe('x86 container module', () => {
  it('refuses to load with a NotImplementedError naming the missing capability', () => {
    const c = new Container();
    expect(() => c.load(x86Module)).to.throw(/backend x86 .* is not implemented yet: missing /);
    try {
      c.load(x86Module);
    } catch (e) {
      expect((e as { code?: string }).code).to.equal('ERR_FLEXTOE_NOT_IMPLEMENTED');
    }
  });
});
