/**
 * Heartbeat handling on the metaserver leader: what to record in memory, what to propose
 * through Raft, and what to reply.
 *
 * Shard heartbeat: a stale epoch (or a deposed leader's older term) is answered with
 * EPOCH_NOT_MATCH / ignored and never proposed; a descriptor that differs from the stored
 * one (newer epoch, new leader, an unknown split half) is proposed as ReportShard; the
 * reply carries the shard operator's current step — judged against the reported
 * descriptor, so the next step goes out without waiting for the report to commit.
 *
 * Node heartbeat: recorded; a suspect or down node that is heard again is proposed `up`;
 * the reply lists the node's garbage replicas to destroy, and the shards it leads whose
 * running operator waits on a shard heartbeat (idle leaders report rarely; each operator
 * step would otherwise wait up to shardHeartbeatIdleIntervals node heartbeats).
 */
import { KvError } from '@shoal/common';
import type { NodeId, PeerId } from '@shoal/common';
import { meta } from '@shoal/proto';
import {
  commands as cmd, compareEpoch, garbageOfNode, operatorOfShard, reportedShardFromProto, shardToDescriptor, stepDone,
  stepToWire,
} from '../state/index.js';
import type { CommandKind, OperatorRecord, OperatorStep, ShardRecord, TopologyState } from '../state/index.js';
import { learnerReplica } from './node-actions.js';
import type { NodeAction } from './node-actions.js';
import type { SchedulerConfig } from './options.js';
import { recordNodeHeartbeat, recordShardHeartbeat, reportedStatus } from './soft-state.js';
import type { ShardLoad, SoftState } from './soft-state.js';

export interface ShardHeartbeatDecision {
  readonly proposals: readonly CommandKind[];
  /** The step for the shard leader — reply with it only after `prerequisite` succeeded. */
  readonly operator?: meta.Operator | undefined;
  readonly prerequisite?: NodeAction | undefined;
  /** Reply with this error (e.g. EPOCH_NOT_MATCH with the stored descriptor). */
  readonly error?: KvError | undefined;
}

const NOTHING: ShardHeartbeatDecision = Object.freeze({ proposals: [] });

function staleError(state: TopologyState, cur: ShardRecord): KvError {
  const table = state.tables.get(cur.tableId);
  return new KvError('EPOCH_NOT_MATCH', `shard ${cur.id} is at a newer epoch`, {
    details: { shard: shardToDescriptor(cur, table?.partition) },
  });
}

export function onShardHeartbeat(
  state: TopologyState, soft: SoftState, req: meta.ShardHeartbeatRequest, nowMs: number, config: SchedulerConfig,
  approximateMiddleKey?: Uint8Array,
): ShardHeartbeatDecision {
  const rep = req.shard === undefined ? undefined : reportedShardFromProto(req.shard);
  if (rep === undefined) return { proposals: [], error: new KvError('INVALID_ARGUMENT', 'malformed shard descriptor') };
  const cur = state.shards.get(rep.id);
  const order = cur === undefined ? 'newer' : compareEpoch(rep.epoch, cur.epoch);
  if (cur !== undefined && (order === 'older' || order === 'conflict')) return { proposals: [], error: staleError(state, cur) };
  if (!recordShardHeartbeat(soft, state, req, nowMs, approximateMiddleKey)) return NOTHING;
  const proposals: CommandKind[] = [];
  const leaderMoved = rep.leaderPeerId !== 0 && rep.leaderPeerId !== cur?.leaderPeerId;
  if (order === 'newer' || leaderMoved) proposals.push(cmd.reportShard(req.shard));
  const op = cur === undefined ? undefined : operatorOfShard(state, cur.id);
  if (cur === undefined || op === undefined) return { proposals };
  const view: ShardRecord = { ...cur, ...rep, leaderPeerId: rep.leaderPeerId || cur.leaderPeerId, routeVersion: cur.routeVersion };
  return { proposals, ...nextStep(state, soft.shards.get(cur.id), op, view, req, nowMs, config, proposals) };
}

/** The first step the reported descriptor does not show done. */
export function currentStep(op: OperatorRecord, view: ShardRecord): OperatorStep | undefined {
  let i = op.stepIndex;
  while (i < op.steps.length && stepDone(op.steps[i]!, view)) i++;
  return op.steps[i];
}

