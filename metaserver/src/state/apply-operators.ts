/**
 * Operators in the replicated state: adding one (validated against the shard's current
 * epoch, one per shard), advancing it as shard reports show its steps done, and ending
 * it (success from reports; failure, time-out and cancellation from FinishOperator).
 */
import { err, ok } from '@shoal/common';
import type { NodeId, PeerId, ShardId } from '@shoal/common';
import type { metacmd } from '@shoal/proto';
import {
  epochFromProto, operatorCauseFromProto, operatorStateFromProto,
} from './convert.js';
import { epochEquals, formatEpoch } from './epoch.js';
import { hashMiddleKey, strictlyInside } from './key-ranges.js';
import { expandSpec, idsNeeded, stepBlocked, stepDone, successorOf } from './operator-plan.js';
import { invalid, refuse, UNCHANGED } from './apply-result.js';
import type { ApplyResult } from './apply-result.js';
import { addGarbage, allocateIds, checkIdsAvailable, operatorOfShard, replicaOfPeer, voters } from './topology-state.js';
import { OPERATOR_HISTORY_MAX } from './types.js';
import type {
  OperatorId, OperatorRecord, OperatorSpec, OperatorState, ShardRecord, TableRecord, TopologyState,
} from './types.js';

type Checked<T> = { readonly value: T } | { readonly refused: ApplyResult };

function specFromProto(spec: metacmd.AddOperator['spec']): OperatorSpec | undefined {
  switch (spec?.$case) {
    case 'moveReplica':
      return { kind: 'move-replica', fromPeerId: spec.moveReplica.fromPeerId as PeerId, toNodeId: spec.moveReplica.toNodeId as NodeId };
    case 'removeReplica': return { kind: 'remove-replica', peerId: spec.removeReplica.peerId as PeerId };
    case 'transferLeader': return { kind: 'transfer-leader', toPeerId: spec.transferLeader.toPeerId as PeerId };
    case 'split': return { kind: 'split', splitKey: spec.split.splitKey.slice() };
    case 'forceReduce': return { kind: 'force-reduce', keepPeerIds: spec.forceReduce.keepPeerIds as PeerId[] };
    case undefined: return undefined;
  }
}

/** True if the node is neither down nor removed (suspect still counts: not given up on). */
export function nodeAlive(state: TopologyState, node: NodeId): boolean {
  const s = state.nodes.get(node)?.state;
  return s !== undefined && s !== 'down' && s !== 'removed';
}

function checkMove(state: TopologyState, spec: Extract<OperatorSpec, { kind: 'move-replica' }>, shard: ShardRecord, table: TableRecord): ApplyResult | null {
  const node = state.nodes.get(spec.toNodeId);
  if (node === undefined || node.pool !== table.pool) return invalid(`node ${spec.toNodeId} is not in pool ${table.pool}`, 'toNodeId');
  if (node.state !== 'up') return refuse('UNAVAILABLE', `node ${node.id} is ${node.state}`, 'toNodeId');
  if (shard.replicas.some((r) => r.nodeId === node.id)) return invalid(`node ${node.id} already hosts shard ${shard.id}`, 'toNodeId');
  if (spec.fromPeerId !== 0 && replicaOfPeer(shard, spec.fromPeerId) === undefined) {
    return invalid(`peer ${spec.fromPeerId} is not a replica of shard ${shard.id}`, 'fromPeerId');
  }
  return null;
}

function checkRemove(spec: Extract<OperatorSpec, { kind: 'remove-replica' }>, shard: ShardRecord): ApplyResult | null {
  const r = replicaOfPeer(shard, spec.peerId);
  if (r === undefined) return invalid(`peer ${spec.peerId} is not a replica of shard ${shard.id}`, 'peerId');
  if (r.role === 'voter' && voters(shard).length < 2) return invalid(`peer ${spec.peerId} is the last voter`, 'peerId');
  return null;
}

/** B-Station's dynamic replica reduction is only allowed once the quorum is really lost. */
function checkForceReduce(state: TopologyState, spec: Extract<OperatorSpec, { kind: 'force-reduce' }>, shard: ShardRecord): ApplyResult | null {
  const vs = voters(shard);
  const keep = new Set(spec.keepPeerIds);
  if (keep.size === 0 || keep.size !== spec.keepPeerIds.length) return invalid('keep at least one peer, each once', 'keepPeerIds');
  for (const p of keep) {
    const r = vs.find((v) => v.peerId === p);
    if (r === undefined) return invalid(`peer ${p} is not a voter of shard ${shard.id}`, 'keepPeerIds');
    if (!nodeAlive(state, r.nodeId)) return invalid(`peer ${p} is on a dead node`, 'keepPeerIds');
  }
  const alive = vs.filter((v) => nodeAlive(state, v.nodeId)).length;
  if (alive * 2 > vs.length) return refuse('CONDITION_FAILED', `shard ${shard.id} still has a quorum (${alive}/${vs.length} alive)`);
  return null;
}

