/**
 * The history file: JSON lines, one record per completed operation, in completion order
 * (the checker does not depend on the order). A record is
 *
 *   {"client":3,"key":"k1","op":"cas","args":["v1","v2"],"start":1200,"end":1350,
 *    "result":{"status":"ok","value":true}}
 *
 * Times are from one monotonic clock shared by all clients of a run (ms or ns, any
 * origin, finite numbers). The result is `ok` (with the observed value, see OP_SHAPES),
 * `fail` (the operation certainly did not take effect) or `unknown` (timeout, lost
 * connection: it may take effect at any point after `start`, or never; its `end` is
 * when the client gave up, or null, and the checker ignores it).
 *
 * Records are validated both when written and when read, so a runner bug shows at the
 * point it is made and a damaged file is refused with its line number.
 */
import { KvError } from '@shoal/common';
import type { ModelOp } from './model.js';
import { parseInt64 } from './model.js';

export type HistoryOpName = 'get' | 'put' | 'delete' | 'cas' | 'put-if-absent' | 'increment' | 'append';
export type HistoryValue = string | number | boolean | null;

export type HistoryResult =
  | { readonly status: 'ok'; readonly value?: HistoryValue; readonly current?: string | null }
  | { readonly status: 'fail'; readonly error?: string }
  | { readonly status: 'unknown'; readonly error?: string };

export interface HistoryRecord {
  readonly client: string | number;
  readonly key: string;
  readonly op: HistoryOpName;
  readonly args: readonly HistoryValue[];
  readonly start: number;
  readonly end: number | null;
  readonly result: HistoryResult;
}

/** What each operation takes and what its `ok` value means (the README has the table). */
export const OP_SHAPES: Readonly<Record<HistoryOpName, string>> = {
  get: 'args [] ; ok value: the string read, or null when absent',
  put: 'args [value] ; ok value: none',
  delete: 'args [] ; ok value: none, or true/false (or 1/0) whether the key existed',
  cas: 'args [expected|null, next|null] ; ok value: true (swapped) or false, optional current: the value found',
  'put-if-absent': 'args [value] ; ok value: true (stored) or false (the key existed)',
  increment: 'args [] or [delta] ; ok value: the new value, a decimal string or a safe integer',
  append: 'args [suffix] ; ok value: the new length in bytes, or none',
};

/** Line lengths above this are refused: a record is small, a huge line is a damaged file. */
export const HISTORY_LINE_CHARS_MAX = 1 << 20;

