import { expect } from 'chai';
import { Container } from 'inversify';
import { agilioSimModule } from './module.js';

describe('agilio-sim container module', () => {
  it('refuses to load with a NotImplementedError naming the missing capability', () => {
    const c = new Container();
    expect(() => c.load(agilioSimModule)).to.throw(/backend agilio-sim .* is not implemented yet: missing /);
    try {
      c.load(agilioSimModule);
    } catch (e) {
      expect((e as { code?: string }).code).to.equal('ERR_FLEXTOE_NOT_IMPLEMENTED');
    }
  });
});
