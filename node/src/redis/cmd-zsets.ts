/**
 * Sorted-set commands (Redis 7.0 t_zset.c): ZADD ZINCRBY ZREM ZSCORE ZMSCORE ZCARD ZCOUNT
 * ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYSCORE
 * ZRANGEBYLEX ZREVRANGEBYLEX ZLEXCOUNT ZRANK ZREVRANK ZPOPMIN ZPOPMAX ZREMRANGEBYRANK
 * ZREMRANGEBYSCORE ZREMRANGEBYLEX ZRANDMEMBER (ZSCAN: cmd-scan.ts; ZUNIONSTORE ZINTERSTORE:
 * cmd-zsetops.ts). Storage and range parsing: zset-store.ts.
 */
import { arg, countArg, doubleArg, intArg, is, keyArg, keys, memberArg, nonNegativeArg } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { openForWrite, saveMeta } from './collection.js';
import type { Meta } from './encoding.js';
import { HALF_LONG_MAX } from './cmd-hashes.js';
import { keyId } from './memory-view.js';
import { array, bulk, double, EMPTY_ARRAY, Err, error, int, NULL, NULL_ARRAY } from './reply.js';
import type { Reply } from './reply.js';
import { pickDistinct, pickWithRepeats } from './sampling.js';
import { fail } from './txn.js';
import {
  byLex, byRank, byScore, delMember, parseLexRange, parseScoreRange, putMember, rankRange, scoreOf, Z,
} from './zset-store.js';
import type { LexRange, ScoreRange, ZEntry } from './zset-store.js';

/** Members with scores: RESP3 nests [member, score] pairs; RESP2 is flat (scores as bulk strings). */
export function withScoresReply(env: CommandEnv, entries: readonly ZEntry[], withScores: boolean): Reply {
  if (!withScores) return array(entries.map((e) => bulk(e.member)));
  if (env.resp3) return array(entries.map((e) => array([bulk(e.member), double(e.score)])));
  return array(entries.flatMap((e) => [bulk(e.member), double(e.score)]));
}

async function zadd(env: CommandEnv): Promise<Reply> {
  const f = { nx: false, xx: false, gt: false, lt: false, ch: false, incr: false };
  let i = 2;
  for (; i < env.args.length; i++) {
    const a = env.args[i];
    if (is(a, 'nx')) f.nx = true;
    else if (is(a, 'xx')) f.xx = true;
    else if (is(a, 'ch')) f.ch = true;
    else if (is(a, 'incr')) f.incr = true;
    else if (is(a, 'gt')) f.gt = true;
    else if (is(a, 'lt')) f.lt = true;
    else break;
  }
  const n = env.args.length - i;
  if (n === 0 || n % 2 !== 0) return Err.syntax;
  if (f.nx && f.xx) return error('ERR XX and NX options at the same time are not compatible');
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) return error('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (f.incr && n > 2) return error('ERR INCR option supports a single increment-element pair');
  const pairs: [number, Uint8Array][] = [];
  for (let j = i; j < env.args.length; j += 2) pairs.push([doubleArg(env, j), memberArg(env, j + 1)]);
  const key = keyArg(env, 1);
  const existing = await env.txn.readCollection(key, Z);
  if (existing === undefined && f.xx) return f.incr ? NULL : int(0);
  const o = existing !== undefined ? { meta: existing, fresh: false } : await openForWrite(env, key, Z);
  const own = new Map<string, number>();
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  for (const [score, member] of pairs) {
    const cur = o.fresh ? own.get(keyId(member)) : await scoreOf(env, key, o.meta, member);
    if (cur !== undefined) {
      if (f.nx) continue;
      const next = f.incr ? cur + score : score;
      if (Number.isNaN(next)) fail(Err.scoreNaN);
      if ((f.lt && next >= cur) || (f.gt && next <= cur)) continue;
      last = next;
      processed++;
      if (next !== cur) {
        putMember(env, key, o.meta, member, next, cur);
        updated++;
      }
    } else {
      if (f.xx) continue;
      putMember(env, key, o.meta, member, score, undefined);
      last = score;
      added++;
      processed++;
    }
    if (o.fresh) own.set(keyId(member), last);
  }
  if (added > 0) saveMeta(env, key, { ...o.meta, size: o.meta.size + added });
  if (f.incr) return processed > 0 ? double(last) : NULL;
  return int(f.ch ? added + updated : added);
}

