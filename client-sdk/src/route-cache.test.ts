// Goal: the route cache finds the right shard for any key — at and around shard
// boundaries, for range and hash tables (hash tags included), in holes and at the table's
// ends — and merges descriptors from racing sources by epoch, keeping the newest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keySlot, rangeShardBound, slotRangeStart, tableId, toBytes } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { common } from '@shoal/proto';
import { TableKeyspace } from './keyspace.js';
import { RouteCache } from './route-cache.js';

const T: TableId = tableId(7);
const EMPTY = new Uint8Array(0);

function desc(id: number, start: Uint8Array, end: Uint8Array, version = 1, confVer = 1, leaderPeerId = 0): common.ShardDescriptor {
  return common.ShardDescriptor.create({
    id, tableId: T, startKey: start, endKey: end, epoch: { confVer, version }, leaderPeerId,
    replicas: [1, 2, 3].map((n) => common.Replica.create({ nodeId: n, peerId: id * 10 + n })),
  });
}

/** A cache of `bounds.length + 1` shards with ids 1, 2, …, cut at the given storage bounds. */
function cacheWith(ks: TableKeyspace, bounds: readonly Uint8Array[]): RouteCache {
  const cache = new RouteCache(ks, () => 0);
  const cuts = [EMPTY, ...bounds, EMPTY];
  for (let i = 0; i + 1 < cuts.length; i++) assert.equal(cache.apply(desc(i + 1, cuts[i]!, cuts[i + 1]!)), 'applied');
  return cache;
}

const rb = (k: string | Uint8Array): Uint8Array => rangeShardBound(T, toBytes(k));

test('range table: keys at, just below and just above shard boundaries', () => {
  const ks = new TableKeyspace(T, 'range');
  const cache = cacheWith(ks, [rb('g'), rb('p')]);
  const shardOf = (k: string | Uint8Array): number | undefined => cache.locate(ks.dataKey(toBytes(k)))?.id;
  assert.equal(shardOf(''), 1, 'the empty key is the first key');
  assert.equal(shardOf('a'), 1);
  assert.equal(shardOf('f'), 1);
  assert.equal(shardOf('f\xff\xff\xff\xff\xff\xff\xff\xff\xff'), 1, 'a long key below the bound');
  assert.equal(shardOf('g'), 2, 'the boundary key belongs to the right shard');
  assert.equal(shardOf(new Uint8Array([0x67, 0])), 2, '"g\\0" is after "g"');
  assert.equal(shardOf('ga'), 2);
  assert.equal(shardOf('o\xff'), 2);
  assert.equal(shardOf('p'), 3);
  assert.equal(shardOf(new Uint8Array(100).fill(0xff)), 3, 'the largest keys are in the last shard');
  assert.equal(cache.locate(ks.start)?.id, 1, 'the table start');
  assert.equal(cache.locate(ks.end), undefined, 'the table end is outside');
  assert.equal(cache.locate(rb('g'))?.id, 2, 'a bound itself');
});

test('reverse lookups: the shard holding the keys just below a position', () => {
  const ks = new TableKeyspace(T, 'range');
  const cache = cacheWith(ks, [rb('g'), rb('p')]);
  assert.equal(cache.locateBefore(ks.end)?.id, 3);
  assert.equal(cache.locateBefore(rb('p'))?.id, 2, 'below a bound is the left shard');
  assert.equal(cache.locateBefore(ks.dataKey(toBytes('p')))?.id, 3);
  assert.equal(cache.locateBefore(rb('g'))?.id, 1);
  assert.equal(cache.locateBefore(ks.start), undefined, 'nothing below the table start');
});

test('holes and an empty cache answer undefined', () => {
  const ks = new TableKeyspace(T, 'range');
  const cache = new RouteCache(ks, () => 0);
  assert.equal(cache.locate(ks.dataKey(toBytes('a'))), undefined);
  cache.apply(desc(1, EMPTY, rb('g')));
  cache.apply(desc(3, rb('p'), EMPTY));
  assert.equal(cache.locate(ks.dataKey(toBytes('h'))), undefined, 'a hole between shards');
  assert.equal(cache.locateBefore(rb('p')), undefined, 'a hole below a position');
  assert.equal(cache.locate(ks.dataKey(toBytes('q')))?.id, 3);
});

