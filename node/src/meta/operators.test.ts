// Goal: the operator executor maps each operator kind to the right NodeAdmin call with the
// planned epoch, runs an id once, turns a slow call into TIMED_OUT and a failing or
// missing one (split before the node implements it) into FAILED with the reason, reports
// a final status until acknowledged, keeps its history within historyMax, and makes one
// NodeAdmin call per transfer_leader (AdminService re-issues raft's transfer itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvError } from '@shoal/common';
import { admin, common, meta } from '@shoal/proto';
import { silentLogger } from '../raft/testing/mem-cluster.js';
import { OperatorExecutor } from './operators.js';
import type { ShardAdminPort } from './operators.js';

const EPOCH = common.Epoch.create({ confVer: 3, version: 2 });
const shard = {
  descriptor: common.ShardDescriptor.create({
    id: 7, epoch: EPOCH,
    replicas: [common.Replica.create({ nodeId: 1, peerId: 71 }), common.Replica.create({ nodeId: 2, peerId: 72, role: common.ReplicaRole.LEARNER })],
  }),
};

function op(id: number, kind: meta.Operator['kind'], timeoutMs = 0): meta.Operator {
  return meta.Operator.create({ id, shardId: 7, epoch: EPOCH, timeoutMs, kind });
}

function harness(port: Partial<ShardAdminPort>, historyMax = 16) {
  const calls: { method: string; req: unknown }[] = [];
  const changed: number[] = [];
  const base: ShardAdminPort = {
    changeMembership: (req) => {
      calls.push({ method: 'changeMembership', req });
      return Promise.resolve(admin.ChangeMembershipResponse.create());
    },
    transferLeader: (req) => {
      calls.push({ method: 'transferLeader', req });
      return Promise.resolve(admin.NodeTransferLeaderResponse.create());
    },
    splitShard: (req) => {
      calls.push({ method: 'splitShard', req });
      return Promise.resolve(admin.NodeSplitShardResponse.create());
    },
    ...port,
  };
  const ex = new OperatorExecutor({
    admin: base, ensureKnown: () => Promise.resolve([]), historyMax, logger: silentLogger, onStateChange: (id) => changed.push(id),
  });
  return { ex, calls, changed };
}

async function settled(ex: OperatorExecutor, id: number): Promise<meta.OperatorState> {
  for (let i = 0; i < 500; i++) {
    const s = ex.state(id);
    if (s !== undefined && s !== meta.OperatorState.RUNNING) return s;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`operator ${id} did not finish`);
}

test('each kind calls NodeAdmin with the planned epoch; an id runs once', async () => {
  const { ex, calls, changed } = harness({});
  ex.handle(op(1, { $case: 'addLearner', addLearner: meta.AddLearnerOp.create({ replica: common.Replica.create({ nodeId: 3, peerId: 73 }) }) }), shard);
  ex.handle(op(2, { $case: 'promoteLearner', promoteLearner: meta.PromoteLearnerOp.create({ peerId: 72 }) }), shard);
  ex.handle(op(3, { $case: 'removeReplica', removeReplica: meta.RemoveReplicaOp.create({ peerId: 72 }) }), shard);
  ex.handle(op(4, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }), shard);
  for (const id of [1, 2, 3, 4]) assert.equal(await settled(ex, id), meta.OperatorState.SUCCEEDED);
  const changes = calls.filter((c) => c.method === 'changeMembership').map((c) => (c.req as admin.ChangeMembershipRequest));
  // They run concurrently (an add-learner first makes sure the node's address is known): compare in type order.
  const seen = changes.map((r) => [r.changes[0]!.type, r.changes[0]!.replica!.nodeId, r.changes[0]!.replica!.peerId]).sort((x, y) => x[0]! - y[0]!);
  assert.deepEqual(seen, [
    [admin.MembershipChangeType.ADD_LEARNER, 3, 73], [admin.MembershipChangeType.ADD_VOTER, 2, 72], [admin.MembershipChangeType.REMOVE, 2, 72],
  ].sort((x, y) => x[0]! - y[0]!));
  for (const r of changes) assert.deepEqual(r.epoch, EPOCH);
  assert.equal((calls.find((c) => c.method === 'transferLeader')!.req as admin.NodeTransferLeaderRequest).toPeerId, 72);
  assert.ok(changed.length >= 4, 'every outcome asks for a prompt heartbeat');

  ex.handle(op(1, { $case: 'addLearner', addLearner: meta.AddLearnerOp.create({ replica: common.Replica.create({ nodeId: 3, peerId: 73 }) }) }), shard);
  assert.equal(calls.length, 4, 'a repeated id is not executed again');
  assert.equal(ex.stats.repeated, 1);
});

