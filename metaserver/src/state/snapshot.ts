/**
 * Snapshot and restore of the whole topology, for the metaserver's Raft snapshots. The
 * encoding is canonical — every list sorted by its key, records in one fixed shape — so
 * two members that applied the same log produce byte-equal snapshots (the determinism
 * tests compare exactly that), and restore(encode(s)) encodes to the same bytes again.
 */
import { assert, KvError } from '@shoal/common';
import type { NodeId, PeerId, ShardId, TableId } from '@shoal/common';
import { meta, metacmd } from '@shoal/proto';
import {
  epochFromProto, epochToProto, nodeStateFromProto, nodeStateToProto, partitionFromProto, partitionToProto,
  readPolicyFromProto, readPolicyToProto, replicasFromProto, replicaToProto, tableStateFromProto, tableStateToProto,
} from './convert.js';
import { operatorFromProto, operatorToProto } from './snapshot-operators.js';
import { byId, createTopologyState } from './topology-state.js';
import { SNAPSHOT_FORMAT_VERSION } from './types.js';
import type { NodeRecord, PoolRecord, ShardRecord, TableRecord, TopologyState } from './types.js';

export function encodeSnapshot(state: TopologyState): Uint8Array {
  return metacmd.MetaSnapshot.encode(snapshotMessage(state)).finish();
}

