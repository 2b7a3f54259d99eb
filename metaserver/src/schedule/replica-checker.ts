/**
 * The replica checker: keeps every shard at its table's replica count on healthy nodes,
 * spread over zones. Per shard (by id) it plans at most one operator, first match wins:
 *
 *   1. a voter on a dead node (down, or decommissioning and silent) → replace it: move to a
 *      healthy node, in a zone the shard does not use yet when possible (recovery);
 *   2. a voter on a decommissioning node → move it away (drain);
 *   3. fewer voters than the replica count → add one (repair);
 *   4. more voters than the replica count → remove the worst one (repair);
 *   5. a learner outside any operator (e.g. left by a timed-out move) → remove it (repair);
 *   6. two voters in one zone while a placeable node sits in an unused zone → move (repair).
 *
 * A shard that lost its quorum cannot change membership through Raft: it is reported as
 * stuck (an operator must force-reduce it, see admin.ts) and left alone. A shard whose
 * `up` voters are no majority (some of its voters only suspect) gets no operator either,
 * as PD does not schedule a region without a quorum: a membership change could not commit
 * until the suspects return, and if they do not, a recovery operator started now would
 * only hold the shard until its time-out. Such a shard is not reported: suspects are
 * expected to come back, and once they are down the quorum-lost report above applies.
 */
import type { NodeId, PeerId } from '@shoal/common';
import { voters } from '../state/index.js';
import type { ReplicaRecord, ShardRecord, TableRecord } from '../state/index.js';
import { nodeServes } from './failure-detector.js';
import { chooseNodes, replacementFor, zonesOf } from './placement.js';
import { planOperator } from './round.js';
import type { Round } from './round.js';

export interface StuckShard {
  readonly shardId: number;
  readonly reason: string;
}

interface ShardHealth {
  readonly shard: ShardRecord;
  readonly table: TableRecord;
  readonly voters: readonly ReplicaRecord[];
  readonly dead: (r: ReplicaRecord) => boolean;
  readonly leaving: (r: ReplicaRecord) => boolean;
}

function healthOf(round: Round, shard: ShardRecord, table: TableRecord): ShardHealth {
  const { state, soft, nowMs, config } = round;
  return {
    shard, table, voters: voters(shard),
    dead: (r) => !nodeServes(state.nodes.get(r.nodeId), soft, nowMs, config),
    leaving: (r) => state.nodes.get(r.nodeId)?.state === 'decommissioning',
  };
}

/** Plans replica repairs for every shard; returns the shards it cannot help. */
export function checkReplicas(round: Round): StuckShard[] {
  const stuck: StuckShard[] = [];
  for (const shard of [...round.state.shards.values()].sort((a, b) => a.id - b.id)) {
    const table = round.state.tables.get(shard.tableId);
    // No leader yet (a table being created) or a dropping table: nothing to schedule.
    if (table === undefined || table.state === 'dropping' || shard.leaderPeerId === 0 || round.busyShards.has(shard.id)) continue;
    const h = healthOf(round, shard, table);
    const alive = h.voters.filter((r) => !h.dead(r)).length;
    if (alive * 2 <= h.voters.length) {
      stuck.push({ shardId: shard.id, reason: `quorum lost (${alive}/${h.voters.length} voters alive): force-reduce needed` });
      continue;
    }
    const up = h.voters.filter((r) => round.state.nodes.get(r.nodeId)?.state === 'up').length;
    if (up * 2 <= h.voters.length) continue;
    const why = checkShard(round, h);
    if (why !== null) stuck.push({ shardId: shard.id, reason: why });
  }
  return stuck;
}

/** Plans the first needed repair; returns why a needed repair is impossible, else null. */
function checkShard(round: Round, h: ShardHealth): string | null {
  const deadVoter = h.voters.find(h.dead);
  if (deadVoter !== undefined) return replace(round, h, deadVoter, 'recovery');
  const leavingVoter = h.voters.find(h.leaving);
  if (leavingVoter !== undefined) return replace(round, h, leavingVoter, 'drain');
  if (h.voters.length < h.table.replicaCount) return addReplica(round, h);
  if (h.voters.length > h.table.replicaCount) return removeReplica(round, h, surplusVoter(round, h), 'surplus voter');
  const learner = h.shard.replicas.find((r) => r.role === 'learner');
  if (learner !== undefined) return removeReplica(round, h, learner, 'orphan learner');
  spreadZones(round, h);
  return null;
}

