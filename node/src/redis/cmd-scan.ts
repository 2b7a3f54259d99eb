/**
 * Keyspace iteration of ONE shard — SCAN (MATCH COUNT TYPE), KEYS, RANDOMKEY, DBSIZE — for
 * the proxy to fan out, and the per-key scans HSCAN, SSCAN, ZSCAN (MATCH COUNT).
 *
 * Cursors (documented in README "SCAN cursors"): `0` starts and ends an iteration; any
 * other cursor is `x` + lower-case hex of the last key (SCAN) or field/member (xSCAN) the
 * page examined, and the next page resumes strictly after it in storage order. So an
 * element present for the whole iteration is returned exactly once per pass, and cursors
 * stay valid across restarts, leader changes and splits (a key's position never moves).
 * They are not integers: a proxy that must give integer cursors to old clients maps them.
 */
import { globMatch, globMatchesAll as matchesAll, KeyKind, rangeShardBound, slotRangeStart } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { arg, intArg, is, keyArg, keys } from './command.js';
import type { CommandEnv, CommandSpec } from './command.js';
import { decodeDataValue, decodeScoreValue, isExpiredAt, RedisType, TYPE_NAMES } from './encoding.js';
import type { CollectionType } from './encoding.js';
import { formatDouble } from './numbers.js';
import { array, bulk, Err, error, int, NULL } from './reply.js';
import type { Reply } from './reply.js';
import { randomIndex } from './sampling.js';
import { fail } from './txn.js';

const START = 'start' as const;

/** A decoded cursor: the start, or the last key/sub already examined. */
export type Cursor = typeof START | Uint8Array;

export function parseCursor(raw: Uint8Array): Cursor | undefined {
  const s = Buffer.from(raw).toString('latin1');
  if (s === '0') return START;
  if (!/^x(?:[0-9a-f]{2})*$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s.slice(1), 'hex'));
}

export function formatCursor(c: Cursor): Uint8Array {
  return Buffer.from(c === START ? '0' : `x${Buffer.from(c).toString('hex')}`, 'latin1');
}

interface ScanOptions {
  count: number;
  pattern: Uint8Array | undefined;
  type: string | undefined;
}

function scanOptions(env: CommandEnv, from: number, allowType: boolean): ScanOptions {
  const o: ScanOptions = { count: 10, pattern: undefined, type: undefined };
  for (let i = from; i < env.args.length;) {
    const left = env.args.length - i;
    const a = env.args[i];
    if (is(a, 'count') && left >= 2) {
      o.count = intArg(env, i + 1);
      if (o.count < 1) fail(Err.syntax);
    } else if (is(a, 'match') && left >= 2) {
      const p = arg(env, i + 1);
      o.pattern = matchesAll(p) ? undefined : p;
    } else if (is(a, 'type') && allowType && left >= 2) {
      o.type = Buffer.from(arg(env, i + 1)).toString('latin1');
    } else {
      fail(Err.syntax);
    }
    i += 2;
  }
  return o;
}

interface LiveKey {
  readonly key: Uint8Array;
  readonly type: RedisType;
}

/**
 * Walks the shard's data keys after `after` in storage order, calling `visit` for each
 * live key; stops when `visit` returns false or after `budget` data keys (returning the
 * last key examined), or at the end (returning START). Subkeys are skipped by seeking past
 * their user key, never stepped through.
 */
async function walk(env: CommandEnv, after: Cursor, budget: number, visit: (k: LiveKey) => boolean): Promise<Cursor> {
  const codec = env.txn.codec;
  const range = codec.shard.range;
  let start = after === START ? range.start : codec.userKeyRange(after).end;
  let examined = 0;
  let steps = 0;
  let last: Uint8Array | undefined;
  for (;;) {
    let seek: Uint8Array | undefined;
    for await (const [k, v] of env.txn.view.iterate({ start, end: range.end })) {
      if (++steps > env.limits.scanExaminedMax && last !== undefined) return last;
      const d = codec.decode(k);
      if (d.type === 'subkey' || d.type === 'subindex') {
        seek = codec.userKeyRange(d.userKey).end;
        last = d.userKey;
        break;
      }
      if (d.type !== 'data') continue;
      last = d.userKey;
      examined++;
      const dv = decodeDataValue(v);
      if (!isExpiredAt(dv.expireAtMs, env.txn.nowMs) && !visit({ key: d.userKey, type: dv.type })) return last;
      if (examined >= budget) return last;
    }
    if (seek === undefined) return START;
    start = seek;
  }
}

function matches(o: ScanOptions, k: LiveKey): boolean {
  if (o.type !== undefined && TYPE_NAMES[k.type] !== o.type.toLowerCase()) return false;
  return o.pattern === undefined || globMatch(o.pattern, k.key);
}

async function scan(env: CommandEnv): Promise<Reply> {
  const cursor = parseCursor(arg(env, 1));
  if (cursor === undefined) return Err.invalidCursor;
  const o = scanOptions(env, 2, true);
  const found: Reply[] = [];
  const next = await walk(env, cursor, o.count, (k) => {
    if (matches(o, k)) found.push(bulk(k.key));
    return true;
  });
  return array([bulk(formatCursor(next)), array(found)]);
}