export function snapshotMessage(state: TopologyState): metacmd.MetaSnapshot {
  return metacmd.MetaSnapshot.create({
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    clusterId: state.clusterId,
    routeVersion: state.routeVersion,
    routeHistoryFloor: state.routeHistoryFloor,
    nextIds: metacmd.NextIds.create({ ...state.nextIds }),
    pools: [...state.pools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(poolToProto),
    nodes: byId(state.nodes).map(nodeToProto),
    tables: byId(state.tables).map(tableToProto),
    shards: byId(state.shards).map(shardToProto),
    operators: byId(state.operators).map(operatorToProto),
    operatorHistory: state.operatorHistory.map(operatorToProto),
    removedShards: state.removedShards.map((r) => metacmd.RemovedShard.create({ ...r })),
    garbage: state.garbage.map((g) => metacmd.GarbageReplica.create({ ...g })),
  });
}

/** Rebuilds a state from snapshot bytes; CORRUPTION if they are not a snapshot this code wrote. */
export function decodeSnapshot(bytes: Uint8Array): TopologyState {
  let msg: metacmd.MetaSnapshot;
  try {
    msg = metacmd.MetaSnapshot.decode(bytes);
  } catch (e) {
    throw new KvError('CORRUPTION', 'undecodable metaserver snapshot', { cause: e });
  }
  if (msg.formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    throw new KvError('INCOMPATIBLE_VERSION', `metaserver snapshot format ${msg.formatVersion}, expected ${SNAPSHOT_FORMAT_VERSION}`);
  }
  try {
    return restore(msg);
  } catch (e) {
    if (e instanceof KvError) throw e;
    throw new KvError('CORRUPTION', 'inconsistent metaserver snapshot', { cause: e });
  }
}

function restore(msg: metacmd.MetaSnapshot): TopologyState {
  const state = createTopologyState();
  state.clusterId = msg.clusterId;
  state.routeVersion = msg.routeVersion;
  state.routeHistoryFloor = msg.routeHistoryFloor;
  Object.assign(state.nextIds, metacmd.NextIds.create(msg.nextIds));
  for (const p of msg.pools) state.pools.set(p.name, poolFromProto(p));
  for (const n of msg.nodes) state.nodes.set(n.id as NodeId, nodeFromProto(n));
  for (const t of msg.tables) {
    const table = tableFromProto(t);
    state.tables.set(table.id, table);
    state.tableIdsByName.set(table.name, table.id);
  }
  for (const s of msg.shards) {
    const shard = shardFromProto(s);
    state.shards.set(shard.id, shard);
  }
  for (const o of msg.operators) {
    const op = operatorFromProto(o);
    state.operators.set(op.id, op);
    state.operatorByShard.set(op.shardId, op.id);
  }
  state.operatorHistory.push(...msg.operatorHistory.map(operatorFromProto));
  state.removedShards.push(...msg.removedShards.map((r) => ({
    shardId: r.shardId as ShardId, tableId: r.tableId as TableId, routeVersion: r.routeVersion,
  })));
  state.garbage.push(...msg.garbage.map((g) => ({ nodeId: g.nodeId as NodeId, shardId: g.shardId as ShardId, peerId: g.peerId as PeerId })));
  return state;
}

function defined<T>(value: T | undefined, what: string): T {
  assert(value !== undefined, () => `snapshot: unknown ${what}`);
  return value;
}

function poolToProto(p: PoolRecord): metacmd.PoolRecord {
  return metacmd.PoolRecord.create({ name: p.name, description: p.description, zones: p.zones, createdUnixMs: p.createdMs });
}

function poolFromProto(p: metacmd.PoolRecord): PoolRecord {
  return { name: p.name, description: p.description, zones: [...p.zones], createdMs: p.createdUnixMs };
}

function nodeToProto(n: NodeRecord): metacmd.NodeRecord {
  return metacmd.NodeRecord.create({
    id: n.id, address: n.address, httpAddress: n.httpAddress, pool: n.pool, zone: n.zone,
    capacityBytes: n.capacityBytes, version: n.version, labels: n.labels.map((l) => metacmd.Label.create(l)),
    state: nodeStateToProto(n.state), registeredUnixMs: n.registeredMs, stateChangedUnixMs: n.stateChangedMs,
  });
}

function nodeFromProto(n: metacmd.NodeRecord): NodeRecord {
  return {
    id: n.id as NodeId, address: n.address, httpAddress: n.httpAddress, pool: n.pool, zone: n.zone,
    capacityBytes: n.capacityBytes, version: n.version, labels: n.labels.map((l) => ({ key: l.key, value: l.value })),
    state: defined(nodeStateFromProto(n.state), 'node state'), registeredMs: n.registeredUnixMs,
    stateChangedMs: n.stateChangedUnixMs,
  };
}

function tableToProto(t: TableRecord): metacmd.TableRecord {
  const options = meta.TableOptions.create({
    partition: partitionToProto(t.partition), shardCount: t.initialShardCount, replicaCount: t.replicaCount,
    valueSeparationThresholdBytes: t.valueSeparationThresholdBytes, defaultTtlMs: t.defaultTtlMs,
    readPolicy: readPolicyToProto(t.readPolicy), maxStalenessMs: t.maxStalenessMs,
  });
  const info = meta.TableInfo.create({
    id: t.id, name: t.name, pool: t.pool, options, state: tableStateToProto(t.state), createdUnixMs: t.createdMs,
  });
  return metacmd.TableRecord.create({ info, splitSizeBytes: t.splitSizeBytes, splitKeyCount: t.splitKeyCount });
}

function tableFromProto(t: metacmd.TableRecord): TableRecord {
  const info = defined(t.info, 'table');
  const o = defined(info.options, 'table options');
  return {
    id: info.id as TableId, name: info.name, pool: info.pool, partition: defined(partitionFromProto(o.partition), 'partition'),
    initialShardCount: o.shardCount, replicaCount: o.replicaCount,
    valueSeparationThresholdBytes: o.valueSeparationThresholdBytes, defaultTtlMs: o.defaultTtlMs,
    readPolicy: defined(readPolicyFromProto(o.readPolicy), 'read policy'), maxStalenessMs: o.maxStalenessMs,
    splitSizeBytes: t.splitSizeBytes, splitKeyCount: t.splitKeyCount,
    state: defined(tableStateFromProto(info.state), 'table state'), createdMs: info.createdUnixMs,
  };
}

function shardToProto(s: ShardRecord): metacmd.ShardRecord {
  const shard = {
    id: s.id, tableId: s.tableId, startKey: s.startKey, endKey: s.endKey, epoch: epochToProto(s.epoch),
    replicas: s.replicas.map(replicaToProto), leaderPeerId: s.leaderPeerId,
  };
  return metacmd.ShardRecord.create({ shard, routeVersion: s.routeVersion });
}

function shardFromProto(r: metacmd.ShardRecord): ShardRecord {
  const d = defined(r.shard, 'shard');
  return {
    id: d.id as ShardId, tableId: d.tableId as TableId, startKey: d.startKey.slice(), endKey: d.endKey.slice(),
    epoch: epochFromProto(d.epoch), replicas: defined(replicasFromProto(d.replicas), 'replica role'),
    leaderPeerId: d.leaderPeerId as PeerId, routeVersion: r.routeVersion,
  };
}
