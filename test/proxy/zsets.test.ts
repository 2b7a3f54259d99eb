// Goal: sorted-set commands through `shoal proxy` on a real cluster answer with Redis' exact
// reply shapes: ZADD options, scores as strings (RESP2) and doubles (RESP3), ranges by rank,
// score and lex, inf bounds, pops, ZUNIONSTORE/ZINTERSTORE on one shard, CROSSSLOT across.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { KEYS_ON_TWO_SHARDS, startProxyEnv } from './harness.js';
import type { ProxyEnv } from './harness.js';

let env: ProxyEnv;
let r: Redis;

before(async () => {
  env = await startProxyEnv();
  r = env.redis();
});

after(async () => {
  await env?.destroy();
});

test('ZADD (NX XX GT LT CH INCR) / ZSCORE / ZMSCORE / ZINCRBY / ZCARD', async () => {
  assert.equal(await r.zadd('z', 1, 'a', 2, 'b', 3, 'c'), 3);
  assert.equal(await r.zadd('z', 'NX', 10, 'a', 4, 'd'), 1);
  assert.equal(await r.zadd('z', 'XX', 'CH', 5, 'a', 9, 'none'), 1);
  assert.equal(await r.zadd('z', 'GT', 'CH', 1, 'a'), 0);
  assert.equal(await r.zadd('z', 'INCR', 1, 'a'), '6');
  assert.equal(await r.zscore('z', 'a'), '6');
  assert.equal(await r.zscore('z', 'none'), null);
  assert.deepEqual(await r.zmscore('z', 'b', 'none'), ['2', null]);
  assert.equal(await r.zincrby('z', 0.5, 'b'), '2.5');
  assert.equal(await r.zcard('z'), 4);
  await assert.rejects(r.zadd('z', 'NX', 'XX', 1, 'a'), /ERR XX and NX options at the same time are not compatible/);
});

test('ZRANGE forms, WITHSCORES, inf bounds, ZRANK, ZCOUNT, lex ranges', async () => {
  await r.del('zr');
  await r.zadd('zr', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
  assert.deepEqual(await r.zrange('zr', '0', '-1'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await r.zrange('zr', '0', '1', 'WITHSCORES'), ['a', '1', 'b', '2']);
  assert.deepEqual(await r.zrange('zr', '(1', '+inf', 'BYSCORE', 'LIMIT', '1', '2'), ['c', 'd']);
  assert.deepEqual(await r.zrange('zr', '0', '0', 'REV'), ['d']);
  assert.deepEqual(await r.zrangebyscore('zr', '-inf', 2), ['a', 'b']);
  assert.deepEqual(await r.zrevrangebyscore('zr', '+inf', '(3', 'WITHSCORES'), ['d', '4']);
  assert.deepEqual(await r.zrevrange('zr', 0, 1), ['d', 'c']);
  assert.equal(await r.zrank('zr', 'c'), 2);
  assert.equal(await r.zrevrank('zr', 'c'), 1);
  assert.equal(await r.zrank('zr', 'none'), null);
  assert.equal(await r.zcount('zr', 2, '+inf'), 3);
  await r.zadd('lex', 0, 'a', 0, 'b', 0, 'c');
  assert.deepEqual(await r.zrangebylex('lex', '[b', '+'), ['b', 'c']);
  assert.equal(await r.zlexcount('lex', '-', '(c'), 2);
  await assert.rejects(r.zrangebyscore('zr', 'x', 1), /ERR min or max is not a float/);
  // RESP3: scores are doubles, WITHSCORES pairs are arrays.
  assert.equal((await env.cli(['-3', '--no-raw', 'ZSCORE', 'zr', 'a'])).trim(), '(double) 1');
  // One spelling of doubles in RESP2 and RESP3: Redis 7.0's %.17g.
  await r.zadd('zr', '1.1', 'f');
  assert.equal(await r.zscore('zr', 'f'), '1.1000000000000001');
  assert.equal((await env.cli(['-3', '--no-raw', 'ZSCORE', 'zr', 'f'])).trim(), '(double) 1.1000000000000001');
  await r.zrem('zr', 'f');
  assert.equal((await env.cli(['-3', '--no-raw', 'ZRANGE', 'zr', '0', '0', 'WITHSCORES'])).trim(), '1) 1) "a"\n   2) (double) 1');
});

test('ZPOPMIN / ZPOPMAX / ZREM / ZREMRANGEBY*; the emptied zset disappears', async () => {
  await r.zadd('zp', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
  assert.deepEqual(await r.zpopmin('zp'), ['a', '1']);
  assert.deepEqual(await r.zpopmax('zp', 2), ['e', '5', 'd', '4']);
  assert.equal(await r.zrem('zp', 'b', 'none'), 1);
  assert.equal(await r.zremrangebyscore('zp', '-inf', '+inf'), 1);
  assert.equal(await r.exists('zp'), 0);
  await r.zadd('zq', 1, 'a', 2, 'b', 3, 'c');
  assert.equal(await r.zremrangebyrank('zq', 0, 1), 2);
  assert.deepEqual(await r.zrange('zq', '0', '-1'), ['c']);
});

test('ZUNIONSTORE / ZINTERSTORE on one shard; CROSSSLOT across shards', async () => {
  await r.zadd('{u}1', 1, 'a', 2, 'b');
  await r.zadd('{u}2', 10, 'b', 20, 'c');
  assert.equal(await r.zunionstore('{u}out', 2, '{u}1', '{u}2'), 3);
  assert.deepEqual(await r.zrange('{u}out', '0', '-1', 'WITHSCORES'), ['a', '1', 'b', '12', 'c', '20']);
  assert.equal(await r.zinterstore('{u}out', 2, '{u}1', '{u}2', 'WEIGHTS', 2, 1, 'AGGREGATE', 'MAX'), 1);
  assert.deepEqual(await r.zrange('{u}out', '0', '-1', 'WITHSCORES'), ['b', '10']);
  const [a, b] = KEYS_ON_TWO_SHARDS;
  await r.zadd(a, 1, 'x');
  await assert.rejects(r.zunionstore('{u}out', 2, a, b), /CROSSSLOT/);
});
