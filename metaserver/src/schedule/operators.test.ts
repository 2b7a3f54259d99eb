// Goal: scheduled operators behave as PD's do — a stuck one times out and its shard waits out a back-off before the checker cleans up (orphan learner) and retries; doomed ones are cancelled when their target node goes down; a round never plans two operators for one shard; admin planners validate and plan.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admin, meta } from '@shoal/proto';
import { shardsOfTable } from '../state/index.js';
import {
  planCancelOperator, planCreateTable, planForceReduce, planMoveReplica, planTransferLeader,
} from './admin.js';
import { schedule } from './scheduler.js';
import { ModelCluster } from './testing/model-cluster.js';

function model(o: ConstructorParameters<typeof ModelCluster>[0] = {}, zones = ['z1', 'z2', 'z3', 'z1']) {
  const m = new ModelCluster({ ...o, config: { leaderBalanceEnabled: false, replicaBalanceEnabled: false, ...o.config } });
  const nodes = zones.map((z) => m.addNode(z));
  const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 1 }) });
  m.settle();
  return { m, nodes, t, shard: () => shardsOfTable(m.state, t)[0]! };
}

describe('timeouts and retries', () => {
  it('a move whose learner never catches up times out; after the back-off its learner is removed', () => {
    const { m, nodes, shard } = model({ snapshotSteps: 10_000, config: { moveReplicaTimeoutMs: 20_000, operatorRetryBackoffMs: 5_000 } });
    const target = nodes.find((n) => !shard().replicas.some((r) => r.nodeId === n))!;
    const plan = planMoveReplica(m.state, m.soft, m.config, shard().id, shard().replicas[0]!.peerId, target);
    assert.ok(plan.ok && m.propose(plan.value).ok);
    const opId = [...m.state.operators.keys()][0]!;
    m.runUntil(() => m.state.operators.size === 0, 40);
    const ended = m.state.operatorHistory.find((o) => o.id === opId)!;
    assert.equal(ended.state, 'timed-out');
    assert.ok(ended.finishedMs - ended.createdMs >= 20_000);
    assert.equal(shard().replicas.filter((r) => r.role === 'learner').length, 1, 'the learner is still there');
    m.runFor(4_000);
    assert.equal(m.state.operators.size, 0, 'back-off: nothing new on the shard yet');
    m.runUntil(() => shard().replicas.every((r) => r.role === 'voter'), 20);
    const cleanup = m.state.operatorHistory.at(-1)!;
    assert.equal(cleanup.kind, 'remove-replica');
    assert.equal(cleanup.cause, 'repair');
  });

  it('an operator whose target node goes down is cancelled without waiting for its time-out', () => {
    const { m, nodes, shard } = model({ snapshotSteps: 10_000 });
    const target = nodes.find((n) => !shard().replicas.some((r) => r.nodeId === n))!;
    const plan = planMoveReplica(m.state, m.soft, m.config, shard().id, 0, target);
    assert.ok(plan.ok && m.propose(plan.value).ok);
    m.step();
    m.kill(target);
    m.runUntil(() => m.state.operators.size === 0, 20);
    assert.equal(m.state.operatorHistory.at(-1)?.state, 'cancelled');
    assert.match(m.state.operatorHistory.at(-1)!.message, /is down/);
  });
});

describe('one operator per shard', () => {
  it('a round with many reasons to act on a shard plans one operator for it', () => {
    const { m, shard } = model({}, ['z1', 'z2', 'z3', 'z1', 'z2', 'z3']);
    const s = shard();
    m.truth.get(s.id)!.sizeBytes = 1e12;
    for (const r of s.replicas.slice(0, 1)) m.kill(r.nodeId);
    m.runFor(7_000);
    const d = schedule(m.state, m.soft, m.nowMs, m.config);
    const perShard = new Map<number, number>();
    for (const c of d.commands) if (c.$case === 'addOperator') perShard.set(c.addOperator.shardId, (perShard.get(c.addOperator.shardId) ?? 0) + 1);
    assert.ok([...perShard.values()].every((n) => n <= 1));
  });
});

