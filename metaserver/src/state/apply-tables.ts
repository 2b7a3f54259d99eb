/**
 * Table lifecycle: create (ranges computed here, placement chosen by the proposer) →
 * active (every shard reported a leader, see apply-shards.ts) → dropping (routes gone,
 * operators cancelled) → removed (shards forgotten, replicas become garbage to destroy).
 */
import { err, ok, SLOT_COUNT } from '@shoal/common';
import type { NodeId, PartitionScheme, PeerId, ShardId, TableId } from '@shoal/common';
import type { metacmd } from '@shoal/proto';
import { partitionFromProto, readPolicyFromProto } from './convert.js';
import { cancelOperator } from './apply-operators.js';
import { checkSplitKeys, hashShardRanges, isPowerOfTwo, rangeShardRanges } from './key-ranges.js';
import type { ShardRange } from './key-ranges.js';
import { checkName, invalid, refuse, UNCHANGED } from './apply-result.js';
import type { ApplyResult } from './apply-result.js';
import {
  addGarbage, addTombstone, allocateIds, bumpRouteVersion, checkIdsAvailable, operatorOfShard, putShard, shardsOfTable,
  tableByName,
} from './topology-state.js';
import { INITIAL_EPOCH, REPLICA_COUNT_MAX } from './types.js';
import type { ReadPolicy, TableRecord, TopologyState } from './types.js';

interface TableSpec {
  readonly partition: PartitionScheme;
  readonly replicaCount: number;
  readonly readPolicy: ReadPolicy;
  readonly ranges: (table: TableId) => ShardRange[];
  readonly shardCount: number;
}

/** Validates the options of a CreateTable; the ranges are computed once the id is known. */
function tableSpec(cmd: metacmd.CreateTable): TableSpec | ApplyResult {
  const o = cmd.options;
  if (o === undefined) return invalid('table options must be set', 'options');
  const partition = partitionFromProto(o.partition);
  if (partition === undefined) return invalid('partition must be range or hash', 'partition');
  const readPolicy = readPolicyFromProto(o.readPolicy);
  if (readPolicy === undefined) return invalid('unknown read policy', 'readPolicy');
  if (o.replicaCount < 1 || o.replicaCount > REPLICA_COUNT_MAX) {
    return invalid(`replica count must be 1..${REPLICA_COUNT_MAX} (resolved by the proposer)`, 'replicaCount');
  }
  if (partition === 'hash') {
    if (cmd.splitKeys.length > 0) return invalid('hash tables take no split keys', 'splitKeys');
    if (!isPowerOfTwo(o.shardCount) || o.shardCount > SLOT_COUNT) {
      return invalid(`hash tables need a power-of-two shard count ≤ ${SLOT_COUNT}`, 'shardCount');
    }
    const count = o.shardCount;
    return { partition, replicaCount: o.replicaCount, readPolicy, shardCount: count, ranges: (t) => hashShardRanges(t, count) };
  }
  const badKeys = checkSplitKeys(cmd.splitKeys);
  if (badKeys !== null) return err(badKeys);
  const count = cmd.splitKeys.length + 1;
  if (o.shardCount !== 0 && o.shardCount !== count) return invalid(`range tables have split keys + 1 = ${count} shards`, 'shardCount');
  if (count > SLOT_COUNT) return invalid(`at most ${SLOT_COUNT - 1} split keys`, 'splitKeys');
  const keys = cmd.splitKeys.map((k) => k.slice());
  return { partition, replicaCount: o.replicaCount, readPolicy, shardCount: count, ranges: (t) => rangeShardRanges(t, keys) };
}

/** Every shard gets `replicaCount` distinct `up` nodes of the table's pool. */
function checkPlacement(state: TopologyState, cmd: metacmd.CreateTable, spec: TableSpec): ApplyResult | null {
  if (cmd.placement.length !== spec.shardCount) return invalid(`placement must list ${spec.shardCount} shards`, 'placement');
  for (const [i, list] of cmd.placement.entries()) {
    if (list.nodeIds.length !== spec.replicaCount || new Set(list.nodeIds).size !== list.nodeIds.length) {
      return invalid(`placement of shard ${i} must name ${spec.replicaCount} distinct nodes`, 'placement');
    }
    for (const id of list.nodeIds) {
      const node = state.nodes.get(id as NodeId);
      if (node === undefined || node.pool !== cmd.pool) return invalid(`node ${id} is not in pool ${cmd.pool}`, 'placement');
      // The node may have gone down since the proposer chose it: the proposer re-plans.
      if (node.state !== 'up') return refuse('UNAVAILABLE', `node ${id} is ${node.state}`, 'placement');
    }
  }
  return null;
}

function checkCreateIds(state: TopologyState, spec: TableSpec): ApplyResult | null {
  const e = checkIdsAvailable(state, 'table', 1) ?? checkIdsAvailable(state, 'shard', spec.shardCount)
    ?? checkIdsAvailable(state, 'peer', spec.shardCount * spec.replicaCount);
  return e === null ? null : err(e);
}

