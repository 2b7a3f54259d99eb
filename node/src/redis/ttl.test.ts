// Goal: expiry works the same on every type — an expired collection is absent to every
// command, a key recreated after expiry starts empty under a new version, EXPIRE rewrites
// only metadata, and the table's default TTL applies to keys created without one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findStaleSubkeyRanges } from './sweeper.js';
import { Harness, RANGE_SHARD } from './fixture.js';

test('an expired hash, list, set and zset are absent; recreating starts empty', async () => {
  const h = new Harness();
  await h.v('HSET', 'h', 'a', '1', 'b', '2');
  await h.v('RPUSH', 'l', 'x', 'y');
  await h.v('SADD', 's', 'm', 'n');
  await h.v('ZADD', 'z', '1', 'm', '2', 'n');
  for (const k of ['h', 'l', 's', 'z']) {
    const r = await h.raw('PEXPIRE', k, '1000');
    assert.equal(r.writes.length, 1, 'EXPIRE of a collection rewrites only its metadata');
  }
  assert.equal(await h.v('TTL', 'h'), 1);
  h.advance(999);
  assert.equal(await h.v('HLEN', 'h'), 2);
  h.advance(1);
  assert.deepEqual(
    [await h.v('HLEN', 'h'), await h.v('HGET', 'h', 'a'), await h.v('LLEN', 'l'), await h.v('LRANGE', 'l', '0', '-1'),
      await h.v('SISMEMBER', 's', 'm'), await h.v('ZSCORE', 'z', 'm'), await h.v('TYPE', 'h'), await h.v('EXISTS', 'h', 'l', 's', 'z')],
    [0, null, 0, [], 0, null, '+none', 0]);
  assert.equal(await h.v('SET', 'z', 'v', 'NX'), '+OK');
  assert.equal(await h.v('HSET', 'h', 'c', '3'), 1);
  assert.deepEqual(await h.v('HGETALL', 'h'), ['c', '3']);
  assert.equal(await h.v('TTL', 'h'), -1);
  assert.equal(await h.v('RPUSH', 'l', 'new'), 1);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['new']);
  assert.equal(await h.v('SADD', 's', 'n'), 1);
  assert.equal(await h.v('SCARD', 's'), 1);
  const stale = await findStaleSubkeyRanges(h.view, RANGE_SHARD, { limit: 100, nowMs: h.nowMs });
  // h, l, s: one stale version each; z (now a string): member subkeys and score index.
  assert.equal(stale.ranges.length, 5);
});

test('PERSIST, RENAME and GETEX-style TTL handling on collections', async () => {
  const h = new Harness();
  await h.v('SADD', 's', 'a');
  await h.v('EXPIRE', 's', '100');
  assert.equal(await h.v('RENAME', 's', 't'), '+OK');
  assert.equal(await h.v('TTL', 't'), 100);
  assert.equal(await h.v('PERSIST', 't'), 1);
  assert.equal(await h.v('TTL', 't'), -1);
  await h.v('EXPIRE', 't', '10', 'NX');
  assert.equal(await h.v('EXPIRE', 't', '5', 'GT'), 0);
  assert.equal(await h.v('EXPIRE', 't', '5', 'LT'), 1);
  assert.equal(await h.v('SADD', 't', 'b'), 1);
  assert.equal(await h.v('TTL', 't'), 5, 'adding elements keeps the expiry');
  assert.equal(await h.v('EXPIRE', 't', '0'), 1);
  assert.equal(await h.v('EXISTS', 't'), 0);
});

test('the table default TTL applies to keys created without an expiry', async () => {
  const h = new Harness();
  h.defaultTtlMs = 60_000;
  await h.v('SET', 'k', 'v');
  assert.equal(await h.v('TTL', 'k'), 60);
  await h.v('SET', 'e', 'v', 'EX', '5');
  assert.equal(await h.v('TTL', 'e'), 5);
  await h.v('HSET', 'h', 'f', 'v');
  assert.equal(await h.v('TTL', 'h'), 60);
  await h.v('EXPIRE', 'h', '10');
  await h.v('HSET', 'h', 'g', 'v');
  assert.equal(await h.v('TTL', 'h'), 10, 'an existing key keeps its own expiry');
  await h.v('INCR', 'n');
  assert.equal(await h.v('TTL', 'n'), 60);
  assert.equal(await h.v('PERSIST', 'n'), 1);
  assert.equal(await h.v('TTL', 'n'), -1);
});
