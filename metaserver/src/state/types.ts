/**
 * The metaserver's replicated topology as plain TypeScript records (DESIGN.md "Topology
 * model"). The wire shapes live in proto/ (meta.proto, metacmd.proto); snapshot.ts and
 * queries.ts convert at the edge, so the state machine works on branded ids and string
 * unions the compiler can check exhaustively.
 *
 * Invariants kept by apply.ts (and asserted by checkInvariants in invariants.ts):
 * - records are immutable values: a change replaces the record in its map;
 * - a shard's replicas are on distinct nodes, sorted by peer id;
 * - the shards of a table are disjoint and lie inside the table's storage-key range;
 * - a shard has at most one running operator (`operatorByShard`);
 * - every id is below its `nextIds` counter; ids are never handed out twice.
 */
import type { NodeId, PeerId, ShardId, TableId, PartitionScheme } from '@shoal/common';

export type OperatorId = number & { readonly __brand: 'OperatorId' };

/** Liveness and lifecycle of a storage node. `removed` is meta.NodeState DECOMMISSIONED. */
export type NodeState = 'up' | 'suspect' | 'down' | 'decommissioning' | 'removed';

export type TableState = 'creating' | 'active' | 'dropping';
export type ReadPolicy = 'linearizable' | 'follower' | 'stale';
export type ReplicaRole = 'voter' | 'learner';

export interface Label {
  readonly key: string;
  readonly value: string;
}

export interface PoolRecord {
  readonly name: string;
  readonly description: string;
  /** Sorted, unique. Zone names are scoped to their pool. */
  readonly zones: readonly string[];
  readonly createdMs: number;
}

export interface NodeRecord {
  readonly id: NodeId;
  readonly address: string;
  readonly httpAddress: string;
  readonly pool: string;
  readonly zone: string;
  readonly capacityBytes: number;
  readonly version: string;
  /** Sorted by key. */
  readonly labels: readonly Label[];
  readonly state: NodeState;
  readonly registeredMs: number;
  readonly stateChangedMs: number;
}

export interface TableRecord {
  readonly id: TableId;
  readonly name: string;
  readonly pool: string;
  readonly partition: PartitionScheme;
  /** The shard count the table was created with (splits add shards later). */
  readonly initialShardCount: number;
  readonly replicaCount: number;
  readonly valueSeparationThresholdBytes: number;
  readonly defaultTtlMs: number;
  readonly readPolicy: ReadPolicy;
  readonly maxStalenessMs: number;
  /** 0 = the scheduler's default threshold. */
  readonly splitSizeBytes: number;
  readonly splitKeyCount: number;
  readonly state: TableState;
  readonly createdMs: number;
}

export interface Epoch {
  /** Bumped by every membership change. */
  readonly confVer: number;
  /** Bumped by every split (range change). */
  readonly version: number;
}

export interface ReplicaRecord {
  readonly nodeId: NodeId;
  readonly peerId: PeerId;
  readonly role: ReplicaRole;
}

export interface ShardRecord {
  readonly id: ShardId;
  readonly tableId: TableId;
  /** Inclusive, in storage-key space; never empty (the table's start is explicit). */
  readonly startKey: Uint8Array;
  /** Exclusive, in storage-key space; never empty. */
  readonly endKey: Uint8Array;
  readonly epoch: Epoch;
  /** Sorted by peer id; distinct nodes. */
  readonly replicas: readonly ReplicaRecord[];
  /** 0 = unknown. */
  readonly leaderPeerId: PeerId;
  /** The route version of this shard's last routing change. */
  readonly routeVersion: number;
}

export type OperatorKind = 'move-replica' | 'remove-replica' | 'transfer-leader' | 'split' | 'force-reduce';
export type OperatorCause =
  | 'recovery' | 'drain' | 'repair' | 'balance-replica' | 'balance-leader' | 'split' | 'admin';
export type OperatorState = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

/** What an operator is asked to do; apply.ts expands it into steps. */
export type OperatorSpec =
  | { readonly kind: 'move-replica'; readonly fromPeerId: PeerId; readonly toNodeId: NodeId }
  | { readonly kind: 'remove-replica'; readonly peerId: PeerId }
  | { readonly kind: 'transfer-leader'; readonly toPeerId: PeerId }
  | { readonly kind: 'split'; readonly splitKey: Uint8Array }
  | { readonly kind: 'force-reduce'; readonly keepPeerIds: readonly PeerId[] };

