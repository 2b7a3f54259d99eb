/**
 * Set commands (Redis 7.0 t_set.c): SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP
 * SRANDMEMBER SMOVE SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SINTERCARD (SSCAN
 * is in cmd-scan.ts). A member is a subkey `version | member` with an empty value.
 */
import { arg, countArg, equal, int64Arg, is, keyArg, keys, memberArg, nonNegativeArg } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { openForWrite, saveMeta } from './collection.js';
import { RedisType } from './encoding.js';
import type { Meta } from './encoding.js';
import { keyId } from './memory-view.js';
import { array, bulk, EMPTY_ARRAY, Err, error, int, NULL, set } from './reply.js';
import type { Reply } from './reply.js';
import { pickDistinct, pickWithRepeats } from './sampling.js';
import { fail } from './txn.js';

const S = RedisType.Set;
const EMPTY = new Uint8Array(0);

async function members(env: CommandEnv, key: Uint8Array, m: Meta | undefined): Promise<Uint8Array[]> {
  if (m === undefined) return [];
  const out: Uint8Array[] = [];
  for await (const [sub] of env.txn.subs(key, m.version)) out.push(sub);
  return out;
}

async function isMember(env: CommandEnv, key: Uint8Array, m: Meta, member: Uint8Array): Promise<boolean> {
  return (await env.txn.getSub(key, m, member)) !== undefined;
}

async function sadd(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const add: Uint8Array[] = [];
  for (let i = 2; i < env.args.length; i++) add.push(memberArg(env, i));
  const o = await openForWrite(env, key, S);
  const seen = new Set<string>();
  let added = 0;
  for (const mem of add) {
    const exists = o.fresh ? seen.has(keyId(mem)) : await isMember(env, key, o.meta, mem);
    if (o.fresh) seen.add(keyId(mem));
    if (exists) continue;
    env.txn.putSub(key, o.meta.version, mem, EMPTY);
    added++;
  }
  if (added > 0) saveMeta(env, key, { ...o.meta, size: o.meta.size + added });
  return int(added);
}

async function srem(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, S);
  if (m === undefined) return int(0);
  let removed = 0;
  for (let i = 2; i < env.args.length; i++) {
    const mem = arg(env, i);
    if (!(await isMember(env, key, m, mem))) continue;
    env.txn.delSub(key, m.version, mem);
    removed++;
  }
  if (removed > 0) saveMeta(env, key, { ...m, size: m.size - removed });
  return int(removed);
}

async function sismember(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, S);
  return int(m !== undefined && (await isMember(env, key, m, arg(env, 2))) ? 1 : 0);
}

async function smismember(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, S);
  const out: Reply[] = [];
  for (let i = 2; i < env.args.length; i++) out.push(int(m !== undefined && (await isMember(env, key, m, arg(env, i))) ? 1 : 0));
  return array(out);
}

async function smembers(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  return set((await members(env, key, await env.txn.readCollection(key, S))).map((x) => bulk(x)));
}

async function scard(env: CommandEnv): Promise<Reply> {
  return int((await env.txn.readCollection(keyArg(env, 1), S))?.size ?? 0);
}

async function spop(env: CommandEnv): Promise<Reply> {
  if (env.args.length > 3) return Err.syntax;
  const withCount = env.args.length === 3;
  const count = withCount ? nonNegativeArg(env, 2) : 1;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, S);
  if (m === undefined) return withCount ? set([]) : NULL;
  if (count === 0) return set([]);
  const all = await members(env, key, m);
  const picked = count >= all.length ? all : pickDistinct(all, count, env.random);
  if (picked.length === all.length) {
    env.txn.deleteKey(key);
  } else {
    for (const p of picked) env.txn.delSub(key, m.version, p);
    saveMeta(env, key, { ...m, size: m.size - picked.length });
  }
  return withCount ? set(picked.map((x) => bulk(x))) : bulk(picked[0]!);
}

