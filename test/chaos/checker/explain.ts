/**
 * Turns a failed search into one line a person can act on: which operation could not be
 * placed, what the key could hold when it had to take effect, and the operations that
 * matter around it (the writes of the value a read returned, what overwrote them, what
 * ran concurrently).
 */
import type { HistoryRecord } from './history.js';
import type { ModelOp, RegisterState } from './model.js';
import { canProduce, showValue } from './model.js';
import { BLOCK_STATES_MAX } from './search.js';

/** How many related operations a message lists, each time. */
const LISTED_OPS_MAX = 3;

/** One record of a key, with its model op (absent for `fail` records). */
export interface KeyedOp {
  readonly record: HistoryRecord;
  readonly model: ModelOp | undefined;
}

function interval(r: HistoryRecord): string {
  return r.result.status === 'unknown' ? `[${r.start}, ?)` : `[${r.start}, ${r.end}]`;
}

function args(r: HistoryRecord): string {
  const a = r.args.map((x) => (x === null ? 'absent' : typeof x === 'string' ? showValue(x, 24) : String(x)));
  return r.op === 'cas' ? `(${a[0] ?? '?'} → ${a[1] ?? '?'})` : a.length === 0 ? '' : ` ${a.join(' ')}`;
}

function outcome(r: HistoryRecord): string {
  const res = r.result;
  if (res.status !== 'ok') return res.status === 'fail' ? 'failed' : 'outcome unknown';
  const v = res.value;
  switch (r.op) {
    case 'get':
      return `returned ${showValue(typeof v === 'string' ? v : undefined)}`;
    case 'cas':
      return v === true || v === 1 ? 'swapped'
        : `did not swap${res.current === undefined ? '' : ` (found ${showValue(res.current ?? undefined)})`}`;
    case 'put-if-absent':
      return v === true || v === 1 ? 'stored' : 'did not store (key existed)';
    case 'delete':
      return v === undefined || v === null ? 'ok' : v === true || v === 1 ? 'ok (key existed)' : 'ok (key was absent)';
    case 'increment':
      return `returned ${String(v)}`;
    case 'append':
      return v === undefined || v === null ? 'ok' : `returned length ${String(v)}`;
    case 'put':
      return 'ok';
    default: {
      const never: never = r.op;
      return String(never);
    }
  }
}

/** e.g. `cas("a" → "b") by client 3 at [120, 180] swapped`. */
export function describeRecord(r: HistoryRecord): string {
  return `${r.op}${args(r)} by client ${String(r.client).replace(/\s/g, ' ')} at ${interval(r)} ${outcome(r)}`;
}

function list(ops: readonly KeyedOp[]): string {
  const shown = ops.slice(0, LISTED_OPS_MAX).map((o) => describeRecord(o.record)).join(', ');
  return ops.length > LISTED_OPS_MAX ? `${shown} and ${ops.length - LISTED_OPS_MAX} more` : shown;
}

function endOf(r: HistoryRecord): number {
  return r.result.status === 'unknown' || r.end === null ? Infinity : r.end;
}

/** True when an ok op certainly changed the register (or replaced it with a same-kind write). */
function isWrite(m: ModelOp): boolean {
  switch (m.kind) {
    case 'get': return false;
    case 'cas': return m.swapped === true;
    case 'put-if-absent': return m.stored === true;
    default: return true;
  }
}

/** For a read of `value`: who wrote it, or that nobody did, and what overwrote it before the read began. */
function readContext(blocked: KeyedOp, value: RegisterState, ops: readonly KeyedOp[]): string[] {
  if (value === undefined) return [];
  const writers = ops.filter((o) => o !== blocked && o.model !== undefined && canProduce(o.model, value));
  if (writers.length === 0) return [`no operation on this key ever wrote ${showValue(value)}`];
  const parts = [`the writes of ${showValue(value)}: ${list(writers)}`];
  const lastWriteEnd = Math.max(...writers.map((o) => endOf(o.record)));
  const overwriters = ops.filter((o) => o.record.result.status === 'ok' && o.model !== undefined && isWrite(o.model)
    && !canProduce(o.model, value) && o.record.start > lastWriteEnd && endOf(o.record) < blocked.record.start);
  // The latest first: the write closest to the read is the most telling.
  overwriters.sort((a, b) => endOf(b.record) - endOf(a.record));
  if (overwriters.length > 0) parts.push(`overwritten before the read began by ${list(overwriters)}`);
  return parts;
}