async function zincrby(env: CommandEnv): Promise<Reply> {
  const incr = doubleArg(env, 2);
  const key = keyArg(env, 1);
  const member = memberArg(env, 3);
  const o = await openForWrite(env, key, Z);
  const cur = o.fresh ? undefined : await scoreOf(env, key, o.meta, member);
  const next = cur === undefined ? incr : cur + incr;
  if (Number.isNaN(next)) return Err.scoreNaN;
  putMember(env, key, o.meta, member, next, cur);
  if (cur === undefined) saveMeta(env, key, { ...o.meta, size: o.meta.size + 1 });
  return double(next);
}

async function zrem(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined) return int(0);
  let removed = 0;
  for (let i = 2; i < env.args.length; i++) {
    const member = arg(env, i);
    const score = await scoreOf(env, key, m, member);
    if (score === undefined) continue;
    delMember(env, key, m, { member, score });
    removed++;
  }
  if (removed > 0) saveMeta(env, key, { ...m, size: m.size - removed });
  return int(removed);
}

async function zscore(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  const s = m === undefined ? undefined : await scoreOf(env, key, m, arg(env, 2));
  return s === undefined ? NULL : double(s);
}

async function zmscore(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  const out: Reply[] = [];
  for (let i = 2; i < env.args.length; i++) {
    const s = m === undefined ? undefined : await scoreOf(env, key, m, arg(env, i));
    out.push(s === undefined ? NULL : double(s));
  }
  return array(out);
}

async function zcard(env: CommandEnv): Promise<Reply> {
  return int((await env.txn.readCollection(keyArg(env, 1), Z))?.size ?? 0);
}

async function zcount(env: CommandEnv): Promise<Reply> {
  const range = parseScoreRange(arg(env, 2), arg(env, 3));
  if (range === undefined) return Err.minMaxNotFloat;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined) return int(0);
  let n = 0;
  for await (const _ of byScore(env, key, m, range)) n++;
  return int(n);
}

async function zlexcount(env: CommandEnv): Promise<Reply> {
  const range = parseLexRange(arg(env, 2), arg(env, 3));
  if (range === undefined) return Err.minMaxNotLex;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined) return int(0);
  let n = 0;
  for await (const _ of byLex(env, key, m, range, false)) n++;
  return int(n);
}

// ----------------------------------------------------------------------------- ZRANGE family

type RangeType = 'rank' | 'score' | 'lex';

interface RangeCall {
  type: RangeType | undefined;
  rev: boolean | undefined;
  withScores: boolean;
  offset: number;
  limit: number;
}

/**
 * zrangeGenericCommand: `fixed` pins the type and direction of the legacy commands
 * (ZRANGEBYSCORE, ZREVRANGE…), which then refuse BYSCORE/BYLEX/REV as syntax errors.
 */
function zrangeCommand(fixed: { type?: RangeType; rev?: boolean }) {
  return async (env: CommandEnv): Promise<Reply> => {
    const c: RangeCall = { type: fixed.type, rev: fixed.rev, withScores: false, offset: 0, limit: -1 };
    let limitGiven = false;
    for (let j = 4; j < env.args.length; j++) {
      const a = env.args[j];
      const left = env.args.length - j - 1;
      if (is(a, 'withscores')) c.withScores = true;
      else if (is(a, 'limit') && left >= 2) {
        c.offset = intArg(env, j + 1);
        c.limit = intArg(env, j + 2);
        limitGiven = true;
        j += 2;
      } else if (c.rev === undefined && is(a, 'rev')) c.rev = true;
      else if (c.type === undefined && is(a, 'bylex')) c.type = 'lex';
      else if (c.type === undefined && is(a, 'byscore')) c.type = 'score';
      else return Err.syntax;
    }
    const type = c.type ?? 'rank';
    const rev = c.rev ?? false;
    if (limitGiven && type === 'rank') return error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    if (c.withScores && type === 'lex') return error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    // Reverse score and lex ranges are given as max, min.
    const [minArg, maxArg] = rev && type !== 'rank' ? [arg(env, 3), arg(env, 2)] : [arg(env, 2), arg(env, 3)];
    let rank: [number, number] | undefined;
    let score: ScoreRange | undefined;
    let lex: LexRange | undefined;
    if (type === 'rank') rank = [intArg(env, 2), intArg(env, 3)];
    else if (type === 'score') {
      score = parseScoreRange(minArg, maxArg);
      if (score === undefined) return Err.minMaxNotFloat;
    } else {
      lex = parseLexRange(minArg, maxArg);
      if (lex === undefined) return Err.minMaxNotLex;
    }
    const key = keyArg(env, 1);
    const m = await env.txn.readCollection(key, Z);
    if (m === undefined) return EMPTY_ARRAY;
    let entries: ZEntry[];
    if (rank !== undefined) {
      const r = rankRange(rank[0], rank[1], m.size);
      entries = r === undefined ? [] : await byRank(env, key, m, r[0], r[1], rev);
    } else {
      const source = score !== undefined ? byScore(env, key, m, score, rev) : byLex(env, key, m, lex!, rev);
      entries = await window(source, c.offset, c.limit);
    }
    return withScoresReply(env, entries, c.withScores);
  };
}

