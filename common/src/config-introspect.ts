/**
 * What config.ts needs to know about a zod schema: the list of leaf options with their
 * flag and environment names and the type strings must be coerced to, and one-line,
 * human wording for zod's issues ("must be …, got …"). Internal to @shoal/common.
 */
import { z } from 'zod';
import { assert } from './assert.js';

/** How a string from env or argv is turned into the option's type. */
export type ScalarKind = 'string' | 'boolean' | 'number';
export type OptionKind = ScalarKind | 'list' | 'json';

export interface OptionInfo {
  readonly path: readonly string[];
  /** As written in the config file: `raft.electionTimeoutMs`. */
  readonly display: string;
  readonly flagName: string;
  readonly envName: string;
  readonly kind: OptionKind;
  /** For lists: the kind of each comma-separated item. */
  readonly element: ScalarKind;
  readonly defaultValue: unknown;
  readonly description: string | undefined;
}

/** Wrappers that do not change what a value looks like on input. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);
/** Nesting and wrapping limit: config schemas are shallow; deeper means a cycle or a mistake. */
const SCHEMA_DEPTH_MAX = 16;

interface Unwrapped {
  readonly inner: z.core.$ZodType;
  readonly defaultValue: unknown;
  readonly description: string | undefined;
}

/** Strips wrappers (and pipes, keeping their input side), collecting default and description. */
function unwrap(schema: z.core.$ZodType): Unwrapped {
  let s = schema;
  let defaultValue: unknown;
  let description: string | undefined;
  for (let depth = 0; depth < SCHEMA_DEPTH_MAX; depth++) {
    description ??= z.globalRegistry.get(s)?.description;
    const def = s._zod.def;
    if ((def.type === 'default' || def.type === 'prefault') && defaultValue === undefined) {
      defaultValue = (def as z.core.$ZodDefaultDef).defaultValue;
    }
    if (WRAPPERS.has(def.type)) {
      s = (def as z.core.$ZodOptionalDef).innerType;
    } else if (def.type === 'pipe') {
      s = (def as z.core.$ZodPipeDef).in;
    } else {
      return { inner: s, defaultValue, description };
    }
  }
  throw new Error('config schema nested too deeply');
}

/** The shape of an object schema (through wrappers), and whether it rejects unknown keys. */
export function objectShape(schema: z.core.$ZodType): { shape: Readonly<Record<string, z.core.$ZodType>>; strict: boolean } | undefined {
  const { inner } = unwrap(schema);
  const def = inner._zod.def;
  if (def.type !== 'object') return undefined;
  const d = def as z.core.$ZodObjectDef;
  const catchall = d.catchall?._zod.def.type;
  return { shape: d.shape, strict: catchall === undefined || catchall === 'never' };
}

function scalarKind(schema: z.core.$ZodType): OptionKind {
  const { inner } = unwrap(schema);
  switch (inner._zod.def.type) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'array': {
      const element = scalarKind((inner._zod.def as z.core.$ZodArrayDef).element);
      return element === 'list' || element === 'json' ? 'json' : 'list';
    }
    case 'object':
    case 'record':
    case 'tuple':
    case 'map':
    case 'set':
      return 'json';
    default:
      // string, enum, literal, union, transform…: hand the string over; the schema decides.
      return 'string';
  }
}

function elementKind(schema: z.core.$ZodType): ScalarKind {
  const { inner } = unwrap(schema);
  if (inner._zod.def.type !== 'array') return 'string';
  const k = scalarKind((inner._zod.def as z.core.$ZodArrayDef).element);
  return k === 'boolean' || k === 'number' ? k : 'string';
}