async function srandmember(env: CommandEnv): Promise<Reply> {
  if (env.args.length > 3) return Err.syntax;
  const key = keyArg(env, 1);
  if (env.args.length === 2) {
    const m = await env.txn.readCollection(key, S);
    if (m === undefined) return NULL;
    return bulk(pickWithRepeats(await members(env, key, m), 1, env.random)[0]!);
  }
  const l = countArg(env, 2);
  const m = await env.txn.readCollection(key, S);
  if (m === undefined || l === 0n) return EMPTY_ARRAY;
  const count = Number(l < 0n ? -l : l);
  const all = await members(env, key, m);
  if (l < 0n || count === 1) return array(pickWithRepeats(all, count, env.random).map((x) => bulk(x)));
  // Redis 7.0 answers "the whole set" through SUNION's code path: a set reply in RESP3.
  if (count >= all.length) return set(all.map((x) => bulk(x)));
  return array(pickDistinct(all, count, env.random).map((x) => bulk(x)));
}

async function smove(env: CommandEnv): Promise<Reply> {
  const src = keyArg(env, 1);
  const dst = keyArg(env, 2);
  const mem = memberArg(env, 3);
  const s = await env.txn.lookup(src);
  const d = await env.txn.lookup(dst);
  if (s.kind === 'absent') return int(0);
  if (s.kind !== 'collection' || s.meta.type !== S) return Err.wrongType;
  if (d.kind === 'string' || (d.kind === 'collection' && d.meta.type !== S)) return Err.wrongType;
  if (equal(src, dst)) return int((await isMember(env, src, s.meta, mem)) ? 1 : 0);
  if (!(await isMember(env, src, s.meta, mem))) return int(0);
  env.txn.delSub(src, s.meta.version, mem);
  saveMeta(env, src, { ...s.meta, size: s.meta.size - 1 });
  const o = await openForWrite(env, dst, S);
  if (o.fresh || !(await isMember(env, dst, o.meta, mem))) {
    env.txn.putSub(dst, o.meta.version, mem, EMPTY);
    saveMeta(env, dst, { ...o.meta, size: o.meta.size + 1 });
  }
  return int(1);
}

type SetOp = 'inter' | 'union' | 'diff';

/** The sources of a set operation: every key is looked up (WRONGTYPE first), missing ones are empty. */
async function sources(env: CommandEnv, from: number, count: number): Promise<{ key: Uint8Array; meta: Meta | undefined }[]> {
  const out: { key: Uint8Array; meta: Meta | undefined }[] = [];
  for (let i = from; i < from + count; i++) {
    const key = keyArg(env, i);
    out.push({ key, meta: await env.txn.readCollection(key, S) });
  }
  return out;
}

/** The members of the operation's result; `limit` > 0 stops an intersection early (SINTERCARD). */
async function compute(env: CommandEnv, op: SetOp, src: { key: Uint8Array; meta: Meta | undefined }[], limit = 0): Promise<Uint8Array[]> {
  switch (op) {
    case 'inter': {
      if (src.some((s) => s.meta === undefined)) return [];
      const sorted = [...src].sort((a, b) => a.meta!.size - b.meta!.size);
      const [first, ...rest] = sorted;
      const out: Uint8Array[] = [];
      for (const mem of await members(env, first!.key, first!.meta)) {
        let all = true;
        for (const r of rest) {
          if (!(await isMember(env, r.key, r.meta!, mem))) {
            all = false;
            break;
          }
        }
        if (all) out.push(mem);
        if (limit > 0 && out.length >= limit) break;
      }
      return out;
    }
    case 'union': {
      const seen = new Map<string, Uint8Array>();
      for (const s of src) for (const mem of await members(env, s.key, s.meta)) seen.set(keyId(mem), mem);
      return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    }
    case 'diff': {
      const [first, ...rest] = src;
      const out: Uint8Array[] = [];
      for (const mem of await members(env, first!.key, first!.meta)) {
        let keep = true;
        for (const r of rest) {
          if (r.meta !== undefined && (await isMember(env, r.key, r.meta, mem))) {
            keep = false;
            break;
          }
        }
        if (keep) out.push(mem);
      }
      return out;
    }
  }
}

function setOp(op: SetOp) {
  return async (env: CommandEnv): Promise<Reply> => {
    const src = await sources(env, 1, env.args.length - 1);
    return set((await compute(env, op, src)).map((x) => bulk(x)));
  };
}

