// Checks the admin commands' human-readable output: column alignment, byte and duration
// units, enum names, and shard bounds decoded from storage keys for hash and range tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rangeShardBound, slotRangeEnd, slotRangeStart, tableEnd, tableId, tableStart } from '@shoal/common';
import { admin, common, meta } from '@shoal/proto';
import {
  describeBound, describeOperator, describeRange, describeReplicas, formatBytes, formatClusterStatus, formatDurationMs, formatNodes,
  formatOperators, formatShards, formatTables, nodeStateName, operatorStateName, renderTable,
} from './format.js';

test('renderTable aligns columns, right-aligns numeric ones and trims trailing spaces', () => {
  const out = renderTable(['ID', 'NAME', 'USED'], [['1', 'alpha', '2.0 KiB'], ['12', 'b', '900 B']]);
  assert.equal(out, ['ID  NAME      USED', ' 1  alpha  2.0 KiB', '12  b        900 B'].join('\n'));
});

test('formatBytes and formatDurationMs use binary units and compact durations', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(50 * 1024 ** 3), '50 GiB');
  assert.equal(formatDurationMs(0), 'none');
  assert.equal(formatDurationMs(3_600_000), '1h');
  assert.equal(formatDurationMs(90_500), '1m30s500ms');
});

test('enum values print as their lower-case member names; unknown ones say so', () => {
  assert.equal(nodeStateName(meta.NodeState.DECOMMISSIONING), 'decommissioning');
  assert.equal(operatorStateName(meta.OperatorState.TIMED_OUT), 'timed-out');
  assert.equal(nodeStateName(99 as meta.NodeState), 'unknown(99)');
});

test('shard bounds decode to slots for hash tables and user keys for range tables', () => {
  const t = tableId(7);
  const hash = meta.PartitionKind.HASH;
  const range = meta.PartitionKind.RANGE;
  assert.equal(describeBound(slotRangeStart(t, 0), 7, hash), '0');
  assert.equal(describeBound(slotRangeStart(t, 4096), 7, hash), '4096');
  assert.equal(describeBound(slotRangeEnd(t, 16384), 7, hash), '16384');
  assert.equal(describeBound(tableStart(t), 7, range), '-∞');
  assert.equal(describeBound(tableEnd(t), 7, range), '+∞');
  assert.equal(describeBound(rangeShardBound(t, new TextEncoder().encode('user:42')), 7, range), '"user:42"');
  assert.equal(describeBound(rangeShardBound(t, Uint8Array.of(0, 255)), 7, range), '0x00ff');
  const d = common.ShardDescriptor.create({ tableId: 7, startKey: tableStart(t), endKey: rangeShardBound(t, new TextEncoder().encode('m')) });
  assert.equal(describeRange(d, range), '[-∞, "m")');
});

test('replicas mark the leader with * and learners explicitly', () => {
  const d = common.ShardDescriptor.create({
    leaderPeerId: 5,
    replicas: [
      common.Replica.create({ nodeId: 1, peerId: 4 }), common.Replica.create({ nodeId: 2, peerId: 5 }),
      common.Replica.create({ nodeId: 3, peerId: 6, role: common.ReplicaRole.LEARNER }),
    ],
  });
  assert.equal(describeReplicas(d), 'n1:p4, n2:p5*, n3:p6(learner)');
});

test('operators describe their kind; lists show state and age', () => {
  const op = meta.Operator.create({ id: 3, shardId: 9, reason: 'admin request', kind: { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 12 }) } });
  assert.equal(describeOperator(op), 'transfer-leader to peer 12');
  assert.equal(describeOperator(meta.Operator.create()), 'unknown');
  const out = formatOperators([admin.OperatorInfo.create({
    operator: op, status: meta.OperatorStatus.create({ operatorId: 3, state: meta.OperatorState.RUNNING }), createdUnixMs: 1_000,
  })], 61_000);
  assert.match(out, /^ID\s+SHARD\s+KIND\s+STATE\s+AGE/);
  assert.match(out, /\n\s*3\s+9\s+transfer-leader to peer 12\s+running\s+1m\s+admin request/);
  assert.equal(formatOperators([], 0), 'no operators');
});

function node(id: number, state: meta.NodeState, replicas: number): meta.NodeInfo {
  return meta.NodeInfo.create({
    id, address: `127.0.0.1:${7199 + id}`, pool: 'default', zone: `z${id}`, state, version: '0.1.0',
    stats: meta.NodeStats.create({ replicaCount: replicas, leaderCount: 1, usedBytes: 2048, capacityBytes: 1024 ** 3 }),
  });
}

