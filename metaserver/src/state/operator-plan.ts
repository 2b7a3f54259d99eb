/**
 * Operators as step lists (PD-style). An operator spec expands into steps when it is
 * added; a step is done when the shard's reported descriptor shows its effect, so the
 * state machine advances operators from shard reports alone:
 *
 *   move-replica     add-learner(to) → promote-learner → [transfer-leader away] → remove-replica(from)
 *   remove-replica   [transfer-leader away] → remove-replica
 *   transfer-leader  transfer-leader
 *   split            split                   (done when epoch.version passes the planned one)
 *   force-reduce     force-reduce            (executed by the metaserver through NodeAdmin)
 *
 * "Transfer leader away" is done as soon as the peer being removed does not lead, so it
 * costs nothing when it never led. Step ids are consecutive from the operator id.
 *
 * Steps go out as the wire's `meta.Operator` (to shard leaders, in heartbeat replies) and
 * `admin.OperatorInfo` (the Admin API's listing).
 */
import type { NodeId, PeerId, ShardId } from '@shoal/common';
import { replicaOfPeer, voters } from './topology-state.js';
import { admin, common, meta } from '@shoal/proto';
import { epochToProto, operatorStateToProto } from './convert.js';
import type { Epoch, OperatorId, OperatorRecord, OperatorSpec, OperatorStep, ShardRecord } from './types.js';

/** Ids an operator needs, allocated by apply before expanding. */
export interface PlanIds {
  readonly firstStepId: number;
  /** The new replica's peer id (move-replica). */
  readonly peerId: number;
  /** The right half's shard id and peer ids (split). */
  readonly newShardId: number;
  readonly newPeerIds: readonly number[];
}

/** How many ids of each kind the spec takes on this shard. */
export function idsNeeded(spec: OperatorSpec, shard: ShardRecord): { steps: number; peers: number; shards: number } {
  switch (spec.kind) {
    case 'move-replica': return { steps: spec.fromPeerId === 0 ? 2 : 4, peers: 1, shards: 0 };
    case 'remove-replica': return { steps: 2, peers: 0, shards: 0 };
    case 'transfer-leader': return { steps: 1, peers: 0, shards: 0 };
    case 'split': return { steps: 1, peers: shard.replicas.length, shards: 1 };
    case 'force-reduce': return { steps: 1, peers: 0, shards: 0 };
  }
}

/**
 * The steps of a validated spec. `successor` is the voter to lead after `fromPeerId`
 * / the removed peer is gone (chosen by the caller from the replicated node states).
 */
export function expandSpec(spec: OperatorSpec, shard: ShardRecord, ids: PlanIds, successor: PeerId): OperatorStep[] {
  let next = ids.firstStepId;
  const id = (): OperatorId => (next++) as OperatorId;
  switch (spec.kind) {
    case 'move-replica': {
      const peerId = ids.peerId as PeerId;
      const steps: OperatorStep[] = [
        { id: id(), kind: 'add-learner', nodeId: spec.toNodeId, peerId },
        { id: id(), kind: 'promote-learner', peerId },
      ];
      if (spec.fromPeerId === 0) return steps;
      // The new replica is the natural successor: it is caught up and already placed well.
      steps.push({ id: id(), kind: 'transfer-leader', toPeerId: peerId, onlyIfLeaderIs: spec.fromPeerId });
      steps.push({ id: id(), kind: 'remove-replica', peerId: spec.fromPeerId });
      return steps;
    }
    case 'remove-replica':
      return [
        { id: id(), kind: 'transfer-leader', toPeerId: successor, onlyIfLeaderIs: spec.peerId },
        { id: id(), kind: 'remove-replica', peerId: spec.peerId },
      ];
    case 'transfer-leader':
      return [{ id: id(), kind: 'transfer-leader', toPeerId: spec.toPeerId, onlyIfLeaderIs: 0 as PeerId }];
    case 'split':
      return [{
        id: id(), kind: 'split', splitKey: spec.splitKey, newShardId: ids.newShardId as ShardId,
        newPeerIds: ids.newPeerIds as PeerId[], fromEpoch: shard.epoch,
      }];
    case 'force-reduce':
      return [{ id: id(), kind: 'force-reduce', keepPeerIds: [...spec.keepPeerIds].sort((a, b) => a - b) }];
  }
}