/** Replaces `dst` with a new set of `result` (deleting it when empty); the reply is its size. */
export async function storeSet(env: CommandEnv, dst: Uint8Array, result: readonly Uint8Array[]): Promise<Reply> {
  const cur = await env.txn.lookup(dst);
  if (result.length === 0) {
    if (cur.kind !== 'absent' || cur.physical) env.txn.deleteKey(dst);
    return int(0);
  }
  const m = await env.txn.newMeta(dst, S, env.txn.defaultExpireAtMs);
  for (const mem of result) env.txn.putSub(dst, m.version, mem, EMPTY);
  env.txn.putMeta(dst, { ...m, size: result.length });
  return int(result.length);
}

function setOpStore(op: SetOp) {
  return async (env: CommandEnv): Promise<Reply> => {
    const dst = keyArg(env, 1);
    const src = await sources(env, 2, env.args.length - 2);
    return storeSet(env, dst, await compute(env, op, src));
  };
}

async function sintercard(env: CommandEnv): Promise<Reply> {
  const numkeysMsg = error('ERR numkeys should be greater than 0');
  const numkeys = int64Arg(env, 1, numkeysMsg);
  if (numkeys < 1n) return numkeysMsg;
  if (numkeys > BigInt(env.args.length - 2)) return error("ERR Number of keys can't be greater than number of args");
  const n = Number(numkeys);
  let limit = 0;
  for (let j = 2 + n; j < env.args.length; j++) {
    if (is(env.args[j], 'limit') && j < env.args.length - 1) limit = nonNegativeArg(env, ++j, error("ERR LIMIT can't be negative"));
    else fail(Err.syntax);
  }
  const src = await sources(env, 2, n);
  return int((await compute(env, 'inter', src, limit)).length);
}

/** SINTERCARD numkeys key… : the key positions. */
export function numkeysAt(numkeysIndex: number, firstKeyOffset = 1): (args: readonly Uint8Array[]) => number[] {
  return (args) => {
    const raw = args[numkeysIndex];
    const n = raw === undefined ? NaN : Number(Buffer.from(raw).toString('latin1'));
    const out: number[] = [];
    if (!Number.isSafeInteger(n) || n < 1) return out;
    for (let i = 0; i < n && numkeysIndex + firstKeyOffset + i < args.length; i++) out.push(numkeysIndex + firstKeyOffset + i);
    return out;
  };
}

const W = true;
const R = false;

export const SET_COMMANDS: readonly CommandSpec[] = [
  { name: 'sadd', arity: -3, write: W, keys: keys(1, 1), run: sadd },
  { name: 'srem', arity: -3, write: W, keys: keys(1, 1), run: srem },
  { name: 'sismember', arity: 3, write: R, keys: keys(1, 1), run: sismember },
  { name: 'smismember', arity: -3, write: R, keys: keys(1, 1), run: smismember },
  { name: 'smembers', arity: 2, write: R, keys: keys(1, 1), run: smembers },
  { name: 'scard', arity: 2, write: R, keys: keys(1, 1), run: scard },
  { name: 'spop', arity: -2, write: W, keys: keys(1, 1), run: spop },
  { name: 'srandmember', arity: -2, write: R, keys: keys(1, 1), run: srandmember },
  { name: 'smove', arity: 4, write: W, keys: keys(1, 2), run: smove },
  { name: 'sinter', arity: -2, write: R, keys: keys(1, -1), run: setOp('inter') },
  { name: 'sunion', arity: -2, write: R, keys: keys(1, -1), run: setOp('union') },
  { name: 'sdiff', arity: -2, write: R, keys: keys(1, -1), run: setOp('diff') },
  { name: 'sinterstore', arity: -3, write: W, keys: keys(1, -1), run: setOpStore('inter') },
  { name: 'sunionstore', arity: -3, write: W, keys: keys(1, -1), run: setOpStore('union') },
  { name: 'sdiffstore', arity: -3, write: W, keys: keys(1, -1), run: setOpStore('diff') },
  { name: 'sintercard', arity: -3, write: R, keys: numkeysAt(1), run: sintercard },
];
