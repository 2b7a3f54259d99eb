// Goal: set commands match Redis 7 — membership, SPOP/SRANDMEMBER count rules and set
// replies in RESP3, SMOVE, and the algebra commands with their STORE and CARD forms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Harness, sorted } from './fixture.js';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

test('SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD', async () => {
  const h = new Harness();
  assert.equal(await h.v('SADD', 's', 'a', 'b', 'a'), 2);
  assert.equal(await h.v('SADD', 's', 'b', 'c'), 1);
  assert.equal(await h.v('SCARD', 's'), 3);
  assert.deepEqual([await h.v('SISMEMBER', 's', 'a'), await h.v('SISMEMBER', 's', 'z'), await h.v('SISMEMBER', 'none', 'a')], [1, 0, 0]);
  assert.deepEqual(await h.v('SMISMEMBER', 's', 'a', 'z', 'c'), [1, 0, 1]);
  assert.deepEqual(await h.v('SMISMEMBER', 'none', 'a'), [0]);
  assert.deepEqual(await h.v('SMEMBERS', 's'), ['a', 'b', 'c']);
  assert.deepEqual(await h.v3('SMEMBERS', 's'), { set: ['a', 'b', 'c'] });
  assert.deepEqual(await h.v('SMEMBERS', 'none'), []);
  assert.equal(await h.v('SREM', 's', 'a', 'z', 'a'), 1);
  assert.equal(await h.v('SREM', 's', 'b', 'c'), 2);
  assert.equal(await h.v('EXISTS', 's'), 0);
  assert.equal(h.entries, 0);
  await h.v('SET', 'str', 'v');
  assert.equal(await h.v('SADD', 'str', 'a'), WRONGTYPE);
  assert.equal(await h.v('SMEMBERS', 'str'), WRONGTYPE);
});

test('SPOP: single, count, whole set, errors', async () => {
  const h = new Harness();
  assert.equal(await h.v('SPOP', 'none'), null);
  assert.deepEqual(await h.v('SPOP', 'none', '2'), []);
  assert.deepEqual(await h.v3('SPOP', 'none', '2'), { set: [] });
  await h.v('SADD', 's', 'a', 'b', 'c', 'd');
  const one = await h.v('SPOP', 's');
  assert.ok(['a', 'b', 'c', 'd'].includes(one as string));
  assert.equal(await h.v('SCARD', 's'), 3);
  assert.deepEqual(await h.v('SPOP', 's', '0'), []);
  const two = (await h.v3('SPOP', 's', '2')) as { set: string[] };
  assert.equal(two.set.length, 2);
  assert.equal(await h.v('SCARD', 's'), 1);
  assert.equal((await h.v('SPOP', 's', '5') as string[]).length, 1);
  assert.equal(await h.v('EXISTS', 's'), 0);
  assert.equal(await h.v('SPOP', 's', '-1'), '-ERR value is out of range, must be positive');
  assert.equal(await h.v('SPOP', 's', '1', '2'), '-ERR syntax error');
});

test('SRANDMEMBER: distinct, repeats, whole set, no writes', async () => {
  const h = new Harness();
  assert.equal(await h.v('SRANDMEMBER', 'none'), null);
  assert.deepEqual(await h.v('SRANDMEMBER', 'none', '3'), []);
  await h.v('SADD', 's', 'a', 'b', 'c');
  assert.ok(['a', 'b', 'c'].includes((await h.v('SRANDMEMBER', 's')) as string));
  assert.deepEqual(await h.v('SRANDMEMBER', 's', '0'), []);
  const two = (await h.v('SRANDMEMBER', 's', '2')) as string[];
  assert.equal(new Set(two).size, 2);
  assert.equal(((await h.v('SRANDMEMBER', 's', '-7')) as string[]).length, 7);
  assert.deepEqual(sorted(await h.v3('SRANDMEMBER', 's', '9')), ['a', 'b', 'c']);
  assert.equal(await h.v('SCARD', 's'), 3);
  assert.deepEqual((await h.raw('SRANDMEMBER', 's', '2')).writes, []);
});