/** True when the descriptor shows the step's effect. */
export function stepDone(step: OperatorStep, shard: ShardRecord): boolean {
  switch (step.kind) {
    case 'add-learner': return replicaOfPeer(shard, step.peerId) !== undefined;
    case 'promote-learner': return replicaOfPeer(shard, step.peerId)?.role === 'voter';
    case 'transfer-leader':
      if (step.onlyIfLeaderIs === 0) return shard.leaderPeerId === step.toPeerId;
      return shard.leaderPeerId !== 0 && shard.leaderPeerId !== step.onlyIfLeaderIs;
    case 'remove-replica': return replicaOfPeer(shard, step.peerId) === undefined;
    case 'split': return shard.epoch.version > step.fromEpoch.version;
    case 'force-reduce': return sameMembers(shard, step.keepPeerIds);
  }
}

function sameMembers(shard: ShardRecord, peers: readonly PeerId[]): boolean {
  return shard.replicas.length === peers.length && peers.every((p) => replicaOfPeer(shard, p)?.role === 'voter');
}

/** Why the current step can no longer happen on this descriptor, or null. */
export function stepBlocked(step: OperatorStep, shard: ShardRecord): string | null {
  switch (step.kind) {
    case 'add-learner': {
      const other = shard.replicas.find((r) => r.nodeId === step.nodeId && r.peerId !== step.peerId);
      return other === undefined ? null : `node ${step.nodeId} already hosts peer ${other.peerId}`;
    }
    case 'promote-learner':
      return replicaOfPeer(shard, step.peerId) === undefined ? `learner ${step.peerId} is gone` : null;
    case 'transfer-leader': {
      if (step.onlyIfLeaderIs !== 0) return null;
      return replicaOfPeer(shard, step.toPeerId)?.role === 'voter' ? null : `peer ${step.toPeerId} is not a voter`;
    }
    case 'remove-replica': return null;
    case 'split':
      return shard.epoch.confVer === step.fromEpoch.confVer ? null : 'membership changed before the split';
    case 'force-reduce':
      return step.keepPeerIds.every((p) => replicaOfPeer(shard, p) !== undefined) ? null : 'a kept peer is gone';
  }
}

/** The first voter other than `peer`, preferring ones the predicate accepts (e.g. up nodes). */
export function successorOf(shard: ShardRecord, peer: PeerId, preferred: (node: NodeId) => boolean): PeerId {
  const others = voters(shard).filter((r) => r.peerId !== peer);
  return (others.find((r) => preferred(r.nodeId)) ?? others[0])?.peerId ?? (0 as PeerId);
}

// ---------------------------------------------------------------- wire forms

/** The leader-executed part of a step; undefined for steps the metaserver runs itself. */
export function stepKindToWire(step: OperatorStep): meta.Operator['kind'] {
  switch (step.kind) {
    case 'add-learner': {
      const replica = common.Replica.create({ nodeId: step.nodeId, peerId: step.peerId, role: common.ReplicaRole.LEARNER });
      return { $case: 'addLearner', addLearner: meta.AddLearnerOp.create({ replica }) };
    }
    case 'promote-learner': return { $case: 'promoteLearner', promoteLearner: meta.PromoteLearnerOp.create({ peerId: step.peerId }) };
    case 'transfer-leader': return { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: step.toPeerId }) };
    case 'remove-replica': return { $case: 'removeReplica', removeReplica: meta.RemoveReplicaOp.create({ peerId: step.peerId }) };
    case 'split':
      return {
        $case: 'split',
        split: meta.SplitOp.create({ splitKey: step.splitKey, newShardId: step.newShardId, newPeerIds: step.newPeerIds }),
      };
    case 'force-reduce': return undefined;
  }
}

/** The step as a wire operator for the shard at `epoch`, with `timeoutMs` left to run. */
export function stepToWire(op: OperatorRecord, step: OperatorStep, epoch: Epoch, timeoutMs: number): meta.Operator {
  return meta.Operator.create({
    id: step.id, shardId: op.shardId, epoch: epochToProto(epoch), timeoutMs: Math.max(1, Math.min(timeoutMs, 0xffffffff)),
    reason: `${op.kind} (${op.cause}) step ${op.steps.indexOf(step) + 1}/${op.steps.length}: ${step.kind}${op.reason ? ` — ${op.reason}` : ''}`,
    kind: stepKindToWire(step),
  });
}

/** An operator for the Admin API: its current (or last) step, its status and times. */
export function operatorInfo(op: OperatorRecord, epoch: Epoch): admin.OperatorInfo {
  const step = op.steps[Math.min(op.stepIndex, op.steps.length - 1)]!;
  const operator = meta.Operator.create({ ...stepToWire(op, step, epoch, op.timeoutMs), id: op.id });
  const status = meta.OperatorStatus.create({ operatorId: op.id, state: operatorStateToProto(op.state), message: op.message });
  return admin.OperatorInfo.create({ operator, status, createdUnixMs: op.createdMs, finishedUnixMs: op.finishedMs });
}
