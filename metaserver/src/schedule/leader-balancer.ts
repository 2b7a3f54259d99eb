/**
 * Leader balancing within each pool: while the `up` nodes' leader counts differ by more
 * than max(1, leaderBalanceTolerancePercent of the mean), move leadership from a node with
 * the most leaders towards one with at least two fewer. Leadership can only move between
 * replicas of one shard, so when no shard links the two nodes directly the move is a chain
 * of transfers (A→B on one shard, B→C on another): intermediate nodes keep their count,
 * the ends even out, so every round strictly evens the spread and balancing terminates.
 * Cheap (no data moves), limited by leaderTransfersMax. A new leader must be a peer the
 * shard's leader reports as recently active and replicating, on a node whose last
 * heartbeat is at most two intervals old (not yet suspect is not enough: see load-view.ts).
 */
import type { NodeId, PeerId } from '@shoal/common';
import { leaderNode, voters } from '../state/index.js';
import type { ShardRecord } from '../state/index.js';
import { poolMembers, tolerance } from './balancer.js';
import type { NodeView } from './load-view.js';
import { planOperator } from './round.js';
import type { Round } from './round.js';

/** Longest transfer chain considered. */
const CHAIN_HOPS_MAX = 4;

interface Hop {
  readonly shard: ShardRecord;
  readonly toPeerId: PeerId;
  readonly to: NodeView;
}

function ledShards(round: Round): Map<number, ShardRecord[]> {
  const out = new Map<number, ShardRecord[]>();
  for (const s of [...round.state.shards.values()].sort((a, b) => a.id - b.id)) {
    const table = round.state.tables.get(s.tableId);
    const leader = leaderNode(s);
    if (table?.state !== 'active' || leader === undefined || round.busyShards.has(s.id)) continue;
    out.set(leader, [...(out.get(leader) ?? []), s]);
  }
  return out;
}

/** Transfers possible from `from`: voters of shards it leads that are healthy followers. */
function hopsFrom(round: Round, from: NodeView, led: Map<number, ShardRecord[]>, members: Map<number, NodeView>): Hop[] {
  const out: Hop[] = [];
  for (const s of led.get(from.node.id) ?? []) {
    if (round.busyShards.has(s.id)) continue;
    const progress = round.soft.shards.get(s.id)?.progress;
    for (const r of voters(s)) {
      const to = members.get(r.nodeId);
      const p = progress?.get(r.peerId);
      if (to === undefined || to === from || !to.heardRecently) continue;
      if (p?.recentActive === true && p.state === 'replicate') out.push({ shard: s, toPeerId: r.peerId, to });
    }
  }
  return out;
}

/** Breadth-first: the shortest chain from `src` to a node with ≤ src's count − 2 leaders. */
function chainFrom(round: Round, src: NodeView, led: Map<number, ShardRecord[]>, members: Map<number, NodeView>): Hop[] | undefined {
  const seen = new Set<NodeId>([src.node.id]);
  let frontier: { at: NodeView; path: Hop[] }[] = [{ at: src, path: [] }];
  for (let depth = 0; depth < CHAIN_HOPS_MAX && frontier.length > 0; depth++) {
    const next: typeof frontier = [];
    for (const { at, path } of frontier) {
      const hops = hopsFrom(round, at, led, members).sort((a, b) => a.to.leaderCount - b.to.leaderCount || a.to.node.id - b.to.node.id);
      for (const hop of hops) {
        if (seen.has(hop.to.node.id)) continue;
        seen.add(hop.to.node.id);
        const chain = [...path, hop];
        if (src.leaderCount - hop.to.leaderCount >= 2) return chain;
        next.push({ at: hop.to, path: chain });
      }
    }
    frontier = next;
  }
  return undefined;
}

function transferOnce(round: Round, members: NodeView[], led: Map<number, ShardRecord[]>, budget: number): number {
  const total = members.reduce((a, v) => a + v.leaderCount, 0);
  const tol = tolerance(total / members.length, round.config.leaderBalanceTolerancePercent);
  const desc = [...members].sort((a, b) => b.leaderCount - a.leaderCount || a.node.id - b.node.id);
  if (desc[0]!.leaderCount - desc.at(-1)!.leaderCount <= tol) return 0;
  const byId = new Map(members.map((v) => [v.node.id as number, v]));
  for (const src of desc) {
    const chain = chainFrom(round, src, led, byId);
    if (chain === undefined || chain.length > budget) continue;
    let from = src;
    for (const hop of chain) {
      planOperator(round, {
        shard: hop.shard, cause: 'balance-leader',
        reason: `balance leaders: node ${from.node.id} (${from.leaderCount}) → node ${hop.to.node.id} (${hop.to.leaderCount})`,
        spec: { kind: 'transfer-leader', toPeerId: hop.toPeerId },
      });
      from = hop.to;
    }
    return chain.length;
  }
  return 0;
}

export function balanceLeaders(round: Round): void {
  if (!round.config.leaderBalanceEnabled) return;
  const led = ledShards(round);
  for (const members of poolMembers(round).values()) {
    if (members.length < 2) continue;
    // Each pass plans at least one transfer or stops; the cap bounds the loop regardless.
    for (let pass = 0; pass < round.config.leaderTransfersMax; pass++) {
      const budget = round.config.leaderTransfersMax - (round.view.running.get('leader') ?? 0);
      if (budget <= 0 || transferOnce(round, members, led, budget) === 0) break;
    }
  }
}
