// Goal: list commands through `shoal proxy` on a real cluster answer with Redis' exact reply
// shapes: pushes, pops with and without a count (null array on a missing key), ranges with
// negative indexes, LPOS, LINSERT, LMOVE on one shard, CROSSSLOT across shards.
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

test('LPUSH / RPUSH / LRANGE / LLEN / LINDEX / LSET', async () => {
  assert.equal(await r.lpush('l', 'b', 'a'), 2);
  assert.equal(await r.rpush('l', 'c', 'd'), 4);
  assert.deepEqual(await r.lrange('l', 0, -1), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await r.lrange('l', -2, 100), ['c', 'd']);
  assert.deepEqual(await r.lrange('l', 5, 10), []);
  assert.equal(await r.llen('l'), 4);
  assert.equal(await r.lindex('l', -1), 'd');
  assert.equal(await r.lindex('l', 10), null);
  assert.equal(await r.lset('l', 1, 'B'), 'OK');
  await assert.rejects(r.lset('l', 10, 'x'), /ERR index out of range/);
  assert.equal(await r.lpushx('nolist', 'x'), 0);
});

test('LPOP / RPOP with and without count; the emptied list disappears', async () => {
  await r.rpush('p', '1', '2', '3');
  assert.equal(await r.lpop('p'), '1');
  assert.deepEqual(await r.rpop('p', 5), ['3', '2']);
  assert.equal(await r.exists('p'), 0);
  assert.equal(await r.lpop('p'), null);
  // RESP2 null array (*-1) for a count on a missing key, as Redis 7.
  assert.equal((await env.cli(['--no-raw', 'LPOP', 'p', '2'])).trim(), '(nil)');
  assert.equal(await r.lpop('p', 2), null);
});

test('LREM / LTRIM / LINSERT / LPOS', async () => {
  await r.rpush('x', 'a', 'b', 'a', 'c', 'a');
  assert.equal(await r.lrem('x', 2, 'a'), 2);
  assert.deepEqual(await r.lrange('x', 0, -1), ['b', 'c', 'a']);
  assert.equal(await r.linsert('x', 'BEFORE', 'c', 'z'), 4);
  assert.equal(await r.linsert('x', 'AFTER', 'none', 'z'), -1);
  assert.equal(await r.lpos('x', 'a'), 3);
  assert.equal(await r.lpos('x', 'none'), null);
  assert.equal(await r.ltrim('x', 1, 2), 'OK');
  assert.deepEqual(await r.lrange('x', 0, -1), ['z', 'c']);
});

test('LMOVE / RPOPLPUSH on one shard; CROSSSLOT across shards', async () => {
  await r.rpush('{q}src', '1', '2');
  assert.equal(await r.lmove('{q}src', '{q}dst', 'LEFT', 'RIGHT'), '1');
  assert.equal(await r.rpoplpush('{q}src', '{q}dst'), '2');
  assert.deepEqual(await r.lrange('{q}dst', 0, -1), ['2', '1']);
  assert.equal(await r.exists('{q}src'), 0);
  const [a, b] = KEYS_ON_TWO_SHARDS;
  await r.rpush(a, 'v');
  await assert.rejects(r.rpoplpush(a, b), /CROSSSLOT Keys in request don't hash to the same slot/);
});
