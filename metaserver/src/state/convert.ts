/**
 * Conversions between the state's records and the generated protobuf shapes. Enum
 * mappings are total in both directions; an unknown number from the wire (open enums)
 * becomes `undefined` so the caller refuses the command instead of guessing.
 */
import { tableEnd, tableStart } from '@shoal/common';
import type { NodeId, PartitionScheme, PeerId, ShardId, TableId } from '@shoal/common';
import { common, meta, metacmd } from '@shoal/proto';
import type {
  Epoch, NodeState, OperatorCause, OperatorKind, OperatorState, ReadPolicy, ReplicaRecord, ReplicaRole, ShardRecord,
  TableState,
} from './types.js';

function invert<K extends string, V extends number>(m: Readonly<Record<K, V>>): ReadonlyMap<number, K> {
  return new Map(Object.entries(m).map(([k, v]) => [v as number, k as K]));
}

const NODE_STATE: Readonly<Record<NodeState, meta.NodeState>> = {
  up: meta.NodeState.UP,
  suspect: meta.NodeState.SUSPECT,
  down: meta.NodeState.DOWN,
  decommissioning: meta.NodeState.DECOMMISSIONING,
  removed: meta.NodeState.DECOMMISSIONED,
};
const NODE_STATE_BACK = invert(NODE_STATE);
export const nodeStateToProto = (s: NodeState): meta.NodeState => NODE_STATE[s];
export const nodeStateFromProto = (n: number): NodeState | undefined => NODE_STATE_BACK.get(n);

const TABLE_STATE: Readonly<Record<TableState, meta.TableState>> = {
  creating: meta.TableState.CREATING,
  active: meta.TableState.ACTIVE,
  dropping: meta.TableState.DROPPING,
};
const TABLE_STATE_BACK = invert(TABLE_STATE);
export const tableStateToProto = (s: TableState): meta.TableState => TABLE_STATE[s];
export const tableStateFromProto = (n: number): TableState | undefined => TABLE_STATE_BACK.get(n);

const READ_POLICY: Readonly<Record<ReadPolicy, common.ReadConsistency>> = {
  linearizable: common.ReadConsistency.LINEARIZABLE,
  follower: common.ReadConsistency.FOLLOWER,
  stale: common.ReadConsistency.STALE,
};
const READ_POLICY_BACK = invert(READ_POLICY);
export const readPolicyToProto = (p: ReadPolicy): common.ReadConsistency => READ_POLICY[p];
export const readPolicyFromProto = (n: number): ReadPolicy | undefined => READ_POLICY_BACK.get(n);

const PARTITION: Readonly<Record<PartitionScheme, meta.PartitionKind>> = {
  range: meta.PartitionKind.RANGE,
  hash: meta.PartitionKind.HASH,
};
const PARTITION_BACK = invert(PARTITION);
export const partitionToProto = (p: PartitionScheme): meta.PartitionKind => PARTITION[p];
export const partitionFromProto = (n: number): PartitionScheme | undefined => PARTITION_BACK.get(n);
/** common.Partition has the same numbers as meta.PartitionKind (see common.proto). */
export const descriptorPartition = (p: PartitionScheme): common.Partition => PARTITION[p] as number as common.Partition;

const OPERATOR_STATE: Readonly<Record<OperatorState, meta.OperatorState>> = {
  running: meta.OperatorState.RUNNING,
  succeeded: meta.OperatorState.SUCCEEDED,
  failed: meta.OperatorState.FAILED,
  'timed-out': meta.OperatorState.TIMED_OUT,
  cancelled: meta.OperatorState.CANCELLED,
};
const OPERATOR_STATE_BACK = invert(OPERATOR_STATE);
export const operatorStateToProto = (s: OperatorState): meta.OperatorState => OPERATOR_STATE[s];
export const operatorStateFromProto = (n: number): OperatorState | undefined => OPERATOR_STATE_BACK.get(n);

