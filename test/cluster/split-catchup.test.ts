// Goal: a replica that missed a split because its leader compacted the log past the split entry catches up on both halves — it installs a snapshot of the narrowed left half, and its right-half replica, which it never created itself, is created on demand when the right half's leader probes it and is filled by that leader's snapshot. Real node processes (static layout), kill -9, NodeAdmin.GetShardStatus and FOLLOWER reads on the restarted node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keySlot } from '@shoal/common';
import type { ShardConfig } from '@shoal/node';
import { admin, common, kv } from '@shoal/proto';
import { dec, enc, TestClient } from './client.js';
import { Cluster, waitUntil } from './harness.js';

const TABLE = 1;
const LEFT = 1;
const RIGHT = 2;
/** The right half's peers: node n gets peer 20 + n (the harness's shard * 10 + node). */
const RIGHT_PEERS = [21, 22, 23];
const SPLIT_EPOCH = { confVer: 1, version: 2 };
let cluster: Cluster;
let client: TestClient;

before(async () => {
  cluster = await Cluster.start({
    nodes: 3,
    tables: [{ id: TABLE, partition: 'hash' }],
    shards: [{ id: LEFT, tableId: TABLE, nodes: [1, 2, 3] }],
    // Compact early and often, so the leader's log no longer holds the split entry when node 3 returns.
    options: { raftLogCompactThresholdEntries: 20, raftLogCompactKeepEntries: 5, raftLogCompactIntervalMs: 100 },
  });
  client = new TestClient(cluster);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

/** After the split, hash slots [0, 8192) stay in shard 1 and [8192, 16384) go to shard 2. */
const shardOfKey = (key: string): number => (keySlot(enc(key)) < 8192 ? LEFT : RIGHT);

function shardConfig(id: number, epochVersion: number): { shard: ShardConfig; header: kv.RequestHeader } {
  const replicas = [1, 2, 3].map((n) => ({ nodeId: n, peerId: id * 10 + n, role: 'voter' as const }));
  const shard = { id, tableId: TABLE, replicas } as unknown as ShardConfig;
  return { shard, header: kv.RequestHeader.create({ tableId: TABLE, shardId: id, epoch: { confVer: 1, version: epochVersion } }) };
}

const acked = new Map<string, string>();

async function putAll(prefix: string, n: number, epochVersion: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const key = `${prefix}-${String(i).padStart(4, '0')}`;
    const { shard, header } = shardConfig(epochVersion === 1 ? LEFT : shardOfKey(key), epochVersion);
    await client.routed(shard, 'put', kv.PutRequest.create({ header, key: enc(key), value: enc(`v-${key}`) }));
    acked.set(key, `v-${key}`);
  }
}

async function status(node: number, shardId: number): Promise<admin.ShardStatus | undefined> {
  return client.shardStatus(node, shardId).catch(() => undefined);
}

async function leaderOf(shardId: number, nodes: readonly number[]): Promise<number> {
  return waitUntil(`a leader of shard ${shardId}`, 15_000, async () => {
    for (const n of nodes) {
      const s = await status(n, shardId);
      if (s !== undefined && s.leaderPeerId !== 0 && s.leaderPeerId === s.peerId) return n;
    }
    return undefined;
  });
}

function logOf(node: number): string {
  return readFileSync(join(cluster.node(node).dataDir, 'stdout.log'), 'utf8');
}

test('node 3 misses a split behind log compaction; on restart it gets both halves, the right one created on demand', async () => {
  await leaderOf(LEFT, [1, 2, 3]);
  await putAll('early', 20, 1);
  await cluster.kill9(3);

  // Writes and the split while node 3 is down, then enough writes to both halves that the
  // log compaction (threshold 20, keep 5) passes the split entry on the live replicas.
  await putAll('before', 40, 1);
  const leader = await leaderOf(LEFT, [1, 2]);
  const res = await client.adminCall<admin.NodeSplitShardRequest, admin.NodeSplitShardResponse>(leader, 'splitShard',
    admin.NodeSplitShardRequest.create({ shardId: LEFT, epoch: { confVer: 1, version: 1 }, newShardId: RIGHT, newPeerIds: RIGHT_PEERS }), 20_000);
  assert.deepEqual(res.shards.map((d) => d.id), [LEFT, RIGHT]);
  assert.deepEqual(res.shards[1]!.replicas.map((r) => [r.peerId, r.nodeId]), [[21, 1], [22, 2], [23, 3]]);
  await putAll('after', 120, 2);
  const halves = new Set([...acked.keys()].filter((k) => !k.startsWith('early')).map(shardOfKey));
  assert.deepEqual([...halves].sort(), [LEFT, RIGHT], 'both halves took writes');

  await cluster.startNode(3);

  // Node 3 hosts both halves at the split's epoch and has applied what their leaders committed.
  for (const id of [LEFT, RIGHT]) {
    const l = await leaderOf(id, [1, 2]);
    const committed = (await status(l, id))!.commitIndex;
    const st = await waitUntil(`node 3 catches up on shard ${id}`, 20_000, async () => {
      const s = await status(3, id);
      return s !== undefined && s.appliedIndex >= committed && s.leaderPeerId !== 0 ? s : undefined;
    });
    assert.deepEqual({ ...st.shard!.epoch }, SPLIT_EPOCH, `shard ${id} epoch on node 3`);
    assert.equal(st.peerId, id * 10 + 3);
  }
  const right = (await status(3, RIGHT))!.shard!;
  assert.deepEqual(right.replicas.map((r) => [r.peerId, r.nodeId]), [[21, 1], [22, 2], [23, 3]]);

  // The path taken: the right half was created for its leader's snapshot, not by applying
  // the split from the log (which would mean compaction had not passed it: test setup broken).
  const log = logOf(3);
  assert.match(log, /replica created on demand for its leader's snapshot/);
  assert.doesNotMatch(log, /split: right half started/);

  // The right half keeps replicating to node 3.
  await putAll('later', 20, 2);
  for (const [key, value] of acked) {
    const id = shardOfKey(key);
    const header = kv.RequestHeader.create({ tableId: TABLE, shardId: id, epoch: SPLIT_EPOCH, consistency: common.ReadConsistency.FOLLOWER });
    const r = await waitUntil(`${key} on node 3`, 10_000, async () => {
      const got = await client.call<kv.GetRequest, kv.GetResponse>(3, 'get', kv.GetRequest.create({ header, key: enc(key) }));
      return got.found ? got : undefined;
    });
    assert.equal(dec(r.value), value, `${key} (shard ${id}) on node 3`);
  }
});
