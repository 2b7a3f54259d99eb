/**
 * List commands (Redis 7.0 t_list.c): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE
 * LINDEX LSET LREM LTRIM LINSERT LPOS LMOVE RPOPLPUSH.
 *
 * Elements are subkeys `version | index u64be`, contiguous in [head, tail) (metadata);
 * a new list starts in the middle of the index space so both ends grow. Pushes, pops,
 * LINDEX, LSET and LTRIM are O(1) writes (LTRIM and multi-pops delete index ranges);
 * LINSERT and LREM rewrite the elements after the change (O(n)), as in Kvrocks.
 */
import { arg, equal, int64Arg, intArg, is, keyArg, keys, nonNegativeArg, valueArg } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { openForWrite, saveMeta } from './collection.js';
import { LIST_INDEX_MAX, LIST_INDEX_START, RedisType, u64Bytes } from './encoding.js';
import type { Meta } from './encoding.js';
import { array, bulk, bulkOrNull, EMPTY_ARRAY, Err, error, int, NULL, NULL_ARRAY, OK } from './reply.js';
import type { Reply } from './reply.js';
import { fail } from './txn.js';

const L = RedisType.List;

function idx(n: number): Uint8Array {
  return u64Bytes(n);
}

/** Elements at positions [from, to) (0-based from the head), in order or reversed. */
async function elements(env: CommandEnv, key: Uint8Array, m: Meta, from: number, to: number, reverse = false): Promise<Uint8Array[]> {
  if (from >= to) return [];
  const out: Uint8Array[] = [];
  for await (const [, v] of env.txn.subs(key, m.version, { from: idx(m.head + from), to: idx(m.head + to), reverse })) out.push(v);
  return out;
}

function withBounds(m: Meta, head: number, tail: number): Meta {
  if (head < 0 || tail > LIST_INDEX_MAX) fail(error('ERR list index space exhausted'));
  return { ...m, head, tail, size: tail - head };
}

async function push(env: CommandEnv, left: boolean, onlyIfExists: boolean): Promise<Reply> {
  const key = keyArg(env, 1);
  const values: Uint8Array[] = [];
  for (let i = 2; i < env.args.length; i++) values.push(valueArg(env, i));
  let m: Meta;
  if (onlyIfExists) {
    const cur = await env.txn.readCollection(key, L);
    if (cur === undefined) return int(0);
    m = cur;
  } else {
    m = (await openForWrite(env, key, L, LIST_INDEX_START)).meta;
  }
  let { head, tail } = m;
  for (const v of values) {
    if (left) env.txn.putSub(key, m.version, idx(--head), v);
    else env.txn.putSub(key, m.version, idx(tail++), v);
  }
  const next = withBounds(m, head, tail);
  saveMeta(env, key, next);
  return int(next.size);
}

/** Removes `n` elements from one end and returns them in pop order. */
async function popN(env: CommandEnv, key: Uint8Array, m: Meta, n: number, left: boolean): Promise<{ values: Uint8Array[]; meta: Meta }> {
  const values = left ? await elements(env, key, m, 0, n) : await elements(env, key, m, m.size - n, m.size, true);
  const head = left ? m.head + n : m.head;
  const tail = left ? m.tail : m.tail - n;
  if (n === 1) env.txn.delSub(key, m.version, idx(left ? m.head : m.tail - 1));
  else if (n > 1) env.txn.deleteRange(env.txn.codec.subSpan(key, m.version, idx(left ? m.head : tail), idx(left ? head : m.tail)));
  return { values, meta: withBounds(m, head, tail) };
}

async function pop(env: CommandEnv, left: boolean): Promise<Reply> {
  if (env.args.length > 3) return Err.wrongArgs(env.name);
  const hasCount = env.args.length === 3;
  const count = hasCount ? nonNegativeArg(env, 2) : 1;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return hasCount ? NULL_ARRAY : NULL;
  if (hasCount && count === 0) return EMPTY_ARRAY;
  const r = await popN(env, key, m, Math.min(count, m.size), left);
  saveMeta(env, key, r.meta);
  return hasCount ? array(r.values.map((v) => bulk(v))) : bulk(r.values[0]!);
}

async function llen(env: CommandEnv): Promise<Reply> {
  return int((await env.txn.readCollection(keyArg(env, 1), L))?.size ?? 0);
}

/** Redis' start/end sanitising for LRANGE and LTRIM: [start, end] inclusive, or undefined when empty. */
function clampRange(start: number, end: number, len: number): [number, number] | undefined {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return undefined;
  if (end >= len) end = len - 1;
  return [start, end];
}

async function lrange(env: CommandEnv): Promise<Reply> {
  const start = intArg(env, 2);
  const end = intArg(env, 3);
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return EMPTY_ARRAY;
  const r = clampRange(start, end, m.size);
  if (r === undefined) return EMPTY_ARRAY;
  return array((await elements(env, key, m, r[0], r[1] + 1)).map((v) => bulk(v)));
}

