/**
 * Configuration errors. ajv reports problems as keyword failures against schema paths; users
 * need one sentence per problem naming the field, the bad value, what would be valid, and
 * where the bad value came from (a flag, an env var, which file).
 */
import type { ErrorObject } from 'ajv';

/** Where a configuration value came from, highest precedence first. */
export type ConfigSource = 'object' | 'flag' | 'env' | 'file' | 'default';

export interface ConfigProblem {
  /** JSON pointer of the offending field, e.g. `/port/driver`; '' for the whole config. */
  readonly field: string;
  /** The offending value; undefined when the field is missing. */
  readonly value: unknown;
  /** The valid choices, when there is a short list of them. */
  readonly allowed?: readonly unknown[];
  /** e.g. `env FLEXTOE_BACKEND`, `flag --backend`, `file /srv/flextoe.config.json`. */
  readonly origin?: string;
  /** The sentence without the `flextoe config:` prefix and the origin. */
  readonly detail: string;
}

export class ConfigError extends Error {
  readonly code = 'ERR_FLEXTOE_CONFIG';
  readonly field: string;
  readonly value: unknown;
  readonly allowed?: readonly unknown[];
  readonly origin?: string;
  /** Every problem found; the fields above describe the first. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    if (problems.length === 0) throw new TypeError('ConfigError needs at least one problem');
    super(problems.map(problemLine).join('\n'));
    this.name = 'ConfigError';
    const first = problems[0]!;
    this.field = first.field;
    this.value = first.value;
    if (first.allowed !== undefined) this.allowed = first.allowed;
    if (first.origin !== undefined) this.origin = first.origin;
    this.problems = problems;
  }
}

function problemLine(p: ConfigProblem): string {
  return `flextoe config: ${p.detail}${p.origin ? ` (from ${p.origin})` : ''}`;
}

/** Renders a value the way it would appear in JSON, shortened so one line stays one line. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fieldName(pointer: string): string {
  return pointer === '' ? 'the config' : pointer;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

type Schema = Record<string, unknown>;

const TYPE_NOUNS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
};

/** The valid range of a numeric schema in words, e.g. "between 536 and 9000". */
function range(schema: Schema): string | undefined {
  const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
  if (minimum !== undefined && maximum !== undefined) return `between ${minimum} and ${maximum}`;
  if (minimum !== undefined) return `at least ${minimum}`;
  if (maximum !== undefined) return `at most ${maximum}`;
  return undefined;
}

/**
 * Converts ajv errors (compiled with `allErrors` and `verbose`) into problems, one per field.
 * `originOf(pointer)` says where the value at that pointer came from.
 */
export function problemsFromAjv(
  errors: readonly ErrorObject[],
  originOf: (pointer: string) => string | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const p = describe(error);
    // With allErrors one bad value can fail several keywords (type and enum); report it once.
    if (seen.has(p.field)) continue;
    seen.add(p.field);
    const origin = originOf(p.field);
    problems.push(origin === undefined ? p : { ...p, origin });
  }
  return problems;
}

function describe(error: ErrorObject): ConfigProblem {
  const schema = (error.parentSchema ?? {}) as Schema;
  const mustBe = typeof schema.mustBe === 'string' ? schema.mustBe : undefined;
  const field = error.instancePath;
  const value: unknown = error.data;
  const bad = (requirement: string, allowed?: readonly unknown[]): ConfigProblem => ({
    field,
    value,
    ...(allowed ? { allowed } : {}),
    detail: `${fieldName(field)} is ${formatValue(value)} but must be ${requirement}`,
  });

  switch (error.keyword) {
    case 'enum': {
      const allowed = error.params.allowedValues as unknown[];
      return bad(mustBe ?? `one of: ${allowed.join(', ')}`, allowed);
    }
    case 'const':
      return bad(formatValue(error.params.allowedValue), [error.params.allowedValue]);
    case 'type': {
      const noun = TYPE_NOUNS[error.params.type as string] ?? String(error.params.type);
      const within = range(schema);
      return bad(mustBe ?? (within ? `${noun} ${within}` : noun));
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return bad(mustBe ?? range(schema) ?? error.message ?? 'in range');
    case 'pattern':
      return bad(mustBe ?? `a string matching /${error.params.pattern as string}/`);
    case 'minLength':
      return bad(mustBe ?? (error.params.limit === 1 ? 'a non-empty string' : `${error.message}`));
    case 'additionalProperties': {
      const key = error.params.additionalProperty as string;
      const known = Object.keys((schema.properties ?? {}) as Schema).filter((k) => k !== '$schema');
      return {
        field: `${field}/${escapePointer(key)}`,
        value: (value as Record<string, unknown>)[key],
        allowed: known,
        detail: `${field}/${escapePointer(key)} is not a known option; known: ${known.join(', ')}`,
      };
    }
    case 'required': {
      const key = error.params.missingProperty as string;
      const driver = (value as { driver?: unknown }).driver;
      // Port fields depend on the driver; saying which driver needs it explains the rule.
      const why = typeof driver === 'string' ? ` when driver is "${driver}"` : '';
      return {
        field: `${field}/${escapePointer(key)}`,
        value: undefined,
        detail: `${field}/${escapePointer(key)} is missing but is required${why}`,
      };
    }
    case 'discriminator': {
      const tag = error.params.tag as string;
      const tagValue: unknown = error.params.tagValue;
      const branches = (schema.oneOf ?? []) as Schema[];
      const allowed = branches.map((b) => ((b.properties as Schema)[tag] as { const: unknown }).const);
      const tagField = `${field}/${escapePointer(tag)}`;
      return {
        field: tagField,
        value: tagValue,
        allowed,
        detail: `${tagField} is ${formatValue(tagValue)} but must be one of: ${allowed.join(', ')}`,
      };
    }
    default:
      return {
        field,
        value,
        detail: `${fieldName(field)} is ${formatValue(value)} but ${error.message ?? 'is invalid'}`,
      };
  }
}
