/**
 * Commands on the cluster itself: bootstrap, pools and zones, node registration and
 * node state transitions, id allocation, destroyed-replica acknowledgements.
 *
 * Node state machine (the failure detector and decommission drive it):
 *   up ⇄ suspect → down → up (heard again)      up / suspect → down
 *   up | suspect | down → decommissioning → removed (only once nothing lives there)
 *   decommissioning → up (cancel)
 */
import { err, ok } from '@shoal/common';
import type { NodeId, PeerId, ShardId } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { metacmd } from '@shoal/proto';
import { nodeStateFromProto } from './convert.js';
import { checkName, invalid, refuse, UNCHANGED } from './apply-result.js';
import type { ApplyResult } from './apply-result.js';
import {
  allocateIds, bumpRouteVersion, checkIdsAvailable, removeGarbage, sortedOperators,
} from './topology-state.js';
import type { IdKind } from './topology-state.js';
import { ID_ALLOCATION_MAX } from './types.js';
import type { Label, NodeRecord, NodeState, PoolRecord, TopologyState } from './types.js';

export function applyBootstrap(state: TopologyState, cmd: metacmd.BootstrapCluster): ApplyResult {
  if (cmd.clusterId === 0) return invalid('cluster id must not be 0', 'clusterId');
  if (state.clusterId === cmd.clusterId) return ok(UNCHANGED);
  if (state.clusterId !== 0) return refuse('CONDITION_FAILED', `cluster already bootstrapped as ${state.clusterId}`);
  state.clusterId = cmd.clusterId;
  return ok({ kind: 'bootstrapped', clusterId: cmd.clusterId });
}

export function applyCreatePool(state: TopologyState, cmd: metacmd.CreatePool, stampMs: number): ApplyResult {
  const bad = checkName(cmd.name, 'pool');
  if (bad !== null) return bad;
  if (state.pools.has(cmd.name)) return refuse('ALREADY_EXISTS', `pool ${cmd.name} exists`, 'pool');
  state.pools.set(cmd.name, { name: cmd.name, description: cmd.description, zones: [], createdMs: stampMs });
  return ok({ kind: 'pool-created', pool: cmd.name });
}

export function applyCreateZone(state: TopologyState, cmd: metacmd.CreateZone): ApplyResult {
  const bad = checkName(cmd.name, 'zone');
  if (bad !== null) return bad;
  const pool = state.pools.get(cmd.pool);
  if (pool === undefined) return refuse('NOT_FOUND', `pool ${cmd.pool} does not exist`, 'pool');
  if (pool.zones.includes(cmd.name)) return refuse('ALREADY_EXISTS', `zone ${cmd.name} exists in pool ${cmd.pool}`, 'zone');
  state.pools.set(pool.name, withZone(pool, cmd.name));
  return ok({ kind: 'zone-created', pool: cmd.pool, zone: cmd.name });
}

function withZone(pool: PoolRecord, zone: string): PoolRecord {
  return { ...pool, zones: [...pool.zones, zone].sort() };
}

function checkLabels(labels: readonly metacmd.Label[]): ApplyResult | null {
  for (let i = 1; i < labels.length; i++) {
    if (labels[i - 1]!.key >= labels[i]!.key) return invalid('node labels must be sorted by key, keys unique', 'labels');
  }
  return null;
}

function checkRegistration(cmd: metacmd.RegisterNode): ApplyResult | null {
  if (cmd.address.length === 0) return invalid('node address must be set', 'address');
  return checkName(cmd.pool, 'pool') ?? checkName(cmd.zone, 'zone') ?? checkLabels(cmd.labels);
}

/**
 * Registers a new node (id 0) or re-registers a known one after a restart. Unknown pools
 * and zones are created: a node's own configuration names them, and refusing would only
 * make the operator repeat the names. A node never changes pool or zone (its replicas
 * were placed for them); it must be decommissioned and registered anew instead.
 */
export function applyRegisterNode(state: TopologyState, cmd: metacmd.RegisterNode, stampMs: number): ApplyResult {
  const bad = checkRegistration(cmd);
  if (bad !== null) return bad;
  if (cmd.nodeId === 0) return registerNew(state, cmd, stampMs);
  const node = state.nodes.get(cmd.nodeId as NodeId);
  if (node === undefined) return refuse('NOT_FOUND', `node ${cmd.nodeId} is unknown; register without an id`, 'nodeId');
  if (node.state === 'removed') return refuse('CONDITION_FAILED', `node ${node.id} was decommissioned; wipe it and register anew`);
  if (node.pool !== cmd.pool || node.zone !== cmd.zone) {
    return refuse('CONDITION_FAILED', `node ${node.id} is registered in ${node.pool}/${node.zone}, not ${cmd.pool}/${cmd.zone}`, 'zone');
  }
  // A registering node is alive; a decommissioning one stays so.
  const nextState: NodeState = node.state === 'decommissioning' ? 'decommissioning' : 'up';
  const updated: NodeRecord = {
    ...node, ...nodeFields(cmd), state: nextState, stateChangedMs: nextState === node.state ? node.stateChangedMs : stampMs,
  };
  if (updated.address !== node.address) bumpRouteVersion(state);
  state.nodes.set(node.id, updated);
  return ok({ kind: 'node-registered', nodeId: node.id });
}

function registerNew(state: TopologyState, cmd: metacmd.RegisterNode, stampMs: number): ApplyResult {
  const noIds = checkIdsAvailable(state, 'node', 1);
  if (noIds !== null) return err(noIds);
  ensurePoolZone(state, cmd.pool, cmd.zone, stampMs);
  const id = allocateIds(state, 'node', 1) as NodeId;
  state.nodes.set(id, { id, ...nodeFields(cmd), state: 'up', registeredMs: stampMs, stateChangedMs: stampMs });
  return ok({ kind: 'node-registered', nodeId: id });
}