/** Every leaf option of an object schema, depth-first in declaration order. */
export function collectOptions(schema: z.core.$ZodType, envPrefix: string): OptionInfo[] {
  const out: OptionInfo[] = [];
  const walk = (node: z.core.$ZodType, path: readonly string[]): void => {
    assert(path.length < SCHEMA_DEPTH_MAX, 'config schema nested too deeply');
    const shape = objectShape(node);
    assert(shape !== undefined, 'config schema must be an object');
    for (const [key, child] of Object.entries(shape.shape)) {
      const p = [...path, key];
      if (objectShape(child) !== undefined) {
        walk(child, p);
        continue;
      }
      const { defaultValue, description } = unwrap(child);
      out.push({
        path: p, display: p.join('.'), flagName: flagName(p), envName: envName(envPrefix, p),
        kind: scalarKind(child), element: elementKind(child), defaultValue, description,
      });
    }
  };
  walk(schema, []);
  const names = new Set(out.map((o) => o.envName));
  assert(names.size === out.length, 'config schema: two options map to the same flag/env name');
  return out;
}

function words(camel: string): string[] {
  return camel
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((w) => w !== '');
}

/** `['raft', 'electionTimeoutMs']` → `--raft.election-timeout-ms`. */
export function flagName(path: readonly string[]): string {
  return `--${path.map((seg) => words(seg).join('-').toLowerCase()).join('.')}`;
}

/** `('SHOAL_', ['raft', 'electionTimeoutMs'])` → `SHOAL_RAFT__ELECTION_TIMEOUT_MS`. */
export function envName(prefix: string, path: readonly string[]): string {
  return prefix + path.map((seg) => words(seg).join('_').toUpperCase()).join('__');
}

/** `['peers', 1, 'host']` → `peers[1].host`. */
export function displayPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? String(seg) : `.${String(seg)}`;
  }
  return s === '' ? '(root)' : s;
}

const DESCRIBE_CHARS_MAX = 60;

/** A value as it appears in "got …": strings quoted, long values cut. */
export function describeValue(x: unknown): string {
  let s: string;
  if (x === undefined) s = 'nothing';
  else if (typeof x === 'string') s = JSON.stringify(x);
  else if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') s = String(x);
  else {
    try {
      s = JSON.stringify(x) ?? String(x);
    } catch {
      s = String(x);
    }
  }
  return s.length > DESCRIBE_CHARS_MAX ? `${s.slice(0, DESCRIBE_CHARS_MAX)}…` : s;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  int: 'an integer', number: 'a number', boolean: 'true or false', string: 'a string',
  array: 'a list', object: 'a section (mapping)', bigint: 'an integer',
};

/** The reason part of a config error line, for zod issues that carry no custom message. */
export function formatIssue(iss: z.core.$ZodRawIssue): string {
  const got = `, got ${describeValue(iss.input)}`;
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${TYPE_WORDS[iss.expected] ?? iss.expected}${got}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `must be ${describeValue(iss.values[0])}${got}`
        : `must be one of ${iss.values.map(describeValue).join(', ')}${got}`;
    case 'too_small':
      return bound('>=', '>', 'at least', iss.origin, iss.minimum, iss.inclusive, iss.exact) + got;
    case 'too_big':
      return bound('<=', '<', 'at most', iss.origin, iss.maximum, iss.inclusive, iss.exact) + got;
    case 'invalid_format':
      return iss.format === 'regex' && iss.pattern !== undefined ? `must match ${iss.pattern}${got}` : `must be a valid ${iss.format}${got}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}${got}`;
    case 'unrecognized_keys':
      return 'unknown option';
    case 'invalid_union':
      return `does not match any accepted form${got}`;
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    case 'custom':
      return `is invalid${got}`;
    default:
      return `is invalid${got}`;
  }
}

function bound(
  op: string, strictOp: string, word: string, origin: string, limit: number | bigint,
  inclusive: boolean | undefined, exact: boolean | undefined,
): string {
  const n = String(limit);
  if (origin === 'string') return exact ? `must be exactly ${n} characters long` : `must be ${word} ${n} characters long`;
  if (origin === 'array' || origin === 'set') return exact ? `must have exactly ${n} items` : `must have ${word} ${n} items`;
  return `must be ${inclusive === false ? strictOp : op} ${n}`;
}
