/**
 * The configuration loader every Shoal process uses.
 *
 * A process declares its options once, as a zod object schema with camelCase names, units
 * last (`electionTimeoutMs`) and `.default()`s. `loadConfig` merges four sources, each
 * overriding the one before:
 *
 *   1. defaults — from the schema;
 *   2. the config file — JSON or YAML, keys exactly as in the schema, nested as sections;
 *   3. the environment — `SHOAL_<UPPER_SNAKE>` per option, `__` between nested sections:
 *      `raft.electionTimeoutMs` ← `SHOAL_RAFT__ELECTION_TIMEOUT_MS`;
 *   4. flags — `--raft.election-timeout-ms 1000` or `--raft.election-timeout-ms=1000`;
 *      booleans `--flag`, `--no-flag`, `--flag=false`; lists comma-separated (`--a x,y`) or
 *      repeated.
 * Strings from the environment and flags are coerced to the schema's type (numbers,
 * booleans, lists). The file is `--config <path>`, else `SHOAL_CONFIG`, else `options.file`.
 *
 * Unknown options in the file and unknown flags are rejected. Unknown `SHOAL_*` variables
 * are ignored by default: one environment is shared by every process of a host and by the
 * tooling around them, so a variable meant for another process must not stop this one
 * (pass `unknownEnv: 'reject'` to be strict).
 *
 * Any failure throws a `ConfigError` (code CONFIG_INVALID) whose message is one line naming
 * the option as it would be written in the file, where the bad value came from, and why:
 *   invalid config: raftLogSync (from --raft-log-sync): must be one of "always", "async", got "sometimes"
 * `exitOnConfigError` prints that line and exits with status 2.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { assert } from './assert.js';
import {
  collectOptions, describeValue, displayPath, envName, flagName, formatIssue, objectShape, type OptionInfo,
} from './config-introspect.js';
import { KvError } from './errors.js';

export class ConfigError extends KvError {
  /** The option at fault, dotted as in the config file (`raft.electionTimeoutMs`, `peers[1]`). */
  readonly option: string;
  /** Where its value came from: a flag, an env var name, a file path, `default`, or `not set`. */
  readonly source: string;
  readonly reason: string;

  constructor(option: string, source: string, reason: string, cause?: unknown) {
    const from = source === 'not set' ? 'not set' : `from ${source}`;
    super('CONFIG_INVALID', `invalid config: ${option} (${from}): ${oneLine(reason)}`, { details: { option }, cause });
    this.option = option;
    this.source = source;
    this.reason = oneLine(reason);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

export interface LoadConfigOptions {
  /** Process environment, usually `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Command-line arguments after the script, usually `process.argv.slice(2)`. */
  readonly argv: readonly string[];
  /** Config file used when neither `--config` nor `<envPrefix>CONFIG` names one. */
  readonly file?: string | undefined;
  /** Prefix of environment variables; default `SHOAL_`. */
  readonly envPrefix?: string;
  /** What to do with `<envPrefix>*` variables naming no option; default `ignore`. */
  readonly unknownEnv?: 'ignore' | 'reject';
}

type Sources = Map<string, string>;

/** Loads, merges, coerces and validates the configuration; throws `ConfigError`. */
export function loadConfig<S extends z.ZodObject>(schema: S, options: LoadConfigOptions): z.output<S> {
  const prefix = options.envPrefix ?? 'SHOAL_';
  const known = collectOptions(schema, prefix);
  assert(!known.some((o) => o.path[0] === 'config'), 'config: "config" is reserved for the config file flag');
  const sources: Sources = new Map();
  const flags = parseArgv(options.argv, known);
  const filePath = flags.configFile ?? pickFile(options, prefix);
  const merged: Record<string, unknown> = {};
  if (filePath !== undefined) mergeFile(merged, readConfigFile(filePath.path, filePath.source), schema, filePath.path, sources);
  mergeEnv(merged, options, prefix, known, sources);
  for (const { option, value, source } of flags.values) setPath(merged, option.path, value, sources, source);

  const result = schema.safeParse(merged, { error: (iss) => formatIssue(iss) });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const option = displayPath(path);
  const source = sourceOf(sources, path) ?? (issue.message === 'is required' ? 'not set' : 'default');
  const leaf = known.find((o) => o.display === option);
  const hint = source === 'not set' && leaf !== undefined ? ` (set ${leaf.flagName} or ${leaf.envName})` : '';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw new ConfigError(option, source, issue.message + hint + more);
}

/** For `main()`: prints a `ConfigError`'s one line to stderr and exits with status 2; rethrows anything else. */
export function exitOnConfigError(
  err: unknown,
  io: { writeStderr?: (line: string) => void; exit?: (code: number) => never } = {},
): never {
  if (!(err instanceof ConfigError)) throw err;
  (io.writeStderr ?? ((line: string) => process.stderr.write(line)))(`${err.message}\n`);
  return (io.exit ?? ((code: number) => process.exit(code)))(2);
}

function pickFile(options: LoadConfigOptions, prefix: string): { path: string; source: string } | undefined {
  const fromEnv = options.env[`${prefix}CONFIG`];
  if (fromEnv !== undefined && fromEnv !== '') return { path: fromEnv, source: `${prefix}CONFIG` };
  return options.file === undefined ? undefined : { path: options.file, source: options.file };
}

function readConfigFile(path: string, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('config', source, `cannot read ${path}: ${(e as Error).message}`, e);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const format = path.endsWith('.json') ? 'JSON' : 'YAML';
    throw new ConfigError('config', source, `invalid ${format} in ${path}: ${(e as Error).message}`, e);
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) throw new ConfigError('config', source, `${path} must hold a mapping of options, got ${describeValue(data)}`);
  return data;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Copies the file's values in, recording the file as their source; rejects unknown keys. */
function mergeFile(target: Record<string, unknown>, data: Record<string, unknown>, schema: z.ZodObject, file: string, sources: Sources): void {
  const walk = (obj: Record<string, unknown>, node: z.core.$ZodType, path: readonly string[], depth: number): void => {
    assert(depth < 16, 'config schema nested too deeply');
    const shape = objectShape(node);
    for (const [key, value] of Object.entries(obj)) {
      const child = shape?.shape[key];
      if (shape !== undefined && shape.strict && child === undefined) {
        throw new ConfigError(displayPath([...path, key]), file, `unknown option${suggest(key, Object.keys(shape.shape))}`);
      }
      if (isPlainObject(value) && child !== undefined && objectShape(child) !== undefined) {
        walk(value, child, [...path, key], depth + 1);
      } else {
        setPath(target, [...path, key], value, sources, file);
      }
    }
  };
  walk(data, schema, [], 0);
}

function suggest(key: string, known: readonly string[]): string {
  const camel = key.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  const match = known.find((k) => k === camel || k.toLowerCase() === key.toLowerCase());
  return match === undefined ? '' : ` (did you mean ${match}?)`;
}

function mergeEnv(target: Record<string, unknown>, options: LoadConfigOptions, prefix: string, known: readonly OptionInfo[], sources: Sources): void {
  const byName = new Map(known.map((o) => [o.envName, o]));
  for (const [name, raw] of Object.entries(options.env)) {
    if (!name.startsWith(prefix) || raw === undefined || name === `${prefix}CONFIG`) continue;
    const option = byName.get(name);
    if (option === undefined) {
      if (options.unknownEnv === 'reject') throw new ConfigError(name, name, 'unknown option (no option has this environment variable)');
      continue;
    }
    setPath(target, option.path, coerce(option, raw, name), sources, name);
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown, sources: Sources, source: string): void {
  let obj = target;
  for (const key of path.slice(0, -1)) {
    const next = obj[key];
    if (isPlainObject(next)) {
      obj = next;
    } else {
      const fresh: Record<string, unknown> = {};
      obj[key] = fresh;
      obj = fresh;
    }
  }
  obj[path[path.length - 1]!] = value;
  sources.set(path.join('.'), source);
}

function sourceOf(sources: Sources, path: readonly PropertyKey[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const s = sources.get(path.slice(0, n).map(String).join('.'));
    if (s !== undefined) return s;
  }
  return undefined;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Converts a string from env or argv to the option's type; leaves it as is when it does not convert, for zod to report. */
function coerce(option: OptionInfo, raw: string, source: string): unknown {
  switch (option.kind) {
    case 'string':
      return raw;
    case 'boolean':
    case 'number':
      return coerceScalar(option.kind, raw);
    case 'list':
      return raw.trim() === '' ? [] : raw.split(',').map((item) => coerceScalar(option.element, item.trim()));
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(option.display, source, `must be JSON, got ${describeValue(raw)}`);
      }
  }
}

function coerceScalar(kind: 'string' | 'boolean' | 'number', raw: string): unknown {
  if (kind === 'boolean') {
    const word = raw.trim().toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : raw;
  }
  if (kind === 'number') {
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

interface ParsedArgv {
  readonly configFile: { path: string; source: string } | undefined;
  readonly values: { option: OptionInfo; value: unknown; source: string }[];
}

/** Parses `--name value`, `--name=value`, `--flag`, `--no-flag`; lists may repeat. */
function parseArgv(argv: readonly string[], known: readonly OptionInfo[]): ParsedArgv {
  const byFlag = new Map(known.map((o) => [o.flagName, o]));
  const values: ParsedArgv['values'] = [];
  const lists = new Map<OptionInfo, unknown[]>();
  let configFile: ParsedArgv['configFile'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') throw new ConfigError(arg, arg, 'unexpected argument (options are --name value)');
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    let inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const negated = flag.startsWith('--no-') && !byFlag.has(flag) ? byFlag.get(`--${flag.slice(5)}`) : undefined;
    if (negated !== undefined) {
      if (negated.kind !== 'boolean' || inline !== undefined) throw new ConfigError(negated.display, flag, 'only a boolean option can be negated with --no-');
      values.push({ option: negated, value: false, source: flag });
      continue;
    }
    const takeValue = (display: string): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(display, flag, 'expects a value');
      i++;
      return next;
    };
    if (flag === '--config') {
      configFile = { path: takeValue('config'), source: '--config' };
      continue;
    }
    const option = byFlag.get(flag);
    if (option === undefined) throw new ConfigError(flag.slice(2), flag, 'unknown option');
    if (option.kind === 'boolean' && inline === undefined) inline = 'true';
    const value = coerce(option, takeValue(option.display), flag);
    if (option.kind === 'list') {
      const list = lists.get(option) ?? [];
      if (!lists.has(option)) {
        lists.set(option, list);
        values.push({ option, value: list, source: flag });
      }
      list.push(...(value as unknown[]));
    } else {
      values.push({ option, value, source: flag });
    }
  }
  return { configFile, values };
}

/** One line per option — flag, env var, default, description — for a process's `--help`. */
export function configHelp(schema: z.ZodObject, envPrefix = 'SHOAL_'): string {
  return collectOptions(schema, envPrefix)
    .map((o) => {
      const value = o.kind === 'boolean' ? '' : ` <${o.kind === 'list' ? `${o.element},…` : o.kind}>`;
      const dflt = o.defaultValue === undefined ? '' : ` (default ${describeValue(o.defaultValue)})`;
      const about = o.description === undefined ? '' : `  ${o.description}`;
      return `  ${o.flagName}${value}  [${o.envName}]${dflt}${about}`;
    })
    .join('\n');
}

export { envName, flagName };