export function applyCreateTable(state: TopologyState, cmd: metacmd.CreateTable, stampMs: number): ApplyResult {
  const badName = checkName(cmd.name, 'name');
  if (badName !== null) return badName;
  const existing = tableByName(state, cmd.name);
  if (existing !== undefined) {
    if (cmd.ifNotExists && existing.state !== 'dropping') return ok({ kind: 'table-exists', tableId: existing.id });
    return refuse('ALREADY_EXISTS', `table ${cmd.name} exists${existing.state === 'dropping' ? ' (dropping)' : ''}`, 'name');
  }
  if (!state.pools.has(cmd.pool)) return refuse('NOT_FOUND', `pool ${cmd.pool} does not exist`, 'pool');
  const spec = tableSpec(cmd);
  if ('ok' in spec) return spec;
  const bad = checkPlacement(state, cmd, spec) ?? checkCreateIds(state, spec);
  if (bad !== null) return bad;
  const table = createTableRecord(state, cmd, spec, stampMs);
  return ok({ kind: 'table-created', tableId: table.id, shardIds: createShards(state, table, cmd, spec) });
}

function createTableRecord(state: TopologyState, cmd: metacmd.CreateTable, spec: TableSpec, stampMs: number): TableRecord {
  const o = cmd.options!;
  const id = allocateIds(state, 'table', 1) as TableId;
  const table: TableRecord = {
    id, name: cmd.name, pool: cmd.pool, partition: spec.partition, initialShardCount: spec.shardCount,
    replicaCount: spec.replicaCount, valueSeparationThresholdBytes: o.valueSeparationThresholdBytes,
    defaultTtlMs: o.defaultTtlMs, readPolicy: spec.readPolicy, maxStalenessMs: o.maxStalenessMs,
    splitSizeBytes: cmd.splitSizeBytes, splitKeyCount: cmd.splitKeyCount, state: 'creating', createdMs: stampMs,
  };
  state.tables.set(id, table);
  state.tableIdsByName.set(table.name, id);
  return table;
}

function createShards(state: TopologyState, table: TableRecord, cmd: metacmd.CreateTable, spec: TableSpec): ShardId[] {
  const routeVersion = bumpRouteVersion(state);
  const ranges = spec.ranges(table.id);
  const firstShard = allocateIds(state, 'shard', ranges.length);
  const firstPeer = allocateIds(state, 'peer', ranges.length * spec.replicaCount);
  const ids: ShardId[] = [];
  for (const [i, range] of ranges.entries()) {
    const id = (firstShard + i) as ShardId;
    const nodes = cmd.placement[i]!.nodeIds;
    const replicas = nodes.map((n, j) => ({
      nodeId: n as NodeId, peerId: (firstPeer + i * spec.replicaCount + j) as PeerId, role: 'voter' as const,
    }));
    putShard(state, {
      id, tableId: table.id, ...range, epoch: INITIAL_EPOCH, replicas, leaderPeerId: 0 as PeerId, routeVersion,
    });
    ids.push(id);
  }
  return ids;
}

/**
 * Marks a table dropping: its routes disappear at once (tombstones for watchers) and its
 * operators are cancelled. The shards stay until RemoveTable so the proposer can still
 * see which replicas to destroy.
 */
export function applyDropTable(state: TopologyState, cmd: metacmd.DropTable, stampMs: number): ApplyResult {
  const table = tableByName(state, cmd.name);
  if (table === undefined) return cmd.ifExists ? ok(UNCHANGED) : refuse('TABLE_NOT_FOUND', `no table ${cmd.name}`, 'name');
  if (table.state === 'dropping') return ok(UNCHANGED);
  state.tables.set(table.id, { ...table, state: 'dropping' });
  const routeVersion = bumpRouteVersion(state);
  for (const shard of shardsOfTable(state, table.id)) {
    const op = operatorOfShard(state, shard.id);
    if (op !== undefined) cancelOperator(state, op, 'cancelled', `table ${table.name} dropped`, stampMs);
    addTombstone(state, shard, routeVersion);
  }
  return ok({ kind: 'table-dropped', tableId: table.id });
}

/** Forgets a dropping table; its replicas become garbage for their nodes to destroy. */
export function applyRemoveTable(state: TopologyState, cmd: metacmd.RemoveTable): ApplyResult {
  const table = state.tables.get(cmd.tableId as TableId);
  if (table === undefined) return ok(UNCHANGED);
  if (table.state !== 'dropping') return refuse('CONDITION_FAILED', `table ${table.name} is ${table.state}, not dropping`);
  for (const shard of shardsOfTable(state, table.id)) {
    state.shards.delete(shard.id);
    for (const r of shard.replicas) addGarbage(state, { nodeId: r.nodeId, shardId: shard.id, peerId: r.peerId });
  }
  state.tables.delete(table.id);
  state.tableIdsByName.delete(table.name);
  return ok({ kind: 'table-removed', tableId: table.id });
}