test('node, table and shard lists show one row each', () => {
  const nodes = formatNodes([node(1, meta.NodeState.UP, 4), node(2, meta.NodeState.DOWN, 0)]);
  assert.match(nodes, /\n\s*1\s+127\.0\.0\.1:7200\s+default\s+z1\s+up\s+4\s+1\s+2\.0 KiB\s+1\.0 GiB\s+0\.1\.0/);
  assert.match(nodes, /\n\s*2\s+127\.0\.0\.1:7201\s+default\s+z2\s+down\s+0/);
  const table = meta.TableInfo.create({
    id: 1, name: 'default', pool: 'default', state: meta.TableState.ACTIVE,
    options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, replicaCount: 3 }),
  });
  assert.match(formatTables([table], new Map([[1, 8]])), /\n\s*1\s+default\s+default\s+hash\s+8\s+3\s+active$/);
  assert.match(formatTables([table], new Map()), /hash\s+-\s+3/);
  const t = tableId(1);
  const shard = common.ShardDescriptor.create({
    id: 4, tableId: 1, startKey: slotRangeStart(t, 0), endKey: slotRangeEnd(t, 8192), epoch: common.Epoch.create({ confVer: 2, version: 1 }),
    replicas: [common.Replica.create({ nodeId: 1, peerId: 9 })], leaderPeerId: 0,
  });
  const shards = formatShards([meta.GetRoutesResponse.create({ table, shards: [meta.ShardRoute.create({ shard, leaderAddress: '' })] })]);
  assert.match(shards, /\n\s*4\s+default\s+\[0, 8192\)\s+2\/1\s+n1:p9\s+none$/);
});

test('cluster status reports health, leader and counts', () => {
  const status = admin.ClusterStatusResponse.create({
    metaservers: meta.GetClusterInfoResponse.create({
      clusterId: 77, leaderId: 2, term: 5,
      members: [meta.MetaMember.create({ id: 1, address: 'a:1' }), meta.MetaMember.create({ id: 2, address: 'a:2', isLeader: true })],
    }),
    nodesByState: new Map([[meta.NodeState.UP, 2], [meta.NodeState.DOWN, 1]]),
    tableCount: 1, shardCount: 8, leaderlessShardCount: 1, underReplicatedShardCount: 2,
  });
  const out = formatClusterStatus({
    status, memberHealth: new Map([['a:1', 'unreachable (UNAVAILABLE)'], ['a:2', 'up']]), nodes: [], tables: [], shardCounts: new Map(), operators: [],
  }, 0);
  assert.match(out, /^cluster 77: degraded; term 5, leader metaserver 2/);
  assert.match(out, /\n\s*1\s+a:1\s+-\s+follower\s+unreachable \(UNAVAILABLE\)/);
  assert.match(out, /\n\s*2\s+a:2\s+-\s+leader\s+up/);
  assert.match(out, /nodes: 2 up, 1 down;/);
  assert.match(out, /shards: 8, leaderless: 1, under-replicated: 2/);
});

test('cluster status lists stuck shards with their table and reason, and is then degraded', () => {
  const base = { metaservers: meta.GetClusterInfoResponse.create({ clusterId: 1, leaderId: 1 }), tableCount: 1, shardCount: 2 };
  const view = (status: admin.ClusterStatusResponse) => formatClusterStatus({
    status, memberHealth: new Map(), nodes: [], shardCounts: new Map(), operators: [],
    tables: [meta.TableInfo.create({ id: 4, name: 'orders' })],
  }, 0);
  const healthy = view(admin.ClusterStatusResponse.create(base));
  assert.match(healthy, /^cluster 1: healthy/);
  assert.doesNotMatch(healthy, /stuck/);
  const stuck = view(admin.ClusterStatusResponse.create({
    ...base, stuckShards: [admin.StuckShard.create({ shardId: 9, tableId: 4, reason: 'quorum lost (1/3 voters alive): force-reduce needed' })],
  }));
  assert.match(stuck, /^cluster 1: degraded/);
  assert.match(stuck, /stuck shards \(the scheduler cannot help them\): 1\n/);
  assert.match(stuck, /\n\s*9\s+orders\s+quorum lost \(1\/3 voters alive\): force-reduce needed/);
});
