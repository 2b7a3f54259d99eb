// Goal: the keyspace commands on named keys (DEL, EXISTS, TYPE, the EXPIRE family with NX
// XX GT LT, TTL/EXPIRETIME, PERSIST, RENAME, TOUCH) behave like Redis 7 on every type.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Harness } from './fixture.js';

test('DEL / UNLINK / EXISTS / TOUCH count live keys, duplicates included', async () => {
  const h = new Harness();
  await h.v('MSET', 'a', '1', 'b', '2');
  await h.v('HSET', 'h', 'f', 'v');
  assert.equal(await h.v('EXISTS', 'a', 'a', 'b', 'x', 'h'), 4);
  assert.equal(await h.v('TOUCH', 'a', 'x'), 1);
  assert.equal(await h.v('DEL', 'a', 'a', 'x'), 1);
  assert.equal(await h.v('UNLINK', 'b', 'h'), 2);
  assert.equal(await h.v('EXISTS', 'a', 'b', 'h'), 0);
  assert.equal(h.entries, 1, 'only the orphaned hash field is left for the sweeper');
  assert.deepEqual((await h.raw('DEL', 'nothing')).writes, []);
});

test('TYPE names every type', async () => {
  const h = new Harness();
  await h.v('SET', 's', 'v');
  await h.v('HSET', 'h', 'f', 'v');
  await h.v('RPUSH', 'l', 'a');
  await h.v('SADD', 'st', 'm');
  await h.v('ZADD', 'z', '1', 'm');
  const types = [];
  for (const k of ['s', 'h', 'l', 'st', 'z', 'none']) types.push(await h.v('TYPE', k));
  assert.deepEqual(types, ['+string', '+hash', '+list', '+set', '+zset', '+none']);
});