/**
 * One step of an operator. Every step has its own id (the wire Operator id), so a shard
 * leader's "same id = same work" idempotency rule never confuses two steps.
 */
export type OperatorStep =
  | { readonly id: OperatorId; readonly kind: 'add-learner'; readonly nodeId: NodeId; readonly peerId: PeerId }
  | { readonly id: OperatorId; readonly kind: 'promote-learner'; readonly peerId: PeerId }
  | {
    readonly id: OperatorId; readonly kind: 'transfer-leader'; readonly toPeerId: PeerId;
    /** 0: done when `toPeerId` leads; otherwise done as soon as this peer stops leading. */
    readonly onlyIfLeaderIs: PeerId;
  }
  | { readonly id: OperatorId; readonly kind: 'remove-replica'; readonly peerId: PeerId }
  | {
    readonly id: OperatorId; readonly kind: 'split'; readonly splitKey: Uint8Array; readonly newShardId: ShardId;
    /** Parallel to the shard's replicas (sorted by peer id) at planning. */
    readonly newPeerIds: readonly PeerId[];
    readonly fromEpoch: Epoch;
  }
  | { readonly id: OperatorId; readonly kind: 'force-reduce'; readonly keepPeerIds: readonly PeerId[] };

export interface OperatorRecord {
  /** The id of its first step; steps have ids `id, id + 1, …`. */
  readonly id: OperatorId;
  readonly shardId: ShardId;
  readonly tableId: TableId;
  readonly kind: OperatorKind;
  readonly cause: OperatorCause;
  readonly reason: string;
  readonly steps: readonly OperatorStep[];
  /** Index of the current step; equals steps.length once succeeded. */
  readonly stepIndex: number;
  readonly state: OperatorState;
  readonly createdMs: number;
  readonly stepStartedMs: number;
  /** 0 while running. */
  readonly finishedMs: number;
  /** The whole operator times out this long after `createdMs`. */
  readonly timeoutMs: number;
  /** Why it failed or was cancelled; empty otherwise. */
  readonly message: string;
}

/** A shard removed from the routes, kept so route watchers learn about the removal. */
export interface RemovedShard {
  readonly shardId: ShardId;
  readonly tableId: TableId;
  readonly routeVersion: number;
}

/** A replica no longer in any descriptor whose node still has to destroy it. */
export interface GarbageReplica {
  readonly nodeId: NodeId;
  readonly shardId: ShardId;
  readonly peerId: PeerId;
}

export interface NextIds {
  node: number;
  shard: number;
  peer: number;
  table: number;
  operator: number;
}

/**
 * The whole replicated state. Maps are mutated in place by apply; code that must be
 * deterministic never depends on their insertion order (a restored state inserts in key
 * order, a live one in arrival order) — it sorts, see topology-state.ts.
 */
export interface TopologyState {
  clusterId: number;
  routeVersion: number;
  /** Route changes at or below this version are gone from `removedShards`. */
  routeHistoryFloor: number;
  readonly nextIds: NextIds;
  readonly pools: Map<string, PoolRecord>;
  readonly nodes: Map<NodeId, NodeRecord>;
  readonly tables: Map<TableId, TableRecord>;
  /** Derived: name → id of every table, dropping ones included. */
  readonly tableIdsByName: Map<string, TableId>;
  readonly shards: Map<ShardId, ShardRecord>;
  /** Running operators. */
  readonly operators: Map<OperatorId, OperatorRecord>;
  /** Derived: the running operator of a shard. */
  readonly operatorByShard: Map<ShardId, OperatorId>;
  /** Finished operators, oldest first, at most OPERATOR_HISTORY_MAX. */
  readonly operatorHistory: OperatorRecord[];
  /** Oldest first, at most REMOVED_SHARDS_MAX. */
  readonly removedShards: RemovedShard[];
  /** Sorted by (node, shard, peer), at most GARBAGE_MAX. */
  readonly garbage: GarbageReplica[];
}

/**
 * Limits of the replicated state. They are constants, not configuration: every member
 * must apply the same log to the same state, so nothing apply reads may differ between
 * members.
 */
export const OPERATOR_HISTORY_MAX = 1024;
export const REMOVED_SHARDS_MAX = 4096;
export const GARBAGE_MAX = 65536;
export const REPLICA_COUNT_MAX = 7;
export const ID_ALLOCATION_MAX = 65536;
/** The first epoch of a shard created with its table. */
export const INITIAL_EPOCH: Epoch = Object.freeze({ confVer: 1, version: 1 });
export const SNAPSHOT_FORMAT_VERSION = 1;
