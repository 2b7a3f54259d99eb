/**
 * Hash commands (Redis 7.0 t_hash.c): HSET HMSET HSETNX HGET HMGET HDEL HEXISTS HLEN
 * HGETALL HKEYS HVALS HINCRBY HINCRBYFLOAT HSTRLEN HRANDFIELD (HSCAN is in cmd-scan.ts).
 * A field is a subkey `version | field` holding the value.
 */
import { arg, countArg, int64Arg, is, keyArg, keys, memberArg, pairsFrom, valueArg } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { openForWrite, saveMeta } from './collection.js';
import { RedisType } from './encoding.js';
import { keyId } from './memory-view.js';
import {
  addI64, addLongDouble, formatI64, formatLongDouble, parseI64, parseLongDouble,
} from './numbers.js';
import { array, bulk, bulkOrNull, EMPTY_ARRAY, Err, error, int, map, NULL, OK } from './reply.js';
import type { Reply } from './reply.js';
import { pickDistinct, pickWithRepeats, randomIndex } from './sampling.js';
import { fail } from './txn.js';

const utf8 = new TextEncoder();
const H = RedisType.Hash;
/** LONG_MAX / 2: the WITHVALUES count limit (the reply has twice as many elements). */
export const HALF_LONG_MAX = (1n << 62n) - 1n;

async function hsetGeneric(env: CommandEnv, okReply: boolean): Promise<Reply> {
  const key = keyArg(env, 1);
  const pairs = pairsFrom(env, 2).map(([f, v]) => [memberArg(env, f), valueArg(env, v)] as const);
  const o = await openForWrite(env, key, H);
  // In a fresh hash only this command's own fields exist: no reads needed to count new ones.
  const seen = new Set<string>();
  let added = 0;
  for (const [f, v] of pairs) {
    const exists = o.fresh ? seen.has(keyId(f)) : (await env.txn.getSub(key, o.meta, f)) !== undefined;
    if (!exists) added++;
    if (o.fresh) seen.add(keyId(f));
    env.txn.putSub(key, o.meta.version, f, v);
  }
  saveMeta(env, key, { ...o.meta, size: o.meta.size + added });
  return okReply ? OK : int(added);
}

async function hsetnx(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const f = memberArg(env, 2);
  const v = valueArg(env, 3);
  const o = await openForWrite(env, key, H);
  if (!o.fresh && (await env.txn.getSub(key, o.meta, f)) !== undefined) return int(0);
  env.txn.putSub(key, o.meta.version, f, v);
  saveMeta(env, key, { ...o.meta, size: o.meta.size + 1 });
  return int(1);
}

async function hget(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const meta = await env.txn.readCollection(key, H);
  return meta === undefined ? NULL : bulkOrNull(await env.txn.getSub(key, meta, arg(env, 2)));
}

async function hmget(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const meta = await env.txn.readCollection(key, H);
  const out: Reply[] = [];
  for (let i = 2; i < env.args.length; i++) {
    out.push(meta === undefined ? NULL : bulkOrNull(await env.txn.getSub(key, meta, arg(env, i))));
  }
  return array(out);
}

async function hdel(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const meta = await env.txn.readCollection(key, H);
  if (meta === undefined) return int(0);
  let removed = 0;
  for (let i = 2; i < env.args.length; i++) {
    const f = arg(env, i);
    if ((await env.txn.getSub(key, meta, f)) === undefined) continue;
    env.txn.delSub(key, meta.version, f);
    removed++;
  }
  if (removed > 0) saveMeta(env, key, { ...meta, size: meta.size - removed });
  return int(removed);
}

async function hlen(env: CommandEnv): Promise<Reply> {
  return int((await env.txn.readCollection(keyArg(env, 1), H))?.size ?? 0);
}

async function hexists(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const meta = await env.txn.readCollection(key, H);
  return int(meta !== undefined && (await env.txn.getSub(key, meta, arg(env, 2))) !== undefined ? 1 : 0);
}

async function hstrlen(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const meta = await env.txn.readCollection(key, H);
  return int(meta === undefined ? 0 : (await env.txn.getSub(key, meta, arg(env, 2)))?.length ?? 0);
}

async function fields(env: CommandEnv, key: Uint8Array): Promise<(readonly [Uint8Array, Uint8Array])[]> {
  const meta = await env.txn.readCollection(key, H);
  return meta === undefined ? [] : env.txn.allSubs(key, meta.version);
}

async function hgetall(env: CommandEnv): Promise<Reply> {
  const all = await fields(env, keyArg(env, 1));
  return map(all.map(([f, v]) => [bulk(f), bulk(v)] as const));
}

async function hkeys(env: CommandEnv): Promise<Reply> {
  return array((await fields(env, keyArg(env, 1))).map(([f]) => bulk(f)));
}

async function hvals(env: CommandEnv): Promise<Reply> {
  return array((await fields(env, keyArg(env, 1))).map(([, v]) => bulk(v)));
}

