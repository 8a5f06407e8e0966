import { expect } from 'chai';
import { modelDocMismatches } from './params-util.js';

describe('sim/params-util: modelDocMismatches', () => {
  const params = { cores: 16, mem: { latencyNs: [1, 2] } };
  const row = (path: string, value: string, source = 'the datasheet') =>
    `| \`${path}\` | ${value} | ${source} |`;

  it('accepts a document with one sourced row per parameter at its value', () => {
    const doc = [row('cores', '16'), row('mem.latencyNs', '[1, 2]')].join('\n');
    expect(modelDocMismatches(doc, params)).to.deep.equal([]);
  });

  it('names missing rows, wrong values, missing sources and rows for no parameter', () => {
    const doc = [row('cores', '8', '-'), row('mem.bogus', '1')].join('\n');
    expect(modelDocMismatches(doc, params)).to.deep.equal([
      'cores: the document says 8, the code 16',
      'cores: no source',
      'no row for mem.latencyNs',
      'a row for mem.bogus, which is not a parameter',
    ]);
  });
});
