/**
 * ZUNIONSTORE and ZINTERSTORE (Redis 7.0 zunionInterDiffGenericCommand): inputs may be
 * sorted sets or sets (every score 1), with WEIGHTS and AGGREGATE SUM|MIN|MAX; NaN from
 * inf·0 or inf + -inf becomes 0, as in Redis. The destination is replaced (new version, no
 * TTL) or deleted when the result is empty.
 */
import { doubleArg, int64Arg, is, keyArg } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { RedisType } from './encoding.js';
import { keyId } from './memory-view.js';
import { Err, error, int } from './reply.js';
import type { Reply } from './reply.js';
import { fail } from './txn.js';
import { byScore, putMember, Z } from './zset-store.js';
import type { ZEntry } from './zset-store.js';

async function collect(source: AsyncIterable<ZEntry>): Promise<ZEntry[]> {
  const out: ZEntry[] = [];
  for await (const e of source) out.push(e);
  return out;
}

interface Source {
  readonly entries: ZEntry[];
  readonly scores: Map<string, number>;
  weight: number;
}

/** A source of a zset operation: a zset, a set (every score 1) or nothing; WRONGTYPE otherwise. */
async function loadSource(env: CommandEnv, key: Uint8Array): Promise<Source> {
  const s = await env.txn.lookup(key);
  if (s.kind === 'string') fail(Err.wrongType);
  const entries: ZEntry[] = [];
  if (s.kind === 'collection') {
    if (s.meta.type === Z) entries.push(...(await collect(byScore(env, key, s.meta))));
    else if (s.meta.type === RedisType.Set) for await (const [member] of env.txn.subs(key, s.meta.version)) entries.push({ member, score: 1 });
    else fail(Err.wrongType);
  }
  return { entries, scores: new Map(entries.map((e) => [keyId(e.member), e.score])), weight: 1 };
}

type Aggregate = 'sum' | 'min' | 'max';

function aggregate(target: number, v: number, how: Aggregate): number {
  switch (how) {
    case 'sum': {
      const s = target + v;
      return Number.isNaN(s) ? 0 : s;
    }
    case 'min': return v < target ? v : target;
    case 'max': return v > target ? v : target;
  }
}

function zsetOpStore(op: 'union' | 'inter') {
  return async (env: CommandEnv): Promise<Reply> => {
    const dst = keyArg(env, 1);
    const numkeys = int64Arg(env, 2);
    if (numkeys < 1n) return error(`ERR at least 1 input key is needed for '${env.name}' command`);
    if (numkeys > BigInt(env.args.length - 3)) return Err.syntax;
    const n = Number(numkeys);
    const src: Source[] = [];
    for (let i = 0; i < n; i++) src.push(await loadSource(env, keyArg(env, 3 + i)));
    let how: Aggregate = 'sum';
    for (let j = 3 + n; j < env.args.length;) {
      const remaining = env.args.length - j;
      if (remaining >= n + 1 && is(env.args[j], 'weights')) {
        j++;
        for (let i = 0; i < n; i++, j++) src[i]!.weight = doubleArg(env, j, error('ERR weight value is not a float'));
      } else if (remaining >= 2 && is(env.args[j], 'aggregate')) {
        const a = env.args[j + 1];
        if (is(a, 'sum')) how = 'sum';
        else if (is(a, 'min')) how = 'min';
        else if (is(a, 'max')) how = 'max';
        else return Err.syntax;
        j += 2;
      } else {
        return Err.syntax;
      }
    }
    // Redis orders the inputs by size first; the order decides how float sums round.
    const sorted = src.map((s, i) => ({ s, i })).sort((a, b) => a.s.entries.length - b.s.entries.length || a.i - b.i).map((x) => x.s);
    const result = op === 'inter' ? intersect(sorted, how) : union(sorted, how);
    return storeZset(env, dst, result);
  };
}

function weighted(score: number, weight: number): number {
  const v = score * weight;
  return Number.isNaN(v) ? 0 : v;
}

function intersect(src: readonly Source[], how: Aggregate): ZEntry[] {
  const [first, ...rest] = src;
  const out: ZEntry[] = [];
  if (first === undefined || first.entries.length === 0) return out;
  for (const e of first.entries) {
    let score = weighted(e.score, first.weight);
    let all = true;
    for (const r of rest) {
      const v = r === first ? e.score : r.scores.get(keyId(e.member));
      if (v === undefined) {
        all = false;
        break;
      }
      score = aggregate(score, v * r.weight, how);
    }
    if (all) out.push({ member: e.member, score });
  }
  return out;
}

function union(src: readonly Source[], how: Aggregate): ZEntry[] {
  const acc = new Map<string, ZEntry>();
  for (const s of src) {
    for (const e of s.entries) {
      const id = keyId(e.member);
      const v = weighted(e.score, s.weight);
      const cur = acc.get(id);
      acc.set(id, { member: e.member, score: cur === undefined ? v : aggregate(cur.score, v, how) });
    }
  }
  return [...acc.values()];
}

/** Replaces `dst` with a zset of `entries` (deleting it when empty); the reply is its size. */
async function storeZset(env: CommandEnv, dst: Uint8Array, entries: readonly ZEntry[]): Promise<Reply> {
  const cur = await env.txn.lookup(dst);
  if (entries.length === 0) {
    if (cur.kind !== 'absent' || cur.physical) env.txn.deleteKey(dst);
    return int(0);
  }
  const m = await env.txn.newMeta(dst, Z, env.txn.defaultExpireAtMs);
  for (const e of entries) putMember(env, dst, m, e.member, e.score, undefined);
  env.txn.putMeta(dst, { ...m, size: entries.length });
  return int(entries.length);
}

/** ZUNIONSTORE dest numkeys key… : the destination and the input keys. */
function storeKeys(args: readonly Uint8Array[]): number[] {
  const raw = args[2];
  const n = raw === undefined ? NaN : Number(Buffer.from(raw).toString('latin1'));
  const out = [1];
  if (!Number.isSafeInteger(n) || n < 1) return out;
  for (let i = 0; i < n && 3 + i < args.length; i++) out.push(3 + i);
  return out;
}

export const ZSET_STORE_COMMANDS: readonly CommandSpec[] = [
  { name: 'zunionstore', arity: -4, write: true, keys: storeKeys, run: zsetOpStore('union') },
  { name: 'zinterstore', arity: -4, write: true, keys: storeKeys, run: zsetOpStore('inter') },
];
