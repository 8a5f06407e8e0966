import { expect } from 'chai';
import { Container } from 'inversify';
import { bluefieldSimModule } from './module.js';

describe('bluefield-sim container module', () => {
  it('refuses to load with a NotImplementedError naming the missing capability', () => {
    const c = new Container();
    expect(() => c.load(bluefieldSimModule)).to.throw(
      /backend bluefield-sim .* is not implemented yet: missing /,
    );
    try {
      c.load(bluefieldSimModule);
    } catch (e) {
      expect((e as { code?: string }).code).to.equal('ERR_FLEXTOE_NOT_IMPLEMENTED');
    }
  });
});
