// Goal: heartbeat handling records only fresh data, proposes only real changes (never a stale epoch), hands the shard leader its operator's current step (gated on learner catch-up, after the learner replica exists, same id until done) and turns leader-reported failures into FinishOperator; node heartbeats revive nodes, carry destroy commands and ask leaders for prompt shard heartbeats while an operator waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId, PeerId } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { common } from '@shoal/proto';
import { applyEntry, commands as cmd, encodeCommand, shardsOfTable } from '../state/index.js';
import type { CommandKind, ShardRecord, TopologyState } from '../state/index.js';
import { clusterOf, createTable, descriptor, electFirstVoters, run, shard } from '../state/testing/fixtures.js';
import { onNodeHeartbeat, onShardHeartbeat } from './heartbeats.js';
import { defaultSchedulerConfig } from './options.js';
import { createSoftState } from './soft-state.js';

const config = defaultSchedulerConfig();

function setup() {
  const { state, nodes } = clusterOf(['z1', 'z2', 'z3', 'z1']);
  const t = createTable(state, nodes, { name: 'h', partition: 'hash', shardCount: 1, placement: [[nodes[0]!, nodes[1]!, nodes[2]!]] });
  electFirstVoters(state, t);
  return { state, nodes, sh: shardsOfTable(state, t)[0]!, soft: createSoftState(0) };
}

interface HbArgs {
  readonly term?: number;
  readonly commit?: number;
  readonly progress?: readonly { peerId: number; matchIndex: number; state?: meta.ProgressState }[];
  readonly status?: { operatorId: number; state: meta.OperatorState };
}

function hb(d: common.ShardDescriptor, a: HbArgs = {}): meta.ShardHeartbeatRequest {
  return meta.ShardHeartbeatRequest.create({
    shard: d,
    stats: meta.ShardStats.create({ term: a.term ?? 5, commitIndex: a.commit ?? 100 }),
    progress: (a.progress ?? []).map((p) => meta.ReplicaProgress.create({ ...p, state: p.state ?? meta.ProgressState.REPLICATE, recentActive: true })),
    operatorStatus: a.status === undefined ? undefined : meta.OperatorStatus.create(a.status),
  });
}

function applyAll(state: TopologyState, kinds: readonly CommandKind[], stampMs = 2_000): void {
  for (const k of kinds) assert.ok(applyEntry(state, encodeCommand(k, stampMs)).ok, k.$case);
}

describe('shard heartbeats', () => {
  it('an unchanged descriptor proposes nothing; a new leader is proposed', () => {
    const { state, sh, soft } = setup();
    assert.deepEqual(onShardHeartbeat(state, soft, hb(descriptor(sh)), 1_000, config).proposals, []);
    const d = onShardHeartbeat(state, soft, hb(descriptor(sh, { leaderPeerId: sh.replicas[1]!.peerId })), 1_000, config);
    assert.equal(d.proposals.length, 1);
    assert.equal(d.proposals[0]!.$case, 'reportShard');
    assert.ok(soft.shards.has(sh.id));
  });

  it('a stale epoch is answered with EPOCH_NOT_MATCH, not proposed, not recorded', () => {
    const { state, sh, soft } = setup();
    run(state, cmd.reportShard(descriptor(sh, { epoch: { confVer: 1, version: 2 } })));
    const d = onShardHeartbeat(state, soft, hb(descriptor(sh)), 1_000, config);
    assert.equal(d.error?.code, 'EPOCH_NOT_MATCH');
    assert.deepEqual(d.proposals, []);
    assert.equal(soft.shards.has(sh.id), false);
  });

  it('a deposed leader (older term) is ignored', () => {
    const { state, sh, soft } = setup();
    onShardHeartbeat(state, soft, hb(descriptor(sh), { term: 9 }), 1_000, config);
    const d = onShardHeartbeat(state, soft, hb(descriptor(sh, { leaderPeerId: sh.replicas[2]!.peerId }), { term: 8 }), 2_000, config);
    assert.deepEqual(d.proposals, []);
    assert.equal(d.operator, undefined);
  });
});