test('EXPIRE family with NX / XX / GT / LT', async () => {
  const h = new Harness();
  await h.v('SET', 'k', 'v');
  assert.equal(await h.v('EXPIRE', 'none', '10'), 0);
  assert.equal(await h.v('EXPIRE', 'k', '100', 'XX'), 0);
  assert.equal(await h.v('EXPIRE', 'k', '100', 'GT'), 0);
  assert.equal(await h.v('EXPIRE', 'k', '100', 'LT'), 1);
  assert.equal(await h.v('TTL', 'k'), 100);
  assert.equal(await h.v('EXPIRE', 'k', '50', 'NX'), 0);
  assert.equal(await h.v('EXPIRE', 'k', '50', 'GT'), 0);
  assert.equal(await h.v('EXPIRE', 'k', '200', 'GT'), 1);
  assert.equal(await h.v('EXPIRE', 'k', '300', 'LT'), 0);
  assert.equal(await h.v('EXPIRE', 'k', '20', 'XX', 'LT'), 1);
  assert.equal(await h.v('TTL', 'k'), 20);
  assert.equal(await h.v('EXPIRE', 'k', '20', 'NX', 'XX'), '-ERR NX and XX, GT or LT options at the same time are not compatible');
  assert.equal(await h.v('EXPIRE', 'k', '20', 'GT', 'LT'), '-ERR GT and LT options at the same time are not compatible');
  assert.equal(await h.v('EXPIRE', 'k', '20', 'FOO'), '-ERR Unsupported option FOO');
  assert.equal(await h.v('EXPIRE', 'k', 'x'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('EXPIRE', 'k', '9223372036854775807'), "-ERR invalid expire time in 'expire' command");
  assert.equal(await h.v('PEXPIRE', 'k', '9223372036854775807'), "-ERR invalid expire time in 'pexpire' command");
  assert.equal(await h.v('PEXPIRE', 'k', '1500'), 1);
  assert.equal(await h.v('PTTL', 'k'), 1500);
  assert.equal(await h.v('TTL', 'k'), 2);
  const at = Math.floor(h.nowMs / 1000) + 1000;
  assert.equal(await h.v('EXPIREAT', 'k', String(at)), 1);
  assert.equal(await h.v('EXPIRETIME', 'k'), at);
  assert.equal(await h.v('PEXPIRETIME', 'k'), at * 1000);
  assert.equal(await h.v('PEXPIREAT', 'k', String(h.nowMs + 5)), 1);
  assert.equal(await h.v('PTTL', 'k'), 5);
  assert.deepEqual([await h.v('TTL', 'none'), await h.v('PTTL', 'none'), await h.v('EXPIRETIME', 'none')], [-2, -2, -2]);
  await h.v('SET', 'p', 'v');
  assert.deepEqual([await h.v('TTL', 'p'), await h.v('EXPIRETIME', 'p'), await h.v('PEXPIRETIME', 'p')], [-1, -1, -1]);
  // Negative and past expiries delete the key and answer 1.
  assert.equal(await h.v('EXPIRE', 'p', '-1'), 1);
  assert.equal(await h.v('EXISTS', 'p'), 0);
  await h.v('SET', 'p', 'v');
  assert.equal(await h.v('EXPIREAT', 'p', '1'), 1);
  assert.equal(await h.v('GET', 'p'), null);
});

test('keys expire at their instant; PERSIST removes the expiry', async () => {
  const h = new Harness();
  await h.v('SET', 'k', 'v', 'PX', '100');
  h.advance(99);
  assert.equal(await h.v('GET', 'k'), 'v');
  assert.equal(await h.v('PTTL', 'k'), 1);
  h.advance(1);
  assert.equal(await h.v('GET', 'k'), null);
  assert.equal(await h.v('TTL', 'k'), -2);
  assert.equal(await h.v('EXISTS', 'k'), 0);
  assert.equal(await h.v('SET', 'k', 'v2', 'NX'), '+OK', 'an expired key counts as absent');
  await h.v('EXPIRE', 'k', '10');
  assert.equal(await h.v('PERSIST', 'k'), 1);
  assert.equal(await h.v('PERSIST', 'k'), 0);
  assert.equal(await h.v('PERSIST', 'none'), 0);
  assert.equal(await h.v('TTL', 'k'), -1);
  // DEL of an expired key answers 0 but removes it physically.
  await h.v('SET', 'e', 'v', 'PX', '1');
  h.advance(1);
  const r = await h.raw('DEL', 'e');
  assert.equal(r.reply.kind === 'integer' ? r.reply.value : -1n, 0n);
  assert.equal(r.writes.length, 1);
});

test('TTL rounds to the nearest second', async () => {
  const h = new Harness();
  await h.v('SET', 'k', 'v', 'PX', '1499');
  assert.equal(await h.v('TTL', 'k'), 1);
  await h.v('SET', 'k', 'v', 'PX', '1500');
  assert.equal(await h.v('TTL', 'k'), 2);
});

test('RENAME / RENAMENX move strings and collections with their TTL', async () => {
  const h = new Harness();
  assert.equal(await h.v('RENAME', 'none', 'x'), '-ERR no such key');
  assert.equal(await h.v('RENAMENX', 'none', 'x'), '-ERR no such key');
  await h.v('SET', 'a', '1', 'EX', '100');
  assert.equal(await h.v('RENAME', 'a', 'a'), '+OK');
  assert.equal(await h.v('RENAMENX', 'a', 'a'), 0);
  assert.equal(await h.v('RENAME', 'a', 'b'), '+OK');
  assert.deepEqual([await h.v('GET', 'a'), await h.v('GET', 'b'), await h.v('TTL', 'b')], [null, '1', 100]);
  await h.v('HSET', 'h', 'f1', 'v1', 'f2', 'v2');
  await h.v('ZADD', 'z', '1', 'a', '2', 'b');
  await h.v('RPUSH', 'l', 'x', 'y', 'z');
  assert.equal(await h.v('RENAMENX', 'h', 'b'), 0);
  assert.equal(await h.v('RENAME', 'h', 'b'), '+OK');
  assert.deepEqual(await h.v('HGETALL', 'b'), ['f1', 'v1', 'f2', 'v2']);
  assert.equal(await h.v('EXISTS', 'h'), 0);
  assert.equal(await h.v('RENAME', 'z', 'z2'), '+OK');
  assert.deepEqual(await h.v('ZRANGE', 'z2', '0', '-1', 'WITHSCORES'), ['a', '1', 'b', '2']);
  assert.equal(await h.v('RENAMENX', 'l', 'l2'), 1);
  assert.deepEqual(await h.v('LRANGE', 'l2', '0', '-1'), ['x', 'y', 'z']);
  // The destination's old collection is replaced, not merged.
  await h.v('SADD', 's1', 'a');
  await h.v('SADD', 's2', 'b', 'c');
  await h.v('RENAME', 's1', 's2');
  assert.deepEqual(await h.v('SMEMBERS', 's2'), ['a']);
  assert.equal(await h.v('SCARD', 's2'), 1);
});
