// Goal: deleting a 100,000-field hash is one metadata write, the sweeper then finds its
// orphaned subkeys as one range (never live ones), versions are never reused even when the
// clock goes back, and sweepOnce latches, re-checks and proposes the range deletes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatchManager } from './latches.js';
import { KeyCodec } from './encoding.js';
import { findStaleSubkeyRanges, staleRangeWrites, sweepOnce } from './sweeper.js';
import type { SweepHost } from './sweeper.js';
import { Harness, RANGE_SHARD } from './fixture.js';
import type { RawWrite } from './view.js';

test('DEL of a 100,000-field hash is O(1); the sweeper removes its fields with one range delete', async () => {
  const h = new Harness();
  const args: string[] = [];
  for (let i = 0; i < 100_000; i++) args.push(`field:${i}`, `value:${i}`);
  assert.equal(await h.call(['HSET', 'big', ...args]), 100_000);
  assert.equal(await h.v('HLEN', 'big'), 100_000);
  await h.v('SET', 'other', 'v');
  await h.v('HSET', 'live', 'f', 'v');
  const del = await h.raw('DEL', 'big');
  assert.deepEqual(del.writes.map((w) => w.type), ['delete'], 'DEL writes only the metadata delete');
  assert.equal(await h.v('EXISTS', 'big'), 0);
  assert.equal(await h.v('HGET', 'big', 'field:7'), null);
  assert.equal(h.entries, 100_003);

  const found = await findStaleSubkeyRanges(h.view, RANGE_SHARD, { limit: 10, nowMs: h.nowMs });
  assert.equal(found.ranges.length, 1);
  assert.equal(new TextDecoder().decode(found.ranges[0]!.userKey), 'big');
  assert.equal(found.cursor, undefined, 'the walk reached the end');
  assert.equal(h.view.countInRange(found.ranges[0]!.range), 100_000);
  h.apply(staleRangeWrites(found.ranges));
  assert.equal(h.entries, 3);
  assert.deepEqual(await h.v('HGETALL', 'live'), ['f', 'v']);
  assert.equal((await findStaleSubkeyRanges(h.view, RANGE_SHARD, { limit: 10, nowMs: h.nowMs })).ranges.length, 0);
});

test('overwrites, renames and zset indexes leave stale ranges; limits and cursors page them', async () => {
  const h = new Harness();
  for (let i = 0; i < 5; i++) {
    await h.v('ZADD', `z${i}`, '1', 'a', '2', 'b');
    await h.v('SET', `z${i}`, 'now a string');
  }
  await h.v('SADD', 'r', 'x');
  await h.v('RENAME', 'r', 'r2');
  let cursor: Uint8Array | undefined;
  const all = [];
  do {
    const page = await findStaleSubkeyRanges(h.view, RANGE_SHARD, { limit: 3, nowMs: h.nowMs, cursor });
    all.push(...page.ranges);
    cursor = page.cursor;
  } while (cursor !== undefined);
  assert.equal(all.length, 11, '5 zsets × (members + score index) + the renamed set');
  const step = await findStaleSubkeyRanges(h.view, RANGE_SHARD, { limit: 100, nowMs: h.nowMs, examinedMax: 2 });
  assert.ok(step.cursor !== undefined && step.ranges.length <= 2);
  h.apply(staleRangeWrites(all));
  assert.deepEqual(await h.v('SMEMBERS', 'r2'), ['x']);
  assert.equal(h.entries, 7, 'five strings and the renamed set (metadata + member)');
});

test('a recreated collection never reuses an old version, even with the clock behind', async () => {
  const h = new Harness();
  await h.v('HSET', 'h', 'old1', 'x', 'old2', 'y');
  await h.v('DEL', 'h');
  h.nowMs -= 3_600_000;
  await h.v('HSET', 'h', 'new', 'z');
  assert.deepEqual(await h.v('HGETALL', 'h'), ['new', 'z']);
  assert.equal(await h.v('HLEN', 'h'), 1);
  await h.v('DEL', 'h');
  await h.v('HSET', 'h', 'again', 'w');
  assert.deepEqual(await h.v('HGETALL', 'h'), ['again', 'w']);
  const stale = await findStaleSubkeyRanges(h.view, RANGE_SHARD, { limit: 10, nowMs: h.nowMs });
  assert.equal(stale.ranges.length, 2);
  assert.ok(stale.ranges.every((r, i, a) => i === 0 || r.version > a[i - 1]!.version));
});

test('sweepOnce latches the keys, re-checks and proposes; it skips busy keys', async () => {
  const h = new Harness();
  await h.v('SADD', 'a', '1', '2');
  await h.v('DEL', 'a');
  await h.v('SADD', 'b', '1');
  await h.v('DEL', 'b');
  const proposed: RawWrite[][] = [];
  const host: SweepHost = {
    openView: () => h.view,
    now: () => h.nowMs,
    propose: async (writes) => {
      proposed.push([...writes]);
      h.apply(writes);
    },
  };
  const latches = new LatchManager();
  const codec = new KeyCodec(RANGE_SHARD);
  const busy = latches.tryAcquire([codec.dataKey(new TextEncoder().encode('a'))]);
  assert.ok(busy !== undefined);
  const skipped = await sweepOnce(host, latches, RANGE_SHARD, { limit: 10 });
  assert.equal(skipped.deleted, 0);
  assert.equal(proposed.length, 0);
  busy.release();
  const done = await sweepOnce(host, latches, RANGE_SHARD, { limit: 10 });
  assert.equal(done.deleted, 2);
  assert.equal(proposed.length, 1);
  assert.equal(h.entries, 0);
  assert.deepEqual(latches.stats(), { keys: 0, waiting: 0 });
});
