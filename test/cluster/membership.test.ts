// Goal: membership through NodeAdmin on real processes — a replica added to a shard holding
// 100,000 keys catches up through a snapshot and serves stale and follower reads; then it is
// promoted, leadership moves to it, an old replica is removed (and tombstoned).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, common, kv, raft } from '@shoal/proto';
import { dec, enc, KvCallError, TestClient } from './client.js';
import { Cluster, waitUntil } from './harness.js';

const KEYS = 100_000;
let cluster: Cluster;
let client: TestClient;

before(async () => {
  cluster = await Cluster.start({
    nodes: 4,
    tables: [{ id: 1, partition: 'hash' }],
    shards: [{ id: 1, tableId: 1, nodes: [1, 2, 3] }],
    options: { snapshotRateBytesPerSec: '256MiB' },
  });
  client = new TestClient(cluster);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

const key = (i: number): string => `key:${String(i).padStart(6, '0')}`;
const epoch = (confVer: number): common.Epoch => common.Epoch.create({ confVer, version: 1 });

async function load(): Promise<void> {
  const s = client.shardOf(1, key(0));
  const batches: number[][] = [];
  for (let i = 0; i < KEYS; i += 1000) batches.push(Array.from({ length: Math.min(1000, KEYS - i) }, (_, j) => i + j));
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < batches.length) {
      const b = batches[next++]!;
      const ops = b.map((i) => kv.WriteOp.create({ type: kv.WriteOpType.PUT, key: enc(key(i)), value: enc(`value-${i}`) }));
      await client.routed(s, 'batchWrite', kv.BatchWriteRequest.create({ header: client.header(s), ops }), 30_000);
    }
  }));
}

/** Counts the shard's keys on one node with stale reads (scan pages of 10,000). */
async function countOn(node: number, confVer: number): Promise<number> {
  let n = 0;
  let start: Uint8Array = new Uint8Array(0);
  for (;;) {
    const page = await client.call<kv.ScanRequest, kv.ScanResponse>(node, 'scan', kv.ScanRequest.create({
      header: kv.RequestHeader.create({ tableId: 1, shardId: 1, epoch: epoch(confVer), consistency: common.ReadConsistency.STALE }),
      startKey: start, limit: 10_000, keysOnly: true,
    }));
    n += page.pairs.length;
    if (!page.more) return n;
    start = page.nextKey;
  }
}

test('a replica added to a shard of 100,000 keys catches up through a snapshot and serves reads', async (t) => {
  const loadStart = Date.now();
  await load();
  const loadMs = Date.now() - loadStart;
  const s = client.shardOf(1, key(0));
  const leader = (await client.leaderNode(s))!;
  const before = await client.shardStatus(leader, 1);
  const sentBefore = await cluster.metric(leader, 'shoal_snapshots_sent_total');

  // 1. An empty replica on node 4, created for the shard as it will be (learner 14, confVer 2).
  const next = common.ShardDescriptor.create({
    ...before!.shard!, epoch: epoch(2), leaderPeerId: 0,
    replicas: [...before!.shard!.replicas, common.Replica.create({ nodeId: 4, peerId: 14, role: common.ReplicaRole.LEARNER })],
  });
  await client.adminCall(4, 'createReplica', admin.CreateReplicaRequest.create({ shard: next, peerId: 14, bootstrap: false }));
  await client.adminCall(4, 'createReplica', admin.CreateReplicaRequest.create({ shard: next, peerId: 14, bootstrap: false })); // idempotent
  // 2. The leader adds it as a learner.
  const added = await client.adminCall<admin.ChangeMembershipRequest, admin.ChangeMembershipResponse>(leader, 'changeMembership',
    admin.ChangeMembershipRequest.create({
      shardId: 1, epoch: epoch(1),
      changes: [{ type: admin.MembershipChangeType.ADD_LEARNER, replica: common.Replica.create({ nodeId: 4, peerId: 14 }) }],
    }));
  assert.equal(added.shard!.replicas.length, 4);
  assert.deepEqual(added.shard!.epoch, epoch(2));
  const catchStart = Date.now();
  const target = before!.commitIndex;
  await waitUntil('the learner applied the leader\'s log', 60_000, async () => {
    const st = await client.shardStatus(4, 1);
    return st !== undefined && st.appliedIndex >= target;
  });
  const catchMs = Date.now() - catchStart;
  assert.ok(await cluster.metric(leader, 'shoal_snapshots_sent_total') > sentBefore, 'caught up through a snapshot');
  const st4 = (await client.shardStatus(4, 1))!;
  assert.equal(st4.role, raft.RaftRole.FOLLOWER);
  assert.equal(st4.leaderPeerId, before!.leaderPeerId);
  t.diagnostic(`loaded ${KEYS} keys in ${loadMs} ms; learner caught up (snapshot) in ${catchMs} ms`);

  assert.equal(await countOn(4, 2), KEYS);
  const stale = await client.getOn(4, 1, key(4242), { epoch: epoch(2), consistency: common.ReadConsistency.STALE });
  assert.equal(dec(stale.value), 'value-4242');
  await client.routed(s, 'put', kv.PutRequest.create({ header: client.header(s, { epoch: epoch(2) }), key: enc(key(7)), value: enc('new') }));
  const fr = await client.getOn(4, 1, key(7), { epoch: epoch(2), consistency: common.ReadConsistency.FOLLOWER });
  assert.equal(dec(fr.value), 'new', 'a follower read on the learner sees the latest write');
});