test('hash table: routing by CRC16 slot, with {hash tags}, at slot boundaries', () => {
  const ks = new TableKeyspace(T, 'hash');
  const bounds = [4096, 8192, 12288].map((s) => slotRangeStart(T, s));
  const cache = cacheWith(ks, bounds);
  const shardOf = (k: string): number => cache.locate(ks.dataKey(toBytes(k)))!.id;
  for (const k of ['foo', 'bar', 'user:1000', '', 'a'.repeat(100)]) {
    assert.equal(shardOf(k), 1 + Math.floor(keySlot(k) / 4096), k);
  }
  assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
  assert.equal(shardOf('{user1000}.following'), shardOf('{user1000}.followers'), 'a hash tag keeps keys together');
  assert.equal(shardOf('{user1000}.x'), 1 + Math.floor(keySlot('user1000') / 4096));
  // A shard starting exactly at a key's slot owns it; the shard before does not.
  const slot = keySlot('foo'); // 12182
  const exact = cacheWith(ks, [slotRangeStart(T, slot)]);
  assert.equal(exact.locate(ks.dataKey(toBytes('foo')))?.id, 2);
  const after = cacheWith(ks, [slotRangeStart(T, slot + 1)]);
  assert.equal(after.locate(ks.dataKey(toBytes('foo')))?.id, 1);
});

test('binary search agrees with a linear search over random boundaries and keys', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const randomKey = (): Uint8Array => Uint8Array.from({ length: rand(12) }, () => [0, 1, 0x61, 0x62, 0xfe, 0xff][rand(6)]!);
  for (let round = 0; round < 50; round++) {
    const ks = new TableKeyspace(T, round % 2 === 0 ? 'range' : 'hash');
    const raw = ks.scheme === 'range'
      ? Array.from({ length: 1 + rand(8) }, () => rb(randomKey()))
      : Array.from({ length: 1 + rand(8) }, () => slotRangeStart(T, 1 + rand(16383)));
    const bounds = [...new Map(raw.map((b) => [b.join(','), b])).values()].sort((a, b) => Buffer.compare(a, b));
    const cache = cacheWith(ks, bounds);
    const shards = cache.list();
    for (let i = 0; i < 40; i++) {
      const key = ks.dataKey(randomKey());
      const linear = shards.find((s) => s.contains(key))?.id;
      assert.equal(cache.locate(key)?.id, linear, `seed round ${round}`);
    }
  }
});

test('merging by epoch: splits replace their parent, stale news is dropped, leaders survive refreshes', () => {
  const ks = new TableKeyspace(T, 'range');
  const cache = cacheWith(ks, []);
  // A node reports the left half of a split (version 2): it replaces the parent; the right half is a hole.
  assert.equal(cache.apply(desc(1, EMPTY, rb('m'), 2)), 'applied');
  assert.equal(cache.size, 1);
  assert.equal(cache.locate(ks.dataKey(toBytes('z'))), undefined);
  // The metaserver still serves the parent (version 1): stale, dropped.
  assert.equal(cache.apply(desc(1, EMPTY, EMPTY, 1)), 'stale');
  assert.equal(cache.apply(desc(9, rb('m'), EMPTY, 2)), 'applied');
  assert.equal(cache.size, 2);
  // Membership change of shard 9 (confVer 2), then an older report of it.
  assert.equal(cache.apply(desc(9, rb('m'), EMPTY, 2, 2)), 'applied');
  assert.equal(cache.apply(desc(9, rb('m'), EMPTY, 2, 1)), 'stale');
  // A leader learned from a hint survives a same-epoch descriptor without leader news.
  const s = cache.byId(9)!;
  s.leaderPeerId = s.replicas[2]!.peerId;
  cache.apply(desc(9, rb('m'), EMPTY, 2, 2, 0));
  assert.equal(cache.byId(9)!.leader()?.nodeId, 3);
  // A merge (version 3) replaces both halves.
  assert.equal(cache.apply(desc(1, EMPTY, EMPTY, 3)), 'applied');
  assert.deepEqual(cache.list().map((x) => x.id), [1]);
  assert.throws(() => cache.apply(desc(5, rb('b'), rb('a'))), { code: 'INTERNAL' }, 'an empty range is refused');
});

test('replica choice: round-robin over replicas, skipping unusable ones', () => {
  const ks = new TableKeyspace(T, 'range');
  const cache = cacheWith(ks, []);
  const s = cache.byId(1)!;
  assert.deepEqual([0, 1, 2, 3].map(() => s.nextReplica()!.nodeId), [1, 2, 3, 1]);
  assert.deepEqual([0, 1, 2].map(() => s.nextReplica((r) => r.nodeId !== 2)!.nodeId), [3, 1, 3]);
  assert.equal(s.nextReplica(() => false), undefined);
});
