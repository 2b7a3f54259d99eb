/**
 * Read-only views of the topology in wire shapes, for the Meta and Admin services:
 * routes (GetRoutes, WatchRoutes), tables, nodes, pools, operators, cluster counts. They
 * read replicated state only; what only the leader knows (heartbeat times, node stats)
 * comes in through the optional `live` argument.
 */
import { compareBytes, err, KvError, ok } from '@shoal/common';
import type { NodeId, Result, TableId } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import {
  nodeStateToProto, partitionToProto, readPolicyToProto, shardToDescriptor, tableStateToProto,
} from './convert.js';
import { operatorInfo } from './operator-plan.js';
import { byId, leaderNode, shardsOfTable, sortedNodes, tableByName } from './topology-state.js';
import type { NodeRecord, ShardRecord, TableRecord, TopologyState } from './types.js';

/** A table by name, or by id when the name is empty; dropping tables are not found. */
export function findTable(state: TopologyState, name: string, id = 0): Result<TableRecord> {
  const table = name !== '' ? tableByName(state, name) : state.tables.get(id as TableId);
  if (table === undefined || table.state === 'dropping') {
    return err(new KvError('TABLE_NOT_FOUND', `no table ${name !== '' ? name : `#${id}`}`));
  }
  return ok(table);
}

export function tableInfo(t: TableRecord): meta.TableInfo {
  const options = meta.TableOptions.create({
    partition: partitionToProto(t.partition), shardCount: t.initialShardCount, replicaCount: t.replicaCount,
    valueSeparationThresholdBytes: t.valueSeparationThresholdBytes, defaultTtlMs: t.defaultTtlMs,
    readPolicy: readPolicyToProto(t.readPolicy), maxStalenessMs: t.maxStalenessMs,
  });
  return meta.TableInfo.create({
    id: t.id, name: t.name, pool: t.pool, options, state: tableStateToProto(t.state), createdUnixMs: t.createdMs,
  });
}

/** Every table that is not being dropped, by id. */
export function tableInfos(state: TopologyState): meta.TableInfo[] {
  return byId(state.tables).filter((t) => t.state !== 'dropping').map(tableInfo);
}

function shardRoute(state: TopologyState, s: ShardRecord, table: TableRecord): meta.ShardRoute {
  const leader = leaderNode(s);
  const leaderAddress = leader === undefined ? '' : state.nodes.get(leader)?.address ?? '';
  return meta.ShardRoute.create({ shard: shardToDescriptor(s, table.partition), leaderAddress });
}

function addressesOf(state: TopologyState, shards: readonly ShardRecord[]): Map<number, string> {
  const ids = new Set<number>();
  for (const s of shards) for (const r of s.replicas) ids.add(r.nodeId);
  const out = new Map<number, string>();
  for (const id of [...ids].sort((a, b) => a - b)) out.set(id, state.nodes.get(id as NodeId)?.address ?? '');
  return out;
}

/** GetRoutes: the table's shards by start key, with leaders and node addresses. */
export function routesOf(state: TopologyState, name: string, id = 0): Result<meta.GetRoutesResponse> {
  const found = findTable(state, name, id);
  if (!found.ok) return found;
  const table = found.value;
  const shards = shardsOfTable(state, table.id);
  return ok(meta.GetRoutesResponse.create({
    table: tableInfo(table),
    routeVersion: state.routeVersion,
    shards: shards.map((s) => shardRoute(state, s, table)),
    nodeAddresses: addressesOf(state, shards),
  }));
}

export interface RouteChanges {
  readonly routeVersion: number;
  /** The changes since `fromVersion` are no longer known: reload with GetRoutes. */
  readonly resync: boolean;
  /** One event per changed table, by table id. */
  readonly events: readonly meta.RouteEvent[];
}

/**
 * WatchRoutes: every routing change after `fromVersion` (shards whose route version is
 * newer, removals remembered since), per table. Empty `tableIds` = all tables.
 */
export function routeChangesSince(state: TopologyState, fromVersion: number, tableIds: readonly number[] = []): RouteChanges {
  const wanted = (t: number): boolean => tableIds.length === 0 || tableIds.includes(t);
  if (fromVersion < state.routeHistoryFloor) return { routeVersion: state.routeVersion, resync: true, events: [] };
  const updated = new Map<number, ShardRecord[]>();
  const removed = new Map<number, number[]>();
  for (const s of byId(state.shards)) {
    const table = state.tables.get(s.tableId);
    if (s.routeVersion <= fromVersion || !wanted(s.tableId) || table === undefined || table.state === 'dropping') continue;
    updated.set(s.tableId, [...(updated.get(s.tableId) ?? []), s]);
  }
  for (const r of state.removedShards) {
    if (r.routeVersion > fromVersion && wanted(r.tableId)) removed.set(r.tableId, [...(removed.get(r.tableId) ?? []), r.shardId]);
  }
  const tables = [...new Set([...updated.keys(), ...removed.keys()])].sort((a, b) => a - b);
  const events = tables.map((t) => routeEvent(state, t, updated.get(t) ?? [], removed.get(t) ?? []));
  return { routeVersion: state.routeVersion, resync: false, events };
}

function routeEvent(state: TopologyState, tableId: number, shards: ShardRecord[], removedIds: number[]): meta.RouteEvent {
  const table = state.tables.get(tableId as TableId);
  const sorted = [...shards].sort((a, b) => compareBytes(a.startKey, b.startKey));
  return meta.RouteEvent.create({
    routeVersion: state.routeVersion,
    tableId,
    updated: table === undefined ? [] : sorted.map((s) => shardRoute(state, s, table)),
    removedShardIds: removedIds,
    nodeAddresses: addressesOf(state, sorted),
  });
}

/** What the leader knows about a node beyond the replicated record. */
export interface NodeLiveInfo {
  readonly lastHeartbeatMs: number;
  readonly stats?: meta.NodeStats | undefined;
}

export function nodeInfo(n: NodeRecord, live?: NodeLiveInfo): meta.NodeInfo {
  return meta.NodeInfo.create({
    id: n.id, address: n.address, httpAddress: n.httpAddress, pool: n.pool, zone: n.zone,
    state: nodeStateToProto(n.state), stats: live?.stats, lastHeartbeatUnixMs: live?.lastHeartbeatMs ?? 0,
    version: n.version, labels: new Map(n.labels.map((l) => [l.key, l.value])),
  });
}

export interface NodeFilter {
  readonly ids?: readonly number[];
  readonly pool?: string;
  readonly zone?: string;
}

/** Nodes by id; empty filter fields match everything. */
export function nodeInfos(state: TopologyState, filter: NodeFilter = {}, live?: (id: NodeId) => NodeLiveInfo | undefined): meta.NodeInfo[] {
  return sortedNodes(state)
    .filter((n) => (filter.ids === undefined || filter.ids.length === 0 || filter.ids.includes(n.id))
      && (filter.pool === undefined || filter.pool === '' || n.pool === filter.pool)
      && (filter.zone === undefined || filter.zone === '' || n.zone === filter.zone))
    .map((n) => nodeInfo(n, live?.(n.id)));
}

export function poolInfos(state: TopologyState): { pools: meta.PoolInfo[]; zones: meta.ZoneInfo[] } {
  const pools = [...state.pools.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    pools: pools.map((p) => meta.PoolInfo.create({ name: p.name, zones: p.zones, description: p.description })),
    zones: pools.flatMap((p) => p.zones.map((z) => meta.ZoneInfo.create({ name: z, pool: p.name }))),
  };
}

/** ListOperators: running operators by id, then (if asked) the finished history, newest first. */
export function operatorInfos(state: TopologyState, shardId = 0, includeFinished = false): admin.OperatorInfo[] {
  const match = (s: number): boolean => shardId === 0 || s === shardId;
  const epochOf = (s: number) => state.shards.get(s as ShardRecord['id'])?.epoch ?? { confVer: 0, version: 0 };
  const running = byId(state.operators).filter((o) => match(o.shardId)).map((o) => operatorInfo(o, epochOf(o.shardId)));
  if (!includeFinished) return running;
  const finished = [...state.operatorHistory].reverse().filter((o) => match(o.shardId));
  return [...running, ...finished.map((o) => operatorInfo(o, epochOf(o.shardId)))];
}

function servesData(n: NodeRecord | undefined): boolean {
  return n !== undefined && (n.state === 'up' || n.state === 'decommissioning');
}

/** The replicated part of ClusterStatus (the caller adds metaserver members and byte totals). */
export function clusterCounts(state: TopologyState): admin.ClusterStatusResponse {
  const nodesByState = new Map<number, number>();
  for (const n of sortedNodes(state)) nodesByState.set(nodeStateToProto(n.state), (nodesByState.get(nodeStateToProto(n.state)) ?? 0) + 1);
  let shardCount = 0;
  let leaderless = 0;
  let under = 0;
  for (const s of state.shards.values()) {
    const table = state.tables.get(s.tableId);
    if (table === undefined || table.state === 'dropping') continue;
    shardCount++;
    if (s.leaderPeerId === 0) leaderless++;
    const healthy = s.replicas.filter((r) => r.role === 'voter' && servesData(state.nodes.get(r.nodeId))).length;
    if (healthy < table.replicaCount) under++;
  }
  return admin.ClusterStatusResponse.create({
    nodesByState, tableCount: tableInfos(state).length, shardCount, leaderlessShardCount: leaderless,
    underReplicatedShardCount: under, runningOperatorCount: state.operators.size,
    capacityBytes: sortedNodes(state).filter((n) => n.state !== 'removed').reduce((a, n) => a + n.capacityBytes, 0),
    routeVersion: state.routeVersion,
  });
}
