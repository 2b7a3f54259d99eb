/**
 * Builders for the payload of a `metacmd.MetaCommand` (its `kind`), so proposers write
 * `cmd.setNodeState(7, 'up', 'suspect')` instead of protobuf literals. Encode one with
 * `encodeCommand(kind, stampMs)` (apply.ts) and propose the bytes.
 */
import type { NodeId, PeerId, ShardId, TableId } from '@shoal/common';
import { meta, metacmd } from '@shoal/proto';
import { epochToProto, nodeStateToProto, operatorCauseToProto, operatorStateToProto } from './convert.js';
import type { Epoch, NodeState, OperatorCause, OperatorId, OperatorSpec, OperatorState } from './types.js';

export type CommandKind = NonNullable<metacmd.MetaCommand['kind']>;

export function bootstrap(clusterId: number): CommandKind {
  return { $case: 'bootstrap', bootstrap: { clusterId } };
}

export function createPool(name: string, description = ''): CommandKind {
  return { $case: 'createPool', createPool: { name, description } };
}

export function createZone(pool: string, name: string): CommandKind {
  return { $case: 'createZone', createZone: { name, pool } };
}

export function registerNode(fields: Partial<metacmd.RegisterNode>): CommandKind {
  return { $case: 'registerNode', registerNode: metacmd.RegisterNode.create(fields) };
}

export function setNodeState(nodeId: NodeId, from: NodeState, to: NodeState): CommandKind {
  return {
    $case: 'setNodeState',
    setNodeState: { nodeId, fromState: nodeStateToProto(from), toState: nodeStateToProto(to) },
  };
}

export function decommissionNode(nodeId: NodeId, cancel = false): CommandKind {
  return { $case: 'decommissionNode', decommissionNode: { nodeId, cancel } };
}

export function createTable(fields: Partial<metacmd.CreateTable>): CommandKind {
  return { $case: 'createTable', createTable: metacmd.CreateTable.create(fields) };
}

export function dropTable(name: string, ifExists = false): CommandKind {
  return { $case: 'dropTable', dropTable: { name, ifExists } };
}

export function removeTable(tableId: TableId): CommandKind {
  return { $case: 'removeTable', removeTable: { tableId } };
}

export function reportShard(shard: metacmd.ReportShard['shard']): CommandKind {
  return { $case: 'reportShard', reportShard: { shard } };
}

function specToProto(spec: OperatorSpec): metacmd.AddOperator['spec'] {
  switch (spec.kind) {
    case 'move-replica':
      return { $case: 'moveReplica', moveReplica: { fromPeerId: spec.fromPeerId, toNodeId: spec.toNodeId } };
    case 'remove-replica': return { $case: 'removeReplica', removeReplica: { peerId: spec.peerId } };
    case 'transfer-leader': return { $case: 'transferLeader', transferLeader: { toPeerId: spec.toPeerId } };
    case 'split': return { $case: 'split', split: { splitKey: spec.splitKey } };
    case 'force-reduce': return { $case: 'forceReduce', forceReduce: { keepPeerIds: spec.keepPeerIds } };
  }
}

export interface AddOperatorArgs {
  readonly shardId: ShardId;
  readonly epoch: Epoch;
  readonly cause: OperatorCause;
  readonly reason: string;
  readonly timeoutMs: number;
  readonly spec: OperatorSpec;
}

export function addOperator(a: AddOperatorArgs): CommandKind {
  return {
    $case: 'addOperator',
    addOperator: metacmd.AddOperator.create({
      shardId: a.shardId, epoch: epochToProto(a.epoch), cause: operatorCauseToProto(a.cause), reason: a.reason,
      timeoutMs: a.timeoutMs, spec: specToProto(a.spec),
    }),
  };
}

export function finishOperator(operatorId: OperatorId, state: Exclude<OperatorState, 'running' | 'succeeded'>, message: string): CommandKind {
  return { $case: 'finishOperator', finishOperator: { operatorId, state: operatorStateToProto(state), message } };
}

export function allocateIds(kind: meta.IdKind, count: number): CommandKind {
  return { $case: 'allocateIds', allocateIds: { kind, count } };
}

export function ackDestroyedReplicas(nodeId: NodeId, replicas: readonly { shardId: ShardId; peerId: PeerId }[]): CommandKind {
  return {
    $case: 'ackDestroyedReplicas',
    ackDestroyedReplicas: { nodeId, replicas: replicas.map((r) => ({ shardId: r.shardId, peerId: r.peerId })) },
  };
}