/** LIMIT offset count over a range: a negative offset gives nothing, a negative count everything. */
async function window(source: AsyncIterable<ZEntry>, offset: number, limit: number): Promise<ZEntry[]> {
  const out: ZEntry[] = [];
  if (offset < 0 || limit === 0) return out;
  let skipped = 0;
  for await (const e of source) {
    if (skipped < offset) {
      skipped++;
      continue;
    }
    out.push(e);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

async function zrank(env: CommandEnv, rev: boolean): Promise<Reply> {
  if (env.args.length > 4 || (env.args.length === 4 && !is(env.args[3], 'withscore'))) return Err.syntax;
  const withScore = env.args.length === 4;
  const key = keyArg(env, 1);
  const member = arg(env, 2);
  const m = await env.txn.readCollection(key, Z);
  const score = m === undefined ? undefined : await scoreOf(env, key, m, member);
  if (m === undefined || score === undefined) return withScore ? NULL_ARRAY : NULL;
  let rank = 0;
  for await (const e of byScore(env, key, m)) {
    if (e.score === score && Buffer.compare(e.member, member) === 0) break;
    rank++;
  }
  const r = rev ? m.size - 1 - rank : rank;
  return withScore ? array([int(r), double(score)]) : int(r);
}

async function zpop(env: CommandEnv, max: boolean): Promise<Reply> {
  if (env.args.length > 3) return Err.syntax;
  const hasCount = env.args.length === 3;
  const count = hasCount ? nonNegativeArg(env, 2) : 1;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined || count === 0) return EMPTY_ARRAY;
  const popped: ZEntry[] = [];
  for await (const e of byScore(env, key, m, undefined, max, count)) popped.push(e);
  for (const e of popped) delMember(env, key, m, e);
  saveMeta(env, key, { ...m, size: m.size - popped.length });
  if (!env.resp3 || !hasCount) return array(popped.flatMap((e) => [bulk(e.member), double(e.score)]));
  return array(popped.map((e) => array([bulk(e.member), double(e.score)])));
}

async function removeAll(env: CommandEnv, key: Uint8Array, m: Meta, doomed: readonly ZEntry[]): Promise<Reply> {
  for (const e of doomed) delMember(env, key, m, e);
  if (doomed.length > 0) saveMeta(env, key, { ...m, size: m.size - doomed.length });
  return int(doomed.length);
}

async function collect(source: AsyncIterable<ZEntry>): Promise<ZEntry[]> {
  const out: ZEntry[] = [];
  for await (const e of source) out.push(e);
  return out;
}

async function zremrangebyrank(env: CommandEnv): Promise<Reply> {
  const start = intArg(env, 2);
  const end = intArg(env, 3);
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined) return int(0);
  const r = rankRange(start, end, m.size);
  return removeAll(env, key, m, r === undefined ? [] : await byRank(env, key, m, r[0], r[1], false));
}

async function zremrangebyscore(env: CommandEnv): Promise<Reply> {
  const range = parseScoreRange(arg(env, 2), arg(env, 3));
  if (range === undefined) return Err.minMaxNotFloat;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined) return int(0);
  return removeAll(env, key, m, await collect(byScore(env, key, m, range)));
}

