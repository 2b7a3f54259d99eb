// Goal: hash commands match Redis 7 — counts of new fields, empty hashes vanish, integer
// and float increments with their errors, RESP2 vs RESP3 shapes of HGETALL and HRANDFIELD.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Harness, sorted } from './fixture.js';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

test('HSET HMSET HSETNX HGET HMGET HLEN HEXISTS HSTRLEN', async () => {
  const h = new Harness();
  assert.equal(await h.v('HSET', 'h', 'a', '1', 'b', '2', 'a', '3'), 2);
  assert.equal(await h.v('HGET', 'h', 'a'), '3');
  assert.equal(await h.v('HSET', 'h', 'a', '4', 'c', '5'), 1);
  assert.equal(await h.v('HLEN', 'h'), 3);
  assert.equal(await h.v('HMSET', 'h', 'd', '6'), '+OK');
  assert.equal(await h.v('HSETNX', 'h', 'd', 'x'), 0);
  assert.equal(await h.v('HSETNX', 'h', 'e', 'x'), 1);
  assert.equal(await h.v('HSETNX', 'new', 'f', 'x'), 1);
  assert.deepEqual(await h.v('HMGET', 'h', 'a', 'zz', 'e'), ['4', null, 'x']);
  assert.deepEqual(await h.v('HMGET', 'none', 'a'), [null]);
  assert.deepEqual([await h.v('HEXISTS', 'h', 'a'), await h.v('HEXISTS', 'h', 'zz'), await h.v('HEXISTS', 'none', 'a')], [1, 0, 0]);
  assert.deepEqual([await h.v('HSTRLEN', 'h', 'e'), await h.v('HSTRLEN', 'h', 'zz'), await h.v('HLEN', 'none')], [1, 0, 0]);
  assert.equal(await h.v('HGET', 'h', 'zz'), null);
  assert.equal(await h.v('HGET', 'none', 'a'), null);
  await h.v('SET', 's', 'v');
  for (const cmd of [['HSET', 's', 'f', 'v'], ['HGET', 's', 'f'], ['HLEN', 's'], ['HGETALL', 's'], ['HDEL', 's', 'f']]) {
    assert.equal(await h.v(...cmd), WRONGTYPE, cmd.join(' '));
  }
});

test('HDEL deletes the key with its last field', async () => {
  const h = new Harness();
  await h.v('HSET', 'h', 'a', '1', 'b', '2');
  assert.equal(await h.v('HDEL', 'h', 'a', 'a', 'zz'), 1);
  assert.equal(await h.v('HDEL', 'none', 'a'), 0);
  assert.equal(await h.v('HDEL', 'h', 'b'), 1);
  assert.equal(await h.v('EXISTS', 'h'), 0);
  assert.equal(h.entries, 0);
});

test('HGETALL HKEYS HVALS: RESP2 flat, RESP3 map', async () => {
  const h = new Harness();
  await h.v('HSET', 'h', 'b', '2', 'a', '1');
  assert.deepEqual(await h.v('HGETALL', 'h'), ['a', '1', 'b', '2']);
  assert.deepEqual(await h.v3('HGETALL', 'h'), { map: [['a', '1'], ['b', '2']] });
  assert.deepEqual(await h.v('HGETALL', 'none'), []);
  assert.deepEqual(await h.v3('HGETALL', 'none'), { map: [] });
  assert.deepEqual(await h.v('HKEYS', 'h'), ['a', 'b']);
  assert.deepEqual(await h.v('HVALS', 'h'), ['1', '2']);
});

test('HINCRBY and HINCRBYFLOAT', async () => {
  const h = new Harness();
  assert.equal(await h.v('HINCRBY', 'h', 'n', '5'), 5);
  assert.equal(await h.v('HINCRBY', 'h', 'n', '-7'), -2);
  assert.equal(await h.v('HLEN', 'h'), 1);
  await h.v('HSET', 'h', 's', 'abc', 'big', '9223372036854775807');
  assert.equal(await h.v('HINCRBY', 'h', 's', '1'), '-ERR hash value is not an integer');
  assert.equal(await h.v('HINCRBY', 'h', 'big', '1'), '-ERR increment or decrement would overflow');
  assert.equal(await h.v('HINCRBY', 'h', 'n', 'x'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('HINCRBYFLOAT', 'h', 'f', '1.5'), '1.5');
  assert.equal(await h.v('HINCRBYFLOAT', 'h', 'f', '0.1'), '1.6');
  assert.equal(await h.v('HINCRBYFLOAT', 'h', 'n', '2.5'), '0.5');
  assert.equal(await h.v('HINCRBYFLOAT', 'h', 's', '1'), '-ERR hash value is not a float');
  assert.equal(await h.v('HINCRBYFLOAT', 'h', 'f', 'x'), '-ERR value is not a valid float');
  assert.equal(await h.v('HINCRBYFLOAT', 'h', 'f', 'inf'), '-ERR value is NaN or Infinity');
  assert.equal(await h.v('HLEN', 'h'), 4);
  await h.v('SET', 'str', 'x');
  assert.equal(await h.v('HINCRBY', 'str', 'f', '1'), WRONGTYPE);
});

test('HRANDFIELD: no count, positive (distinct), negative (repeats), WITHVALUES shapes', async () => {
  const h = new Harness();
  assert.equal(await h.v('HRANDFIELD', 'none'), null);
  assert.deepEqual(await h.v('HRANDFIELD', 'none', '3'), []);
  await h.v('HSET', 'h', 'a', '1', 'b', '2', 'c', '3');
  const one = await h.v('HRANDFIELD', 'h');
  assert.ok(['a', 'b', 'c'].includes(one as string));
  assert.deepEqual(await h.v('HRANDFIELD', 'h', '0'), []);
  assert.deepEqual(sorted(await h.v('HRANDFIELD', 'h', '10')), ['a', 'b', 'c']);
  const two = (await h.v('HRANDFIELD', 'h', '2')) as string[];
  assert.equal(new Set(two).size, 2);
  const five = (await h.v('HRANDFIELD', 'h', '-5')) as string[];
  assert.equal(five.length, 5);
  assert.ok(five.every((f) => ['a', 'b', 'c'].includes(f)));
  const flat = (await h.v('HRANDFIELD', 'h', '-2', 'WITHVALUES')) as string[];
  assert.equal(flat.length, 4);
  const nested = (await h.v3('HRANDFIELD', 'h', '2', 'WITHVALUES')) as string[][];
  assert.equal(nested.length, 2);
  for (const [f, v] of nested) assert.equal(v, { a: '1', b: '2', c: '3' }[f!]);
  assert.equal(await h.v('HRANDFIELD', 'h', '1', 'FOO'), '-ERR syntax error');
  assert.equal(await h.v('HRANDFIELD', 'h', 'x'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('HRANDFIELD', 'h', '-9223372036854775808'),
    '-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  assert.equal(await h.v('HRANDFIELD', 'h', '-9223372036854775807', 'WITHVALUES'), '-ERR value is out of range');
  assert.deepEqual((await h.raw('HRANDFIELD', 'h', '2')).writes, []);
});