describe('force reduce', () => {
  it('a shard that lost its quorum is reported stuck, force-reduced by an admin, then re-grown', () => {
    const { m, shard } = model({}, ['z1', 'z2', 'z3', 'z1', 'z2', 'z3']);
    const s = shard();
    const [keep, ...lost] = s.replicas;
    for (const r of lost) m.kill(r.nodeId);
    m.runUntil(() => lost.every((r) => m.state.nodes.get(r.nodeId)?.state === 'down'));
    m.step();
    assert.deepEqual(m.lastStuck.map((x) => x.shardId), [s.id]);
    assert.match(m.lastStuck[0]!.reason, /force-reduce/);
    const bad = planForceReduce(m.state, m.config, admin.ForceReduceReplicasRequest.create({ shardId: s.id, keepPeerIds: [keep!.peerId], confirmShardId: 1234 }));
    assert.ok(!bad.ok && bad.error.code === 'INVALID_ARGUMENT');
    const plan = planForceReduce(m.state, m.config, admin.ForceReduceReplicasRequest.create({ shardId: s.id, keepPeerIds: [keep!.peerId], confirmShardId: s.id }));
    assert.ok(plan.ok && m.propose(plan.value).ok);
    m.runUntil(() => {
      const cur = shard();
      return cur.replicas.length === 3 && cur.replicas.every((r) => r.role === 'voter' && m.alive.has(r.nodeId));
    });
    const kinds = m.state.operatorHistory.map((o) => `${o.kind}:${o.state}`);
    assert.ok(kinds.includes('force-reduce:succeeded'));
    assert.equal(kinds.filter((k) => k === 'move-replica:succeeded').length, 2, 're-grown by two added replicas');
  });

  it('is refused while the quorum is alive', () => {
    const { m, shard } = model();
    const s = shard();
    const plan = planForceReduce(m.state, m.config, admin.ForceReduceReplicasRequest.create({ shardId: s.id, keepPeerIds: [s.replicas[0]!.peerId], confirmShardId: s.id }));
    assert.ok(plan.ok);
    const r = m.propose(plan.value);
    assert.ok(!r.ok && r.error.code === 'CONDITION_FAILED');
  });
});

describe('admin planners', () => {
  it('transfer leader, cancel, move to the best node, create table errors', () => {
    const { m, nodes, shard } = model();
    const s = shard();
    const follower = s.replicas.find((r) => r.peerId !== s.leaderPeerId)!;
    const tl = planTransferLeader(m.state, m.config, admin.TransferLeaderRequest.create({ shardId: s.id, toPeerId: follower.peerId }));
    assert.ok(tl.ok && m.propose(tl.value).ok);
    const id = [...m.state.operators.keys()][0]!;
    const cancel = planCancelOperator(m.state, admin.CancelOperatorRequest.create({ operatorId: id }));
    assert.ok(cancel.ok && m.propose(cancel.value).ok);
    assert.equal(planCancelOperator(m.state, admin.CancelOperatorRequest.create({ operatorId: id })).ok, false);
    const move = planMoveReplica(m.state, m.soft, m.config, s.id, s.replicas[0]!.peerId, 0);
    assert.ok(move.ok && move.value.$case === 'addOperator');
    assert.equal(move.value.addOperator.spec?.$case === 'moveReplica' && move.value.addOperator.spec.moveReplica.toNodeId, nodes[3]);
    const tooBig = planCreateTable(m.state, m.soft, admin.CreateTableRequest.create({ name: 'x', pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 2, replicaCount: 5 }) }), { replicaCount: 3, hashShardCount: 4 });
    assert.ok(!tooBig.ok && tooBig.error.code === 'UNAVAILABLE');
    const noPool = planCreateTable(m.state, m.soft, admin.CreateTableRequest.create({ name: 'x', pool: 'nope' }), { replicaCount: 3, hashShardCount: 4 });
    assert.ok(!noPool.ok && noPool.error.code === 'NOT_FOUND');
    const exists = planCreateTable(m.state, m.soft, admin.CreateTableRequest.create({ name: 'h', pool: 'default', ifNotExists: true }), { replicaCount: 3, hashShardCount: 4 });
    assert.ok(exists.ok);
    const r = m.propose(exists.value);
    assert.ok(r.ok && r.value.kind === 'table-exists');
  });

  it('create table takes split keys and split thresholds from the request', () => {
    const { m } = model();
    const enc = (k: string) => new TextEncoder().encode(k);
    const plan = planCreateTable(m.state, m.soft, admin.CreateTableRequest.create({
      name: 'ranged', pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE, replicaCount: 3 }),
      splitKeys: [enc('g'), enc('p')], splitSizeBytes: 1 << 20, splitKeyCount: 1000,
    }), { replicaCount: 3, hashShardCount: 4 });
    assert.ok(plan.ok && plan.value.$case === 'createTable');
    assert.deepEqual(plan.value.createTable.splitKeys.map((k) => new TextDecoder().decode(k)), ['g', 'p']);
    assert.equal(plan.value.createTable.splitSizeBytes, 1 << 20);
    assert.equal(plan.value.createTable.splitKeyCount, 1000);
    const applied = m.propose(plan.value);
    assert.ok(applied.ok);
    const table = [...m.state.tables.values()].find((t) => t.name === 'ranged')!;
    assert.equal([...m.state.shards.values()].filter((sh) => sh.tableId === table.id).length, 3);
  });
});