async function hincrby(env: CommandEnv): Promise<Reply> {
  const incr = int64Arg(env, 3);
  const key = keyArg(env, 1);
  const f = memberArg(env, 2);
  const o = await openForWrite(env, key, H);
  const cur = o.fresh ? undefined : await env.txn.getSub(key, o.meta, f);
  let base = 0n;
  if (cur !== undefined) {
    const v = parseI64(cur);
    if (v === undefined) return Err.hashNotInteger;
    base = v;
  }
  const next = addI64(base, incr);
  if (next === undefined) return Err.overflow;
  env.txn.putSub(key, o.meta.version, f, formatI64(next));
  saveMeta(env, key, { ...o.meta, size: o.meta.size + (cur === undefined ? 1 : 0) }, cur === undefined);
  return int(next);
}

async function hincrbyfloat(env: CommandEnv): Promise<Reply> {
  const incr = parseLongDouble(arg(env, 3));
  if (incr === undefined) return Err.notFloat;
  if (incr.kind === 'inf') return error('ERR value is NaN or Infinity');
  const key = keyArg(env, 1);
  const f = memberArg(env, 2);
  const o = await openForWrite(env, key, H);
  const cur = o.fresh ? undefined : await env.txn.getSub(key, o.meta, f);
  const base = parseLongDouble(cur ?? utf8.encode('0'));
  if (base === undefined) return Err.hashNotFloat;
  const sum = addLongDouble(base, incr);
  if (sum === undefined) return Err.nanOrInfinity;
  const out = utf8.encode(formatLongDouble(sum));
  env.txn.putSub(key, o.meta.version, f, out);
  saveMeta(env, key, { ...o.meta, size: o.meta.size + (cur === undefined ? 1 : 0) }, cur === undefined);
  return bulk(out);
}

/** HRANDFIELD key [count [WITHVALUES]] (hrandfieldWithCountCommand). */
async function hrandfield(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  if (env.args.length === 2) {
    const meta = await env.txn.readCollection(key, H);
    if (meta === undefined) return NULL;
    const n = randomIndex(env.random, meta.size);
    const entries = await env.txn.allSubs(key, meta.version, { limit: n + 1 });
    return bulk(entries[n]![0]);
  }
  const l = countArg(env, 2);
  if (env.args.length > 4 || (env.args.length === 4 && !is(env.args[3], 'withvalues'))) fail(Err.syntax);
  const withValues = env.args.length === 4;
  if (withValues && (l < -HALF_LONG_MAX || l > HALF_LONG_MAX)) fail(Err.outOfRange);
  const meta = await env.txn.readCollection(key, H);
  if (meta === undefined || l === 0n) return EMPTY_ARRAY;
  const all = await env.txn.allSubs(key, meta.version);
  const count = Number(l < 0n ? -l : l);
  const picked = l < 0n || count === 1 ? pickWithRepeats(all, count, env.random)
    : count >= all.length ? all : pickDistinct(all, count, env.random);
  return fieldValueReply(env, picked, withValues);
}

/** Fields, or (WITHVALUES) field-value pairs: nested in RESP3, flat in RESP2. */
function fieldValueReply(env: CommandEnv, entries: readonly (readonly [Uint8Array, Uint8Array])[], withValues: boolean): Reply {
  if (!withValues) return array(entries.map(([f]) => bulk(f)));
  if (env.resp3) return array(entries.map(([f, v]) => array([bulk(f), bulk(v)])));
  return array(entries.flatMap(([f, v]) => [bulk(f), bulk(v)]));
}

const W = true;
const R = false;

export const HASH_COMMANDS: readonly CommandSpec[] = [
  { name: 'hset', arity: -4, write: W, keys: keys(1, 1), run: (env) => hsetGeneric(env, false) },
  { name: 'hmset', arity: -4, write: W, keys: keys(1, 1), run: (env) => hsetGeneric(env, true) },
  { name: 'hsetnx', arity: 4, write: W, keys: keys(1, 1), run: hsetnx },
  { name: 'hget', arity: 3, write: R, keys: keys(1, 1), run: hget },
  { name: 'hmget', arity: -3, write: R, keys: keys(1, 1), run: hmget },
  { name: 'hdel', arity: -3, write: W, keys: keys(1, 1), run: hdel },
  { name: 'hlen', arity: 2, write: R, keys: keys(1, 1), run: hlen },
  { name: 'hexists', arity: 3, write: R, keys: keys(1, 1), run: hexists },
  { name: 'hstrlen', arity: 3, write: R, keys: keys(1, 1), run: hstrlen },
  { name: 'hgetall', arity: 2, write: R, keys: keys(1, 1), run: hgetall },
  { name: 'hkeys', arity: 2, write: R, keys: keys(1, 1), run: hkeys },
  { name: 'hvals', arity: 2, write: R, keys: keys(1, 1), run: hvals },
  { name: 'hincrby', arity: 4, write: W, keys: keys(1, 1), run: hincrby },
  { name: 'hincrbyfloat', arity: 4, write: W, keys: keys(1, 1), run: hincrbyfloat },
  { name: 'hrandfield', arity: -2, write: R, keys: keys(1, 1), run: hrandfield },
];