describe('operator hand-out', () => {
  function planMove(state: TopologyState, sh: ShardRecord, to: NodeId): { opId: number; peer: PeerId } {
    const out = run(state, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'repair', reason: '', timeoutMs: 60_000, spec: { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: to } }));
    assert.ok(out.kind === 'operator-added');
    const op = state.operators.get(out.operatorId)!;
    return { opId: op.id, peer: (op.steps[0] as { peerId: PeerId }).peerId };
  }

  it('AddLearner goes out with its prerequisite; repeated heartbeats get the same step id', () => {
    const { state, sh, soft, nodes } = setup();
    const { opId, peer } = planMove(state, sh, nodes[3]!);
    const d1 = onShardHeartbeat(state, soft, hb(descriptor(sh)), 1_000, config);
    assert.equal(d1.operator?.id, opId);
    assert.equal(d1.operator?.kind?.$case, 'addLearner');
    assert.deepEqual(d1.operator?.epoch, { confVer: 1, version: 1 });
    assert.equal(d1.prerequisite?.kind, 'create-replica');
    assert.equal(d1.prerequisite?.nodeId, nodes[3]);
    const req = d1.prerequisite?.kind === 'create-replica' ? d1.prerequisite.request : undefined;
    assert.equal(req?.bootstrap, false);
    assert.equal(req?.peerId, peer);
    assert.ok(req?.shard?.replicas.some((r) => r.peerId === peer && r.role === 1));
    const d2 = onShardHeartbeat(state, soft, hb(descriptor(sh)), 1_500, config);
    assert.equal(d2.operator?.id, opId, 'idempotent: same step, same id');
  });

  it('PromoteLearner waits until the learner caught up, judged on the reported descriptor', () => {
    const { state, sh, soft, nodes } = setup();
    const { opId, peer } = planMove(state, sh, nodes[3]!);
    const withLearner = descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: [...sh.replicas, { nodeId: nodes[3]!, peerId: peer, role: 'learner' }] });
    const lagging = onShardHeartbeat(state, soft, hb(withLearner, { commit: 1_000, progress: [{ peerId: peer, matchIndex: 10, state: meta.ProgressState.SNAPSHOT }] }), 1_000, config);
    assert.equal(lagging.proposals[0]?.$case, 'reportShard', 'the membership change is proposed');
    assert.equal(lagging.operator, undefined, 'no promote while the snapshot is pending');
    const caught = onShardHeartbeat(state, soft, hb(withLearner, { commit: 1_000, progress: [{ peerId: peer, matchIndex: 990 }] }), 2_000, config);
    assert.equal(caught.operator?.id, opId + 1);
    assert.equal(caught.operator?.kind?.$case, 'promoteLearner');
    assert.deepEqual(caught.operator?.epoch, { confVer: 2, version: 1 }, 'planned against the reported epoch');
  });

  it('a step the leader reports failed ends the operator', () => {
    const { state, sh, soft, nodes } = setup();
    const { opId } = planMove(state, sh, nodes[3]!);
    const d = onShardHeartbeat(state, soft, hb(descriptor(sh), { status: { operatorId: opId, state: meta.OperatorState.FAILED } }), 1_000, config);
    assert.equal(d.operator, undefined);
    assert.equal(d.proposals.length, 1);
    applyAll(state, d.proposals);
    assert.equal(state.operators.size, 0);
    assert.equal(state.operatorHistory.at(-1)?.state, 'failed');
    const stale = onShardHeartbeat(state, soft, hb(descriptor(shard(state, sh.id)), { status: { operatorId: opId, state: meta.OperatorState.FAILED } }), 1_500, config);
    assert.deepEqual(stale.proposals, [], 'a status for a finished operator changes nothing');
  });

  it('force-reduce steps are never handed to a leader', () => {
    const { state, sh, soft, nodes } = setup();
    run(state, cmd.setNodeState(nodes[1]!, 'up', 'down'));
    run(state, cmd.setNodeState(nodes[2]!, 'up', 'down'));
    run(state, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1_000, spec: { kind: 'force-reduce', keepPeerIds: [sh.replicas[0]!.peerId] } }));
    assert.equal(onShardHeartbeat(state, soft, hb(descriptor(sh)), 1_000, config).operator, undefined);
  });
});

