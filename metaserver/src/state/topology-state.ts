/**
 * The topology state container: creation, id allocation, route versions, tombstones and
 * garbage, and ordered views. Everything that must be deterministic iterates through the
 * sorted helpers here, never a Map's insertion order (see TopologyState).
 */
import { assert, compareBytes, KvError, TABLE_ID_MAX } from '@shoal/common';
import type { NodeId, PeerId, ShardId, TableId } from '@shoal/common';
import {
  GARBAGE_MAX, REMOVED_SHARDS_MAX,
} from './types.js';
import type {
  GarbageReplica, NextIds, NodeRecord, OperatorRecord, ReplicaRecord, ShardRecord, TableRecord, TopologyState,
} from './types.js';

export function createTopologyState(): TopologyState {
  return {
    clusterId: 0,
    routeVersion: 0,
    routeHistoryFloor: 0,
    nextIds: { node: 1, shard: 1, peer: 1, table: 1, operator: 1 },
    pools: new Map(),
    nodes: new Map(),
    tables: new Map(),
    tableIdsByName: new Map(),
    shards: new Map(),
    operators: new Map(),
    operatorByShard: new Map(),
    operatorHistory: [],
    removedShards: [],
    garbage: [],
  };
}

export type IdKind = keyof NextIds;

/** Upper bound of each id kind: table ids are u32 in storage keys, the rest stay below 2^53. */
function idMax(kind: IdKind): number {
  return kind === 'table' ? TABLE_ID_MAX : Number.MAX_SAFE_INTEGER;
}

/** Checks that `count` ids of `kind` are still available (call before mutating anything). */
export function checkIdsAvailable(state: TopologyState, kind: IdKind, count: number): KvError | null {
  if (state.nextIds[kind] + count - 1 > idMax(kind)) {
    return new KvError('NO_SPACE', `${kind} ids exhausted (next ${state.nextIds[kind]}, wanted ${count})`);
  }
  return null;
}

/** Hands out `[first, first + count)`; never again. Availability was checked by the caller. */
export function allocateIds(state: TopologyState, kind: IdKind, count: number): number {
  assert(count >= 0 && checkIdsAvailable(state, kind, count) === null, () => `allocateIds(${kind}, ${count}) unchecked`);
  const first = state.nextIds[kind];
  state.nextIds[kind] = first + count;
  return first;
}

/** Starts a new route version; every routing change of one command shares it. */
export function bumpRouteVersion(state: TopologyState): number {
  state.routeVersion += 1;
  return state.routeVersion;
}

/** Stores a shard record (replacing any older one). */
export function putShard(state: TopologyState, shard: ShardRecord): void {
  assert(shard.replicas.every((r, i, a) => i === 0 || a[i - 1]!.peerId < r.peerId), 'replicas must be sorted by peer id');
  state.shards.set(shard.id, shard);
}

/** Remembers that a shard left the routes, for route watchers (bounded; see routeHistoryFloor). */
export function addTombstone(state: TopologyState, shard: ShardRecord, routeVersion: number): void {
  state.removedShards.push({ shardId: shard.id, tableId: shard.tableId, routeVersion });
  while (state.removedShards.length > REMOVED_SHARDS_MAX) {
    const dropped = state.removedShards.shift()!;
    state.routeHistoryFloor = Math.max(state.routeHistoryFloor, dropped.routeVersion);
  }
}

function compareGarbage(a: GarbageReplica, b: GarbageReplica): number {
  return a.nodeId - b.nodeId || a.shardId - b.shardId || a.peerId - b.peerId;
}

/**
 * Records a replica its node must destroy. Replicas of removed nodes are skipped (the
 * node is gone). Past GARBAGE_MAX the lowest entries are forgotten: a node that comes
 * back still refuses stale replicas by epoch, the list only speeds clean-up up.
 */
export function addGarbage(state: TopologyState, g: GarbageReplica): void {
  const node = state.nodes.get(g.nodeId);
  if (node === undefined || node.state === 'removed') return;
  const i = lowerBound(state.garbage, g, compareGarbage);
  if (i < state.garbage.length && compareGarbage(state.garbage[i]!, g) === 0) return;
  state.garbage.splice(i, 0, g);
  if (state.garbage.length > GARBAGE_MAX) state.garbage.shift();
}

export function removeGarbage(state: TopologyState, g: GarbageReplica): boolean {
  const i = lowerBound(state.garbage, g, compareGarbage);
  if (i >= state.garbage.length || compareGarbage(state.garbage[i]!, g) !== 0) return false;
  state.garbage.splice(i, 1);
  return true;
}

export function garbageOfNode(state: TopologyState, node: NodeId): GarbageReplica[] {
  return state.garbage.filter((g) => g.nodeId === node);
}

function lowerBound<T>(xs: readonly T[], x: T, cmp: (a: T, b: T) => number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(xs[mid]!, x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------- ordered views

/** Values of a numerically keyed map, by key. */
export function byId<K extends number, V>(map: ReadonlyMap<K, V>): V[] {
  return [...map.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

export function sortedNodes(state: TopologyState): NodeRecord[] {
  return byId(state.nodes);
}

export function sortedTables(state: TopologyState): TableRecord[] {
  return byId(state.tables);
}

export function sortedShards(state: TopologyState): ShardRecord[] {
  return byId(state.shards);
}

export function sortedOperators(state: TopologyState): OperatorRecord[] {
  return byId(state.operators);
}

/** The shards of a table by start key. */
export function shardsOfTable(state: TopologyState, table: TableId): ShardRecord[] {
  const out: ShardRecord[] = [];
  for (const s of state.shards.values()) if (s.tableId === table) out.push(s);
  return out.sort((a, b) => compareBytes(a.startKey, b.startKey));
}

export function tableByName(state: TopologyState, name: string): TableRecord | undefined {
  const id = state.tableIdsByName.get(name);
  return id === undefined ? undefined : state.tables.get(id);
}

export function operatorOfShard(state: TopologyState, shard: ShardId): OperatorRecord | undefined {
  const id = state.operatorByShard.get(shard);
  return id === undefined ? undefined : state.operators.get(id);
}

export function replicaOfPeer(shard: ShardRecord, peer: PeerId): ReplicaRecord | undefined {
  return shard.replicas.find((r) => r.peerId === peer);
}

export function replicaOnNode(shard: ShardRecord, node: NodeId): ReplicaRecord | undefined {
  return shard.replicas.find((r) => r.nodeId === node);
}

export function voters(shard: ShardRecord): ReplicaRecord[] {
  return shard.replicas.filter((r) => r.role === 'voter');
}

/** The node of the shard's leader, or undefined when the leader is unknown. */
export function leaderNode(shard: ShardRecord): NodeId | undefined {
  return shard.leaderPeerId === 0 ? undefined : replicaOfPeer(shard, shard.leaderPeerId)?.nodeId;
}
