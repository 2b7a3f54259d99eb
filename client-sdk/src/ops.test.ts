// Goal: every Table operation works end to end over real grpc-js against fake nodes on
// 127.0.0.1 — on range and hash tables split into several shards, with keys and values
// given as strings or bytes and returned in either encoding.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keySlot } from '@shoal/common';
import { PartialWriteError } from './errors.js';
import type { Shoal } from './shoal.js';
import { FakeCluster } from './testing/fake-cluster.js';
import { codeOf, connect, str, text } from './testing/helpers.js';

let c: FakeCluster;
let db: Shoal;
let rangeId = 0;
let hashId = 0;

before(async () => {
  c = await FakeCluster.start({ nodes: 3 });
  // Range table: shards (-inf, "g"), ["g", "p"), ["p", +inf). Hash table: slots [0,8192), [8192,16384).
  c.createTable({ name: 'r', scheme: 'range' });
  rangeId = c.tableId('r');
  c.split(c.shardsOf(rangeId)[0]!.id, c.keyBound(rangeId, 'g'));
  c.split(c.shardsOf(rangeId)[1]!.id, c.keyBound(rangeId, 'p'));
  c.createTable({ name: 'h', scheme: 'hash' });
  hashId = c.tableId('h');
  c.split(c.shardsOf(hashId)[0]!.id, c.slotBound(hashId, 8192));
  db = await connect(c);
});

after(async () => {
  await db.close();
  c.stop();
});

test('put and get: strings and bytes name the same key; values come back in the asked encoding', async () => {
  const t = db.table('r');
  assert.deepEqual(await t.put('alpha', 'one'), { applied: true });
  assert.deepEqual(await t.get(text('alpha')), text('one'));
  assert.equal(await t.get('alpha', { valueEncoding: 'utf8' }), 'one');
  await t.put(text('bin\u0000key'), new Uint8Array([0, 255, 1]));
  assert.deepEqual(await t.get('bin\u0000key'), new Uint8Array([0, 255, 1]));
  assert.equal(await t.get('missing'), undefined);
});

test('put conditions: ifAbsent, ifPresent, returnPrevious, and a TTL that expires', async () => {
  const t = db.table('r');
  assert.equal((await t.put('cond', 'v1', { ifPresent: true })).applied, false);
  assert.equal((await t.put('cond', 'v1', { ifAbsent: true })).applied, true);
  assert.equal((await t.put('cond', 'v2', { ifAbsent: true })).applied, false);
  const r = await t.put('cond', 'v3', { ifPresent: true, returnPrevious: true, valueEncoding: 'utf8' });
  assert.deepEqual(r, { applied: true, previous: 'v1' });
  assert.equal(await t.get('cond', { valueEncoding: 'utf8' }), 'v3');
  await t.put('short-lived', 'x', { ttlMs: 1 });
  const deadline = Date.now() + 2000;
  while ((await t.get('short-lived')) !== undefined) assert.ok(Date.now() < deadline, 'TTL never expired');
  assert.equal(await codeOf(t.put('k', 'v', { ifAbsent: true, ifPresent: true } as never)), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(t.put('k', 'v', { ttlMs: -1 })), 'INVALID_ARGUMENT');
});

test('delete says whether the key existed', async () => {
  const t = db.table('h');
  await t.put('gone', 'x');
  assert.equal(await t.delete('gone'), true);
  assert.equal(await t.delete('gone'), false);
  assert.equal(await t.get('gone'), undefined);
});

test('compareAndSwap: expect absent, expect a value, delete on match, report the current value on mismatch', async () => {
  const t = db.table('h');
  assert.deepEqual(await t.compareAndSwap('cas', null, 'a', { valueEncoding: 'utf8' }), { swapped: true, current: 'a' });
  assert.deepEqual(await t.compareAndSwap('cas', null, 'b', { valueEncoding: 'utf8' }), { swapped: false, current: 'a' });
  assert.deepEqual(await t.compareAndSwap('cas', 'zzz', 'b', { valueEncoding: 'utf8' }), { swapped: false, current: 'a' });
  assert.deepEqual(await t.compareAndSwap('cas', 'a', 'b'), { swapped: true, current: text('b') });
  assert.deepEqual(await t.compareAndSwap('cas', 'b', null), { swapped: true, current: undefined });
  assert.equal(await t.get('cas'), undefined);
});

