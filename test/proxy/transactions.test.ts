// Goal: MULTI/EXEC, SELECT, FLUSHDB/FLUSHALL, INFO keyspace and shutdown through `shoal proxy`
// on a real cluster: a one-command transaction runs atomically on its shard; what cannot be
// atomic is refused before anything runs (CROSSSLOT across shards; several commands and WATCH
// until Kv.Exec carries a command list); SIGTERM closes the proxy cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { KEYS_ON_TWO_SHARDS, startProxyEnv, waitUntil } from './harness.js';
import type { ProxyEnv } from './harness.js';

let env: ProxyEnv;
let r: Redis;
const [A, B] = KEYS_ON_TWO_SHARDS;

before(async () => {
  env = await startProxyEnv();
  r = env.redis();
});

after(async () => {
  await env?.destroy();
});

test('MULTI/EXEC with one data command runs it on its shard', async () => {
  const res = await r.multi().set('{m}k', 'v').exec();
  assert.deepEqual(res, [[null, 'OK']]);
  assert.deepEqual(await r.multi().ping().get('{m}k').exec(), [[null, 'PONG'], [null, 'v']]);
});

test('MULTI across shards is refused with CROSSSLOT before anything runs', async () => {
  await r.del(A, B);
  await assert.rejects(r.multi().set(A, '1').set(B, '2').exec(), /CROSSSLOT Keys in request don't hash to the same slot/);
  assert.deepEqual(await r.mget(A, B), [null, null]);
});

test('several data commands on one shard, and WATCH: refused until Kv.Exec carries a command list', async () => {
  await assert.rejects(r.multi().set('{m}a', '1').incr('{m}b').exec(), /ERR MULTI with more than one data command needs a multi-command Kv.Exec/);
  assert.equal(await r.exists('{m}a', '{m}b'), 0);
  await assert.rejects(r.watch('{m}a'), /ERR WATCH is not supported yet/);
});

test('SELECT maps db indexes to tables; a db whose table does not exist answers an error', async () => {
  const other = env.redis({ db: 0 });
  assert.equal(await other.select(1), 'OK');
  await assert.rejects(other.get('k'), /^ReplyError: ERR /);
  await assert.rejects(other.select(2), /ERR DB index is out of range/);
});

test('FLUSHDB deletes every key of the table on every shard; INFO keyspace counts keys', async () => {
  await r.flushdb();
  await r.mset(A, '1', B, '2', 'x', '3');
  await r.hset('fh', 'f', 'v');
  // INFO's counts are reused for a moment (they walk every shard): wait for fresh ones.
  const info = await waitUntil('INFO keyspace counts the keys', 10_000, async () => {
    const text = await r.info('keyspace');
    return /^db0:keys=4,expires=0,avg_ttl=0/m.test(text) ? text : undefined;
  });
  assert.match(info, /^# Keyspace/m);
  assert.equal(await r.flushdb(), 'OK');
  assert.equal(await r.dbsize(), 0);
  assert.deepEqual(await r.mget(A, B, 'x'), [null, null, null]);
  assert.equal(await r.hlen('fh'), 0);
  assert.equal(await r.hset('fh', 'g', 'w'), 1);
  assert.deepEqual(await r.call('HGETALL', 'fh'), ['g', 'w']);
});

test('SIGTERM: the proxy exits 0', async () => {
  assert.equal(await env.stopProxy(), 0);
});
