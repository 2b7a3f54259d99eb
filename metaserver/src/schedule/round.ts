/**
 * One scheduling round's shared context: the inputs (state, soft heartbeat data, clock,
 * config), the load view, the shards that may not get another operator, and the commands
 * decided so far. Checkers plan through `planOperator`, which enforces one operator per
 * shard and the rate limits and keeps the load view current.
 */
import type { NodeId, ShardId } from '@shoal/common';
import { commands as cmd } from '../state/index.js';
import type { CommandKind, OperatorCause, OperatorKind, OperatorSpec, ShardRecord, TopologyState } from '../state/index.js';
import { buildLoadView, classOf, noteMove, noteOther, noteTransfer, withinLimits } from './load-view.js';
import type { ClassLimits, LoadView, OperatorClass } from './load-view.js';
import { targetStaleAfterMs } from './options.js';
import type { SchedulerConfig } from './options.js';
import type { SoftState } from './soft-state.js';

export interface Round {
  readonly state: TopologyState;
  readonly soft: SoftState;
  readonly nowMs: number;
  readonly config: SchedulerConfig;
  readonly view: LoadView;
  /** Shards with a running operator, one planned this round, or in retry back-off. */
  readonly busyShards: Set<ShardId>;
  readonly out: CommandKind[];
}

export function startRound(state: TopologyState, soft: SoftState, nowMs: number, config: SchedulerConfig): Round {
  const busyShards = shardsInBackoff(state, nowMs, config);
  for (const id of state.operatorByShard.keys()) busyShards.add(id);
  return { state, soft, nowMs, config, view: buildLoadView(state, soft, { nowMs, staleAfterMs: targetStaleAfterMs(config) }), busyShards, out: [] };
}

export function limitsOf(config: SchedulerConfig, cls: OperatorClass): ClassLimits {
  switch (cls) {
    case 'recovery': return { perNodeMax: config.recoveryOperatorsPerNodeMax, clusterMax: config.recoveryOperatorsMax };
    case 'drain': return { perNodeMax: config.drainOperatorsPerNodeMax, clusterMax: config.drainOperatorsMax };
    case 'balance': return { perNodeMax: config.balanceOperatorsPerNodeMax, clusterMax: config.balanceOperatorsMax };
    case 'leader': return { perNodeMax: config.leaderTransfersMax, clusterMax: config.leaderTransfersMax };
    case 'split': return { perNodeMax: config.splitOperatorsMax, clusterMax: config.splitOperatorsMax };
    case 'admin': return { perNodeMax: Number.MAX_SAFE_INTEGER, clusterMax: Number.MAX_SAFE_INTEGER };
  }
}

export function timeoutOf(config: SchedulerConfig, kind: OperatorKind): number {
  switch (kind) {
    case 'move-replica': return config.moveReplicaTimeoutMs;
    case 'remove-replica': return config.removeReplicaTimeoutMs;
    case 'transfer-leader': return config.transferLeaderTimeoutMs;
    case 'split': return config.splitTimeoutMs;
    case 'force-reduce': return config.forceReduceTimeoutMs;
  }
}

/** The nodes an operator is rate-limited on: receivers always, senders only when balancing. */
function limitedNodes(cls: OperatorClass, from: NodeId | undefined, to: NodeId | undefined): (NodeId | undefined)[] {
  return cls === 'balance' ? [from, to] : [to];
}

export interface PlanArgs {
  readonly shard: ShardRecord;
  readonly cause: OperatorCause;
  readonly spec: OperatorSpec;
  readonly reason: string;
  /** For moves: the node losing the replica (undefined when only adding). */
  readonly fromNode?: NodeId | undefined;
}

/** Plans an operator unless the shard is busy or a rate limit is reached; returns whether it did. */
export function planOperator(round: Round, a: PlanArgs): boolean {
  const cls = classOf(a.cause);
  const to = a.spec.kind === 'move-replica' ? a.spec.toNodeId : undefined;
  if (round.busyShards.has(a.shard.id)) return false;
  if (!withinLimits(round.view, cls, limitsOf(round.config, cls), limitedNodes(cls, a.fromNode, to))) return false;
  round.out.push(cmd.addOperator({
    shardId: a.shard.id, epoch: a.shard.epoch, cause: a.cause, reason: a.reason, timeoutMs: timeoutOf(round.config, a.spec.kind), spec: a.spec,
  }));
  round.busyShards.add(a.shard.id);
  noteSpec(round, cls, a);
  return true;
}

function noteSpec(round: Round, cls: OperatorClass, a: PlanArgs): void {
  const bytes = round.soft.shards.get(a.shard.id)?.sizeBytes ?? 0;
  switch (a.spec.kind) {
    case 'move-replica': return noteMove(round.view, cls, a.fromNode, a.spec.toNodeId, bytes);
    case 'remove-replica': return noteMove(round.view, cls, a.fromNode, undefined, bytes);
    case 'transfer-leader': {
      const toPeer = a.spec.toPeerId;
      const to = a.shard.replicas.find((r) => r.peerId === toPeer)?.nodeId;
      const from = a.shard.replicas.find((r) => r.peerId === a.shard.leaderPeerId)?.nodeId;
      if (to !== undefined) noteTransfer(round.view, from, to);
      return;
    }
    case 'split':
    case 'force-reduce': return noteOther(round.view, cls);
  }
}

/**
 * Shards whose last operator failed or timed out less than the back-off ago: left alone
 * for now, so a step that keeps failing is not retried in a tight loop.
 */
export function shardsInBackoff(state: TopologyState, nowMs: number, config: SchedulerConfig): Set<ShardId> {
  const out = new Set<ShardId>();
  for (const op of state.operatorHistory) {
    if ((op.state === 'failed' || op.state === 'timed-out') && nowMs - op.finishedMs < config.operatorRetryBackoffMs) out.add(op.shardId);
  }
  return out;
}
