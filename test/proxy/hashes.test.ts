// Goal: hash commands through `shoal proxy` on a real cluster answer with Redis' exact reply
// shapes in RESP2 (ioredis) and RESP3 (redis-cli -3), WRONGTYPE included, and an emptied
// hash disappears.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startProxyEnv } from './harness.js';
import type { ProxyEnv } from './harness.js';

let env: ProxyEnv;
let r: Redis;
const WRONGTYPE = /^ReplyError: WRONGTYPE Operation against a key holding the wrong kind of value/;

before(async () => {
  env = await startProxyEnv();
  r = env.redis();
});

after(async () => {
  await env?.destroy();
});

test('HSET / HGET / HMGET / HGETALL / HKEYS / HVALS / HLEN / HEXISTS / HSTRLEN', async () => {
  assert.equal(await r.hset('h', 'name', 'ada', 'lang', 'ts'), 2);
  assert.equal(await r.hset('h', 'name', 'grace'), 0);
  assert.equal(await r.hget('h', 'name'), 'grace');
  assert.equal(await r.hget('h', 'none'), null);
  assert.deepEqual(await r.hmget('h', 'name', 'none', 'lang'), ['grace', null, 'ts']);
  assert.deepEqual(await r.call('HGETALL', 'h'), ['lang', 'ts', 'name', 'grace']);
  assert.deepEqual(await r.hkeys('h'), ['lang', 'name']);
  assert.deepEqual(await r.hvals('h'), ['ts', 'grace']);
  assert.equal(await r.hlen('h'), 2);
  assert.equal(await r.hexists('h', 'lang'), 1);
  assert.equal(await r.hexists('h', 'none'), 0);
  assert.equal(await r.hstrlen('h', 'name'), 5);
  assert.equal(await r.hmset('h', 'a', '1'), 'OK');
  assert.equal(await r.hsetnx('h', 'a', '2'), 0);
});

test('HINCRBY / HINCRBYFLOAT and their errors', async () => {
  assert.equal(await r.hincrby('hc', 'n', 5), 5);
  assert.equal(await r.hincrby('hc', 'n', -7), -2);
  assert.equal(await r.hincrbyfloat('hc', 'f', '1.5'), '1.5');
  await r.hset('hc', 's', 'abc');
  await assert.rejects(r.hincrby('hc', 's', 1), /ERR hash value is not an integer/);
});

test('HDEL of the last field deletes the key; WRONGTYPE both ways', async () => {
  await r.hset('hd', 'f1', 'v', 'f2', 'v');
  assert.equal(await r.hdel('hd', 'f1', 'none'), 1);
  assert.equal(await r.hdel('hd', 'f2'), 1);
  assert.equal(await r.exists('hd'), 0);
  assert.equal(await r.type('hd'), 'none');
  await r.set('str', 'v');
  await assert.rejects(r.hget('str', 'f'), WRONGTYPE);
  await r.hset('hw', 'f', 'v');
  await assert.rejects(r.get('hw'), WRONGTYPE);
  assert.equal(await r.type('hw'), 'hash');
});

test('HSCAN and HRANDFIELD shapes', async () => {
  await r.hset('hs', 'a', '1', 'b', '2', 'c', '3');
  const [cursor, items] = await r.hscan('hs', '0', 'COUNT', 100) as [string, string[]];
  assert.equal(cursor, '0');
  assert.deepEqual(items, ['a', '1', 'b', '2', 'c', '3']);
  const one = await r.hrandfield('hs');
  assert.ok(['a', 'b', 'c'].includes(one as string));
  const withValues = await r.hrandfield('hs', 2, 'WITHVALUES') as string[];
  assert.equal(withValues.length, 4);
  assert.deepEqual(await r.hrandfield('nohash', 2), []);
});

test('RESP3 through redis-cli -3: HGETALL is a map', async () => {
  await r.del('h3');
  await r.hset('h3', 'f', 'v');
  assert.equal((await env.cli(['-3', '--no-raw', 'HGETALL', 'h3'])).trim(), '1# "f" => "v"');
  assert.equal((await env.cli(['HGETALL', 'h3'])).trim(), 'f\nv');
});