function bad(where: string, field: string, message: string): never {
  throw new KvError('INVALID_ARGUMENT', `${where}: ${field} ${message}`, { details: { option: field } });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isOpName(x: unknown): x is HistoryOpName {
  return typeof x === 'string' && Object.hasOwn(OP_SHAPES, x);
}

/**
 * Checks an untrusted value against the record format and returns it typed. `where`
 * prefixes every error, e.g. "history line 12".
 */
export function validateRecord(x: unknown, where: string): HistoryRecord {
  if (!isObject(x)) bad(where, 'record', 'must be a JSON object');
  const { client, key, op, args, start, end, result } = x;
  if (typeof client !== 'string' && !(typeof client === 'number' && Number.isSafeInteger(client))) {
    bad(where, 'client', 'must be a string or an integer');
  }
  if (typeof key !== 'string') bad(where, 'key', 'must be a string');
  if (!isOpName(op)) bad(where, 'op', `must be one of ${Object.keys(OP_SHAPES).join(', ')}, got ${JSON.stringify(op)}`);
  if (!Array.isArray(args)) bad(where, 'args', 'must be an array');
  if (typeof start !== 'number' || !Number.isFinite(start)) bad(where, 'start', 'must be a finite number');
  if (!isObject(result)) bad(where, 'result', 'must be an object with a status');
  const status = result['status'];
  if (status !== 'ok' && status !== 'fail' && status !== 'unknown') {
    bad(where, 'result.status', `must be ok, fail or unknown, got ${JSON.stringify(status)}`);
  }
  if (end !== null || status !== 'unknown') {
    if (typeof end !== 'number' || !Number.isFinite(end)) bad(where, 'end', 'must be a finite number (null only when unknown)');
    if (end < start) bad(where, 'end', `(${end}) is before start (${start})`);
  }
  const record: HistoryRecord = { client, key, op, args: args as HistoryValue[], start, end, result: resultOf(result, status, where) };
  // Compiling checks args and the ok value against the op's shape.
  toModelOp(record, where);
  return record;
}

/** A typed copy of the result object (unknown fields dropped); values are checked by toModelOp. */
function resultOf(x: Record<string, unknown>, status: HistoryResult['status'], where: string): HistoryResult {
  if (status !== 'ok') {
    const error = x['error'];
    if (error !== undefined && typeof error !== 'string') bad(where, 'result.error', 'must be a string');
    return error === undefined ? { status } : { status, error };
  }
  const value = x['value'];
  const current = x['current'];
  if (value !== undefined && value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    bad(where, 'result.value', 'must be a string, number, boolean or null');
  }
  const out: { status: 'ok'; value?: HistoryValue; current?: string | null } = { status };
  if (value !== undefined) out.value = value as HistoryValue;
  if (current !== undefined) out.current = current as string | null;
  return out;
}

/**
 * The model operation for a record that may have taken effect: `ok` and `unknown` ones.
 * `fail` records never reach the model. `where` prefixes errors.
 */
export function toModelOp(r: HistoryRecord, where = `operation of client ${r.client}`): ModelOp {
  const known = r.result.status === 'ok';
  const v = r.result.status === 'ok' ? r.result.value : undefined;
  const arity = (min: number, max: number): void => {
    if (r.args.length < min || r.args.length > max) bad(where, 'args', `of ${r.op} must be: ${OP_SHAPES[r.op]}`);
  };
  const str = (i: number): string => {
    const a = r.args[i];
    if (typeof a !== 'string') bad(where, `args[${i}]`, `of ${r.op} must be a string`);
    return a;
  };
  const strOrNull = (i: number): string | undefined => (r.args[i] === null ? undefined : str(i));
  const okBool = (): boolean | undefined => {
    if (!known) return undefined;
    if (v === true || v === 1) return true;
    if (v === false || v === 0) return false;
    if (v === undefined || v === null) return r.op === 'delete' ? undefined : bad(where, 'result.value', `of ${r.op} must be true or false`);
    return bad(where, 'result.value', `of ${r.op} must be true or false`);
  };
  const noValue = (): void => {
    if (known && v !== undefined && v !== null) bad(where, 'result.value', `of ${r.op} must be absent: ${OP_SHAPES[r.op]}`);
  };
  switch (r.op) {
    case 'get': {
      arity(0, 0);
      if (known && v !== null && typeof v !== 'string') bad(where, 'result.value', 'of get must be a string or null');
      return { kind: 'get', value: typeof v === 'string' ? v : undefined };
    }
    case 'put':
      arity(1, 1);
      noValue();
      return { kind: 'put', value: str(0) };
    case 'delete':
      arity(0, 0);
      return { kind: 'delete', existed: okBool() };
    case 'cas':
      arity(2, 2);
      return casOp(r, where, strOrNull(0), strOrNull(1), okBool());
    case 'put-if-absent':
      arity(1, 1);
      return { kind: 'put-if-absent', value: str(0), stored: okBool() };
    case 'increment':
      arity(0, 1);
      return { kind: 'increment', delta: integerArg(r, where), result: known ? integerOf(v, where, 'result.value') : undefined };
    case 'append': {
      arity(1, 1);
      if (known && v !== undefined && v !== null && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
        bad(where, 'result.value', 'of append must be a length (a non-negative integer) or absent');
      }
      return { kind: 'append', suffix: str(0), length: typeof v === 'number' ? v : undefined };
    }
    default: {
      const never: never = r.op;
      return bad(where, 'op', `is unknown: ${JSON.stringify(never)}`);
    }
  }
}

function casOp(r: HistoryRecord, where: string, expected: string | undefined, next: string | undefined, swapped: boolean | undefined): ModelOp {
  const c = r.result.status === 'ok' ? r.result.current : undefined;
  if (c !== undefined && c !== null && typeof c !== 'string') bad(where, 'result.current', 'of cas must be a string or null');
  if (c !== undefined && swapped !== false) bad(where, 'result.current', 'of cas is only meaningful when value is false');
  return { kind: 'cas', expected, next, swapped, current: c === undefined ? undefined : { value: c ?? undefined } };
}

function integerOf(x: unknown, where: string, field: string): bigint {
  const n = typeof x === 'number' && Number.isSafeInteger(x) ? BigInt(x) : typeof x === 'string' ? parseInt64(x) : undefined;
  if (n === undefined || (typeof x === 'string' && x.length === 0)) bad(where, field, 'must be a 64-bit integer (a decimal string or a safe integer)');
  return n;
}

function integerArg(r: HistoryRecord, where: string): bigint {
  return r.args.length === 0 ? 1n : integerOf(r.args[0], where, 'args[0]');
}

/** One line of the file, without the newline; validates first. */
export function formatRecord(r: HistoryRecord): string {
  validateRecord(r, `history record of client ${r.client}`);
  return JSON.stringify({ client: r.client, key: r.key, op: r.op, args: r.args, start: r.start, end: r.end, result: r.result });
}

/** The whole text of a history file (one line per record, each ending in a newline). */
export function formatHistory(records: readonly HistoryRecord[]): string {
  return records.map((r) => `${formatRecord(r)}\n`).join('');
}

/** Parses a history file's text; blank lines are skipped; `source` names it in errors. */
export function parseHistory(text: string, source = 'history'): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line.length === 0) continue;
    const where = `${source} line ${i + 1}`;
    if (line.length > HISTORY_LINE_CHARS_MAX) bad(where, 'record', `is longer than ${HISTORY_LINE_CHARS_MAX} chars`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      throw new KvError('INVALID_ARGUMENT', `${where}: not valid JSON (${(e as Error).message})`, {
        details: { option: 'record' }, cause: e,
      });
    }
    records.push(validateRecord(parsed, where));
  }
  return records;
}