async function keysCmd(env: CommandEnv): Promise<Reply> {
  const p = arg(env, 1);
  const o: ScanOptions = { count: 0, pattern: matchesAll(p) ? undefined : p, type: undefined };
  const found: Reply[] = [];
  let cursor: Cursor = START;
  do {
    cursor = await walk(env, cursor, Number.MAX_SAFE_INTEGER, (k) => {
      if (matches(o, k)) found.push(bulk(k.key));
      return found.length <= env.limits.keysReplyMax;
    });
    if (found.length > env.limits.keysReplyMax) return error(`ERR KEYS matched more than ${env.limits.keysReplyMax} keys in one shard, use SCAN`);
  } while (cursor !== START);
  return array(found);
}

async function dbsize(env: CommandEnv): Promise<Reply> {
  let n = 0;
  let cursor: Cursor = START;
  do {
    cursor = await walk(env, cursor, Number.MAX_SAFE_INTEGER, () => {
      n++;
      return true;
    });
  } while (cursor !== START);
  return int(n);
}

/** A random position in the shard: a random slot's start (hash tables) or a random key's bound (range tables). */
function randomPosition(env: CommandEnv): Uint8Array {
  const shard = env.txn.codec.shard;
  const table = shard.tableId as TableId;
  const { start, end } = shard.range;
  if (shard.partition === 'hash') {
    const lo = start.length >= 6 ? (start[4]! << 8) | start[5]! : 0;
    const hi = end.length >= 6 ? (end[4]! << 8) | end[5]! : 16384;
    return slotRangeStart(table, lo + randomIndex(env.random, Math.max(1, hi - lo)));
  }
  const sample = new Uint8Array(8);
  for (let i = 0; i < sample.length; i++) sample[i] = randomIndex(env.random, 256);
  const p = rangeShardBound(table, sample);
  return Buffer.compare(p, start) >= 0 && Buffer.compare(p, end) < 0 ? p : start;
}

async function randomkey(env: CommandEnv): Promise<Reply> {
  const codec = env.txn.codec;
  const pivot = randomPosition(env);
  // The first live key at or after the pivot, else the first one before it (wrapping).
  for (const range of [{ start: pivot, end: codec.shard.range.end }, { start: codec.shard.range.start, end: pivot }]) {
    let start = range.start;
    let steps = 0;
    for (;;) {
      let seek: Uint8Array | undefined;
      for await (const [k, v] of env.txn.view.iterate({ start, end: range.end })) {
        if (++steps > env.limits.scanExaminedMax) return NULL;
        const d = codec.decode(k);
        if (d.type === 'subkey' || d.type === 'subindex') {
          seek = codec.userKeyRange(d.userKey).end;
          break;
        }
        if (d.type === 'data' && !isExpiredAt(decodeDataValue(v).expireAtMs, env.txn.nowMs)) return bulk(d.userKey);
      }
      if (seek === undefined) break;
      start = seek;
    }
  }
  return NULL;
}

// ----------------------------------------------------------------------------- HSCAN SSCAN ZSCAN

function subScan(type: CollectionType) {
  return async (env: CommandEnv): Promise<Reply> => {
    const cursor = parseCursor(arg(env, 2));
    if (cursor === undefined) return Err.invalidCursor;
    const key = keyArg(env, 1);
    const m = await env.txn.readCollection(key, type);
    const o = scanOptions(env, 3, false);
    if (m === undefined) return array([bulk('0'), array([])]);
    const from = cursor === START ? undefined : successor(cursor);
    const out: Reply[] = [];
    let last: Uint8Array | undefined;
    let n = 0;
    for await (const [sub, v] of env.txn.subs(key, m.version, { from, kind: KeyKind.SubKey, limit: o.count })) {
      n++;
      last = sub;
      if (o.pattern !== undefined && !globMatch(o.pattern, sub)) continue;
      out.push(bulk(sub));
      if (type === RedisType.Hash) out.push(bulk(v));
      else if (type === RedisType.ZSet) out.push(bulk(formatDouble(decodeScoreValue(v))));
    }
    const next: Cursor = n < o.count || last === undefined ? START : last;
    return array([bulk(formatCursor(next)), array(out)]);
  };
}

/** The smallest byte string greater than `b`: `b ‖ 0x00`. */
function successor(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

const R = false;

export const SCAN_COMMANDS: readonly CommandSpec[] = [
  { name: 'scan', arity: -2, write: R, keys: null, run: scan },
  { name: 'keys', arity: 2, write: R, keys: null, run: keysCmd },
  { name: 'dbsize', arity: 1, write: R, keys: null, run: dbsize },
  { name: 'randomkey', arity: 1, write: R, keys: null, run: randomkey },
  { name: 'hscan', arity: -3, write: R, keys: keys(1, 1), run: subScan(RedisType.Hash) },
  { name: 'sscan', arity: -3, write: R, keys: keys(1, 1), run: subScan(RedisType.Set) },
  { name: 'zscan', arity: -3, write: R, keys: keys(1, 1), run: subScan(RedisType.ZSet) },
];
