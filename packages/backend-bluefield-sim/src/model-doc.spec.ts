import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parameterLeaves } from '@flextoe/sim';
import { DEFAULT_BLUEFIELD_PARAMS } from './params.js';

/** `| \`path\` | default | source |` rows of MODEL.md's parameter table. */
function documented(): Map<string, { value: string; source: string }> {
  const text = readFileSync(fileURLToPath(new URL('../MODEL.md', import.meta.url)), 'utf8');
  const rows = new Map<string, { value: string; source: string }>();
  for (const m of text.matchAll(/^\| `([^`]+)`\s*\| ([^|]+?)\s*\| (.+?)\s*\|$/gm))
    rows.set(m[1]!, { value: m[2]!.trim(), source: m[3]!.trim() });
  return rows;
}

describe('bluefield-sim MODEL.md', () => {
  it('lists every parameter with its default value and a source', () => {
    const rows = documented();
    const leaves = parameterLeaves(DEFAULT_BLUEFIELD_PARAMS);
    for (const [path, value] of leaves) {
      const row = rows.get(path);
      expect(row, `MODEL.md has no row for ${path}`).to.not.equal(undefined);
      const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
      expect(row!.value, path).to.equal(shown);
      expect(row!.source.length, `source of ${path}`).to.be.greaterThan(2);
    }
    expect([...rows.keys()].sort()).to.deep.equal(leaves.map(([p]) => p).sort());
  });
});
