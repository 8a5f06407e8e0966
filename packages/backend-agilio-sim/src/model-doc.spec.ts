import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modelDocMismatches } from '@flextoe/sim';
import { DEFAULT_AGILIO_PARAMS } from './params.js';

describe('agilio-sim MODEL.md', () => {
  it('lists every parameter with its default value and a source', () => {
    const text = readFileSync(fileURLToPath(new URL('../MODEL.md', import.meta.url)), 'utf8');
    expect(modelDocMismatches(text, DEFAULT_AGILIO_PARAMS)).to.deep.equal([]);
  });
});
