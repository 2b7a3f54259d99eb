// Goal: operators are added only at the shard's current epoch and one per shard, expand into steps with their own ids, advance exactly when reported descriptors show each step done, and end idempotently (success from reports; failure, time-out, cancel by command).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerId } from '@shoal/common';
import * as cmd from './commands.js';
import { checkInvariants } from './invariants.js';
import {
  clusterOf, createTable, descriptor, electFirstVoters, peerOn, refusal, report, run, shard,
} from './testing/fixtures.js';
import { operatorOfShard, shardsOfTable } from './topology-state.js';
import type { OperatorId, OperatorSpec, ReplicaRecord, ShardRecord, TopologyState } from './types.js';

function setup(zones = ['z1', 'z2', 'z3', 'z1']) {
  const { state: s, nodes } = clusterOf(zones);
  const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 1, placement: [[nodes[0]!, nodes[1]!, nodes[2]!]] });
  electFirstVoters(s, t);
  return { s, nodes, sh: shardsOfTable(s, t)[0]! };
}

function add(s: TopologyState, sh: ShardRecord, spec: OperatorSpec, stampMs = 1_000): OperatorId {
  const out = run(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: 'test', timeoutMs: 60_000, spec }), stampMs);
  assert.equal(out.kind, 'operator-added');
  return (out as { operatorId: OperatorId }).operatorId;
}

/** Reports the shard with a membership change applied by its leader. */
function reportMembers(s: TopologyState, sh: ShardRecord, replicas: ReplicaRecord[], stampMs = 2_000, leader = sh.leaderPeerId): void {
  const cur = shard(s, sh.id);
  const r = report(s, descriptor(cur, { epoch: { confVer: cur.epoch.confVer + 1, version: cur.epoch.version }, replicas, leaderPeerId: leader }), stampMs);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
}

describe('move-replica lifecycle', () => {
  it('add learner → promote → (leader not moving: skip transfer) → remove, advanced by reports', () => {
    const { s, nodes, sh } = setup();
    const from = peerOn(sh, nodes[2]!);
    const id = add(s, sh, { kind: 'move-replica', fromPeerId: from, toNodeId: nodes[3]! });
    const op = s.operators.get(id)!;
    assert.deepEqual(op.steps.map((x) => x.kind), ['add-learner', 'promote-learner', 'transfer-leader', 'remove-replica']);
    assert.deepEqual(op.steps.map((x) => x.id), [id, id + 1, id + 2, id + 3], 'each step has its own id');
    const add0 = op.steps[0]!;
    assert.ok(add0.kind === 'add-learner');
    const learner = { nodeId: nodes[3]!, peerId: add0.peerId, role: 'learner' as const };
    reportMembers(s, sh, [...sh.replicas, learner], 2_000);
    assert.equal(s.operators.get(id)?.stepIndex, 1);
    assert.equal(s.operators.get(id)?.stepStartedMs, 2_000);
    reportMembers(s, sh, [...sh.replicas, { ...learner, role: 'voter' }], 3_000);
    assert.equal(s.operators.get(id)?.stepIndex, 3, 'transfer skipped: the removed peer does not lead');
    reportMembers(s, sh, [...sh.replicas.filter((r) => r.peerId !== from), { ...learner, role: 'voter' }], 4_000);
    assert.equal(s.operators.size, 0);
    const done = s.operatorHistory.at(-1)!;
    assert.equal(done.state, 'succeeded');
    assert.equal(done.finishedMs, 4_000);
    assert.deepEqual(shard(s, sh.id).replicas.map((r) => r.nodeId).sort(), [nodes[0]!, nodes[1]!, nodes[3]!].sort());
    assert.deepEqual(checkInvariants(s), []);
  });

  it('moving the leader transfers leadership to the new replica before removing it', () => {
    const { s, nodes, sh } = setup();
    const from = sh.leaderPeerId;
    const id = add(s, sh, { kind: 'move-replica', fromPeerId: from, toNodeId: nodes[3]! });
    const newPeer = (s.operators.get(id)!.steps[0] as { peerId: PeerId }).peerId;
    const voter = { nodeId: nodes[3]!, peerId: newPeer, role: 'voter' as const };
    reportMembers(s, sh, [...sh.replicas, { ...voter, role: 'learner' }]);
    reportMembers(s, sh, [...sh.replicas, voter]);
    assert.equal(s.operators.get(id)?.stepIndex, 2, 'waits for the transfer');
    const cur = shard(s, sh.id);
    assert.ok(report(s, descriptor(cur, { leaderPeerId: newPeer })).ok);
    assert.equal(s.operators.get(id)?.stepIndex, 3);
  });
});

