/**
 * One scheduling round on the metaserver leader: a pure function of the replicated
 * state, the leader's soft heartbeat data, the clock and the config, returning the
 * commands to propose. In order:
 *
 *   1. failure detection (node state changes);
 *   2. chores: operators past their deadline end as timed out (the checkers plan afresh
 *      after `operatorRetryBackoffMs`; a half-done move leaves a learner the replica
 *      checker removes); operators whose remaining steps need a down node are cancelled
 *      at once, so recovery never waits for a doomed operator's time-out; dropping tables
 *      are removed (their replicas become garbage to destroy); decommissioning nodes that
 *      host nothing any more are marked removed;
 *   3. replica checker (recovery, drain, repair), 4. split checker,
 *   5. replica balancing, 6. leader balancing — at most one operator per shard, within
 *      the rate limits, later steps seeing the operators earlier steps planned.
 *
 * The round also forgets soft entries of nodes and shards the state no longer has.
 *
 * Caller's obligations: run rounds one at a time, only while leader, and propose a
 * round's commands before starting the next (wait for them to apply), so the next round
 * sees their effect; refused proposals (e.g. CONDITION_FAILED because the state moved on)
 * are expected and harmless.
 */
import type { NodeId } from '@shoal/common';
import { commands as cmd, replicaOfPeer, sortedNodes, sortedOperators, sortedTables } from '../state/index.js';
import type { CommandKind, OperatorRecord, TopologyState } from '../state/index.js';
import { balanceReplicas } from './balancer.js';
import { detectFailures } from './failure-detector.js';
import { balanceLeaders } from './leader-balancer.js';
import type { SchedulerConfig } from './options.js';
import { checkReplicas } from './replica-checker.js';
import type { StuckShard } from './replica-checker.js';
import { startRound } from './round.js';
import type { SoftState } from './soft-state.js';
import { pruneSoftState } from './soft-state.js';
import { checkSplits } from './split-checker.js';

export interface ScheduleDecision {
  /** Propose these, in order. */
  readonly commands: readonly CommandKind[];
  /** Shards that need an operator the scheduler cannot give (for logs, metrics, status). */
  readonly stuck: readonly StuckShard[];
}

export function schedule(state: TopologyState, soft: SoftState, nowMs: number, config: SchedulerConfig): ScheduleDecision {
  pruneSoftState(soft, state);
  const chores = [
    ...detectFailures(state, soft, nowMs, config),
    ...expireOperators(state, nowMs),
    ...cancelDoomedOperators(state),
    ...reapDroppedTables(state),
    ...finishDecommissions(state),
  ];
  const round = startRound(state, soft, nowMs, config);
  const stuck = checkReplicas(round);
  checkSplits(round);
  balanceReplicas(round);
  balanceLeaders(round);
  return { commands: [...chores, ...round.out], stuck };
}

// ---------------------------------------------------------------- chores

export function expireOperators(state: TopologyState, nowMs: number): CommandKind[] {
  return sortedOperators(state)
    .filter((op) => nowMs >= op.createdMs + op.timeoutMs)
    .map((op) => cmd.finishOperator(op.id, 'timed-out', `no progress within ${op.timeoutMs} ms (step ${op.stepIndex + 1}/${op.steps.length})`));
}

/** Nodes the operator's remaining steps need alive: learner targets, promoted peers, new leaders. */
function targetsOf(state: TopologyState, op: OperatorRecord): NodeId[] {
  const shard = state.shards.get(op.shardId);
  const nodeOfPeer = (p: number): NodeId | undefined => (shard === undefined ? undefined : replicaOfPeer(shard, p as never)?.nodeId);
  const out: NodeId[] = [];
  for (const step of op.steps.slice(op.stepIndex)) {
    if (step.kind === 'add-learner') out.push(step.nodeId);
    const peer = step.kind === 'promote-learner' ? step.peerId : step.kind === 'transfer-leader' ? step.toPeerId : undefined;
    const node = peer === undefined ? undefined : nodeOfPeer(peer);
    if (node !== undefined) out.push(node);
  }
  return out;
}

export function cancelDoomedOperators(state: TopologyState): CommandKind[] {
  const out: CommandKind[] = [];
  for (const op of sortedOperators(state)) {
    const down = targetsOf(state, op).find((n) => {
      const st = state.nodes.get(n)?.state;
      return st === 'down' || st === 'removed';
    });
    if (down !== undefined) out.push(cmd.finishOperator(op.id, 'cancelled', `node ${down} is down`));
  }
  return out;
}

export function reapDroppedTables(state: TopologyState): CommandKind[] {
  return sortedTables(state).filter((t) => t.state === 'dropping').map((t) => cmd.removeTable(t.id));
}

/** Decommissioning nodes with no replica and no operator adding one. */
export function finishDecommissions(state: TopologyState): CommandKind[] {
  const busy = new Set<number>();
  for (const s of state.shards.values()) for (const r of s.replicas) busy.add(r.nodeId);
  for (const op of state.operators.values()) {
    for (const st of op.steps) if (st.kind === 'add-learner') busy.add(st.nodeId);
  }
  return sortedNodes(state)
    .filter((n) => n.state === 'decommissioning' && !busy.has(n.id))
    .map((n) => cmd.setNodeState(n.id, 'decommissioning', 'removed'));
}
