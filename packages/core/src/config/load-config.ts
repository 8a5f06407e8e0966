/**
 * Resolves the configuration from its layers, highest precedence first:
 *
 *   object (resolveConfig / createStack argument) > flag (--backend) > env (FLEXTOE_BACKEND)
 *   > file (--config PATH, else ./flextoe.config.json if present) > DEFAULT_CONFIG
 *
 * `stack` and the backend-specific objects merge field by field across layers; `port` is
 * replaced as a whole, because which fields a port has depends on its driver (merging a file's
 * tap port with an object's virtual port would produce neither).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Ajv, type ValidateFunction } from 'ajv';
import { ConfigError, problemsFromAjv, formatValue, type ConfigSource } from './errors.js';
import {
  BACKEND_NAMES,
  CONFIG_KEYS,
  CONFIG_SCHEMA,
  DEFAULT_CONFIG,
  type ConfigKey,
  type FlexToeConfig,
  type FlexToeConfigInput,
} from './schema.js';

export const CONFIG_FILE_NAME = 'flextoe.config.json';
export const BACKEND_ENV = 'FLEXTOE_BACKEND';

export interface LoadConfigOptions {
  /** Command-line arguments; `--backend` and `--config` are read, everything else ignored. Default: none. */
  argv?: readonly string[];
  /** Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where `flextoe.config.json` and a relative `--config` are looked up. Default: `process.cwd()`. */
  cwd?: string;
  /** Programmatic configuration; beats flags, env and file. */
  overrides?: FlexToeConfigInput;
}

export type ConfigSources = Record<ConfigKey, ConfigSource>;

export interface ResolvedConfig {
  config: FlexToeConfig;
  /** Which layer supplied each top-level choice (for merged objects: the highest that set a field). */
  source: ConfigSources;
  /**
   * Where each value came from in words, keyed by JSON pointer: every top-level key and every
   * field of the merged objects, e.g. `'/backend': 'env FLEXTOE_BACKEND'`,
   * `'/stack/mss': 'file /srv/flextoe.config.json'`, `'/stack/cc': 'default'`.
   */
  origin: Record<string, string>;
  /** Absolute path of the config file that was read, or null when none was. */
  file: string | null;
}

interface Layer {
  source: ConfigSource;
  data: Record<string, unknown>;
  /** Describes where the value under top-level `key` came from, for error messages. */
  origin(key: string): string;
}

export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = readFlags(options.argv ?? []);

  const layers: Layer[] = []; // highest precedence first
  if (options.overrides !== undefined) {
    if (!isPlainObject(options.overrides)) {
      throw new ConfigError([
        {
          field: '',
          value: options.overrides,
          detail: `the config is ${formatValue(options.overrides)} but must be an object`,
        },
      ]);
    }
    layers.push({
      source: 'object',
      data: options.overrides as Record<string, unknown>,
      origin: () => 'the config object',
    });
  }
  if (flags.backend !== undefined) {
    layers.push({ source: 'flag', data: { backend: flags.backend }, origin: (key) => `flag --${key}` });
  }
  const envBackend = env[BACKEND_ENV];
  // An empty variable counts as unset, so `FLEXTOE_BACKEND= cmd` clears an exported value.
  if (envBackend !== undefined && envBackend !== '') {
    layers.push({ source: 'env', data: { backend: envBackend }, origin: () => `env ${BACKEND_ENV}` });
  }
  const file = readConfigFile(cwd, flags.config);
  if (file !== null) layers.push({ source: 'file', data: file.data, origin: () => `file ${file.path}` });
  layers.push({
    source: 'default',
    data: DEFAULT_CONFIG as unknown as Record<string, unknown>,
    origin: () => 'default',
  });

  const { merged, source, winners } = merge([...layers].reverse());
  resolveModulePaths(merged, cwd);
  const validate = compiledSchema();
  if (!validate(merged)) {
    throw new ConfigError(problemsFromAjv(validate.errors ?? [], (pointer) => originOf(winners, pointer)));
  }
  const origin: Record<string, string> = {};
  for (const [pointer, w] of winners) if (w.key !== '$schema') origin[pointer] = w.layer.origin(w.key);
  return { config: copyConfig(merged as unknown as FlexToeConfig), source, origin, file: file?.path ?? null };
}

/**
 * For programmatic use (`createStack(config)`): the object's fields beat env and file. Reads
 * `FLEXTOE_BACKEND` and `./flextoe.config.json` like the command does, unless told otherwise.
 */
export function resolveConfig(
  partial: FlexToeConfigInput = {},
  options: Omit<LoadConfigOptions, 'overrides'> = {},
): ResolvedConfig {
  return loadConfig({ ...options, overrides: partial });
}

let validator: ValidateFunction | undefined;

/** Compiled on first use: ajv code generation costs milliseconds that plain imports should not pay. */
function compiledSchema(): ValidateFunction {
  validator ??= new Ajv({
    allErrors: true,
    strict: true,
    discriminator: true,
    verbose: true, // errors carry the parent schema and data, which the messages quote
    keywords: ['mustBe'],
  }).compile(CONFIG_SCHEMA);
  return validator;
}

