/**
 * A scheduling round's picture of the cluster: per node, the replica and leader counts
 * it will have once every running operator finished ("projected"), its disk use from
 * heartbeats, and how many running operators of each class touch it. Built once per
 * round; decisions made during the round update it (`noteMove`, `noteTransfer`), so
 * later decisions of the same round see earlier ones.
 */
import type { NodeId } from '@shoal/common';
import { leaderNode, replicaOfPeer, sortedNodes, sortedOperators } from '../state/index.js';
import type { NodeRecord, OperatorCause, OperatorRecord, TopologyState } from '../state/index.js';
import { lastHeardMs } from './soft-state.js';
import type { SoftState } from './soft-state.js';

/** Rate-limit class of an operator; admin operators are never limited. */
export type OperatorClass = 'recovery' | 'drain' | 'balance' | 'leader' | 'split' | 'admin';

export function classOf(cause: OperatorCause): OperatorClass {
  switch (cause) {
    case 'recovery': return 'recovery';
    case 'drain':
    case 'repair': return 'drain';
    case 'balance-replica': return 'balance';
    case 'balance-leader': return 'leader';
    case 'split': return 'split';
    case 'admin': return 'admin';
  }
}

export interface NodeView {
  readonly node: NodeRecord;
  replicaCount: number;
  leaderCount: number;
  usedBytes: number;
  readonly capacityBytes: number;
  /** Accepts new replicas: up, not busy, heard from recently. */
  readonly placeable: boolean;
  /**
   * Heard from within the round's staleness bound (`targetStaleAfterMs`): a node that
   * missed two heartbeats is not yet suspect but likely gone, so it is not made a target.
   */
  readonly heardRecently: boolean;
  /** Running (and newly planned) operators per class that add to or remove from this node. */
  readonly running: Map<OperatorClass, number>;
}

export interface LoadView {
  readonly nodes: Map<NodeId, NodeView>;
  /** Running (and newly planned) operators per class, cluster-wide. */
  readonly running: Map<OperatorClass, number>;
}

function bump(m: Map<OperatorClass, number>, c: OperatorClass, by = 1): void {
  m.set(c, (m.get(c) ?? 0) + by);
}

/** When to call a node heard from recently; absent: always (no clock at hand). */
export interface Freshness {
  readonly nowMs: number;
  readonly staleAfterMs: number;
}

export function buildLoadView(state: TopologyState, soft: SoftState, freshness?: Freshness): LoadView {
  const nodes = new Map<NodeId, NodeView>();
  for (const n of sortedNodes(state)) {
    if (n.state === 'removed') continue;
    const load = soft.nodes.get(n.id);
    // lastHeardMs counts from the leader's takeover, so a new leader's empty soft state
    // does not make every node stale at once.
    const heardRecently = freshness === undefined || freshness.nowMs - lastHeardMs(soft, n.id) <= freshness.staleAfterMs;
    nodes.set(n.id, {
      node: n, replicaCount: 0, leaderCount: 0, usedBytes: load?.usedBytes ?? 0,
      capacityBytes: load?.capacityBytes || n.capacityBytes, placeable: n.state === 'up' && load?.busy !== true && heardRecently,
      heardRecently, running: new Map(),
    });
  }
  for (const s of state.shards.values()) {
    for (const r of s.replicas) {
      const v = nodes.get(r.nodeId);
      if (v !== undefined) v.replicaCount++;
    }
    const leader = leaderNode(s);
    const lv = leader === undefined ? undefined : nodes.get(leader);
    if (lv !== undefined) lv.leaderCount++;
  }
  const view: LoadView = { nodes, running: new Map() };
  for (const op of sortedOperators(state)) noteRunning(state, view, op);
  return view;
}

/** Counts a running operator: its class, the nodes it touches, its pending replica changes. */
function noteRunning(state: TopologyState, view: LoadView, op: OperatorRecord): void {
  const cls = classOf(op.cause);
  bump(view.running, cls);
  const shard = state.shards.get(op.shardId);
  const touched = new Set<NodeId>();
  for (const [i, step] of op.steps.entries()) {
    const pending = i >= op.stepIndex;
    if (step.kind === 'add-learner') {
      touched.add(step.nodeId);
      if (pending) adjust(view, step.nodeId, +1);
    } else if (step.kind === 'remove-replica') {
      const node = shard === undefined ? undefined : replicaOfPeer(shard, step.peerId)?.nodeId;
      if (node !== undefined) {
        touched.add(node);
        if (pending) adjust(view, node, -1);
      }
    }
  }
  // A pending leader transfer (transfer-leader operators) already counts at its target.
  const step = op.steps[op.stepIndex];
  const from = shard === undefined ? undefined : leaderNode(shard);
  const to = step?.kind === 'transfer-leader' && step.onlyIfLeaderIs === 0 && shard !== undefined
    ? replicaOfPeer(shard, step.toPeerId)?.nodeId : undefined;
  if (to !== undefined && to !== from) noteTransfer(view, from, to, false);
  for (const n of touched) {
    const v = view.nodes.get(n);
    if (v !== undefined) bump(v.running, cls);
  }
}

function adjust(view: LoadView, node: NodeId, by: number): void {
  const v = view.nodes.get(node);
  if (v !== undefined) v.replicaCount += by;
}

/** Records a move planned this round. */
export function noteMove(view: LoadView, cls: OperatorClass, from: NodeId | undefined, to: NodeId | undefined, bytes: number): void {
  bump(view.running, cls);
  for (const [n, sign] of [[from, -1], [to, +1]] as const) {
    const v = n === undefined ? undefined : view.nodes.get(n);
    if (v === undefined) continue;
    v.replicaCount += sign;
    v.usedBytes = Math.max(0, v.usedBytes + sign * bytes);
    bump(v.running, cls);
  }
}

/** Records a leader transfer planned this round. */
export function noteTransfer(view: LoadView, from: NodeId | undefined, to: NodeId, planned = true): void {
  if (planned) bump(view.running, 'leader');
  const f = from === undefined ? undefined : view.nodes.get(from);
  if (f !== undefined) f.leaderCount--;
  const t = view.nodes.get(to);
  if (t !== undefined) t.leaderCount++;
}

export function noteOther(view: LoadView, cls: OperatorClass): void {
  bump(view.running, cls);
}

export interface ClassLimits {
  readonly perNodeMax: number;
  readonly clusterMax: number;
}

/** True if one more operator of the class may start touching these nodes. */
export function withinLimits(view: LoadView, cls: OperatorClass, limits: ClassLimits, nodes: readonly (NodeId | undefined)[]): boolean {
  if (cls === 'admin') return true;
  if ((view.running.get(cls) ?? 0) >= limits.clusterMax) return false;
  return nodes.every((n) => n === undefined || (view.nodes.get(n)?.running.get(cls) ?? 0) < limits.perNodeMax);
}
