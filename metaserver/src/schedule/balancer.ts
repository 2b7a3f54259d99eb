/**
 * Replica balancing within each pool (PD's balance-region, simplified):
 * - by count: while the most and least loaded `up` nodes differ by more than the tolerance
 *   (max(1, replicaBalanceTolerancePercent of the mean)), move one replica from a fuller to
 *   an emptier node — only when they differ by ≥ 2, so every move strictly evens the
 *   spread and balancing terminates instead of oscillating;
 * - by bytes: once counts are within tolerance, move a replica from the fullest disk to the
 *   emptiest when their use differs by more than bytesBalanceTolerancePercent points,
 *   never overshooting; if that bends the count tolerance by one, the count balancer sends
 *   a small replica back (see balanceBytesOnce).
 * A move must not reduce zone spread: the target is in the source's zone or in a zone the
 * shard does not use. Adding a node is just imbalance; the rate limits
 * (balanceOperators*Max) make it gradual.
 */
import type { NodeId } from '@shoal/common';
import { leaderNode, voters } from '../state/index.js';
import type { ReplicaRecord, ShardRecord } from '../state/index.js';
import type { NodeView } from './load-view.js';
import { planOperator } from './round.js';
import type { Round } from './round.js';

/** Allowed spread of a per-node count: max(1, percent of the mean). */
export function tolerance(mean: number, percent: number): number {
  return Math.max(1, Math.floor((mean * percent) / 100));
}