/** Validates the spec and resolves what apply decides (a hash split's middle key). */
function checkSpec(state: TopologyState, spec: OperatorSpec, shard: ShardRecord, table: TableRecord): Checked<OperatorSpec> {
  const refusedBy = (r: ApplyResult | null): Checked<OperatorSpec> => (r === null ? { value: spec } : { refused: r });
  switch (spec.kind) {
    case 'move-replica': return refusedBy(checkMove(state, spec, shard, table));
    case 'remove-replica': return refusedBy(checkRemove(spec, shard));
    case 'transfer-leader':
      return refusedBy(replicaOfPeer(shard, spec.toPeerId)?.role === 'voter' ? null : invalid(`peer ${spec.toPeerId} is not a voter`, 'toPeerId'));
    case 'force-reduce': return refusedBy(checkForceReduce(state, spec, shard));
    case 'split': {
      // Hash shards always split at the middle slot, so the metaserver names the key itself.
      const key = table.partition === 'hash' && spec.splitKey.length === 0 ? hashMiddleKey(table.id, shard) : spec.splitKey;
      if (key === null) return { refused: invalid(`shard ${shard.id} owns a single slot`, 'splitKey') };
      if (key.length > 0 && !strictlyInside(key, shard)) return { refused: invalid('split key is not inside the shard', 'splitKey') };
      return { value: { kind: 'split', splitKey: key } };
    }
  }
}

/**
 * A force-reduce supersedes whatever else runs on the shard, scheduler-made or admin-made:
 * it is only accepted once the quorum is lost (checkForceReduce), when no membership change
 * can commit, so the running operator could only wait for its time-out — minutes during
 * which the shard stays unavailable. Force-reduce is the administrator's explicit last
 * resort, so it wins. A running force-reduce is never superseded (it may be executing on
 * the nodes already).
 */
function supersedable(running: OperatorRecord, cmd: metacmd.AddOperator): boolean {
  return cmd.spec?.$case === 'forceReduce' && running.kind !== 'force-reduce';
}

function findShardAndTable(state: TopologyState, cmd: metacmd.AddOperator): Checked<{ shard: ShardRecord; table: TableRecord }> {
  const shard = state.shards.get(cmd.shardId as ShardId);
  const table = shard === undefined ? undefined : state.tables.get(shard.tableId);
  if (shard === undefined || table === undefined) return { refused: refuse('SHARD_NOT_FOUND', `no shard ${cmd.shardId}`, 'shardId') };
  if (table.state === 'dropping') return { refused: refuse('TABLE_NOT_FOUND', `table ${table.name} is being dropped`) };
  const running = operatorOfShard(state, shard.id);
  if (running !== undefined && !supersedable(running, cmd)) {
    return { refused: refuse('CONDITION_FAILED', `shard ${shard.id} already runs operator ${running.id}`) };
  }
  const epoch = epochFromProto(cmd.epoch);
  if (!epochEquals(epoch, shard.epoch)) {
    return { refused: refuse('EPOCH_NOT_MATCH', `operator planned at ${formatEpoch(epoch)}, shard is at ${formatEpoch(shard.epoch)}`) };
  }
  return { value: { shard, table } };
}

export function applyAddOperator(state: TopologyState, cmd: metacmd.AddOperator, stampMs: number): ApplyResult {
  const rawSpec = specFromProto(cmd.spec);
  const cause = operatorCauseFromProto(cmd.cause);
  if (rawSpec === undefined || cause === undefined) return invalid('operator spec and cause must be set', 'spec');
  if (cmd.timeoutMs === 0) return invalid('operator timeout must be positive', 'timeoutMs');
  const found = findShardAndTable(state, cmd);
  if ('refused' in found) return found.refused;
  const { shard } = found.value;
  const checked = checkSpec(state, rawSpec, shard, found.value.table);
  if ('refused' in checked) return checked.refused;
  const spec = checked.value;
  const need = idsNeeded(spec, shard);
  const noIds = checkIdsAvailable(state, 'operator', need.steps) ?? checkIdsAvailable(state, 'peer', need.peers)
    ?? checkIdsAvailable(state, 'shard', need.shards);
  if (noIds !== null) return err(noIds);
  // Only now, with the force-reduce known valid, is a superseded operator ended.
  const superseded = operatorOfShard(state, shard.id);
  if (superseded !== undefined) cancelOperator(state, superseded, 'cancelled', `superseded by a force-reduce: ${cmd.reason}`, stampMs);
  const firstStepId = allocateIds(state, 'operator', need.steps);
  const firstPeer = allocateIds(state, 'peer', need.peers);
  const newShardId = need.shards === 0 ? 0 : allocateIds(state, 'shard', 1);
  const newPeerIds = spec.kind === 'split' ? shard.replicas.map((_, i) => firstPeer + i) : [];
  const removed = spec.kind === 'remove-replica' ? spec.peerId : (0 as PeerId);
  const successor = successorOf(shard, removed, (n) => state.nodes.get(n)?.state === 'up');
  const op: OperatorRecord = {
    id: firstStepId as OperatorId, shardId: shard.id, tableId: shard.tableId, kind: spec.kind, cause, reason: cmd.reason,
    steps: expandSpec(spec, shard, { firstStepId, peerId: firstPeer, newShardId, newPeerIds }, successor),
    stepIndex: 0, state: 'running', createdMs: stampMs, stepStartedMs: stampMs, finishedMs: 0, timeoutMs: cmd.timeoutMs,
    message: '',
  };
  state.operators.set(op.id, op);
  state.operatorByShard.set(shard.id, op.id);
  advanceOperator(state, shard.id, stampMs);
  return ok({ kind: 'operator-added', operatorId: op.id });
}

