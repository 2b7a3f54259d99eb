/**
 * String commands (Redis 7.0 t_string.c semantics): GET SET SETNX SETEX PSETEX GETSET
 * GETDEL GETEX MGET MSET MSETNX INCR DECR INCRBY DECRBY INCRBYFLOAT APPEND STRLEN
 * GETRANGE SETRANGE. A string is the engine's plain value (type 0), so the KV API reads it.
 */
import {
  arg, int64Arg, is, keyArg, keys, pairsFrom, valueArg,
} from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import {
  addI64, addLongDouble, formatI64, formatLongDouble, INT64_MAX, INT64_MIN, parseI64, parseLongDouble,
} from './numbers.js';
import { bulk, bulkOrNull, Err, error, int, NULL, OK, array } from './reply.js';
import type { Reply } from './reply.js';
import { fail } from './txn.js';

const utf8 = new TextEncoder();

/** An absolute expiry from an EX/PX/EXAT/PXAT argument (getExpireMillisecondsOrReply). */
export function expireArg(env: CommandEnv, i: number, unit: 's' | 'ms', absolute: boolean, name = env.name): number {
  const v = int64Arg(env, i);
  if (v <= 0n || (unit === 's' && v > INT64_MAX / 1000n)) fail(Err.invalidExpire(name));
  let ms = unit === 's' ? v * 1000n : v;
  if (!absolute) ms += BigInt(env.txn.nowMs);
  // Stored expiries are u64 below 2^53 (Redis allows up to 2^63: far beyond any real clock).
  if (ms <= 0n || ms > BigInt(Number.MAX_SAFE_INTEGER)) fail(Err.invalidExpire(name));
  return Number(ms);
}

type ExpireOpt = { readonly unit: 's' | 'ms'; readonly absolute: boolean; readonly at: number } | undefined;

interface SetFlags {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expire: ExpireOpt;
}

/** parseExtendedStringArgumentsOrReply: options of SET (from index 3) or GETEX (from index 2). */
function parseSetFlags(env: CommandEnv, from: number, forGet: boolean): SetFlags {
  const f: SetFlags = { nx: false, xx: false, get: false, keepTtl: false, persist: false, expire: undefined };
  const hasExpire = (): boolean => f.expire !== undefined;
  for (let j = from; j < env.args.length; j++) {
    const a = env.args[j]!;
    const more = j < env.args.length - 1;
    const other = (unit: 's' | 'ms', absolute: boolean): boolean =>
      f.expire !== undefined && (f.expire.unit !== unit || f.expire.absolute !== absolute);
    if (!forGet && is(a, 'nx') && !f.xx) f.nx = true;
    else if (!forGet && is(a, 'xx') && !f.nx) f.xx = true;
    else if (!forGet && is(a, 'get')) f.get = true;
    else if (!forGet && is(a, 'keepttl') && !f.persist && !hasExpire()) f.keepTtl = true;
    else if (forGet && is(a, 'persist') && !hasExpire() && !f.keepTtl) f.persist = true;
    else if (is(a, 'ex') && more && !f.keepTtl && !f.persist && !other('s', false)) f.expire = { unit: 's', absolute: false, at: ++j };
    else if (is(a, 'px') && more && !f.keepTtl && !f.persist && !other('ms', false)) f.expire = { unit: 'ms', absolute: false, at: ++j };
    else if (is(a, 'exat') && more && !f.keepTtl && !f.persist && !other('s', true)) f.expire = { unit: 's', absolute: true, at: ++j };
    else if (is(a, 'pxat') && more && !f.keepTtl && !f.persist && !other('ms', true)) f.expire = { unit: 'ms', absolute: true, at: ++j };
    else fail(Err.syntax);
  }
  return f;
}

/** Writes a string; an expiry already reached deletes the key instead (it would be invisible anyway). */
function writeString(env: CommandEnv, key: Uint8Array, value: Uint8Array, expireAtMs: number): void {
  if (expireAtMs !== 0 && expireAtMs <= env.txn.nowMs) env.txn.deleteKey(key);
  else env.txn.putString(key, value, expireAtMs);
}

