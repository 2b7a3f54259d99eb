// The SDK against a real cluster (3 metaservers, 3 storage nodes as processes on loopback):
// every Table operation on a hash table (4 shards) and a range table (3 shards), keys and
// values as strings and as binary bytes (\0, \r\n), batch atomicity reporting, scans over
// every shard in order with cursor resume, deleteRange across shards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isKvError, KvError, parseScanCursor } from '@shoal/client-sdk';
import type { Shoal, Table } from '@shoal/client-sdk';
import { keySlot } from '@shoal/common';
import type { DynCluster } from '../cluster/dyn-harness.js';
import { connect, startCluster, until } from './sdk-harness.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const BIN_KEY = Uint8Array.from([0x62, 0x00, 0x0d, 0x0a, 0xff, 0x00]);
const BIN_VALUE = Uint8Array.from([0x00, 0x0d, 0x0a, 0x00, 0x80, 0xfe, 0x0d]);
/** A key only the CAS test uses, so a failure in another test does not cascade into it. */
const CAS_KEY = Uint8Array.from([0x63, 0x00, 0x0d, 0x0a]);
const TTL_MS = 1000;
const TTL_MARGIN_MS = 50;

let c: DynCluster;
let db: Shoal;
let hash: Table;
let range: Table;

before(async () => {
  c = await startCluster([
    { name: 'h', partition: 'hash', shards: 4 },
    { name: 'r', partition: 'range', splitKeys: ['g', 'p'] },
  ]);
  db = await connect(c);
  hash = db.table('h');
  range = db.table('r');
});

after(async () => {
  await db?.close();
  await c?.stop();
});

for (const kind of ['hash', 'range'] as const) {
  test(`${kind} table: get, getMany, put with conditions and TTL, delete, binary keys and values`, async () => {
    const t = kind === 'hash' ? hash : range;
    assert.equal((await t.describe()).partition, kind);
    assert.deepEqual(await t.put('a', 'v1'), { applied: true });
    assert.equal(await t.get('a', { valueEncoding: 'utf8' }), 'v1');
    assert.deepEqual(await t.get(enc.encode('a')), enc.encode('v1'), 'a string key is its UTF-8 bytes');
    assert.equal(await t.get('missing'), undefined);

    assert.deepEqual(await t.put('a', 'v2', { ifAbsent: true }), { applied: false });
    assert.deepEqual(await t.put('b', 'v2', { ifPresent: true }), { applied: false });
    assert.equal(await t.get('b'), undefined);
    assert.deepEqual(await t.put('b', 'vb', { ifAbsent: true }), { applied: true });
    assert.deepEqual(await t.put('a', 'v3', { ifPresent: true, returnPrevious: true, valueEncoding: 'utf8' }), { applied: true, previous: 'v1' });

    await t.put(BIN_KEY, BIN_VALUE);
    assert.deepEqual(await t.get(BIN_KEY), BIN_VALUE);
    await t.put('\r\n\0', '\0\r\n');
    assert.equal(await t.get('\r\n\0', { valueEncoding: 'utf8' }), '\0\r\n');

    // Keys spread over every shard; results come back in the order of the keys.
    const keys = ['a', 'b', 'missing', 'zz', 'k', BIN_KEY] as const;
    await t.put('zz', 'vz');
    await t.put('k', 'vk');
    assert.deepEqual(await t.getMany(keys, { valueEncoding: 'utf8' }), ['v3', 'vb', undefined, 'vz', 'vk', dec.decode(BIN_VALUE)]);
    assert.deepEqual((await t.getMany(['zz', 'a']))[1], enc.encode('v3'));

    const putAt = Date.now();
    await t.put('ttl', 'short', { ttlMs: TTL_MS });
    const short = await t.get('ttl', { valueEncoding: 'utf8' });
    // The leader stamps the expiry after putAt (same clock): a read within TTL_MS must see it.
    // On a machine too loaded to read it back in time, only the expiry below is checked.
    if (Date.now() - putAt < TTL_MS - TTL_MARGIN_MS) assert.equal(short, 'short');
    await until(`the ${TTL_MS} ms TTL to expire`, async () => (await t.get('ttl')) === undefined, 10_000);
    await t.put('ttl', 'forever', { ttlMs: 0 });
    assert.equal(await t.get('ttl', { valueEncoding: 'utf8' }), 'forever');

    assert.equal(await t.delete('a'), true);
    assert.equal(await t.delete('a'), false);
    assert.equal(await t.get('a'), undefined);
    assert.equal(await t.delete(BIN_KEY), true);
  });

  test(`${kind} table: compareAndSwap and incr`, async () => {
    const t = kind === 'hash' ? hash : range;
    assert.deepEqual(await t.compareAndSwap('lock', null, 'me', { valueEncoding: 'utf8' }), { swapped: true, current: 'me' });
    assert.deepEqual(await t.compareAndSwap('lock', null, 'you', { valueEncoding: 'utf8' }), { swapped: false, current: 'me' });
    assert.deepEqual(await t.compareAndSwap('lock', 'you', null, { valueEncoding: 'utf8' }), { swapped: false, current: 'me' });
    assert.deepEqual(await t.compareAndSwap(CAS_KEY, null, BIN_VALUE), { swapped: true, current: BIN_VALUE });
    assert.deepEqual(await t.compareAndSwap(CAS_KEY, BIN_VALUE, null), { swapped: true, current: undefined });
    assert.deepEqual(await t.compareAndSwap('lock', 'me', null), { swapped: true, current: undefined });
    assert.equal(await t.get('lock'), undefined);

    assert.equal(await t.incr('n'), 1n);
    assert.equal(await t.incr('n', 10), 11n);
    assert.equal(await t.incr('n', -20n), -9n);
    assert.equal(await t.get('n', { valueEncoding: 'utf8' }), '-9');
    await t.put('nan', 'x');
    await assert.rejects(t.incr('nan'), (e: unknown) => e instanceof KvError && e.code !== 'TIMEOUT' && e.code !== 'UNKNOWN_OUTCOME');
  });
}