test('incr: bigint results, number and bigint deltas, the int64 range', async () => {
  const t = db.table('h');
  assert.equal(await t.incr('counter'), 1n);
  assert.equal(await t.incr('counter', 41), 42n);
  assert.equal(await t.incr('counter', -2n), 40n);
  await t.put('big', '9223372036854775806');
  assert.equal(await t.incr('big'), 9223372036854775807n);
  assert.equal(await codeOf(t.incr('big')), 'OVERFLOW');
  await t.put('word', 'abc');
  assert.equal(await codeOf(t.incr('word')), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(t.incr('counter', 1.5)), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(t.incr('counter', 2n ** 63n)), 'INVALID_ARGUMENT');
});

test('getMany: keys over every shard, order kept, duplicates and missing keys', async () => {
  for (const name of ['r', 'h']) {
    const t = db.table(name);
    const keys = ['a1', 'h1', 'q1', 'z1', 'b2', 'm2'];
    for (const k of keys) await t.put(k, `v-${k}`);
    const got = await t.getMany([...keys, 'nope', 'a1'], { valueEncoding: 'utf8' });
    assert.deepEqual(got, [...keys.map((k) => `v-${k}`), undefined, 'v-a1']);
    assert.deepEqual(await t.getMany([]), []);
  }
});

test('batchWrite: one shard is atomic; several shards say they are not; atomic: true refuses to span shards', async () => {
  const t = db.table('r');
  const one = await t.batchWrite([{ type: 'put', key: 'b1', value: '1' }, { type: 'put', key: 'b2', value: '2' }, { type: 'delete', key: 'alpha' }]);
  assert.deepEqual(one, { atomic: true, shardCount: 1 });
  assert.equal(await t.get('alpha'), undefined);
  const many = await t.batchWrite([{ type: 'put', key: 'c', value: '1' }, { type: 'put', key: 'k', value: '2' }, { type: 'put', key: 'x', value: '3' }]);
  assert.deepEqual(many, { atomic: false, shardCount: 3 });
  assert.deepEqual(await t.getMany(['c', 'k', 'x'], { valueEncoding: 'utf8' }), ['1', '2', '3']);
  const putsBefore = c.nodes.reduce((n, x) => n + x.count('BatchWrite'), 0);
  assert.equal(await codeOf(t.batchWrite([{ type: 'put', key: 'c', value: 'X' }, { type: 'put', key: 'x', value: 'X' }], { atomic: true })), 'CROSSSLOT');
  assert.equal(c.nodes.reduce((n, x) => n + x.count('BatchWrite'), 0), putsBefore, 'nothing sent');
  assert.deepEqual(await t.batchWrite([{ type: 'put', key: 'c', value: 'Y' }], { atomic: true }), { atomic: true, shardCount: 1 });
});

test('batchWrite across shards: a failed part is reported with what was applied', async () => {
  const t = db.table('r');
  const last = c.shardsOf(rangeId)[2]!;
  const leader = c.node(last.replicas.find((r) => r.peerId === last.leaderPeerId)!.nodeId);
  leader.fault = (r) => (r.method === 'BatchWrite' && r.header?.shardId === last.id ? { error: 'NO_SPACE' } : undefined);
  try {
    const e = await t.batchWrite([{ type: 'put', key: 'd', value: '1' }, { type: 'put', key: 'y', value: '2' }]).then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof PartialWriteError);
    assert.equal(e.code, 'NO_SPACE');
    const byStatus = Object.fromEntries(e.parts.map((p) => [p.status, p.opIndexes]));
    assert.deepEqual(byStatus, { applied: [0], failed: [1] });
    assert.equal(await t.get('d', { valueEncoding: 'utf8' }), '1');
    assert.equal(await t.get('y'), undefined);
  } finally {
    leader.fault = undefined;
  }
});