/** setGenericCommand. `okReply`/`abortReply` replace OK/nil (SETNX answers 1/0). */
async function setGeneric(
  env: CommandEnv, f: SetFlags, key: Uint8Array, value: Uint8Array, okReply: Reply = OK, abortReply: Reply = NULL,
): Promise<Reply> {
  const expireAt = f.expire === undefined ? undefined : expireArg(env, f.expire.at, f.expire.unit, f.expire.absolute);
  const cur = await env.txn.lookup(key);
  let getReply: Reply | undefined;
  if (f.get) {
    if (cur.kind === 'collection') fail(Err.wrongType);
    getReply = cur.kind === 'string' ? bulk(cur.value) : NULL;
  }
  const found = cur.kind !== 'absent';
  if ((f.nx && found) || (f.xx && !found)) return getReply ?? abortReply;
  let expireAtMs: number;
  if (expireAt !== undefined) expireAtMs = expireAt;
  else if (f.keepTtl && cur.kind === 'string') expireAtMs = cur.expireAtMs;
  else if (f.keepTtl && cur.kind === 'collection') expireAtMs = cur.meta.expireAtMs;
  else expireAtMs = env.txn.defaultExpireAtMs;
  writeString(env, key, value, expireAtMs);
  return getReply ?? okReply;
}

const NO_FLAGS: SetFlags = { nx: false, xx: false, get: false, keepTtl: false, persist: false, expire: undefined };

async function get(env: CommandEnv): Promise<Reply> {
  const s = await env.txn.readString(keyArg(env, 1));
  return bulkOrNull(s?.value);
}

async function setCmd(env: CommandEnv): Promise<Reply> {
  const f = parseSetFlags(env, 3, false);
  return setGeneric(env, f, keyArg(env, 1), valueArg(env, 2));
}

async function setnx(env: CommandEnv): Promise<Reply> {
  return setGeneric(env, { ...NO_FLAGS, nx: true }, keyArg(env, 1), valueArg(env, 2), int(1), int(0));
}

function setexLike(unit: 's' | 'ms') {
  return (env: CommandEnv): Promise<Reply> =>
    setGeneric(env, { ...NO_FLAGS, expire: { unit, absolute: false, at: 2 } }, keyArg(env, 1), valueArg(env, 3));
}

async function getset(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const value = valueArg(env, 2);
  const old = await env.txn.readString(key);
  writeString(env, key, value, env.txn.defaultExpireAtMs);
  return bulkOrNull(old?.value);
}

async function getdel(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const s = await env.txn.readString(key);
  if (s === undefined) return NULL;
  env.txn.deleteKey(key);
  return bulk(s.value);
}

async function getex(env: CommandEnv): Promise<Reply> {
  const f = parseSetFlags(env, 2, true);
  const key = keyArg(env, 1);
  const s = await env.txn.readString(key);
  if (s === undefined) return NULL;
  const expireAt = f.expire === undefined ? undefined : expireArg(env, f.expire.at, f.expire.unit, f.expire.absolute);
  if (expireAt !== undefined) writeString(env, key, s.value, expireAt);
  else if (f.persist && s.expireAtMs !== 0) env.txn.putString(key, s.value, 0);
  return bulk(s.value);
}

async function mget(env: CommandEnv): Promise<Reply> {
  const out: Reply[] = [];
  for (let i = 1; i < env.args.length; i++) {
    const s = await env.txn.lookup(keyArg(env, i));
    out.push(s.kind === 'string' ? bulk(s.value) : NULL);
  }
  return array(out);
}

async function msetGeneric(env: CommandEnv, nx: boolean): Promise<Reply> {
  const pairs = pairsFrom(env, 1);
  const entries = pairs.map(([k, v]) => [keyArg(env, k), valueArg(env, v)] as const);
  if (nx) {
    for (const [k] of entries) if ((await env.txn.lookup(k)).kind !== 'absent') return int(0);
  }
  for (const [k, v] of entries) writeString(env, k, v, env.txn.defaultExpireAtMs);
  return nx ? int(1) : OK;
}

/** incrDecrCommand: the string must be a canonical int64; the key keeps its expiry. */
async function incrBy(env: CommandEnv, key: Uint8Array, delta: bigint): Promise<Reply> {
  const s = await env.txn.readString(key);
  let base = 0n;
  if (s !== undefined) {
    const v = parseI64(s.value);
    if (v === undefined) return Err.notInteger;
    base = v;
  }
  const next = addI64(base, delta);
  if (next === undefined) return Err.overflow;
  env.txn.putString(key, formatI64(next), s?.expireAtMs ?? env.txn.defaultExpireAtMs);
  return int(next);
}

async function incrbyfloat(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const s = await env.txn.readString(key);
  const cur = s === undefined ? parseLongDouble(utf8.encode('0')) : parseLongDouble(s.value);
  if (cur === undefined) return Err.notFloat;
  const incr = parseLongDouble(arg(env, 2));
  if (incr === undefined) return Err.notFloat;
  const sum = addLongDouble(cur, incr);
  if (sum === undefined) return Err.nanOrInfinity;
  const out = utf8.encode(formatLongDouble(sum));
  env.txn.putString(key, out, s?.expireAtMs ?? env.txn.defaultExpireAtMs);
  return bulk(out);
}