const FINISH_STATES: ReadonlySet<OperatorState> = new Set(['failed', 'timed-out', 'cancelled']);

export function applyFinishOperator(state: TopologyState, cmd: metacmd.FinishOperator, stampMs: number): ApplyResult {
  const to = operatorStateFromProto(cmd.state);
  if (to === undefined || !FINISH_STATES.has(to)) return invalid('an operator is finished as failed, timed out or cancelled', 'state');
  const op = state.operators.get(cmd.operatorId as OperatorId);
  // Idempotent: finishing an unknown or already finished operator changes nothing.
  if (op === undefined) return ok(UNCHANGED);
  cancelOperator(state, op, to, cmd.message, stampMs);
  return ok({ kind: 'operator-finished', operatorId: op.id, state: to });
}

/**
 * Ends a running operator and moves it to the bounded history. An operator that did not
 * succeed may have left a learner behind: see strandedLearnersToGarbage.
 */
export function cancelOperator(state: TopologyState, op: OperatorRecord, to: OperatorState, message: string, stampMs: number): void {
  if (to !== 'succeeded') strandedLearnersToGarbage(state, op);
  state.operators.delete(op.id);
  state.operatorByShard.delete(op.shardId);
  state.operatorHistory.push({ ...op, state: to, message, finishedMs: stampMs });
  if (state.operatorHistory.length > OPERATOR_HISTORY_MAX) state.operatorHistory.shift();
}

/**
 * The NodeAdmin driver creates an AddLearner step's replica on its target node before the
 * step is handed out (node-actions.ts), so every add-learner step the operator reached may
 * have left a replica there — created, but never added to the group when the proposal was
 * dropped. A learner the shard's descriptor does not name is garbage: without this, the
 * node keeps it forever and refuses every later CreateReplica of the shard ("already has
 * replica"). A learner the group did add but has not reported yet is safe: the node
 * refuses to destroy a member, and the driver skips garbage a descriptor names again.
 */
function strandedLearnersToGarbage(state: TopologyState, op: OperatorRecord): void {
  const shard = state.shards.get(op.shardId);
  const last = Math.min(op.stepIndex, op.steps.length - 1);
  for (let i = 0; i <= last; i++) {
    const step = op.steps[i]!;
    if (step.kind !== 'add-learner') continue;
    if (shard !== undefined && replicaOfPeer(shard, step.peerId) !== undefined) continue;
    addGarbage(state, { nodeId: step.nodeId, shardId: op.shardId, peerId: step.peerId });
  }
}

/**
 * Moves the shard's operator past every step the stored descriptor shows done; succeeds
 * it after the last, fails it when its current step became impossible.
 */
export function advanceOperator(state: TopologyState, shardId: ShardId, stampMs: number): void {
  const op = operatorOfShard(state, shardId);
  if (op === undefined) return;
  const shard = state.shards.get(shardId);
  if (shard === undefined) return cancelOperator(state, op, 'cancelled', 'shard is gone', stampMs);
  let i = op.stepIndex;
  while (i < op.steps.length && stepDone(op.steps[i]!, shard)) i++;
  if (i === op.steps.length) return cancelOperator(state, { ...op, stepIndex: i }, 'succeeded', '', stampMs);
  const blocked = stepBlocked(op.steps[i]!, shard);
  if (blocked !== null) return cancelOperator(state, { ...op, stepIndex: i }, 'failed', blocked, stampMs);
  if (i !== op.stepIndex) state.operators.set(op.id, { ...op, stepIndex: i, stepStartedMs: stampMs });
}
