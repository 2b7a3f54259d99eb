/**
 * Admin API requests turned into commands (the leader proposes them; apply has the final
 * word on validity). Planning here does what apply cannot: resolve defaults from the
 * config, choose placements from load, and fail early with a precise error.
 */
import { err, KvError, ok } from '@shoal/common';
import type { NodeId, PeerId, Result, ShardId } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { admin } from '@shoal/proto';
import { commands as cmd, operatorOfShard, replicaOfPeer, tableByName } from '../state/index.js';
import type { CommandKind, OperatorId, OperatorSpec, ShardRecord, TopologyState } from '../state/index.js';
import { buildLoadView } from './load-view.js';
import type { SchedulerConfig } from './options.js';
import { placeShards, replacementFor } from './placement.js';
import { timeoutOf } from './round.js';
import type { SoftState } from './soft-state.js';

export interface TableDefaults {
  /** MetaserverConfig.defaultReplicaCount. */
  readonly replicaCount: number;
  /** Hash tables created with shard_count 0. */
  readonly hashShardCount: number;
}

/** Overrides of what CreateTableRequest carries (tests and callers that build commands directly). */
export interface TableExtras {
  readonly splitKeys?: readonly Uint8Array[];
  readonly splitSizeBytes?: number;
  readonly splitKeyCount?: number;
}

/** CreateTable with placement chosen now, from the current load. */
export function planCreateTable(
  state: TopologyState, soft: SoftState, req: admin.CreateTableRequest, defaults: TableDefaults, extras: TableExtras = {},
): Result<CommandKind> {
  const o = req.options ?? meta.TableOptions.create();
  const replicaCount = o.replicaCount || defaults.replicaCount;
  const hash = o.partition === meta.PartitionKind.HASH;
  const splitKeys = extras.splitKeys ?? req.splitKeys;
  const shardCount = hash ? o.shardCount || defaults.hashShardCount : splitKeys.length + 1;
  const base = {
    name: req.name, pool: req.pool, ifNotExists: req.ifNotExists, splitKeys: [...splitKeys],
    options: meta.TableOptions.create({ ...o, replicaCount, shardCount: hash ? shardCount : 0 }),
    splitSizeBytes: extras.splitSizeBytes ?? req.splitSizeBytes, splitKeyCount: extras.splitKeyCount ?? req.splitKeyCount,
  };
  // An existing table needs no placement: apply answers with it (or ALREADY_EXISTS).
  if (tableByName(state, req.name) !== undefined) return ok(cmd.createTable(base));
  if (!state.pools.has(req.pool)) return err(new KvError('NOT_FOUND', `pool ${req.pool} does not exist`, { details: { option: 'pool' } }));
  const placement = placeShards(buildLoadView(state, soft), req.pool, shardCount, replicaCount);
  if (!placement.ok) return placement;
  return ok(cmd.createTable({ ...base, placement: placement.value.map((nodeIds) => ({ nodeIds })) }));
}

/** `supersede`: a force-reduce may replace a running operator (apply decides, see apply-operators.ts). */
function shardFor(state: TopologyState, shardId: number, supersede = false): Result<ShardRecord> {
  const shard = state.shards.get(shardId as ShardId);
  if (shard === undefined) return err(new KvError('SHARD_NOT_FOUND', `no shard ${shardId}`, { details: { option: 'shardId' } }));
  const running = operatorOfShard(state, shard.id);
  if (running !== undefined && !(supersede && running.kind !== 'force-reduce')) return err(new KvError('CONDITION_FAILED', `shard ${shard.id} already runs operator ${running.id}`));
  return ok(shard);
}

function adminOperator(
  state: TopologyState, config: SchedulerConfig, shardId: number, spec: (s: ShardRecord) => Result<OperatorSpec>, supersede = false,
): Result<CommandKind> {
  const shard = shardFor(state, shardId, supersede);
  if (!shard.ok) return shard;
  const s = spec(shard.value);
  if (!s.ok) return s;
  return ok(cmd.addOperator({
    shardId: shard.value.id, epoch: shard.value.epoch, cause: 'admin', reason: 'admin request', timeoutMs: timeoutOf(config, s.value.kind), spec: s.value,
  }));
}

export function planSplit(state: TopologyState, config: SchedulerConfig, req: admin.SplitShardRequest): Result<CommandKind> {
  return adminOperator(state, config, req.shardId, () => ok({ kind: 'split', splitKey: req.splitKey.slice() }));
}

export function planTransferLeader(state: TopologyState, config: SchedulerConfig, req: admin.TransferLeaderRequest): Result<CommandKind> {
  return adminOperator(state, config, req.shardId, () => ok({ kind: 'transfer-leader', toPeerId: req.toPeerId as PeerId }));
}

/** `shoal shard move`: move a replica to a node, or to the best node when `toNodeId` is 0. */
export function planMoveReplica(
  state: TopologyState, soft: SoftState, config: SchedulerConfig, shardId: number, fromPeerId: number, toNodeId: number,
): Result<CommandKind> {
  return adminOperator(state, config, shardId, (shard) => {
    const from = replicaOfPeer(shard, fromPeerId as PeerId);
    if (fromPeerId !== 0 && from === undefined) return err(new KvError('INVALID_ARGUMENT', `peer ${fromPeerId} is not a replica`, { details: { option: 'fromPeerId' } }));
    const pool = state.tables.get(shard.tableId)?.pool ?? '';
    const to = toNodeId !== 0 ? (toNodeId as NodeId) : replacementFor(buildLoadView(state, soft), shard, pool, from?.nodeId);
    if (to === undefined) return err(new KvError('UNAVAILABLE', `no node can take a replica of shard ${shard.id}`));
    return ok({ kind: 'move-replica', fromPeerId: fromPeerId as PeerId, toNodeId: to });
  });
}

/** Dynamic replica reduction; apply refuses it unless the quorum is really lost. */
export function planForceReduce(state: TopologyState, config: SchedulerConfig, req: admin.ForceReduceReplicasRequest): Result<CommandKind> {
  if (req.confirmShardId !== req.shardId) {
    return err(new KvError('INVALID_ARGUMENT', 'confirm_shard_id must repeat shard_id', { details: { option: 'confirmShardId' } }));
  }
  return adminOperator(state, config, req.shardId, () => ok({ kind: 'force-reduce', keepPeerIds: req.keepPeerIds as PeerId[] }), true);
}

export function planCancelOperator(state: TopologyState, req: admin.CancelOperatorRequest): Result<CommandKind> {
  if (!state.operators.has(req.operatorId as OperatorId)) {
    return err(new KvError('NOT_FOUND', `no running operator ${req.operatorId}`, { details: { option: 'operatorId' } }));
  }
  return ok(cmd.finishOperator(req.operatorId as OperatorId, 'cancelled', 'cancelled by an administrator'));
}