/** The ops whose interval meets `op`'s and that could matter (not failed, not unknown reads), ok ones first. */
function overlapping(op: KeyedOp, ops: readonly KeyedOp[]): KeyedOp[] {
  const r = op.record;
  const unknown = (o: KeyedOp): boolean => o.record.result.status === 'unknown';
  return ops.filter((o) => o !== op && o.model !== undefined && !(unknown(o) && o.model.kind === 'get')
    && o.record.start <= endOf(r) && endOf(o.record) >= r.start)
    .sort((a, b) => Number(unknown(a)) - Number(unknown(b)) || a.record.start - b.record.start);
}

/** The earliest-ending ok read of a value that no operation of the key could have written. */
export function unwrittenRead(ops: readonly KeyedOp[]): KeyedOp | undefined {
  const writers = ops.filter((o) => o.model !== undefined && o.model.kind !== 'get');
  let found: KeyedOp | undefined;
  for (const o of ops) {
    if (o.model?.kind !== 'get' || o.record.result.status !== 'ok' || o.model.value === undefined) continue;
    if (found !== undefined && endOf(found.record) <= endOf(o.record)) continue;
    const value = o.model.value;
    if (!writers.some((w) => canProduce(w.model as ModelOp, value))) found = o;
  }
  return found;
}

/** The explanation when a read returned a value no operation wrote (found without the search). */
export function explainUnwrittenRead(key: string, read: KeyedOp, ops: readonly KeyedOp[]): string {
  const r = read.record;
  const value = read.model?.kind === 'get' ? read.model.value : undefined;
  const concurrent = overlapping(read, ops);
  return [`key ${JSON.stringify(key)}: ${describeRecord(r)}, but no operation on this key ever wrote ${showValue(value)}`,
    concurrent.length === 0 ? 'no operation overlaps it' : `overlapping it: ${list(concurrent)}`].join('; ');
}

/**
 * The explanation for key `key`, where `blocked` is the operation whose return the search
 * could not get past and `states` what the key held in the branches that got that far.
 */
export function explainViolation(
  key: string, blocked: KeyedOp, found: { readonly statesAtBlock: readonly RegisterState[]; readonly shortest: boolean }, ops: readonly KeyedOp[],
): string {
  const r = blocked.record;
  const states = found.statesAtBlock;
  const held = states.map((s) => showValue(s)).join(' or ');
  const couldOnly = states.length < BLOCK_STATES_MAX ? 'could only hold' : 'held, among others,';
  const parts = [states.length === 0
    ? `key ${JSON.stringify(key)}: ${describeRecord(r)}, but no order of the operations before it allows that`
    : `key ${JSON.stringify(key)}: ${describeRecord(r)}, but the key ${couldOnly} ${held} when it had to take effect`];
  if (blocked.model?.kind === 'get') parts.push(...readContext(blocked, blocked.model.value, ops));
  const end = endOf(r);
  const prefix = ops.filter((o) => o.record.start <= end).length;
  // A cut at the op's end: operations still running then may be left out, but keep their results.
  parts.push(`the ${prefix} ops on this key that started by ${end} admit no linearization (with the results they returned)`);
  if (found.shortest) parts.push('every earlier cut does');
  const concurrent = overlapping(blocked, ops);
  parts.push(concurrent.length === 0 ? 'no operation overlaps it' : `overlapping it: ${list(concurrent)}`);
  return parts.join('; ');
}
