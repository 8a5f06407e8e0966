/**
 * Helpers the model packages share for their documented parameters: a deep merge of a
 * configuration's overrides that refuses unknown keys and wrong shapes (the error names the key),
 * and a deep freeze for the defaults.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges `over` into `base`; every key of `over` must exist in `base` with the same shape. */
export function mergeParams<T>(base: T, over: unknown, path: string): T {
  return mergeChecked(base, over, path) as T;
}

function mergeChecked(base: unknown, over: unknown, path: string): unknown {
  if (over === undefined) return base;
  if (isObject(base)) {
    if (!isObject(over)) throw new RangeError(`${path} must be an object`);
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (!(k in base))
        throw new RangeError(`${path}.${k} is not a parameter; known: ${Object.keys(base).join(', ')}`);
      out[k] = mergeChecked(base[k], v, `${path}.${k}`);
    }
    return out;
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(over) || over.length !== base.length || !over.every((x) => typeof x === 'number'))
      throw new RangeError(`${path} must be [best, worst]`);
    return [...over];
  }
  if (typeof base !== typeof over) throw new RangeError(`${path} must be a ${typeof base}`);
  return over;
}

export function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Every leaf of a parameter object as [dotted path, value] (the model documents list them). */
export function parameterLeaves(o: unknown, prefix = ''): [string, unknown][] {
  if (isObject(o))
    return Object.entries(o).flatMap(([k, v]) => parameterLeaves(v, prefix === '' ? k : `${prefix}.${k}`));
  return [[prefix, o]];
}

/**
 * What a model document (MODEL.md) gets wrong about `params`: every parameter leaf must have a
 * row `| \`path\` | default | source |` whose default is the value in code and whose source is
 * not empty, and no row may name a parameter that does not exist. Empty when the document is
 * right (each model package's spec asserts that).
 */
export function modelDocMismatches(modelMd: string, params: unknown): string[] {
  const rows = new Map<string, { value: string; source: string }>();
  for (const m of modelMd.matchAll(/^\| `([^`]+)`\s*\| ([^|]+?)\s*\| (.+?)\s*\|$/gm))
    rows.set(m[1]!, { value: m[2]!.trim(), source: m[3]!.trim() });
  const problems: string[] = [];
  const leaves = parameterLeaves(params);
  for (const [path, value] of leaves) {
    const row = rows.get(path);
    if (row === undefined) {
      problems.push(`no row for ${path}`);
      continue;
    }
    const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
    if (row.value !== shown) problems.push(`${path}: the document says ${row.value}, the code ${shown}`);
    if (row.source.length <= 2) problems.push(`${path}: no source`);
  }
  const known = new Set(leaves.map(([p]) => p));
  for (const path of rows.keys())
    if (!known.has(path)) problems.push(`a row for ${path}, which is not a parameter`);
  return problems;
}