function nextStep(
  state: TopologyState, load: ShardLoad | undefined, op: OperatorRecord, view: ShardRecord, req: meta.ShardHeartbeatRequest,
  nowMs: number, config: SchedulerConfig, proposals: CommandKind[],
): Omit<ShardHeartbeatDecision, 'proposals'> {
  const step = currentStep(op, view);
  if (step === undefined) return {};
  const status = reportedStatus(req);
  if (status !== undefined && status.operatorId === step.id && status.state !== 'running' && status.state !== 'succeeded') {
    // The leader gave up on this step: end the operator; the checkers plan afresh after a back-off.
    proposals.push(cmd.finishOperator(op.id, status.state, `leader reported: ${status.message}`));
    return {};
  }
  if (!stepReady(step, view, load, config)) return {};
  const operator = stepToWire(op, step, view.epoch, op.createdMs + op.timeoutMs - nowMs);
  const table = state.tables.get(view.tableId);
  const prerequisite = step.kind === 'add-learner' && table !== undefined ? learnerReplica(state, view, table, step) : undefined;
  return { operator, prerequisite };
}

/** Whether the leader may run the step now. */
function stepReady(step: OperatorStep, view: ShardRecord, load: ShardLoad | undefined, config: SchedulerConfig): boolean {
  switch (step.kind) {
    case 'promote-learner': return caughtUp(load, step.peerId, config.learnerCatchUpLagEntriesMax);
    case 'split': return view.epoch.confVer === step.fromEpoch.confVer;
    // Run by the metaserver itself through NodeAdmin (node-actions.ts), not by a leader.
    case 'force-reduce': return false;
    case 'add-learner':
    case 'transfer-leader':
    case 'remove-replica': return true;
  }
}

/**
 * A learner is caught up when its leader heard from it recently and it replicates (no
 * snapshot pending) within the lag of the commit index. Promoting a silent learner would
 * grow the quorum with a member that cannot vote.
 */
export function caughtUp(load: ShardLoad | undefined, peer: PeerId, lagMax: number): boolean {
  const p = load?.progress.get(peer);
  return p !== undefined && p.recentActive && p.state === 'replicate' && p.matchIndex + lagMax >= load!.commitIndex;
}

export interface NodeHeartbeatDecision {
  readonly proposals: readonly CommandKind[];
  readonly reply: meta.NodeHeartbeatResponse;
  readonly error?: KvError | undefined;
}

/** Bounds the destroy commands of one reply; the rest follow in later replies. */
export const NODE_COMMANDS_MAX = 256;
/** Bounds `reportShardIds` of one reply; the rest are asked for in later replies. */
export const REPORT_SHARDS_MAX = 64;

/**
 * Shards led (as far as the stored state knows) from `node` with a running operator whose
 * current step a shard leader runs or reports progress of: every step but force-reduce
 * (the metaserver runs that one itself through NodeAdmin).
 */
export function shardsToReport(state: TopologyState, node: NodeId): number[] {
  const out: number[] = [];
  for (const op of state.operators.values()) {
    if (out.length >= REPORT_SHARDS_MAX) break;
    if (op.state !== 'running') continue;
    const shard = state.shards.get(op.shardId);
    if (shard === undefined || shard.leaderPeerId === 0) continue;
    if (shard.replicas.find((r) => r.peerId === shard.leaderPeerId)?.nodeId !== node) continue;
    const step = currentStep(op, shard);
    if (step === undefined || step.kind === 'force-reduce') continue;
    out.push(shard.id);
  }
  return out;
}

export function onNodeHeartbeat(state: TopologyState, soft: SoftState, req: meta.NodeHeartbeatRequest, nowMs: number): NodeHeartbeatDecision {
  const reply = (commands: meta.NodeCommand[] = [], reportShardIds: number[] = []): meta.NodeHeartbeatResponse =>
    meta.NodeHeartbeatResponse.create({ commands, routeVersion: state.routeVersion, reportShardIds });
  if (state.clusterId !== 0 && req.clusterId !== 0 && req.clusterId !== state.clusterId) {
    return { proposals: [], reply: reply(), error: new KvError('INVALID_ARGUMENT', `node belongs to cluster ${req.clusterId}`) };
  }
  const node = state.nodes.get(req.nodeId as NodeId);
  if (node === undefined) {
    return { proposals: [], reply: reply([meta.NodeCommand.create({ type: meta.NodeCommandType.REREGISTER })]) };
  }
  if (node.state === 'removed') {
    return { proposals: [], reply: reply(), error: new KvError('CONDITION_FAILED', `node ${node.id} is decommissioned`) };
  }
  recordNodeHeartbeat(soft, req, nowMs);
  const proposals = node.state === 'suspect' || node.state === 'down' ? [cmd.setNodeState(node.id, node.state, 'up')] : [];
  const destroy = garbageOfNode(state, node.id).slice(0, NODE_COMMANDS_MAX).map((g) => meta.NodeCommand.create({
    type: meta.NodeCommandType.DESTROY_REPLICA, shardId: g.shardId, peerId: g.peerId,
  }));
  return { proposals, reply: reply(destroy, shardsToReport(state, node.id)) };
}