async function lindex(env: CommandEnv): Promise<Reply> {
  const index = intArg(env, 2);
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return NULL;
  const pos = index < 0 ? m.size + index : index;
  if (pos < 0 || pos >= m.size) return NULL;
  return bulkOrNull(await env.txn.getSub(key, m, idx(m.head + pos)));
}

async function lset(env: CommandEnv): Promise<Reply> {
  const index = intArg(env, 2);
  const key = keyArg(env, 1);
  const value = valueArg(env, 3);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return Err.noSuchKey;
  const pos = index < 0 ? m.size + index : index;
  if (pos < 0 || pos >= m.size) return Err.indexOutOfRange;
  env.txn.putSub(key, m.version, idx(m.head + pos), value);
  return OK;
}

async function ltrim(env: CommandEnv): Promise<Reply> {
  const start = intArg(env, 2);
  const end = intArg(env, 3);
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return OK;
  const r = clampRange(start, end, m.size);
  if (r === undefined) {
    env.txn.deleteKey(key);
    return OK;
  }
  const head = m.head + r[0];
  const tail = m.head + r[1] + 1;
  if (head > m.head) env.txn.deleteRange(env.txn.codec.subSpan(key, m.version, idx(m.head), idx(head)));
  if (tail < m.tail) env.txn.deleteRange(env.txn.codec.subSpan(key, m.version, idx(tail), idx(m.tail)));
  if (head !== m.head || tail !== m.tail) saveMeta(env, key, withBounds(m, head, tail));
  return OK;
}

/** Rewrites positions [from, size) of the list with `rest` (the new tail part) and stores the metadata. */
function rewriteFrom(env: CommandEnv, key: Uint8Array, m: Meta, from: number, rest: readonly Uint8Array[]): void {
  if (from + rest.length === 0) {
    env.txn.deleteKey(key);
    return;
  }
  for (let i = 0; i < rest.length; i++) env.txn.putSub(key, m.version, idx(m.head + from + i), rest[i]!);
  const tail = m.head + from + rest.length;
  if (tail < m.tail) env.txn.deleteRange(env.txn.codec.subSpan(key, m.version, idx(tail), idx(m.tail)));
  saveMeta(env, key, withBounds(m, m.head, tail));
}

async function lrem(env: CommandEnv): Promise<Reply> {
  const count = intArg(env, 2);
  const key = keyArg(env, 1);
  const target = arg(env, 3);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return int(0);
  const all = await elements(env, key, m, 0, m.size);
  const remove = new Set<number>();
  const limit = count === 0 ? Number.POSITIVE_INFINITY : Math.abs(count);
  for (let k = 0; k < all.length && remove.size < limit; k++) {
    const i = count < 0 ? all.length - 1 - k : k;
    if (equal(all[i]!, target)) remove.add(i);
  }
  if (remove.size === 0) return int(0);
  const first = Math.min(...remove);
  rewriteFrom(env, key, m, first, all.slice(first).filter((_, j) => !remove.has(first + j)));
  return int(remove.size);
}

async function linsert(env: CommandEnv): Promise<Reply> {
  let after: boolean;
  if (is(env.args[2], 'after')) after = true;
  else if (is(env.args[2], 'before')) after = false;
  else return Err.syntax;
  const key = keyArg(env, 1);
  const pivot = arg(env, 3);
  const value = valueArg(env, 4);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return int(0);
  const all = await elements(env, key, m, 0, m.size);
  const p = all.findIndex((e) => equal(e, pivot));
  if (p < 0) return int(-1);
  const q = after ? p + 1 : p;
  if (q <= all.length / 2) {
    // Shift the elements before the insertion point one slot towards the head.
    for (let i = 0; i < q; i++) env.txn.putSub(key, m.version, idx(m.head - 1 + i), all[i]!);
    env.txn.putSub(key, m.version, idx(m.head - 1 + q), value);
    saveMeta(env, key, withBounds(m, m.head - 1, m.tail));
  } else {
    for (let i = all.length - 1; i >= q; i--) env.txn.putSub(key, m.version, idx(m.head + i + 1), all[i]!);
    env.txn.putSub(key, m.version, idx(m.head + q), value);
    saveMeta(env, key, withBounds(m, m.head, m.tail + 1));
  }
  return int(m.size + 1);
}