function replace(round: Round, h: ShardHealth, r: ReplicaRecord, cause: 'recovery' | 'drain'): string | null {
  const to = replacementFor(round.view, h.shard, h.table.pool, r.nodeId);
  if (to !== undefined) {
    planOperator(round, {
      shard: h.shard, cause, fromNode: r.nodeId, reason: `${cause === 'recovery' ? 'replace dead' : 'drain'} peer ${r.peerId} on node ${r.nodeId}`,
      spec: { kind: 'move-replica', fromPeerId: r.peerId, toNodeId: to },
    });
    return null;
  }
  // Nowhere to go: shed the replica only if the shard keeps its replica count without it.
  if (h.voters.length > h.table.replicaCount) return removeReplica(round, h, r, `${cause} without a replacement`);
  return `no healthy node for a replacement of peer ${r.peerId}`;
}

function addReplica(round: Round, h: ShardHealth): string | null {
  const to = replacementFor(round.view, h.shard, h.table.pool, undefined);
  if (to === undefined) return `under-replicated (${h.voters.length}/${h.table.replicaCount}) and no node to add`;
  planOperator(round, {
    shard: h.shard, cause: 'repair', reason: `under-replicated ${h.voters.length}/${h.table.replicaCount}`,
    spec: { kind: 'move-replica', fromPeerId: 0 as PeerId, toNodeId: to },
  });
  return null;
}

function removeReplica(round: Round, h: ShardHealth, r: ReplicaRecord, reason: string): string | null {
  planOperator(round, {
    shard: h.shard, cause: 'repair', fromNode: r.nodeId, reason: `${reason}: peer ${r.peerId}`,
    spec: { kind: 'remove-replica', peerId: r.peerId },
  });
  return null;
}

/** The voter whose loss hurts least: dead, leaving, zone-duplicated, most loaded, not leading. */
function surplusVoter(round: Round, h: ShardHealth): ReplicaRecord {
  const zones = zonesOf(round.view, h.shard, new Set());
  const score = (r: ReplicaRecord): number[] => [
    h.dead(r) ? 0 : 1,
    h.leaving(r) ? 0 : 1,
    (zones.get(round.view.nodes.get(r.nodeId)?.node.zone ?? '') ?? 0) > 1 ? 0 : 1,
    -(round.view.nodes.get(r.nodeId)?.replicaCount ?? 0),
    r.peerId === h.shard.leaderPeerId ? 1 : 0,
    -r.peerId,
  ];
  return [...h.voters].sort((a, b) => lexCompare(score(a), score(b)))[0]!;
}

function lexCompare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Moves a replica out of a doubly used zone when an unused zone has a placeable node. */
function spreadZones(round: Round, h: ShardHealth): void {
  const zones = zonesOf(round.view, h.shard, new Set());
  const crowded = h.voters.filter((r) => (zones.get(round.view.nodes.get(r.nodeId)?.node.zone ?? '') ?? 0) > 1);
  if (crowded.length === 0) return;
  const from = crowded.sort((a, b) => (round.view.nodes.get(b.nodeId)?.replicaCount ?? 0) - (round.view.nodes.get(a.nodeId)?.replicaCount ?? 0))[0]!;
  const exclude = new Set<NodeId>(h.shard.replicas.map((r) => r.nodeId));
  const pick = chooseNodes(round.view, { pool: h.table.pool, count: 1, exclude, zonesInUse: zones });
  if (!pick.ok) return;
  const to = pick.value[0]!;
  if (zones.has(round.view.nodes.get(to)!.node.zone)) return;
  planOperator(round, {
    shard: h.shard, cause: 'repair', fromNode: from.nodeId, reason: `spread zones: peer ${from.peerId} shares a zone`,
    spec: { kind: 'move-replica', fromPeerId: from.peerId, toNodeId: to },
  });
}
