/**
 * Keyspace commands on named keys (Redis 7.0 db.c / expire.c): DEL UNLINK EXISTS TYPE
 * EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL PERSIST RENAME RENAMENX
 * TOUCH. DEL of a collection deletes only its metadata (O(1)); RENAME of a collection
 * copies its elements under the new name (O(n), as in Kvrocks: subkeys embed the key).
 */
import { KeyKind } from '@shoal/common';
import { equal, int64Arg, is, keyArg, keys } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { TYPE_NAMES } from './encoding.js';
import { INT64_MAX, INT64_MIN } from './numbers.js';
import { Err, error, int, OK, simple } from './reply.js';
import type { Reply } from './reply.js';
import type { KeyState } from './txn.js';
import { fail } from './txn.js';

/** The expiry of a live key, 0 = none. */
function expiryOf(s: KeyState): number {
  switch (s.kind) {
    case 'string': return s.expireAtMs;
    case 'collection': return s.meta.expireAtMs;
    case 'absent': return 0;
  }
}

/** Rewrites a live key with a new expiry (0 = none); an expiry already reached deletes it. */
export function setExpiry(env: CommandEnv, key: Uint8Array, s: KeyState, expireAtMs: number): void {
  if (expireAtMs !== 0 && expireAtMs <= env.txn.nowMs) {
    env.txn.deleteKey(key);
    return;
  }
  if (s.kind === 'string') env.txn.putString(key, s.value, expireAtMs);
  else if (s.kind === 'collection') env.txn.putMeta(key, { ...s.meta, expireAtMs });
}

async function del(env: CommandEnv): Promise<Reply> {
  let n = 0;
  for (let i = 1; i < env.args.length; i++) {
    const key = keyArg(env, i);
    const s = await env.txn.lookup(key);
    if (s.kind !== 'absent') n++;
    // An expired key is removed too (as the engine does): it is gone for readers already.
    if (s.kind !== 'absent' || s.physical) env.txn.deleteKey(key);
  }
  return int(n);
}

async function exists(env: CommandEnv): Promise<Reply> {
  let n = 0;
  for (let i = 1; i < env.args.length; i++) if ((await env.txn.lookup(keyArg(env, i))).kind !== 'absent') n++;
  return int(n);
}

async function type(env: CommandEnv): Promise<Reply> {
  const s = await env.txn.lookup(keyArg(env, 1));
  switch (s.kind) {
    case 'absent': return simple('none');
    case 'string': return simple('string');
    case 'collection': return simple(TYPE_NAMES[s.meta.type]);
  }
}

/** parseExtendedExpireArgumentsOrReply. */
function expireFlags(env: CommandEnv): { nx: boolean; xx: boolean; gt: boolean; lt: boolean } {
  const f = { nx: false, xx: false, gt: false, lt: false };
  for (let j = 3; j < env.args.length; j++) {
    const a = env.args[j]!;
    if (is(a, 'nx')) f.nx = true;
    else if (is(a, 'xx')) f.xx = true;
    else if (is(a, 'gt')) f.gt = true;
    else if (is(a, 'lt')) f.lt = true;
    else fail(error(`ERR Unsupported option ${Buffer.from(a).toString('latin1')}`));
  }
  if (f.nx && (f.xx || f.gt || f.lt)) fail(error('ERR NX and XX, GT or LT options at the same time are not compatible'));
  if (f.gt && f.lt) fail(error('ERR GT and LT options at the same time are not compatible'));
  return f;
}

/** expireGenericCommand: `basetime` is now (relative forms) or 0 (absolute forms). */
function expireGeneric(unit: 's' | 'ms', absolute: boolean) {
  return async (env: CommandEnv): Promise<Reply> => {
    const f = expireFlags(env);
    let when = int64Arg(env, 2);
    if (unit === 's') {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) return Err.invalidExpire(env.name);
      when *= 1000n;
    }
    const base = absolute ? 0n : BigInt(env.txn.nowMs);
    if (when > INT64_MAX - base) return Err.invalidExpire(env.name);
    when += base;
    const key = keyArg(env, 1);
    const s = await env.txn.lookup(key);
    if (s.kind === 'absent') return int(0);
    const cur = expiryOf(s);
    const curBig = cur === 0 ? -1n : BigInt(cur);
    if (f.nx && cur !== 0) return int(0);
    if (f.xx && cur === 0) return int(0);
    if (f.gt && (cur === 0 || when <= curBig)) return int(0);
    if (f.lt && cur !== 0 && when >= curBig) return int(0);
    if (when <= BigInt(env.txn.nowMs)) {
      env.txn.deleteKey(key);
      return int(1);
    }
    // Stored expiries are below 2^53 ms (year 287396): beyond that, Redis' own limit is moot.
    if (when > BigInt(Number.MAX_SAFE_INTEGER)) return Err.invalidExpire(env.name);
    setExpiry(env, key, s, Number(when));
    return int(1);
  };
}