async function zremrangebylex(env: CommandEnv): Promise<Reply> {
  const range = parseLexRange(arg(env, 2), arg(env, 3));
  if (range === undefined) return Err.minMaxNotLex;
  const key = keyArg(env, 1);
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined) return int(0);
  return removeAll(env, key, m, await collect(byLex(env, key, m, range, false)));
}

async function zrandmember(env: CommandEnv): Promise<Reply> {
  const key = keyArg(env, 1);
  if (env.args.length === 2) {
    const m = await env.txn.readCollection(key, Z);
    if (m === undefined) return NULL;
    return bulk(pickWithRepeats(await collect(byScore(env, key, m)), 1, env.random)[0]!.member);
  }
  const l = countArg(env, 2);
  if (env.args.length > 4 || (env.args.length === 4 && !is(env.args[3], 'withscores'))) return Err.syntax;
  const withScores = env.args.length === 4;
  if (withScores && (l < -HALF_LONG_MAX || l > HALF_LONG_MAX)) return Err.outOfRange;
  const m = await env.txn.readCollection(key, Z);
  if (m === undefined || l === 0n) return EMPTY_ARRAY;
  const all = await collect(byScore(env, key, m));
  const count = Number(l < 0n ? -l : l);
  const picked = l < 0n || count === 1 ? pickWithRepeats(all, count, env.random)
    : count >= all.length ? all : pickDistinct(all, count, env.random);
  return withScoresReply(env, picked, withScores);
}

const W = true;
const R = false;

export const ZSET_COMMANDS: readonly CommandSpec[] = [
  { name: 'zadd', arity: -4, write: W, keys: keys(1, 1), run: zadd },
  { name: 'zincrby', arity: 4, write: W, keys: keys(1, 1), run: zincrby },
  { name: 'zrem', arity: -3, write: W, keys: keys(1, 1), run: zrem },
  { name: 'zscore', arity: 3, write: R, keys: keys(1, 1), run: zscore },
  { name: 'zmscore', arity: -3, write: R, keys: keys(1, 1), run: zmscore },
  { name: 'zcard', arity: 2, write: R, keys: keys(1, 1), run: zcard },
  { name: 'zcount', arity: 4, write: R, keys: keys(1, 1), run: zcount },
  { name: 'zlexcount', arity: 4, write: R, keys: keys(1, 1), run: zlexcount },
  { name: 'zrange', arity: -4, write: R, keys: keys(1, 1), run: zrangeCommand({}) },
  { name: 'zrangebyscore', arity: -4, write: R, keys: keys(1, 1), run: zrangeCommand({ type: 'score', rev: false }) },
  { name: 'zrevrangebyscore', arity: -4, write: R, keys: keys(1, 1), run: zrangeCommand({ type: 'score', rev: true }) },
  { name: 'zrevrange', arity: -4, write: R, keys: keys(1, 1), run: zrangeCommand({ type: 'rank', rev: true }) },
  { name: 'zrangebylex', arity: -4, write: R, keys: keys(1, 1), run: zrangeCommand({ type: 'lex', rev: false }) },
  { name: 'zrevrangebylex', arity: -4, write: R, keys: keys(1, 1), run: zrangeCommand({ type: 'lex', rev: true }) },
  { name: 'zrank', arity: -3, write: R, keys: keys(1, 1), run: (env) => zrank(env, false) },
  { name: 'zrevrank', arity: -3, write: R, keys: keys(1, 1), run: (env) => zrank(env, true) },
  { name: 'zpopmin', arity: -2, write: W, keys: keys(1, 1), run: (env) => zpop(env, false) },
  { name: 'zpopmax', arity: -2, write: W, keys: keys(1, 1), run: (env) => zpop(env, true) },
  { name: 'zremrangebyrank', arity: 4, write: W, keys: keys(1, 1), run: zremrangebyrank },
  { name: 'zremrangebyscore', arity: 4, write: W, keys: keys(1, 1), run: zremrangebyscore },
  { name: 'zremrangebylex', arity: 4, write: W, keys: keys(1, 1), run: zremrangebylex },
  { name: 'zrandmember', arity: -2, write: R, keys: keys(1, 1), run: zrandmember },
];