test('batchWrite: atomic in one shard (hash tags), reported non-atomic across shards, CROSSSLOT when atomic is required', async () => {
  const tagged = await hash.batchWrite([
    { type: 'put', key: '{u1}.name', value: 'Ada' },
    { type: 'put', key: '{u1}.mail', value: BIN_VALUE, ttlMs: 60_000 },
    { type: 'delete', key: '{u1}.old' },
  ], { atomic: true });
  assert.deepEqual(tagged, { atomic: true, shardCount: 1 });
  assert.deepEqual(await hash.getMany(['{u1}.name', '{u1}.mail']), [enc.encode('Ada'), BIN_VALUE]);

  // 40 keys over 16384 slots cover all 4 shards of the hash table.
  const ops = Array.from({ length: 40 }, (_, i) => ({ type: 'put' as const, key: `bw${i}`, value: `v${i}` }));
  const spread = await hash.batchWrite(ops);
  assert.equal(spread.atomic, false);
  assert.ok(spread.shardCount > 1, `expected several shards, got ${spread.shardCount}`);
  assert.deepEqual(await hash.getMany(ops.map((o) => o.key), { valueEncoding: 'utf8' }), ops.map((o) => o.value));
  await assert.rejects(hash.batchWrite(ops.map((o) => ({ ...o, value: 'nope' })), { atomic: true }), (e: unknown) => isKvError(e, 'CROSSSLOT'));
  assert.equal(await hash.get('bw0', { valueEncoding: 'utf8' }), 'v0', 'a refused atomic batch wrote nothing');

  const rangeSpread = await range.batchWrite([{ type: 'put', key: 'c1', value: '1' }, { type: 'put', key: 'x1', value: '2' }]);
  assert.deepEqual(rangeSpread, { atomic: false, shardCount: 2 });
  assert.deepEqual(await range.batchWrite([{ type: 'put', key: 'c1', value: '3' }, { type: 'delete', key: 'c2' }], { atomic: true }), { atomic: true, shardCount: 1 });
});

