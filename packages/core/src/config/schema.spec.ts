import { expect } from 'chai';
import { BUFFER_SIZES, CONFIG_KEYS, CONFIG_SCHEMA, DEFAULT_CONFIG, DEFAULT_STACK } from './schema.js';

describe('config schema', () => {
  it('offers every power of two from 4 KiB to 64 MiB as a buffer size', () => {
    expect(BUFFER_SIZES[0]).to.equal(4096);
    expect(BUFFER_SIZES.at(-1)).to.equal(64 * 1024 * 1024);
    for (const n of BUFFER_SIZES) expect(n & (n - 1)).to.equal(0);
    expect(BUFFER_SIZES).to.include(DEFAULT_STACK.rxBufferBytes);
  });

  it('documents the defaults in the schema', () => {
    const stack = CONFIG_SCHEMA.properties.stack.properties;
    for (const [key, value] of Object.entries(DEFAULT_STACK)) {
      expect((stack as Record<string, { default: unknown }>)[key]!.default, key).to.equal(value);
    }
  });

  it('describes exactly the top-level keys of FlexToeConfig (plus $schema)', () => {
    expect(Object.keys(CONFIG_SCHEMA.properties)).to.have.members(['$schema', ...CONFIG_KEYS]);
    expect(Object.keys(DEFAULT_CONFIG)).to.have.members([...CONFIG_KEYS]);
  });

  it('runs simulated backends paced to the wall clock unless the config says virtual', () => {
    expect(DEFAULT_CONFIG.timeMode).to.equal('paced');
    expect(CONFIG_SCHEMA.properties.timeMode.default).to.equal('paced');
  });

  it('freezes the defaults', () => {
    expect(Object.isFrozen(DEFAULT_CONFIG)).to.equal(true);
    expect(Object.isFrozen(DEFAULT_CONFIG.stack)).to.equal(true);
    expect(Object.isFrozen(DEFAULT_CONFIG.port)).to.equal(true);
  });
});