test('scan over a range table: all shards in key order, bounds, reverse, limit, keysOnly', async () => {
  const t = db.table('r');
  await t.deleteRange(null, null);
  const keys = ['a', 'b', 'f', 'g', 'h', 'o', 'p', 'q', 'z'];
  for (const k of keys) await t.put(k, k.toUpperCase());
  const all = await t.scan({ keyEncoding: 'utf8', valueEncoding: 'utf8', pageSize: 2 }).toArray();
  assert.deepEqual(all.map((e) => e.key), keys);
  assert.deepEqual(all.map((e) => e.value), keys.map((k) => k.toUpperCase()));
  const mid = await t.scan({ start: 'b', end: 'q', keyEncoding: 'utf8' }).toArray();
  assert.deepEqual(mid.map((e) => e.key), ['b', 'f', 'g', 'h', 'o', 'p']);
  const rev = await t.scan({ reverse: true, start: 'c', end: 'p', keyEncoding: 'utf8', pageSize: 1 }).toArray();
  assert.deepEqual(rev.map((e) => e.key), ['o', 'h', 'g', 'f']);
  const firstThree = await t.scan({ limit: 3, keyEncoding: 'utf8' }).toArray();
  assert.deepEqual(firstThree.map((e) => e.key), ['a', 'b', 'f']);
  const ko = await t.scan({ keysOnly: true, valueEncoding: 'utf8', limit: 1 }).toArray();
  assert.deepEqual(ko, [{ key: text('a'), value: '', expireAtUnixMs: 0 }]);
});

test('scan over a hash table: every key once, in (slot, key) order across shards', async () => {
  const t = db.table('h');
  const keys = Array.from({ length: 40 }, (_, i) => `hk${i}`);
  for (const k of keys) await t.put(k, 'v');
  const got = (await t.scan({ pageSize: 3 }).toArray()).map((e) => str(e.key)).filter((k) => k.startsWith('hk'));
  const expected = [...keys].sort((a, b) => keySlot(a) - keySlot(b) || (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(got, expected);
  assert.equal(await codeOf(t.scan({ start: 'a' }).toArray()), 'NOT_SUPPORTED');
  assert.equal(await codeOf(t.scan({ reverse: true }).toArray()), 'NOT_SUPPORTED');
});

test('deleteRange: one shard is atomic, a range over shards says so; hash tables refuse', async () => {
  const t = db.table('r');
  for (const k of ['a', 'b', 'h', 'i', 'q', 'r']) await t.put(k, '1');
  assert.deepEqual(await t.deleteRange('a', 'c'), { deletedCount: 2, atomic: true, shardCount: 1 });
  const r = await t.deleteRange('h', null);
  assert.equal(r.atomic, false);
  assert.equal(r.shardCount, 2);
  assert.ok(r.deletedCount >= 4);
  assert.deepEqual((await t.scan({ start: 'h' }).toArray()).length, 0);
  assert.equal(await codeOf(db.table('h').deleteRange(null, null)), 'NOT_SUPPORTED');
  assert.equal(await codeOf(t.deleteRange('', null)), 'INVALID_ARGUMENT');
});

test('describe, unknown tables and bad arguments', async () => {
  const d = await db.table('h').describe();
  assert.equal(d.partition, 'hash');
  assert.equal(d.id, hashId);
  assert.equal(d.shardCount, 2);
  assert.equal(await codeOf(db.table('no-such-table').get('k')), 'TABLE_NOT_FOUND');
  assert.equal(await codeOf(db.table('r').get(42 as never)), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(db.table('r').get('k', { timeoutMs: 0 })), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(db.table('r').get('k', { consistency: 'eventual' as never })), 'INVALID_ARGUMENT');
  assert.throws(() => db.table(''), { code: 'INVALID_ARGUMENT' });
  assert.equal(db.table('r'), db.table('r'));
});

test('one channel per node address, shared by every table and call', async () => {
  await Promise.all([db.table('r').getMany(['a', 'h', 'q']), db.table('h').getMany(['a', 'b', 'c'], { consistency: 'follower' })]);
  // Follower reads round-robin over the three replicas: every node gets one.
  for (let i = 0; i < 3; i++) await db.table('r').get('a', { consistency: 'follower' });
  // Three nodes and one metaserver member, whatever the number of tables, shards and calls.
  assert.equal(db._core.pool.size, 4);
});