test('range scan: every shard in key order, bounds, reverse, limit and resume from a cursor', async () => {
  await range.deleteRange(null, null);
  const keys = ['a0', 'b\0x', 'f9', 'g', 'g0', 'm\r\n', 'o~', 'p', 'pa', 'z', 'zz\0'];
  await range.batchWrite([...keys.map((k) => ({ type: 'put' as const, key: k, value: `v:${k}` })), { type: 'put', key: BIN_KEY, value: BIN_VALUE }]);
  const all = [...keys.map((k) => enc.encode(k)), BIN_KEY].sort(Buffer.compare).map((k) => dec.decode(k));

  const got: string[] = [];
  for await (const e of range.scan({ keyEncoding: 'utf8', valueEncoding: 'utf8', pageSize: 2 })) got.push(e.key);
  assert.deepEqual(got, all, 'all three shards, in byte order');
  const bin = [];
  for await (const e of range.scan({ start: BIN_KEY, end: 'c' })) bin.push(e);
  // b\0\r\n… sorts before b\0x: byte order, \0 and \r\n included.
  assert.deepEqual(bin.map((e) => [e.key, e.value]), [[BIN_KEY, BIN_VALUE], [enc.encode('b\0x'), enc.encode('v:b\0x')]]);

  const rev: string[] = [];
  for await (const e of range.scan({ start: 'b', end: 'pa', reverse: true, keyEncoding: 'utf8', keysOnly: true })) {
    rev.push(e.key);
    assert.equal(e.value.length, 0);
  }
  assert.deepEqual(rev, all.filter((k) => k >= 'b' && k < 'pa').reverse());

  const first = range.scan({ limit: 5, keyEncoding: 'utf8', pageSize: 3 });
  const part1: string[] = [];
  for await (const e of first) part1.push(e.key);
  assert.equal(first.done, false);
  const cursor = first.cursor;
  assert.notEqual(cursor, undefined);
  assert.ok(parseScanCursor(cursor!).lastKey !== undefined);
  const rest: string[] = [];
  const second = range.scan({ cursor, keyEncoding: 'utf8' });
  for await (const e of second) rest.push(e.key);
  assert.equal(second.done, true);
  assert.deepEqual([...part1, ...rest], all, 'resuming from the cursor neither skips nor repeats');
});

test('hash scan: every slot of every shard, slot order, resume from a cursor; start/end refused', async () => {
  const h2 = db.table('h');
  const keys = Array.from({ length: 60 }, (_, i) => `s:${i}`);
  await h2.batchWrite(keys.map((k) => ({ type: 'put', key: k, value: k })));
  const order = (k: string) => [keySlot(enc.encode(k)), k] as const;
  const got: string[] = [];
  const s = h2.scan({ keyEncoding: 'utf8', limit: 25, pageSize: 7 });
  for await (const e of s) got.push(e.key);
  assert.equal(got.length, 25);
  for await (const e of h2.scan({ cursor: s.cursor, keyEncoding: 'utf8' })) got.push(e.key);
  assert.equal(new Set(got).size, got.length, 'no key twice');
  const mine = got.filter((k) => k.startsWith('s:'));
  assert.deepEqual([...mine].sort(), [...keys].sort());
  const sorted = [...got].sort((x, y) => {
    const [sx, kx] = order(x);
    const [sy, ky] = order(y);
    return sx - sy || Buffer.compare(enc.encode(kx), enc.encode(ky));
  });
  assert.deepEqual(got, sorted, 'slot order, keys in order within a slot');
  await assert.rejects(async () => {
    for await (const e of h2.scan({ start: 'a' })) assert.fail(`a hash scan with start returned ${String(e.key)}`);
  }, (e: unknown) => isKvError(e, 'NOT_SUPPORTED'));
});

test('deleteRange across range shards reports its shards; bounds respected', async () => {
  await range.deleteRange(null, null);
  await range.batchWrite(['a', 'c', 'f', 'h', 'n', 'q', 'y'].map((k) => ({ type: 'put', key: k, value: k })));
  const r = await range.deleteRange('c', 'q');
  assert.deepEqual(r, { deletedCount: 4, atomic: false, shardCount: 3 });
  const left: string[] = [];
  for await (const e of range.scan({ keyEncoding: 'utf8' })) left.push(e.key);
  assert.deepEqual(left, ['a', 'q', 'y']);
  assert.deepEqual(await range.deleteRange('q', 'r'), { deletedCount: 1, atomic: true, shardCount: 1 });
});