describe('rules', () => {
  it('one operator per shard; planned epoch must be current', () => {
    const { s, nodes, sh } = setup();
    add(s, sh, { kind: 'transfer-leader', toPeerId: sh.replicas[1]!.peerId });
    const again = cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1, spec: { kind: 'transfer-leader', toPeerId: sh.replicas[2]!.peerId } });
    assert.equal(refusal(s, again), 'CONDITION_FAILED');
    const { s: s2, sh: sh2 } = setup();
    const stale = cmd.addOperator({ shardId: sh2.id, epoch: { confVer: 0, version: 1 }, cause: 'admin', reason: '', timeoutMs: 1, spec: { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! } });
    assert.equal(refusal(s2, stale), 'EPOCH_NOT_MATCH');
  });

  it('invalid specs are refused', () => {
    const { s, nodes, sh } = setup();
    const bad: OperatorSpec[] = [
      { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[0]! },
      { kind: 'move-replica', fromPeerId: 777 as PeerId, toNodeId: nodes[3]! },
      { kind: 'transfer-leader', toPeerId: 777 as PeerId },
      { kind: 'remove-replica', peerId: 777 as PeerId },
      { kind: 'split', splitKey: new Uint8Array([1]) },
    ];
    for (const spec of bad) {
      assert.equal(refusal(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1, spec })), 'INVALID_ARGUMENT', spec.kind);
    }
    run(s, cmd.setNodeState(nodes[3]!, 'up', 'down'));
    assert.equal(refusal(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1, spec: { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! } })), 'UNAVAILABLE');
    assert.equal(s.operators.size, 0);
  });

  it('finish is idempotent; a timed-out move leaves its learner for the scheduler to clean', () => {
    const { s, nodes, sh } = setup();
    const id = add(s, sh, { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
    const newPeer = (s.operators.get(id)!.steps[0] as { peerId: PeerId }).peerId;
    reportMembers(s, sh, [...sh.replicas, { nodeId: nodes[3]!, peerId: newPeer, role: 'learner' }]);
    assert.deepEqual(run(s, cmd.finishOperator(id, 'timed-out', 'learner never caught up'), 9_000), { kind: 'operator-finished', operatorId: id, state: 'timed-out' });
    assert.equal(run(s, cmd.finishOperator(id, 'cancelled', 'again'), 9_500).kind, 'unchanged');
    assert.equal(s.operatorHistory.length, 1);
    assert.equal(s.operatorHistory[0]!.message, 'learner never caught up');
    assert.equal(operatorOfShard(s, sh.id), undefined);
    assert.equal(shard(s, sh.id).replicas.length, 4);
    // A new operator can start on the shard now.
    add(s, shard(s, sh.id), { kind: 'remove-replica', peerId: newPeer });
  });

  it('a move that fails before its learner joined leaves that learner as garbage; a joined one is not', () => {
    for (const end of ['failed', 'timed-out', 'cancelled'] as const) {
      const { s, nodes, sh } = setup();
      const id = add(s, sh, { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
      const learner = (s.operators.get(id)!.steps[0] as { peerId: PeerId }).peerId;
      assert.deepEqual(s.garbage, []);
      run(s, cmd.finishOperator(id, end, 'add-learner proposal dropped'), 9_000);
      assert.deepEqual(s.garbage, [{ nodeId: nodes[3]!, shardId: sh.id, peerId: learner }], end);
      assert.deepEqual(checkInvariants(s), []);
      // The node destroys it and acknowledges; a new move to the same node can start.
      run(s, cmd.ackDestroyedReplicas(nodes[3]!, [{ shardId: sh.id, peerId: learner }]));
      assert.deepEqual(s.garbage, []);
      add(s, shard(s, sh.id), { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
    }
    const { s, nodes, sh } = setup();
    const id = add(s, sh, { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
    const learner = (s.operators.get(id)!.steps[0] as { peerId: PeerId }).peerId;
    reportMembers(s, sh, [...sh.replicas, { nodeId: nodes[3]!, peerId: learner, role: 'learner' }]);
    run(s, cmd.finishOperator(id, 'timed-out', 'promotion never applied'), 9_000);
    assert.deepEqual(s.garbage, [], 'a member is the replica checker\'s to remove, not garbage');
  });

  it('an operator without an add-learner step leaves no garbage', () => {
    const { s, sh } = setup();
    const id = add(s, sh, { kind: 'transfer-leader', toPeerId: sh.replicas[1]!.peerId });
    run(s, cmd.finishOperator(id, 'failed', 'target ignored TimeoutNow'), 9_000);
    assert.deepEqual(s.garbage, []);
  });

  it('an operator whose step becomes impossible fails', () => {
    const { s, nodes, sh } = setup();
    const id = add(s, sh, { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
    const newPeer = (s.operators.get(id)!.steps[0] as { peerId: PeerId }).peerId;
    reportMembers(s, sh, [...sh.replicas, { nodeId: nodes[3]!, peerId: newPeer, role: 'learner' }]);
    reportMembers(s, sh, [...sh.replicas]);
    assert.equal(s.operatorHistory.at(-1)?.state, 'failed');
    assert.match(s.operatorHistory.at(-1)!.message, /learner .* gone/);
  });

  it('remove-replica of the leader hands leadership to a voter on an up node first', () => {
    const { s, nodes, sh } = setup();
    run(s, cmd.setNodeState(nodes[1]!, 'up', 'suspect'));
    const id = add(s, sh, { kind: 'remove-replica', peerId: sh.leaderPeerId });
    const first = s.operators.get(id)!.steps[0]!;
    assert.ok(first.kind === 'transfer-leader');
    assert.equal(first.toPeerId, peerOn(sh, nodes[2]!));
  });
});

describe('force reduce', () => {
  it('is refused while a quorum is alive, allowed once it is lost, done when only the kept peers remain', () => {
    const { s, nodes, sh } = setup();
    const keep = [peerOn(sh, nodes[0]!)];
    const spec: OperatorSpec = { kind: 'force-reduce', keepPeerIds: keep };
    const addIt = () => cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1_000, spec });
    run(s, cmd.setNodeState(nodes[1]!, 'up', 'down'));
    assert.equal(refusal(s, addIt()), 'CONDITION_FAILED', '2 of 3 alive');
    run(s, cmd.setNodeState(nodes[2]!, 'up', 'down'));
    assert.equal(refusal(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1, spec: { kind: 'force-reduce', keepPeerIds: [peerOn(sh, nodes[1]!)] } })), 'INVALID_ARGUMENT', 'cannot keep a dead peer');
    const id = (run(s, addIt()) as { operatorId: OperatorId }).operatorId;
    reportMembers(s, sh, sh.replicas.filter((r) => keep.includes(r.peerId)), 5_000, keep[0]!);
    assert.equal(s.operators.size, 0);
    assert.equal(s.operatorHistory.at(-1)?.id, id);
    assert.equal(s.operatorHistory.at(-1)?.state, 'succeeded');
    assert.equal(s.garbage.filter((g) => g.shardId === sh.id).length, 2);
  });
});

describe('force reduce supersedes', () => {
  it('a running move on a shard without quorum is cancelled by a force-reduce; its learner becomes garbage', () => {
    const { s, nodes, sh } = setup();
    const keep = [peerOn(sh, nodes[0]!)];
    // The scheduler started a recovery move while node 2 was only suspect; its learner was created.
    const move = run(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'recovery', reason: 'replace dead', timeoutMs: 60_000, spec: { kind: 'move-replica', fromPeerId: peerOn(sh, nodes[1]!), toNodeId: nodes[3]! } }), 1_000);
    const moveId = (move as { operatorId: OperatorId }).operatorId;
    const learner = s.operators.get(moveId)!.steps[0]!;
    assert.ok(learner.kind === 'add-learner');
    run(s, cmd.setNodeState(nodes[1]!, 'up', 'down'));
    const forceIt = (k: readonly PeerId[]) => cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: 'last resort', timeoutMs: 1_000, spec: { kind: 'force-reduce', keepPeerIds: k } });
    assert.equal(refusal(s, forceIt(keep)), 'CONDITION_FAILED', 'quorum still alive: the move is not superseded');
    assert.equal(operatorOfShard(s, sh.id)?.id, moveId);
    run(s, cmd.setNodeState(nodes[2]!, 'up', 'down'));
    assert.equal(refusal(s, forceIt([peerOn(sh, nodes[1]!)])), 'INVALID_ARGUMENT', 'an invalid force-reduce cancels nothing');
    assert.equal(operatorOfShard(s, sh.id)?.id, moveId);
    const id = (run(s, forceIt(keep), 3_000) as { operatorId: OperatorId }).operatorId;
    assert.equal(operatorOfShard(s, sh.id)?.id, id);
    const ended = s.operatorHistory.find((o) => o.id === moveId);
    assert.equal(ended?.state, 'cancelled');
    assert.match(ended?.message ?? '', /superseded by a force-reduce/);
    assert.ok(s.garbage.some((g) => g.shardId === sh.id && g.peerId === learner.peerId && g.nodeId === learner.nodeId), 'the move\'s learner is garbage');
    assert.deepEqual(checkInvariants(s), []);
  });

  it('a running force-reduce is not superseded by another', () => {
    const { s, nodes, sh } = setup();
    run(s, cmd.setNodeState(nodes[1]!, 'up', 'down'));
    run(s, cmd.setNodeState(nodes[2]!, 'up', 'down'));
    const first = add(s, sh, { kind: 'force-reduce', keepPeerIds: [peerOn(sh, nodes[0]!)] });
    assert.equal(refusal(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1_000, spec: { kind: 'force-reduce', keepPeerIds: [peerOn(sh, nodes[0]!)] } })), 'CONDITION_FAILED');
    assert.equal(operatorOfShard(s, sh.id)?.id, first);
  });
});

describe('ids', () => {
  it('operator and peer ids are never reused', () => {
    const { s, nodes, sh } = setup();
    const a = add(s, sh, { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
    run(s, cmd.finishOperator(a, 'cancelled', ''));
    const b = add(s, sh, { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: nodes[3]! });
    assert.equal(b, a + 2);
    const pa = (s.operatorHistory[0]!.steps[0] as { peerId: number }).peerId;
    const pb = (s.operators.get(b)!.steps[0] as { peerId: number }).peerId;
    assert.notEqual(pa, pb);
  });
});