test('promote the learner, move leadership to it, remove an old replica for good', async () => {
  const s = client.shardOf(1, key(0));
  const leader = (await client.leaderNode(s))!;
  const promoted = await client.adminCall<admin.ChangeMembershipRequest, admin.ChangeMembershipResponse>(leader, 'changeMembership',
    admin.ChangeMembershipRequest.create({
      shardId: 1, epoch: epoch(2),
      changes: [{ type: admin.MembershipChangeType.ADD_VOTER, replica: common.Replica.create({ nodeId: 4, peerId: 14 }) }],
    }));
  assert.deepEqual(promoted.shard!.epoch, epoch(3));
  await client.adminCall(leader, 'transferLeader', admin.NodeTransferLeaderRequest.create({ shardId: 1, epoch: epoch(3), toPeerId: 14 }));
  await waitUntil('node 4 leads', 10_000, async () => (await client.shardStatus(4, 1))?.leaderPeerId === 14);

  const victim = [1, 2, 3].find((n) => n !== leader) ?? 3;
  const removed = await client.adminCall<admin.ChangeMembershipRequest, admin.ChangeMembershipResponse>(4, 'changeMembership',
    admin.ChangeMembershipRequest.create({
      shardId: 1, epoch: epoch(3),
      changes: [{ type: admin.MembershipChangeType.REMOVE, replica: common.Replica.create({ nodeId: victim, peerId: 10 + victim }) }],
    }));
  assert.equal(removed.shard!.replicas.length, 3);
  // The removed replica applies its own removal and destroys itself; RemoveReplica is idempotent.
  await waitUntil('the removed replica is gone', 10_000, async () => (await client.shardStatus(victim, 1)) === undefined);
  await client.adminCall(victim, 'removeReplica', admin.RemoveReplicaRequest.create({ shardId: 1, peerId: 10 + victim, epoch: epoch(4) }));
  // Tombstone: the same peer id is never recreated.
  await assert.rejects(client.adminCall(victim, 'createReplica', admin.CreateReplicaRequest.create({ shard: removed.shard, peerId: 10 + victim })),
    (e: unknown) => e instanceof KvCallError && e.code === 'INVALID_ARGUMENT' || (e instanceof KvCallError && e.code === 'ALREADY_EXISTS'));
  const r = await client.routed<kv.GetRequest, kv.GetResponse>(s, 'get',
    kv.GetRequest.create({ header: client.header(s, { epoch: epoch(4) }), key: enc(key(99_999)) }));
  assert.equal(dec(r.value), 'value-99999');
});