function nodeFields(cmd: metacmd.RegisterNode) {
  const labels: Label[] = cmd.labels.map((l) => ({ key: l.key, value: l.value }));
  return {
    address: cmd.address, httpAddress: cmd.httpAddress, pool: cmd.pool, zone: cmd.zone,
    capacityBytes: cmd.capacityBytes, version: cmd.version, labels,
  };
}

function ensurePoolZone(state: TopologyState, poolName: string, zone: string, stampMs: number): void {
  const pool = state.pools.get(poolName) ?? { name: poolName, description: '', zones: [], createdMs: stampMs };
  state.pools.set(poolName, pool.zones.includes(zone) ? pool : withZone(pool, zone));
}

const LIVENESS_MOVES: ReadonlySet<string> = new Set([
  'up>suspect', 'up>down', 'suspect>up', 'suspect>down', 'down>up', 'decommissioning>removed',
]);

/** A compare-and-set transition; see the state machine in the file comment. */
export function applySetNodeState(state: TopologyState, cmd: metacmd.SetNodeState, stampMs: number): ApplyResult {
  const node = state.nodes.get(cmd.nodeId as NodeId);
  if (node === undefined) return refuse('NOT_FOUND', `node ${cmd.nodeId} is unknown`, 'nodeId');
  const from = nodeStateFromProto(cmd.fromState);
  const to = nodeStateFromProto(cmd.toState);
  if (from === undefined || to === undefined) return invalid('unknown node state', 'toState');
  if (node.state !== from) return refuse('CONDITION_FAILED', `node ${node.id} is ${node.state}, not ${from}`);
  if (!LIVENESS_MOVES.has(`${from}>${to}`)) return invalid(`node state cannot go from ${from} to ${to}`, 'toState');
  if (to === 'removed') {
    const busy = nodeInUse(state, node.id);
    if (busy !== null) return refuse('CONDITION_FAILED', `node ${node.id} still ${busy}`);
    for (const g of state.garbage.filter((x) => x.nodeId === node.id)) removeGarbage(state, g);
  }
  state.nodes.set(node.id, { ...node, state: to, stateChangedMs: stampMs });
  return ok({ kind: 'node-state-changed', nodeId: node.id, state: to });
}

/** Why a node cannot be removed yet, or null. */
function nodeInUse(state: TopologyState, node: NodeId): string | null {
  for (const s of state.shards.values()) {
    if (s.replicas.some((r) => r.nodeId === node)) return `hosts a replica of shard ${s.id}`;
  }
  for (const op of sortedOperators(state)) {
    if (op.steps.some((st) => st.kind === 'add-learner' && st.nodeId === node)) return `is the target of operator ${op.id}`;
  }
  return null;
}

export function applyDecommission(state: TopologyState, cmd: metacmd.DecommissionNode, stampMs: number): ApplyResult {
  const node = state.nodes.get(cmd.nodeId as NodeId);
  if (node === undefined) return refuse('NOT_FOUND', `node ${cmd.nodeId} is unknown`, 'nodeId');
  if (node.state === 'removed') return refuse('CONDITION_FAILED', `node ${node.id} is already decommissioned`);
  let to: NodeState;
  if (cmd.cancel) {
    if (node.state !== 'decommissioning') return ok(UNCHANGED);
    // Back in service; the failure detector demotes it again if it is not heartbeating.
    to = 'up';
  } else {
    if (node.state === 'decommissioning') return ok(UNCHANGED);
    to = 'decommissioning';
  }
  state.nodes.set(node.id, { ...node, state: to, stateChangedMs: stampMs });
  return ok({ kind: 'node-state-changed', nodeId: node.id, state: to });
}

const ID_KINDS: Readonly<Record<number, IdKind>> = {
  [meta.IdKind.NODE]: 'node',
  [meta.IdKind.SHARD]: 'shard',
  [meta.IdKind.PEER]: 'peer',
  [meta.IdKind.OPERATOR]: 'operator',
  [meta.IdKind.TABLE]: 'table',
};

export function applyAllocateIds(state: TopologyState, cmd: metacmd.AllocateIds): ApplyResult {
  const kind = ID_KINDS[cmd.kind];
  if (kind === undefined) return invalid(`unknown id kind ${cmd.kind}`, 'kind');
  if (cmd.count < 1 || cmd.count > ID_ALLOCATION_MAX) return invalid(`count must be 1..${ID_ALLOCATION_MAX}`, 'count');
  const noIds = checkIdsAvailable(state, kind, cmd.count);
  if (noIds !== null) return err(noIds);
  return ok({ kind: 'ids-allocated', firstId: allocateIds(state, kind, cmd.count), count: cmd.count });
}

/**
 * Forgets destroyed replicas. An acknowledgement for a peer that is (again) a member of
 * its shard is ignored: destroying a live member would be a bug elsewhere, not garbage.
 */
export function applyAckDestroyed(state: TopologyState, cmd: metacmd.AckDestroyedReplicas): ApplyResult {
  let count = 0;
  for (const r of cmd.replicas) {
    const shard = state.shards.get(r.shardId as ShardId);
    if (shard?.replicas.some((x) => x.peerId === r.peerId)) continue;
    if (removeGarbage(state, { nodeId: cmd.nodeId as NodeId, shardId: r.shardId as ShardId, peerId: r.peerId as PeerId })) count++;
  }
  return ok(count === 0 ? UNCHANGED : { kind: 'garbage-acked', count });
}