async function lpos(env: CommandEnv): Promise<Reply> {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < env.args.length; j++) {
    const more = j < env.args.length - 1;
    const a = env.args[j];
    if (is(a, 'rank') && more) {
      const r = int64Arg(env, ++j);
      if (r === -(1n << 63n)) return error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
      if (r === 0n) {
        return error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
      }
      rank = Number(r < -(2n ** 53n) ? -(2n ** 53n) : r > 2n ** 53n ? 2n ** 53n : r);
    } else if (is(a, 'count') && more) {
      count = nonNegativeArg(env, ++j, error("ERR COUNT can't be negative"));
    } else if (is(a, 'maxlen') && more) {
      maxlen = nonNegativeArg(env, ++j, error("ERR MAXLEN can't be negative"));
    } else {
      return Err.syntax;
    }
  }
  const fromTail = rank < 0;
  rank = Math.abs(rank);
  const key = keyArg(env, 1);
  const target = arg(env, 2);
  const m = await env.txn.readCollection(key, L);
  if (m === undefined) return count !== -1 ? EMPTY_ARRAY : NULL;
  const scan = maxlen === 0 ? m.size : Math.min(maxlen, m.size);
  const seen = fromTail ? await elements(env, key, m, m.size - scan, m.size, true) : await elements(env, key, m, 0, scan);
  const found: Reply[] = [];
  let matches = 0;
  for (let i = 0; i < seen.length; i++) {
    if (!equal(seen[i]!, target)) continue;
    matches++;
    if (matches < rank) continue;
    found.push(int(fromTail ? m.size - i - 1 : i));
    if (count === -1 || (count !== 0 && matches - rank + 1 >= count)) break;
  }
  if (count !== -1) return array(found);
  return found[0] ?? NULL;
}

function whereArg(env: CommandEnv, i: number): boolean {
  if (is(env.args[i], 'left')) return true;
  if (is(env.args[i], 'right')) return false;
  return fail(Err.syntax);
}

/** lmoveGenericCommand: pop from `src` at one end, push to `dst` at one end. */
async function lmove(env: CommandEnv, fromLeft: boolean, toLeft: boolean): Promise<Reply> {
  const src = keyArg(env, 1);
  const dst = keyArg(env, 2);
  const s = await env.txn.readCollection(src, L);
  if (s === undefined) return NULL;
  if (equal(src, dst)) {
    const r = await popN(env, src, s, 1, fromLeft);
    const value = r.values[0]!;
    let { head, tail } = r.meta;
    if (toLeft) env.txn.putSub(src, s.version, idx(--head), value);
    else env.txn.putSub(src, s.version, idx(tail++), value);
    saveMeta(env, src, withBounds(s, head, tail), head !== s.head || tail !== s.tail);
    return bulk(value);
  }
  await env.txn.readCollection(dst, L);
  const r = await popN(env, src, s, 1, fromLeft);
  const value = r.values[0]!;
  saveMeta(env, src, r.meta);
  const d = (await openForWrite(env, dst, L, LIST_INDEX_START)).meta;
  let { head, tail } = d;
  if (toLeft) env.txn.putSub(dst, d.version, idx(--head), value);
  else env.txn.putSub(dst, d.version, idx(tail++), value);
  saveMeta(env, dst, withBounds(d, head, tail));
  return bulk(value);
}

const W = true;
const R = false;

export const LIST_COMMANDS: readonly CommandSpec[] = [
  { name: 'lpush', arity: -3, write: W, keys: keys(1, 1), run: (env) => push(env, true, false) },
  { name: 'rpush', arity: -3, write: W, keys: keys(1, 1), run: (env) => push(env, false, false) },
  { name: 'lpushx', arity: -3, write: W, keys: keys(1, 1), run: (env) => push(env, true, true) },
  { name: 'rpushx', arity: -3, write: W, keys: keys(1, 1), run: (env) => push(env, false, true) },
  { name: 'lpop', arity: -2, write: W, keys: keys(1, 1), run: (env) => pop(env, true) },
  { name: 'rpop', arity: -2, write: W, keys: keys(1, 1), run: (env) => pop(env, false) },
  { name: 'llen', arity: 2, write: R, keys: keys(1, 1), run: llen },
  { name: 'lrange', arity: 4, write: R, keys: keys(1, 1), run: lrange },
  { name: 'lindex', arity: 3, write: R, keys: keys(1, 1), run: lindex },
  { name: 'lset', arity: 4, write: W, keys: keys(1, 1), run: lset },
  { name: 'lrem', arity: 4, write: W, keys: keys(1, 1), run: lrem },
  { name: 'ltrim', arity: 4, write: W, keys: keys(1, 1), run: ltrim },
  { name: 'linsert', arity: 5, write: W, keys: keys(1, 1), run: linsert },
  { name: 'lpos', arity: -3, write: R, keys: keys(1, 1), run: lpos },
  {
    name: 'lmove', arity: 5, write: W, keys: keys(1, 2), run: (env) => {
      const from = whereArg(env, 3);
      return lmove(env, from, whereArg(env, 4));
    },
  },
  { name: 'rpoplpush', arity: 3, write: W, keys: keys(1, 2), run: (env) => lmove(env, false, true) },
];