test('SMOVE', async () => {
  const h = new Harness();
  await h.v('SADD', 'a', 'x', 'y');
  assert.equal(await h.v('SMOVE', 'none', 'a', 'x'), 0);
  assert.equal(await h.v('SMOVE', 'a', 'b', 'x'), 1);
  assert.equal(await h.v('SMOVE', 'a', 'b', 'x'), 0);
  assert.equal(await h.v('SMOVE', 'a', 'a', 'y'), 1);
  assert.equal(await h.v('SMOVE', 'a', 'a', 'zz'), 0);
  assert.deepEqual([await h.v('SMEMBERS', 'a'), await h.v('SMEMBERS', 'b')], [['y'], ['x']]);
  assert.equal(await h.v('SMOVE', 'a', 'b', 'y'), 1);
  assert.equal(await h.v('EXISTS', 'a'), 0);
  assert.equal(await h.v('SCARD', 'b'), 2);
  await h.v('SET', 'str', 'v');
  assert.equal(await h.v('SMOVE', 'b', 'str', 'x'), WRONGTYPE);
  assert.equal(await h.v('SMOVE', 'str', 'b', 'x'), WRONGTYPE);
  assert.equal(await h.v('SMOVE', 'none', 'str', 'x'), 0);
});

test('SINTER SUNION SDIFF, their STORE forms and SINTERCARD', async () => {
  const h = new Harness();
  await h.v('SADD', 'a', '1', '2', '3', '4');
  await h.v('SADD', 'b', '3', '4', '5');
  await h.v('SADD', 'c', '4', '6');
  assert.deepEqual(await h.v('SINTER', 'a', 'b'), ['3', '4']);
  assert.deepEqual(await h.v('SINTER', 'a', 'b', 'c'), ['4']);
  assert.deepEqual(await h.v('SINTER', 'a', 'none'), []);
  assert.deepEqual(await h.v3('SINTER', 'a', 'b'), { set: ['3', '4'] });
  assert.deepEqual(await h.v('SUNION', 'b', 'c', 'none'), ['3', '4', '5', '6']);
  assert.deepEqual(await h.v('SDIFF', 'a', 'b', 'none'), ['1', '2']);
  assert.deepEqual(await h.v('SDIFF', 'none', 'a'), []);
  assert.equal(await h.v('SINTERSTORE', 'd', 'a', 'b'), 2);
  assert.deepEqual(await h.v('SMEMBERS', 'd'), ['3', '4']);
  assert.equal(await h.v('SUNIONSTORE', 'd', 'd', 'c'), 3);
  assert.deepEqual(await h.v('SMEMBERS', 'd'), ['3', '4', '6']);
  assert.equal(await h.v('SDIFFSTORE', 'd', 'a', 'a'), 0);
  assert.equal(await h.v('EXISTS', 'd'), 0);
  await h.v('SET', 'str', 'v', 'EX', '100');
  assert.equal(await h.v('SUNIONSTORE', 'str', 'a'), 4);
  assert.equal(await h.v('TTL', 'str'), -1);
  assert.deepEqual(await h.v('SINTER', 'a', 'str', 'none'), []);
  await h.v('SET', 'x', 'v');
  assert.equal(await h.v('SINTER', 'none', 'x'), WRONGTYPE, 'every key is type-checked, even after an empty one');
  assert.equal(await h.v('SINTERCARD', '2', 'a', 'b'), 2);
  assert.equal(await h.v('SINTERCARD', '2', 'a', 'b', 'LIMIT', '1'), 1);
  assert.equal(await h.v('SINTERCARD', '2', 'a', 'b', 'LIMIT', '0'), 2);
  assert.equal(await h.v('SINTERCARD', '0', 'a'), '-ERR numkeys should be greater than 0');
  assert.equal(await h.v('SINTERCARD', 'x', 'a'), '-ERR numkeys should be greater than 0');
  assert.equal(await h.v('SINTERCARD', '3', 'a', 'b'), "-ERR Number of keys can't be greater than number of args");
  assert.equal(await h.v('SINTERCARD', '2', 'a', 'b', 'LIMIT', '-1'), "-ERR LIMIT can't be negative");
  assert.equal(await h.v('SINTERCARD', '2', 'a', 'b', 'FOO'), '-ERR syntax error');
  assert.deepEqual(h.exec.describe(['SINTERCARD', '2', 'a', 'b', 'LIMIT', '1'].map((s) => new TextEncoder().encode(s))),
    { ok: true, name: 'sintercard', write: false, keys: [new TextEncoder().encode('a'), new TextEncoder().encode('b')] });
});
