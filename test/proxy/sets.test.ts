// Goal: set commands through `shoal proxy` on a real cluster answer with Redis' exact reply
// shapes (RESP2 arrays, RESP3 sets), set algebra and *STORE on one shard, CROSSSLOT across.
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

test('SADD / SREM / SISMEMBER / SMISMEMBER / SMEMBERS / SCARD', async () => {
  assert.equal(await r.sadd('s', 'a', 'b', 'c', 'a'), 3);
  assert.equal(await r.srem('s', 'c', 'none'), 1);
  assert.equal(await r.sismember('s', 'a'), 1);
  assert.equal(await r.sismember('s', 'z'), 0);
  assert.deepEqual(await r.smismember('s', 'a', 'z'), [1, 0]);
  assert.deepEqual((await r.smembers('s')).sort(), ['a', 'b']);
  assert.equal(await r.scard('s'), 2);
  assert.equal(await r.scard('none'), 0);
  assert.match((await env.cli(['-3', '--no-raw', 'SMEMBERS', 's'])).trim(), /^1~ "[ab]"\n2~ "[ab]"$/);
});

test('SPOP / SRANDMEMBER / SMOVE; the emptied set disappears', async () => {
  await r.sadd('{g}1', 'x', 'y');
  assert.equal(await r.smove('{g}1', '{g}2', 'x'), 1);
  assert.equal(await r.smove('{g}1', '{g}2', 'none'), 0);
  assert.equal(await r.srandmember('{g}1'), 'y');
  assert.deepEqual(await r.srandmember('{g}1', 5), ['y']);
  assert.equal(await r.spop('{g}1'), 'y');
  assert.equal(await r.exists('{g}1'), 0);
  assert.deepEqual(await r.spop('{g}1', 3), []);
});

test('SINTER / SUNION / SDIFF / *STORE / SINTERCARD on one shard; CROSSSLOT across', async () => {
  await r.sadd('{k}a', '1', '2', '3');
  await r.sadd('{k}b', '2', '3', '4');
  assert.deepEqual((await r.sinter('{k}a', '{k}b')).sort(), ['2', '3']);
  assert.deepEqual((await r.sunion('{k}a', '{k}b')).sort(), ['1', '2', '3', '4']);
  assert.deepEqual(await r.sdiff('{k}a', '{k}b'), ['1']);
  assert.equal(await r.sinterstore('{k}c', '{k}a', '{k}b'), 2);
  assert.equal(await r.sunionstore('{k}c', '{k}a', '{k}b'), 4);
  assert.equal(await r.sdiffstore('{k}c', '{k}a', '{k}a'), 0);
  assert.equal(await r.exists('{k}c'), 0);
  assert.equal(await r.call('SINTERCARD', '2', '{k}a', '{k}b', 'LIMIT', '1'), 1);
  const [a, b] = KEYS_ON_TWO_SHARDS;
  await r.sadd(a, '1');
  await assert.rejects(r.sinter(a, b), /CROSSSLOT/);
  await assert.rejects(r.call('SINTERCARD', '2', a, b), /CROSSSLOT/);
});

test('SSCAN returns every member', async () => {
  const members = Array.from({ length: 30 }, (_, i) => `m${i}`);
  await r.sadd('big', ...members);
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, page] = await r.sscan('big', cursor, 'COUNT', 7) as [string, string[]];
    for (const m of page) seen.add(m);
    cursor = next;
  } while (cursor !== '0');
  assert.deepEqual([...seen].sort(), [...members].sort());
});
