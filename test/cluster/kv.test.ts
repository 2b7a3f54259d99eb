// Goal: a 3-node, 3-replica cluster of real node processes serves the whole KV API on every
// shard, with the documented errors (epoch, key range, leadership, limits), the three read
// consistencies (follower reads served by followers) and TTL expiry with the sweeper.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { kv } from '@shoal/proto';
import { dec, enc, KvCallError, TestClient } from './client.js';
import { Cluster, waitUntil } from './harness.js';

let cluster: Cluster;
let client: TestClient;

before(async () => {
  cluster = await Cluster.start({
    nodes: 3,
    tables: [{ id: 1, partition: 'hash' }, { id: 2, partition: 'range' }],
    shards: [
      { id: 1, tableId: 1, slots: [0, 5461], nodes: [1, 2, 3] },
      { id: 2, tableId: 1, slots: [5461, 10922], nodes: [1, 2, 3] },
      { id: 3, tableId: 1, slots: [10922, 16384], nodes: [1, 2, 3] },
      { id: 4, tableId: 2, endKey: 'm', nodes: [1, 2, 3] },
      { id: 5, tableId: 2, startKey: 'm', nodes: [1, 2, 3] },
    ],
    options: {
      valueBytesMax: '1MiB', requestBytesMax: '4MiB', pendingProposalsPerShardMax: 16, ttlSweepIntervalMs: 200,
    },
  });
  client = new TestClient(cluster);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

function codeOf(e: unknown): string {
  return e instanceof KvCallError ? e.code : `not a KvCallError: ${String(e)}`;
}

test('writes and reads on every shard of both tables', async () => {
  const keys: [number, string][] = [];
  for (let i = 0; i < 60; i++) keys.push([1, `user:${i}`]);
  for (const k of ['apple', 'banana', 'kiwi', 'mango', 'pear', 'zucchini']) keys.push([2, k]);
  await Promise.all(keys.map(([t, k]) => client.put(t, k, `v-${k}`)));
  const shards = new Set(keys.map(([t, k]) => client.shardOf(t, k).id));
  assert.deepEqual([...shards].sort(), [1, 2, 3, 4, 5], 'the keys cover every shard');
  for (const [t, k] of keys) {
    const r = await client.get(t, k);
    assert.equal(r.found, true, k);
    assert.equal(dec(r.value), `v-${k}`);
  }
  // A range shard scans in user-key order.
  const s5 = client.shardOf(2, 'mango');
  const page = await client.routed<kv.ScanRequest, kv.ScanResponse>(s5, 'scan', kv.ScanRequest.create({ header: client.header(s5) }));
  assert.deepEqual(page.pairs.map((p) => dec(p.key)), ['mango', 'pear', 'zucchini']);
});

test('put conditions, previous values, delete, compare-and-swap and incr', async () => {
  assert.equal((await client.put(1, 'c:1', 'a', { condition: kv.PutCondition.IF_ABSENT })).applied, true);
  assert.equal((await client.put(1, 'c:1', 'b', { condition: kv.PutCondition.IF_ABSENT })).applied, false);
  assert.equal((await client.put(1, 'c:2', 'b', { condition: kv.PutCondition.IF_PRESENT })).applied, false);
  const prev = await client.put(1, 'c:1', 'c', { condition: kv.PutCondition.IF_PRESENT, returnPrevious: true });
  assert.equal(prev.applied, true);
  assert.equal(prev.previousFound, true);
  assert.equal(dec(prev.previousValue), 'a');

  const s = client.shardOf(1, 'c:1');
  const cas = (expected: string, next: string) => client.routed<kv.CompareAndSwapRequest, kv.CompareAndSwapResponse>(s, 'compareAndSwap',
    kv.CompareAndSwapRequest.create({ header: client.header(s), key: enc('c:1'), expectedValue: enc(expected), newValue: enc(next) }));
  assert.equal((await cas('nope', 'x')).swapped, false);
  const ok = await cas('c', 'd');
  assert.equal(ok.swapped, true);
  assert.equal(dec((await client.get(1, 'c:1')).value), 'd');

  const del = await client.routed<kv.DeleteRequest, kv.DeleteResponse>(s, 'delete', kv.DeleteRequest.create({ header: client.header(s), key: enc('c:1') }));
  assert.equal(del.deleted, true);
  assert.equal((await client.get(1, 'c:1')).found, false);

  const si = client.shardOf(1, 'counter');
  const incr = (delta: bigint) => client.routed<kv.IncrRequest, kv.IncrResponse>(si, 'incr',
    kv.IncrRequest.create({ header: client.header(si), key: enc('counter'), delta }));
  assert.equal((await incr(5n)).value, 5n);
  assert.equal((await incr(-7n)).value, -2n);
  assert.equal((await incr(3n)).value, 1n);
  await assert.rejects(incr(2n ** 63n - 1n), (e: unknown) => codeOf(e) === 'OVERFLOW');
  assert.equal((await incr(0n)).value, 1n, 'a failed incr changes nothing');
});

test('batch write is atomic within a shard; batch get, scan pages and delete range', async () => {
  const s = client.shardOf(2, 'b');
  const ops = ['b1', 'b2', 'b3', 'b4', 'b5'].map((k) => kv.WriteOp.create({ type: kv.WriteOpType.PUT, key: enc(k), value: enc(`x${k}`) }));
  await client.routed(s, 'batchWrite', kv.BatchWriteRequest.create({ header: client.header(s), ops }));
  // One op outside the shard fails the whole batch: nothing is written.
  const bad = [kv.WriteOp.create({ type: kv.WriteOpType.PUT, key: enc('b6'), value: enc('y') }),
    kv.WriteOp.create({ type: kv.WriteOpType.PUT, key: enc('zz-outside'), value: enc('y') })];
  await assert.rejects(client.routed(s, 'batchWrite', kv.BatchWriteRequest.create({ header: client.header(s), ops: bad })),
    (e: unknown) => codeOf(e) === 'KEY_NOT_IN_SHARD');
  const bg = await client.routed<kv.BatchGetRequest, kv.BatchGetResponse>(s, 'batchGet',
    kv.BatchGetRequest.create({ header: client.header(s), keys: ['b1', 'b6', 'b5'].map(enc) }));
  assert.deepEqual(bg.results.map((r) => r.found), [true, false, true]);

  const scan = (req: Partial<kv.ScanRequest>) => client.routed<kv.ScanRequest, kv.ScanResponse>(s, 'scan',
    kv.ScanRequest.create({ header: client.header(s), startKey: enc('b1'), endKey: enc('b9'), ...req }));
  const p1 = await scan({ limit: 2 });
  assert.deepEqual(p1.pairs.map((p) => dec(p.key)), ['b1', 'b2']);
  assert.equal(p1.more, true);
  const p2 = await scan({ limit: 10, startKey: p1.nextKey });
  assert.deepEqual(p2.pairs.map((p) => dec(p.key)), ['b3', 'b4', 'b5']);
  const rev = await scan({ reverse: true, keysOnly: true, limit: 2 });
  assert.deepEqual(rev.pairs.map((p) => dec(p.key)), ['b5', 'b4']);
  assert.equal(rev.pairs[0]!.value.length, 0);

  const dr = await client.routed<kv.DeleteRangeRequest, kv.DeleteRangeResponse>(s, 'deleteRange',
    kv.DeleteRangeRequest.create({ header: client.header(s), startKey: enc('b2'), endKey: enc('b4') }));
  assert.equal(dr.deletedCount, 2);
  assert.deepEqual((await scan({})).pairs.map((p) => dec(p.key)), ['b1', 'b4', 'b5']);
});

test('routing errors: EPOCH_NOT_MATCH and KEY_NOT_IN_SHARD carry the descriptor, NOT_LEADER a leader hint', async () => {
  const s = client.shardOf(1, 'routing');
  await client.put(1, 'routing', 'x');
  const leader = (await client.leaderNode(s))!;
  const stale = client.header(s, { epoch: { confVer: 1, version: 0 } });
  await assert.rejects(client.call(leader, 'get', kv.GetRequest.create({ header: stale, key: enc('routing') })), (e: unknown) => {
    assert.equal(codeOf(e), 'EPOCH_NOT_MATCH');
    const d = (e as KvCallError).detail.currentShard!;
    assert.equal(d.id, s.id);
    assert.deepEqual(d.epoch, { confVer: 1, version: 1 });
    return true;
  });
  let outside = 'k0';
  for (let i = 0; client.shardOf(1, outside).id === s.id; i++) outside = `k${i}`;
  await assert.rejects(client.call(leader, 'get', kv.GetRequest.create({ header: client.header(s), key: enc(outside) })), (e: unknown) => {
    assert.equal(codeOf(e), 'KEY_NOT_IN_SHARD');
    assert.equal((e as KvCallError).detail.currentShard?.id, s.id);
    return true;
  });
  const follower = s.replicas.map((r) => r.nodeId).find((n) => n !== leader)!;
  await assert.rejects(client.call(follower, 'put', kv.PutRequest.create({ header: client.header(s), key: enc('routing'), value: enc('y') })), (e: unknown) => {
    assert.equal(codeOf(e), 'NOT_LEADER');
    const hint = (e as KvCallError).detail.leaderHint!;
    assert.equal(hint.nodeId, leader);
    assert.equal(hint.peerId, s.id * 10 + leader);
    assert.equal(hint.address, cluster.node(leader).address);
    return true;
  });
  await assert.rejects(client.call(leader, 'get', kv.GetRequest.create({ header: { ...client.header(s), shardId: 999 }, key: enc('routing') })),
    (e: unknown) => codeOf(e) === 'SHARD_NOT_FOUND');
});

test('limits: KEY_TOO_LARGE, VALUE_TOO_LARGE, request bytes, SERVER_BUSY', async () => {
  await assert.rejects(client.put(1, 'k'.repeat(64 * 1024 + 1), 'v'), (e: unknown) => {
    assert.equal(codeOf(e), 'KEY_TOO_LARGE');
    assert.equal((e as KvCallError).detail.option, 'key');
    return true;
  });
  await assert.rejects(client.put(1, 'big', new Uint8Array(1024 * 1024 + 1)), (e: unknown) => {
    assert.equal(codeOf(e), 'VALUE_TOO_LARGE');
    assert.equal((e as KvCallError).detail.option, 'value');
    return true;
  });
  await client.put(1, 'big', new Uint8Array(1024 * 1024)); // exactly at the limit
  // Above requestBytesMax gRPC refuses the message before it is read.
  const s = client.shardOf(1, 'huge');
  await assert.rejects(client.call(1, 'put', kv.PutRequest.create({ header: client.header(s), key: enc('huge'), value: new Uint8Array(5 * 1024 * 1024) })),
    (e: unknown) => (e as { code?: number }).code === 8 /* RESOURCE_EXHAUSTED */);
  // pendingProposalsPerShardMax is 16 here: a burst on one shard's leader gets SERVER_BUSY.
  const sb = client.shardOf(1, 'busy');
  const leader = (await client.leaderNode(sb))!;
  const burst = await Promise.allSettled(Array.from({ length: 300 }, (_, i) =>
    client.call(leader, 'put', kv.PutRequest.create({ header: client.header(sb), key: enc('busy'), value: enc(`v${i}`) }))));
  const codes = burst.map((r) => (r.status === 'fulfilled' ? 'OK' : codeOf(r.reason)));
  assert.ok(codes.includes('SERVER_BUSY'), `no SERVER_BUSY in ${[...new Set(codes)].join(',')}`);
  assert.ok(codes.includes('OK'));
  const busy = burst.find((r) => r.status === 'rejected' && codeOf(r.reason) === 'SERVER_BUSY') as PromiseRejectedResult;
  assert.ok((busy.reason as KvCallError).detail.retryAfterMs > 0);
});

test('read consistency: follower reads are served by followers, stale reads by local state', async () => {
  const s = client.shardOf(1, 'fr');
  await client.put(1, 'fr', 'v1');
  const leader = (await client.leaderNode(s))!;
  const follower = s.replicas.map((r) => r.nodeId).find((n) => n !== leader)!;
  const before = await cluster.metric(follower, 'shoal_kv_reads_total', 'consistency="follower"');
  await client.put(1, 'fr', 'v2');
  const r = await client.getOn(follower, 1, 'fr', { consistency: 1 /* FOLLOWER */ });
  assert.equal(dec(r.value), 'v2', 'a follower read sees the acknowledged write');
  const afterCount = await cluster.metric(follower, 'shoal_kv_reads_total', 'consistency="follower"');
  assert.equal(afterCount, before + 1);
  const stale = await client.getOn(follower, 1, 'fr', { consistency: 2 /* STALE */, maxStalenessMs: 0 });
  assert.equal(stale.found, true);
  // A bounded stale read on a (possibly hibernating) follower refreshes its leader contact.
  const bounded = await client.getOn(follower, 1, 'fr', { consistency: 2, maxStalenessMs: 1000 });
  assert.equal(dec(bounded.value), 'v2');
  assert.ok(await cluster.metric(follower, 'shoal_kv_reads_total', 'consistency="stale"') >= 2);
});

test('TTL: reads hide an expired key at once and the leader sweeper deletes it', async () => {
  const s = client.shardOf(1, 'ttl');
  const leader = (await client.leaderNode(s))!;
  const before = await cluster.metric(leader, 'shoal_ttl_expired_keys_proposed_total');
  const put = await client.put(1, 'ttl', 'short-lived', { ttlMs: 400 });
  assert.equal(put.applied, true);
  const got = await client.get(1, 'ttl');
  assert.equal(got.found, true);
  assert.ok(got.expireAtUnixMs > Date.now() && got.expireAtUnixMs <= Date.now() + 400);
  await waitUntil('the key expired', 5000, async () => !(await client.get(1, 'ttl')).found);
  await waitUntil('the sweeper proposed its deletion', 10_000, async () =>
    (await cluster.metric(leader, 'shoal_ttl_expired_keys_proposed_total')) > before);
});
