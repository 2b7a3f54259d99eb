/** Operator records ⇄ their snapshot messages (snapshot.ts holds the rest of the state). */
import { assert, AssertionError } from '@shoal/common';
import type { NodeId, PeerId, ShardId, TableId } from '@shoal/common';
import { common, meta, metacmd } from '@shoal/proto';
import {
  epochFromProto, epochToProto, operatorCauseFromProto, operatorCauseToProto, operatorKindFromProto,
  operatorKindToProto, operatorStateFromProto, operatorStateToProto,
} from './convert.js';
import type { OperatorId, OperatorRecord, OperatorStep } from './types.js';

export function operatorToProto(op: OperatorRecord): metacmd.OperatorRecord {
  return metacmd.OperatorRecord.create({
    id: op.id, shardId: op.shardId, tableId: op.tableId, kind: operatorKindToProto(op.kind),
    cause: operatorCauseToProto(op.cause), reason: op.reason, steps: op.steps.map(stepToProto),
    stepIndex: op.stepIndex, state: operatorStateToProto(op.state), createdUnixMs: op.createdMs,
    stepStartedUnixMs: op.stepStartedMs, finishedUnixMs: op.finishedMs, timeoutMs: op.timeoutMs, message: op.message,
  });
}

export function operatorFromProto(o: metacmd.OperatorRecord): OperatorRecord {
  const kind = operatorKindFromProto(o.kind);
  const cause = operatorCauseFromProto(o.cause);
  const state = operatorStateFromProto(o.state);
  assert(kind !== undefined && cause !== undefined && state !== undefined, 'snapshot: unknown operator enum');
  return {
    id: o.id as OperatorId, shardId: o.shardId as ShardId, tableId: o.tableId as TableId, kind, cause, reason: o.reason,
    steps: o.steps.map(stepFromProto), stepIndex: o.stepIndex, state, createdMs: o.createdUnixMs,
    stepStartedMs: o.stepStartedUnixMs, finishedMs: o.finishedUnixMs, timeoutMs: o.timeoutMs, message: o.message,
  };
}

function stepToProto(step: OperatorStep): metacmd.OperatorStep {
  const id = step.id;
  switch (step.kind) {
    case 'add-learner': {
      const replica = common.Replica.create({ nodeId: step.nodeId, peerId: step.peerId, role: common.ReplicaRole.LEARNER });
      return metacmd.OperatorStep.create({ id, kind: { $case: 'addLearner', addLearner: meta.AddLearnerOp.create({ replica }) } });
    }
    case 'promote-learner':
      return metacmd.OperatorStep.create({ id, kind: { $case: 'promoteLearner', promoteLearner: { peerId: step.peerId } } });
    case 'remove-replica':
      return metacmd.OperatorStep.create({ id, kind: { $case: 'removeReplica', removeReplica: { peerId: step.peerId } } });
    case 'transfer-leader': {
      const transferLeader = metacmd.TransferLeaderStep.create({ toPeerId: step.toPeerId, onlyIfLeaderIs: step.onlyIfLeaderIs });
      return metacmd.OperatorStep.create({ id, kind: { $case: 'transferLeader', transferLeader } });
    }
    case 'split': {
      const split = metacmd.SplitStep.create({
        splitKey: step.splitKey, newShardId: step.newShardId, newPeerIds: step.newPeerIds, fromEpoch: epochToProto(step.fromEpoch),
      });
      return metacmd.OperatorStep.create({ id, kind: { $case: 'split', split } });
    }
    case 'force-reduce':
      return metacmd.OperatorStep.create({ id, kind: { $case: 'forceReduce', forceReduce: { keepPeerIds: step.keepPeerIds } } });
  }
}

function stepFromProto(s: metacmd.OperatorStep): OperatorStep {
  const id = s.id as OperatorId;
  const k = s.kind;
  switch (k?.$case) {
    case 'addLearner': {
      const r = k.addLearner.replica;
      assert(r !== undefined, 'snapshot: add-learner step without a replica');
      return { id, kind: 'add-learner', nodeId: r.nodeId as NodeId, peerId: r.peerId as PeerId };
    }
    case 'promoteLearner': return { id, kind: 'promote-learner', peerId: k.promoteLearner.peerId as PeerId };
    case 'removeReplica': return { id, kind: 'remove-replica', peerId: k.removeReplica.peerId as PeerId };
    case 'transferLeader':
      return {
        id, kind: 'transfer-leader', toPeerId: k.transferLeader.toPeerId as PeerId,
        onlyIfLeaderIs: k.transferLeader.onlyIfLeaderIs as PeerId,
      };
    case 'split':
      return {
        id, kind: 'split', splitKey: k.split.splitKey.slice(), newShardId: k.split.newShardId as ShardId,
        newPeerIds: k.split.newPeerIds as PeerId[], fromEpoch: epochFromProto(k.split.fromEpoch),
      };
    case 'forceReduce': return { id, kind: 'force-reduce', keepPeerIds: k.forceReduce.keepPeerIds as PeerId[] };
    case undefined: throw new AssertionError('snapshot: operator step without a kind');
  }
}