test('status is reported until acknowledged; a repeat asks for it again', async () => {
  const { ex } = harness({});
  ex.handle(op(9, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }), shard);
  assert.equal(await settled(ex, 9), meta.OperatorState.SUCCEEDED);
  const st = ex.statusFor(7)!;
  assert.equal(st.operatorId, 9);
  ex.acknowledged(st);
  assert.equal(ex.statusFor(7), undefined);
  ex.handle(op(9, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }), shard);
  assert.equal(ex.statusFor(7)?.state, meta.OperatorState.SUCCEEDED);
});

test('a slow call times out, a failing one fails with its reason, a refused split fails with the node\'s error', async () => {
  const { ex } = harness({
    transferLeader: () => new Promise(() => undefined),
    changeMembership: () => Promise.reject(new KvError('EPOCH_NOT_MATCH', 'shard 7 is at another epoch')),
    splitShard: () => Promise.resolve(admin.NodeSplitShardResponse.create({
      error: common.ErrorDetail.create({ code: 'CONDITION_FAILED', message: 'a range shard needs two keys to split' }),
    })),
  });
  ex.handle(op(1, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }, 30), shard);
  ex.handle(op(2, { $case: 'removeReplica', removeReplica: meta.RemoveReplicaOp.create({ peerId: 72 }) }), shard);
  ex.handle(op(3, { $case: 'split', split: meta.SplitOp.create({ newShardId: 8, newPeerIds: [81, 82] }) }), shard);
  assert.equal(await settled(ex, 1), meta.OperatorState.TIMED_OUT);
  assert.equal(await settled(ex, 2), meta.OperatorState.FAILED);
  assert.equal(await settled(ex, 3), meta.OperatorState.FAILED);
  assert.match(ex.statusFor(7)!.message, /^CONDITION_FAILED/);
});

test('a split goes to AdminService.splitShard with the allocated ids', async () => {
  let got: admin.NodeSplitShardRequest | undefined;
  const { ex } = harness({
    splitShard: (req) => {
      got = req;
      return Promise.resolve(admin.NodeSplitShardResponse.create());
    },
  });
  ex.handle(op(5, { $case: 'split', split: meta.SplitOp.create({ splitKey: new Uint8Array([1]), newShardId: 8, newPeerIds: [81, 82] }) }), shard);
  assert.equal(await settled(ex, 5), meta.OperatorState.SUCCEEDED);
  assert.equal(got?.newShardId, 8);
  assert.deepEqual(got?.newPeerIds, [81, 82]);
  assert.deepEqual(got?.epoch, EPOCH);
});

test('history stays within historyMax, oldest finished first', async () => {
  const { ex } = harness({}, 16);
  for (let id = 1; id <= 40; id++) {
    ex.handle(op(id, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }), shard);
    await settled(ex, id);
  }
  assert.equal(ex.state(1), undefined, 'the oldest is forgotten');
  assert.equal(ex.state(40), meta.OperatorState.SUCCEEDED);
  let kept = 0;
  for (let id = 1; id <= 40; id++) if (ex.state(id) !== undefined) kept++;
  assert.ok(kept <= 16, `kept ${kept}`);
});

test('a transfer_leader is one request: its TIMEOUT or NOT_LEADER fails the operator', async () => {
  // AdminService.transferLeader re-issues raft's transfer within its own deadline, so the
  // executor adds no second request (two would double raft's proposal-dropping window).
  let k = 0;
  const slow = harness({ transferLeader: () => (k++, new Promise((_, reject) => setTimeout(() => reject(new KvError('TIMEOUT', 'did not move')), 50))) });
  slow.ex.handle(op(2, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }), shard);
  assert.equal(await settled(slow.ex, 2), meta.OperatorState.FAILED);
  assert.equal(k, 1);

  let m = 0;
  const lost = harness({ transferLeader: () => (m++, Promise.reject(new KvError('NOT_LEADER', 'not leader'))) });
  lost.ex.handle(op(3, { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 72 }) }), shard);
  assert.equal(await settled(lost.ex, 3), meta.OperatorState.FAILED);
  assert.equal(m, 1);
});