function readFlags(argv: readonly string[]): { backend?: string; config?: string } {
  // Not strict: the caller (the CLI) owns the full option set; we only pick out ours.
  const { values } = parseArgs({
    args: [...argv],
    options: { backend: { type: 'string' }, config: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const out: { backend?: string; config?: string } = {};
  for (const name of ['backend', 'config'] as const) {
    const value = values[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      const what = name === 'backend' ? `one of: ${BACKEND_NAMES.join(', ')}` : 'a file path';
      throw new ConfigError([{ field: '', value: undefined, detail: `--${name} needs a value (${what})` }]);
    }
    out[name] = value;
  }
  return out;
}

function readConfigFile(
  cwd: string,
  explicit: string | undefined,
): { path: string; data: Record<string, unknown> } | null {
  const path = resolve(cwd, explicit ?? CONFIG_FILE_NAME);
  const origin = explicit !== undefined ? 'flag --config' : undefined;
  const fail = (detail: string, value: unknown = path) =>
    new ConfigError([{ field: '', value, detail, ...(origin ? { origin } : {}) }]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No flextoe.config.json in the working directory just means "use the defaults".
    if (code === 'ENOENT' && explicit === undefined) return null;
    throw fail(`cannot read config file ${path}: ${READ_ERRORS[code ?? ''] ?? (err as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // editors on Windows add a BOM
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const { line, column } = lineColumn(text, at ? Number(at[1]) : text.length);
    throw fail(`config file ${path} is not valid JSON: ${message} (line ${line}, column ${column})`);
  }
  if (!isPlainObject(data)) {
    throw fail(`config file ${path} must hold a JSON object, but holds ${formatValue(data)}`, data);
  }
  resolveModulePaths(data as Record<string, unknown>, dirname(path));
  return { path, data: data as Record<string, unknown> };
}

/**
 * A module path is relative to where it was written: the config file's folder, or the working
 * directory for the object and defaults. Shapes ajv will refuse are left for it to name.
 */
function resolveModulePaths(data: Record<string, unknown>, base: string): void {
  const modules = data.modules;
  if (!Array.isArray(modules)) return;
  data.modules = modules.map((m: unknown) =>
    isPlainObject(m) && typeof m.path === 'string' && m.path !== ''
      ? { ...m, path: resolve(base, m.path) }
      : m,
  );
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Keys merged field by field across layers; every other key is taken whole from one layer. */
const MERGED_KEYS: ReadonlySet<string> = new Set(['stack', 'x86', 'agilioSim', 'bluefieldSim']);

function merge(lowToHigh: readonly Layer[]): Merged {
  const merged: Record<string, unknown> = {};
  const source = Object.fromEntries(CONFIG_KEYS.map((k) => [k, 'default'])) as ConfigSources;
  const winners = new Map<string, Winner>();
  for (const layer of lowToHigh) {
    for (const [key, raw] of Object.entries(layer.data)) {
      // `createStack({ backend: opts.backend })` with no backend means "not set", not "unset it".
      if (raw === undefined) continue;
      const value = isPlainObject(raw) ? withoutUndefined(raw) : raw;
      const previous = merged[key];
      if (MERGED_KEYS.has(key) && isPlainObject(previous) && isPlainObject(value)) {
        if (Object.keys(value).length === 0) continue;
        define(merged, key, { ...previous, ...value });
        for (const sub of Object.keys(value)) winners.set(pointerOf(key, sub), { key, layer });
      } else {
        define(merged, key, value);
        for (const k of winners.keys()) if (k.startsWith(`${pointerOf(key)}/`)) winners.delete(k);
        if (isPlainObject(value))
          for (const sub of Object.keys(value)) winners.set(pointerOf(key, sub), { key, layer });
      }
      winners.set(pointerOf(key), { key, layer });
      if (Object.hasOwn(source, key)) source[key as ConfigKey] = layer.source;
    }
  }
  delete merged.$schema; // only for editors
  return { merged, source, winners };
}

interface Merged {
  merged: Record<string, unknown>;
  source: ConfigSources;
  /** By JSON pointer: the layer that supplied each top-level key and each field of an object-valued key. */
  winners: ReadonlyMap<string, Winner>;
}

interface Winner {
  /** The top-level key, which names the flag or env var in the layer's description. */
  key: string;
  layer: Layer;
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const pointerOf = (...keys: string[]) => keys.map((k) => `/${escapePointer(k)}`).join('');

/**
 * Where the value at a JSON pointer came from: the layer that supplied its field (e.g.
 * `stack/mss`), else the layer that supplied the enclosing top-level value (e.g. a `port`
 * missing a required field).
 */
function originOf(winners: ReadonlyMap<string, Winner>, pointer: string): string | undefined {
  const parts = pointer.split('/'); // ['', top, sub, ...], still escaped like the map keys
  const w = winners.get(parts.slice(0, 3).join('/')) ?? winners.get(parts.slice(0, 2).join('/'));
  return w?.layer.origin(w.key);
}

/** Assignment that makes `__proto__` from JSON an ordinary (and therefore unknown) key. */
function define(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** The result belongs to the caller: no sharing with DEFAULT_CONFIG (frozen) or the inputs. */
function copyConfig(c: FlexToeConfig): FlexToeConfig {
  const port = { ...c.port };
  if (port.driver === 'dpdk' && port.eal) port.eal = [...port.eal];
  return {
    backend: c.backend,
    port,
    stack: { ...c.stack },
    timeMode: c.timeMode,
    x86: { ...c.x86 },
    agilioSim: { ...c.agilioSim },
    bluefieldSim: { ...c.bluefieldSim },
    modules: c.modules.map((m) => ({ ...m })),
  };
}