const OPERATOR_CAUSE: Readonly<Record<OperatorCause, metacmd.OperatorCause>> = {
  recovery: metacmd.OperatorCause.RECOVERY,
  drain: metacmd.OperatorCause.DRAIN,
  repair: metacmd.OperatorCause.REPAIR,
  'balance-replica': metacmd.OperatorCause.BALANCE_REPLICA,
  'balance-leader': metacmd.OperatorCause.BALANCE_LEADER,
  split: metacmd.OperatorCause.SPLIT,
  admin: metacmd.OperatorCause.ADMIN,
};
const OPERATOR_CAUSE_BACK = invert(OPERATOR_CAUSE);
export const operatorCauseToProto = (c: OperatorCause): metacmd.OperatorCause => OPERATOR_CAUSE[c];
export const operatorCauseFromProto = (n: number): OperatorCause | undefined => OPERATOR_CAUSE_BACK.get(n);

const OPERATOR_KIND: Readonly<Record<OperatorKind, metacmd.OperatorKind>> = {
  'move-replica': metacmd.OperatorKind.MOVE_REPLICA,
  'remove-replica': metacmd.OperatorKind.REMOVE_REPLICA,
  'transfer-leader': metacmd.OperatorKind.TRANSFER_LEADER,
  split: metacmd.OperatorKind.SPLIT,
  'force-reduce': metacmd.OperatorKind.FORCE_REDUCE,
};
const OPERATOR_KIND_BACK = invert(OPERATOR_KIND);
export const operatorKindToProto = (k: OperatorKind): metacmd.OperatorKind => OPERATOR_KIND[k];
export const operatorKindFromProto = (n: number): OperatorKind | undefined => OPERATOR_KIND_BACK.get(n);

const ROLE: Readonly<Record<ReplicaRole, common.ReplicaRole>> = {
  voter: common.ReplicaRole.VOTER,
  learner: common.ReplicaRole.LEARNER,
};
const ROLE_BACK = invert(ROLE);
export const roleToProto = (r: ReplicaRole): common.ReplicaRole => ROLE[r];
export const roleFromProto = (n: number): ReplicaRole | undefined => ROLE_BACK.get(n);

export function epochFromProto(e: common.Epoch | undefined): Epoch {
  return { confVer: e?.confVer ?? 0, version: e?.version ?? 0 };
}

export function epochToProto(e: Epoch): common.Epoch {
  return common.Epoch.create({ confVer: e.confVer, version: e.version });
}

export function replicaToProto(r: ReplicaRecord): common.Replica {
  return common.Replica.create({ nodeId: r.nodeId, peerId: r.peerId, role: roleToProto(r.role) });
}

/** Replicas from the wire, sorted by peer id; undefined if a role is unknown. */
export function replicasFromProto(rs: readonly common.Replica[]): ReplicaRecord[] | undefined {
  const out: ReplicaRecord[] = [];
  for (const r of rs) {
    const role = roleFromProto(r.role);
    if (role === undefined) return undefined;
    out.push({ nodeId: r.nodeId as NodeId, peerId: r.peerId as PeerId, role });
  }
  return out.sort((a, b) => a.peerId - b.peerId);
}

export function shardToDescriptor(s: ShardRecord, partition?: PartitionScheme): common.ShardDescriptor {
  return common.ShardDescriptor.create({
    id: s.id,
    tableId: s.tableId,
    startKey: s.startKey,
    endKey: s.endKey,
    epoch: epochToProto(s.epoch),
    replicas: s.replicas.map(replicaToProto),
    leaderPeerId: s.leaderPeerId,
    partition: partition === undefined ? undefined : descriptorPartition(partition),
  });
}

/** The parts of a reported descriptor the state keeps; empty bounds become the table's. */
export interface ReportedShard {
  readonly id: ShardId;
  readonly tableId: TableId;
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
  readonly epoch: Epoch;
  readonly replicas: readonly ReplicaRecord[];
  readonly leaderPeerId: PeerId;
}

/** Undefined if the descriptor cannot be a shard of a user table. */
export function reportedShardFromProto(d: common.ShardDescriptor): ReportedShard | undefined {
  const replicas = replicasFromProto(d.replicas);
  if (replicas === undefined || d.tableId < 1 || d.tableId > 0xfffffffe || d.id < 1) return undefined;
  const table = d.tableId as TableId;
  return {
    id: d.id as ShardId,
    tableId: table,
    // Copies: decoded bytes are views into the Raft entry's buffer.
    startKey: d.startKey.length === 0 ? tableStart(table) : d.startKey.slice(),
    endKey: d.endKey.length === 0 ? tableEnd(table) : d.endKey.slice(),
    epoch: epochFromProto(d.epoch),
    replicas,
    leaderPeerId: d.leaderPeerId as PeerId,
  };
}