async function append(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const add = arg(env, 2);
  const s = await env.txn.readString(key);
  if (s === undefined) {
    if (add.length > env.limits.stringBytesMax) return Err.stringTooLong;
    env.txn.putString(key, add, env.txn.defaultExpireAtMs);
    return int(add.length);
  }
  if (s.value.length + add.length > env.limits.stringBytesMax) return Err.stringTooLong;
  const out = new Uint8Array(s.value.length + add.length);
  out.set(s.value);
  out.set(add, s.value.length);
  env.txn.putString(key, out, s.expireAtMs);
  return int(out.length);
}

async function strlen(env: CommandEnv): Promise<Reply> {
  return int((await env.txn.readString(keyArg(env, 1)))?.value.length ?? 0);
}

async function getrange(env: CommandEnv): Promise<Reply> {
  let start = int64Arg(env, 2);
  let end = int64Arg(env, 3);
  const s = await env.txn.readString(keyArg(env, 1));
  if (s === undefined) return bulk(new Uint8Array(0));
  const len = BigInt(s.value.length);
  if (start < 0n && end < 0n && start > end) return bulk(new Uint8Array(0));
  if (start < 0n) start += len;
  if (end < 0n) end += len;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (start > end || len === 0n) return bulk(new Uint8Array(0));
  return bulk(s.value.subarray(Number(start), Number(end) + 1));
}

async function setrange(env: CommandEnv): Promise<Reply> {
  const offsetBig = int64Arg(env, 2);
  if (offsetBig < 0n) return Err.offsetOutOfRange;
  const key = keyArg(env, 1);
  const value = arg(env, 3);
  const s = await env.txn.readString(key);
  const oldLen = s?.value.length ?? 0;
  if (value.length === 0) return int(oldLen);
  if (offsetBig + BigInt(value.length) > BigInt(env.limits.stringBytesMax)) return Err.stringTooLong;
  const offset = Number(offsetBig);
  const out = new Uint8Array(Math.max(oldLen, offset + value.length));
  if (s !== undefined) out.set(s.value);
  out.set(value, offset);
  env.txn.putString(key, out, s?.expireAtMs ?? env.txn.defaultExpireAtMs);
  return int(out.length);
}

const W = true;
const R = false;

export const STRING_COMMANDS: readonly CommandSpec[] = [
  { name: 'get', arity: 2, write: R, keys: keys(1, 1), run: get },
  { name: 'set', arity: -3, write: W, keys: keys(1, 1), run: setCmd },
  { name: 'setnx', arity: 3, write: W, keys: keys(1, 1), run: setnx },
  { name: 'setex', arity: 4, write: W, keys: keys(1, 1), run: setexLike('s') },
  { name: 'psetex', arity: 4, write: W, keys: keys(1, 1), run: setexLike('ms') },
  { name: 'getset', arity: 3, write: W, keys: keys(1, 1), run: getset },
  { name: 'getdel', arity: 2, write: W, keys: keys(1, 1), run: getdel },
  { name: 'getex', arity: -2, write: W, keys: keys(1, 1), run: getex },
  { name: 'mget', arity: -2, write: R, keys: keys(1, -1), run: mget },
  { name: 'mset', arity: -3, write: W, keys: keys(1, -1, 2), run: (env) => msetGeneric(env, false) },
  { name: 'msetnx', arity: -3, write: W, keys: keys(1, -1, 2), run: (env) => msetGeneric(env, true) },
  { name: 'incr', arity: 2, write: W, keys: keys(1, 1), run: (env) => incrBy(env, keyArg(env, 1), 1n) },
  { name: 'decr', arity: 2, write: W, keys: keys(1, 1), run: (env) => incrBy(env, keyArg(env, 1), -1n) },
  { name: 'incrby', arity: 3, write: W, keys: keys(1, 1), run: (env) => incrBy(env, keyArg(env, 1), int64Arg(env, 2)) },
  {
    name: 'decrby', arity: 3, write: W, keys: keys(1, 1), run: (env) => {
      const d = int64Arg(env, 2);
      if (d === INT64_MIN) return Promise.resolve(error('ERR decrement would overflow'));
      return incrBy(env, keyArg(env, 1), -d);
    },
  },
  { name: 'incrbyfloat', arity: 3, write: W, keys: keys(1, 1), run: incrbyfloat },
  { name: 'append', arity: 3, write: W, keys: keys(1, 1), run: append },
  { name: 'strlen', arity: 2, write: R, keys: keys(1, 1), run: strlen },
  { name: 'getrange', arity: 4, write: R, keys: keys(1, 1), run: getrange },
  { name: 'substr', arity: 4, write: R, keys: keys(1, 1), run: getrange },
  { name: 'setrange', arity: 4, write: W, keys: keys(1, 1), run: setrange },
];