describe('node heartbeats', () => {
  it('records, revives a suspect or down node, sends destroy commands, asks unknown nodes to re-register', () => {
    const { state, sh, soft, nodes } = setup();
    const req = (nodeId: number) => meta.NodeHeartbeatRequest.create({ clusterId: 42, nodeId, stats: meta.NodeStats.create({ usedBytes: 5 }) });
    run(state, cmd.setNodeState(nodes[2]!, 'up', 'down'));
    run(state, cmd.reportShard(descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: sh.replicas.slice(0, 2) })));
    const d = onNodeHeartbeat(state, soft, req(nodes[2]!), 7_000);
    assert.equal(soft.nodes.get(nodes[2]!)?.lastHeartbeatMs, 7_000);
    assert.equal(d.proposals[0]?.$case, 'setNodeState');
    assert.deepEqual(d.reply.commands.map((c) => [c.type, c.shardId, c.peerId]), [[meta.NodeCommandType.DESTROY_REPLICA, sh.id, sh.replicas[2]!.peerId]]);
    assert.equal(d.reply.routeVersion, state.routeVersion);
    assert.equal(onNodeHeartbeat(state, soft, req(99), 7_000).reply.commands[0]?.type, meta.NodeCommandType.REREGISTER);
    assert.equal(onNodeHeartbeat(state, soft, meta.NodeHeartbeatRequest.create({ clusterId: 3, nodeId: nodes[0]! }), 7_000).error?.code, 'INVALID_ARGUMENT');
    assert.deepEqual(onNodeHeartbeat(state, soft, req(nodes[0]!), 7_000).proposals, []);
  });

  it('asks the shard leader node for a prompt shard heartbeat while an operator waits on it', () => {
    const { state, sh, soft, nodes } = setup();
    const req = (nodeId: number) => meta.NodeHeartbeatRequest.create({ clusterId: 42, nodeId });
    const leaderNode = sh.replicas.find((r) => r.peerId === sh.leaderPeerId)!.nodeId;
    const other = sh.replicas.find((r) => r.peerId !== sh.leaderPeerId)!.nodeId;
    assert.deepEqual(onNodeHeartbeat(state, soft, req(leaderNode), 1_000).reply.reportShardIds, [], 'no operator, nothing asked');
    run(state, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'repair', reason: '', timeoutMs: 60_000, spec: { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! } }));
    assert.deepEqual(onNodeHeartbeat(state, soft, req(leaderNode), 1_000).reply.reportShardIds, [sh.id]);
    assert.deepEqual(onNodeHeartbeat(state, soft, req(other), 1_000).reply.reportShardIds, [], 'only the leader reports');
  });

  it('does not ask for force-reduce operators, which the metaserver runs itself', () => {
    const { state, sh, soft, nodes } = setup();
    run(state, cmd.setNodeState(nodes[1]!, 'up', 'down'));
    run(state, cmd.setNodeState(nodes[2]!, 'up', 'down'));
    run(state, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1_000, spec: { kind: 'force-reduce', keepPeerIds: [sh.replicas[0]!.peerId] } }));
    const leaderNode = sh.replicas.find((r) => r.peerId === sh.leaderPeerId)!.nodeId;
    assert.deepEqual(onNodeHeartbeat(state, soft, meta.NodeHeartbeatRequest.create({ nodeId: leaderNode }), 1_000).reply.reportShardIds, []);
  });
});