/** ttlGenericCommand. */
function ttlGeneric(ms: boolean, absolute: boolean) {
  return async (env: CommandEnv): Promise<Reply> => {
    const s = await env.txn.lookup(keyArg(env, 1));
    if (s.kind === 'absent') return int(-2);
    const exp = expiryOf(s);
    if (exp === 0) return int(-1);
    const ttl = Math.max(0, absolute ? exp : exp - env.txn.nowMs);
    return int(ms ? ttl : Math.floor((ttl + 500) / 1000));
  };
}

async function persist(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const s = await env.txn.lookup(key);
  if (s.kind === 'absent' || expiryOf(s) === 0) return int(0);
  setExpiry(env, key, s, 0);
  return int(1);
}

async function rename(env: CommandEnv, nx: boolean): Promise<Reply> {
  const src = keyArg(env, 1);
  const dst = keyArg(env, 2);
  const s = await env.txn.lookup(src);
  if (s.kind === 'absent') return Err.noSuchKey;
  if (equal(src, dst)) return nx ? int(0) : OK;
  const d = await env.txn.lookup(dst);
  if (nx && d.kind !== 'absent') return int(0);
  if (s.kind === 'string') {
    env.txn.putString(dst, s.value, s.expireAtMs);
  } else {
    const m = s.meta;
    const fresh = await env.txn.newMeta(dst, m.type, m.expireAtMs);
    for (const kind of [KeyKind.SubKey, KeyKind.SubIndex] as const) {
      for await (const [sub, value] of env.txn.subs(src, m.version, { kind })) env.txn.putSub(dst, fresh.version, sub, value, kind);
    }
    env.txn.putMeta(dst, { ...m, version: fresh.version });
  }
  env.txn.deleteKey(src);
  return nx ? int(1) : OK;
}

const W = true;
const R = false;

export const KEY_COMMANDS: readonly CommandSpec[] = [
  { name: 'del', arity: -2, write: W, keys: keys(1, -1), run: del },
  { name: 'unlink', arity: -2, write: W, keys: keys(1, -1), run: del },
  { name: 'exists', arity: -2, write: R, keys: keys(1, -1), run: exists },
  { name: 'touch', arity: -2, write: R, keys: keys(1, -1), run: exists },
  { name: 'type', arity: 2, write: R, keys: keys(1, 1), run: type },
  { name: 'expire', arity: -3, write: W, keys: keys(1, 1), run: expireGeneric('s', false) },
  { name: 'pexpire', arity: -3, write: W, keys: keys(1, 1), run: expireGeneric('ms', false) },
  { name: 'expireat', arity: -3, write: W, keys: keys(1, 1), run: expireGeneric('s', true) },
  { name: 'pexpireat', arity: -3, write: W, keys: keys(1, 1), run: expireGeneric('ms', true) },
  { name: 'ttl', arity: 2, write: R, keys: keys(1, 1), run: ttlGeneric(false, false) },
  { name: 'pttl', arity: 2, write: R, keys: keys(1, 1), run: ttlGeneric(true, false) },
  { name: 'expiretime', arity: 2, write: R, keys: keys(1, 1), run: ttlGeneric(false, true) },
  { name: 'pexpiretime', arity: 2, write: R, keys: keys(1, 1), run: ttlGeneric(true, true) },
  { name: 'persist', arity: 2, write: W, keys: keys(1, 1), run: persist },
  { name: 'rename', arity: 3, write: W, keys: keys(1, 2), run: (env) => rename(env, false) },
  { name: 'renamenx', arity: 3, write: W, keys: keys(1, 2), run: (env) => rename(env, true) },
];