/** The `up` nodes of each pool, pools by name. */
export function poolMembers(round: Round): Map<string, NodeView[]> {
  const pools = new Map<string, NodeView[]>();
  for (const v of round.view.nodes.values()) {
    if (v.node.state !== 'up') continue;
    pools.set(v.node.pool, [...(pools.get(v.node.pool) ?? []), v]);
  }
  return new Map([...pools].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Healthy shards by node, for picking what to move: full replica count, no learners, leader known. */
export function movableShardsByNode(round: Round): Map<NodeId, ShardRecord[]> {
  const out = new Map<NodeId, ShardRecord[]>();
  for (const s of [...round.state.shards.values()].sort((a, b) => a.id - b.id)) {
    const table = round.state.tables.get(s.tableId);
    if (table?.state !== 'active' || s.leaderPeerId === 0 || round.busyShards.has(s.id)) continue;
    if (s.replicas.length !== table.replicaCount || voters(s).length !== table.replicaCount) continue;
    if (s.replicas.some((r) => round.state.nodes.get(r.nodeId)?.state !== 'up')) continue;
    for (const r of s.replicas) out.set(r.nodeId, [...(out.get(r.nodeId) ?? []), s]);
  }
  return out;
}

/** True if moving the shard's replica from `src` to `dst` keeps its zone spread. */
function zoneLegal(round: Round, s: ShardRecord, src: NodeView, dst: NodeView): boolean {
  if (s.replicas.some((r) => r.nodeId === dst.node.id)) return false;
  if (dst.node.zone === src.node.zone) return true;
  return !s.replicas.some((r) => r.nodeId !== src.node.id && round.view.nodes.get(r.nodeId)?.node.zone === dst.node.zone);
}

function replicaOn(s: ShardRecord, node: NodeId): ReplicaRecord {
  return s.replicas.find((r) => r.nodeId === node)!;
}

function tryMove(round: Round, s: ShardRecord, src: NodeView, dst: NodeView, reason: string): boolean {
  const r = replicaOn(s, src.node.id);
  return planOperator(round, {
    shard: s, cause: 'balance-replica', fromNode: src.node.id, reason,
    spec: { kind: 'move-replica', fromPeerId: r.peerId, toNodeId: dst.node.id },
  });
}

function sizeOf(round: Round, s: ShardRecord): number {
  return round.soft.shards.get(s.id)?.sizeBytes ?? 0;
}

function usedRatio(v: NodeView): number {
  return v.capacityBytes > 0 ? v.usedBytes / v.capacityBytes : 0;
}

/** Bytes that can move from `src` to `dst` without `dst` ending fuller (by ratio) than `src`. */
function roomBytes(src: NodeView, dst: NodeView): number {
  return Math.max(0, (src.usedBytes * dst.capacityBytes - dst.usedBytes * src.capacityBytes) / (src.capacityBytes + dst.capacityBytes));
}

/**
 * The order to try `src`'s shards in for a count move to `dst`: non-leaders first (no
 * transfer needed); towards a fuller disk the smallest first, towards an emptier one the
 * largest that fits first — so count moves also even out bytes, never undo a byte move.
 */
function countMoveOrder(round: Round, shards: readonly ShardRecord[], src: NodeView, dst: NodeView): ShardRecord[] {
  const room = roomBytes(src, dst);
  const towardsEmptier = usedRatio(dst) < usedRatio(src);
  const key = (s: ShardRecord): number => {
    const size = sizeOf(round, s);
    if (!towardsEmptier) return size;
    return size <= room ? -size : size;
  };
  const leads = (s: ShardRecord): number => Number(leaderNode(s) === src.node.id);
  return [...shards].sort((a, b) => leads(a) - leads(b) || key(a) - key(b) || a.id - b.id);
}

/** One count-balancing move in the pool; false when balanced or no legal move exists. */
function balanceCountOnce(round: Round, members: NodeView[], byNode: Map<NodeId, ShardRecord[]>): boolean {
  const total = members.reduce((a, v) => a + v.replicaCount, 0);
  const tol = tolerance(total / members.length, round.config.replicaBalanceTolerancePercent);
  const desc = [...members].sort((a, b) => b.replicaCount - a.replicaCount || a.node.id - b.node.id);
  if (desc[0]!.replicaCount - desc.at(-1)!.replicaCount <= tol) return false;
  for (const src of desc) {
    for (const dst of [...desc].reverse()) {
      if (src.replicaCount - dst.replicaCount < 2) break;
      if (!dst.placeable) continue;
      for (const s of countMoveOrder(round, byNode.get(src.node.id) ?? [], src, dst)) {
        if (round.busyShards.has(s.id) || !zoneLegal(round, s, src, dst)) continue;
        if (tryMove(round, s, src, dst, `balance replicas: node ${src.node.id} (${src.replicaCount}) → node ${dst.node.id} (${dst.replicaCount})`)) return true;
      }
    }
  }
  return false;
}

function spreadOf(xs: readonly number[]): number {
  return Math.max(...xs) - Math.min(...xs);
}

/**
 * One byte-balancing move (counts within tolerance): a replica from the fullest disk to
 * the emptiest. When the move pushes the count spread one past the tolerance, the count
 * balancer's next move goes back with `dst`'s smallest replica — a swap in two rounds — so
 * the big replica is chosen net of that: the gain `size − back` must be positive and fit
 * the room, which makes every cycle shrink the byte gap and rules out ping-pong.
 */
function balanceBytesOnce(round: Round, members: NodeView[], byNode: Map<NodeId, ShardRecord[]>): boolean {
  const counts = members.map((v) => v.replicaCount);
  const tol = tolerance(counts.reduce((a, c) => a + c, 0) / members.length, round.config.replicaBalanceTolerancePercent);
  const byUse = [...members].sort((a, b) => usedRatio(b) - usedRatio(a) || a.node.id - b.node.id);
  const src = byUse[0]!;
  const dst = byUse.at(-1)!;
  if (!dst.placeable || usedRatio(src) - usedRatio(dst) <= round.config.bytesBalanceTolerancePercent / 100) return false;
  const after = spreadOf([...members.filter((v) => v !== src && v !== dst).map((v) => v.replicaCount), src.replicaCount - 1, dst.replicaCount + 1]);
  if (after > tol + 1) return false;
  const returning = (byNode.get(dst.node.id) ?? []).filter((s) => !round.busyShards.has(s.id) && zoneLegal(round, s, dst, src));
  const back = after <= tol ? 0 : Math.min(...returning.map((s) => sizeOf(round, s)));
  if (!Number.isFinite(back)) return false;
  const room = roomBytes(src, dst);
  const best = (byNode.get(src.node.id) ?? [])
    .filter((s) => !round.busyShards.has(s.id) && zoneLegal(round, s, src, dst))
    .filter((s) => sizeOf(round, s) - back > 0 && sizeOf(round, s) - back <= room)
    .sort((a, b) => sizeOf(round, b) - sizeOf(round, a) || a.id - b.id)[0];
  return best !== undefined && tryMove(round, best, src, dst, `balance bytes: node ${src.node.id} → node ${dst.node.id}`);
}

export function balanceReplicas(round: Round): void {
  if (!round.config.replicaBalanceEnabled) return;
  const byNode = movableShardsByNode(round);
  for (const members of poolMembers(round).values()) {
    if (members.length < 2) continue;
    let planned = 0;
    while (planned < round.config.balanceOperatorsMax && balanceCountOnce(round, members, byNode)) planned++;
    if (planned === 0) balanceBytesOnce(round, members, byNode);
  }
}
