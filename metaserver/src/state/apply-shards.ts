/**
 * Shard reports: a shard leader's descriptor (from its heartbeat) that differs from the
 * stored one. Epoch rules (DESIGN.md "Topology model"):
 * - an older or conflicting epoch never overwrites newer metadata (EPOCH_NOT_MATCH, with
 *   the stored descriptor as details.shard);
 * - an equal epoch may only move the leader hint;
 * - a newer epoch replaces the descriptor, provided the shards of the table stay disjoint.
 *
 * A split shows up as either half's report. Both halves get epoch {confVer: parent's,
 * version: parent's + 1} (the NodeAdmin contract, as in TiKV), and the split step names
 * the right half's id and peers, so whichever half reports first completes the split in
 * the state: routes never show a gap while the other half's report is on its way.
 */
import { compareBytes, equalBytes, err, KvError, ok } from '@shoal/common';
import type { PeerId, ShardId } from '@shoal/common';
import type { metacmd } from '@shoal/proto';
import { advanceOperator } from './apply-operators.js';
import { reportedShardFromProto, shardToDescriptor } from './convert.js';
import type { ReportedShard } from './convert.js';
import { rangesOverlap, withinTable } from './key-ranges.js';
import { invalid, refuse, UNCHANGED } from './apply-result.js';
import type { ApplyResult } from './apply-result.js';
import { compareEpoch, formatEpoch } from './epoch.js';
import { addGarbage, bumpRouteVersion, operatorOfShard, putShard, shardsOfTable } from './topology-state.js';
import type { OperatorStep, ShardRecord, TableRecord, TopologyState } from './types.js';

type SplitStep = Extract<OperatorStep, { kind: 'split' }>;

function stale(state: TopologyState, cur: ShardRecord, why: string): ApplyResult {
  const table = state.tables.get(cur.tableId);
  return err(new KvError('EPOCH_NOT_MATCH', `shard ${cur.id}: ${why}`, {
    details: { shard: shardToDescriptor(cur, table?.partition) },
  }));
}

/** Structural checks that do not depend on the stored shard. */
function checkReport(state: TopologyState, rep: ReportedShard, table: TableRecord): ApplyResult | null {
  if (!withinTable(table.id, rep)) return invalid(`shard ${rep.id} range is outside table ${table.name}`, 'shard');
  const nodes = new Set<number>();
  for (const r of rep.replicas) {
    if (r.peerId < 1 || r.peerId >= state.nextIds.peer) return invalid(`peer ${r.peerId} was never allocated`, 'shard');
    if (!state.nodes.has(r.nodeId)) return invalid(`node ${r.nodeId} is unknown`, 'shard');
    if (nodes.has(r.nodeId)) return invalid(`two replicas of shard ${rep.id} on node ${r.nodeId}`, 'shard');
    nodes.add(r.nodeId);
  }
  if (rep.replicas.every((r) => r.role !== 'voter')) return invalid(`shard ${rep.id} has no voter`, 'shard');
  if (rep.leaderPeerId !== 0 && !rep.replicas.some((r) => r.peerId === rep.leaderPeerId)) {
    return invalid(`leader ${rep.leaderPeerId} is not a replica`, 'shard');
  }
  return null;
}

export function applyReportShard(state: TopologyState, cmd: metacmd.ReportShard, stampMs: number): ApplyResult {
  const rep = cmd.shard === undefined ? undefined : reportedShardFromProto(cmd.shard);
  if (rep === undefined) return invalid('malformed shard descriptor', 'shard');
  const table = state.tables.get(rep.tableId);
  if (table === undefined || table.state === 'dropping') return refuse('TABLE_NOT_FOUND', `no table ${rep.tableId}`);
  const bad = checkReport(state, rep, table);
  if (bad !== null) return bad;
  const cur = state.shards.get(rep.id);
  const result = cur === undefined ? reportNewShard(state, rep) : reportKnownShard(state, cur, rep);
  if (result.ok && result.value.kind === 'shards-updated') afterUpdate(state, result.value.shardIds, stampMs);
  return result;
}

function afterUpdate(state: TopologyState, ids: readonly ShardId[], stampMs: number): void {
  for (const id of ids) advanceOperator(state, id, stampMs);
  const tableId = state.shards.get(ids[0]!)?.tableId;
  const table = tableId === undefined ? undefined : state.tables.get(tableId);
  // CreateTable returns once every shard has elected a leader.
  if (table?.state === 'creating' && shardsOfTable(state, table.id).every((s) => s.leaderPeerId !== 0)) {
    state.tables.set(table.id, { ...table, state: 'active' });
  }
}

function reportKnownShard(state: TopologyState, cur: ShardRecord, rep: ReportedShard): ApplyResult {
  if (cur.tableId !== rep.tableId) return invalid(`shard ${cur.id} belongs to table ${cur.tableId}`, 'shard');
  switch (compareEpoch(rep.epoch, cur.epoch)) {
    case 'older':
    case 'conflict':
      return stale(state, cur, `reported epoch ${formatEpoch(rep.epoch)} is behind ${formatEpoch(cur.epoch)}`);
    case 'equal':
      return reportSameEpoch(state, cur, rep);
    case 'newer': {
      const split = runningSplit(state, cur.id);
      if (split !== undefined && isLeftHalf(cur, rep, split)) return commitSplit(state, cur, leftOf(cur, rep), rightFromLeft(cur, rep, split));
      return replaceShard(state, cur, rep);
    }
  }
}

function reportSameEpoch(state: TopologyState, cur: ShardRecord, rep: ReportedShard): ApplyResult {
  if (!equalBytes(cur.startKey, rep.startKey) || !equalBytes(cur.endKey, rep.endKey) || !sameReplicas(cur, rep)) {
    return stale(state, cur, `same epoch ${formatEpoch(rep.epoch)} but a different descriptor`);
  }
  if (rep.leaderPeerId === 0 || rep.leaderPeerId === cur.leaderPeerId) return ok(UNCHANGED);
  putShard(state, { ...cur, leaderPeerId: rep.leaderPeerId, routeVersion: bumpRouteVersion(state) });
  return ok({ kind: 'shards-updated', shardIds: [cur.id] });
}

function sameReplicas(a: { replicas: ShardRecord['replicas'] }, b: { replicas: ShardRecord['replicas'] }): boolean {
  return a.replicas.length === b.replicas.length && a.replicas.every((r, i) => {
    const o = b.replicas[i]!;
    return r.peerId === o.peerId && r.nodeId === o.nodeId && r.role === o.role;
  });
}

/** True if no other shard of the table overlaps the range. */
function fitsBeside(state: TopologyState, range: ReportedShard, except: readonly ShardId[]): boolean {
  return shardsOfTable(state, range.tableId).every((s) => except.includes(s.id) || !rangesOverlap(s, range));
}

function replaceShard(state: TopologyState, cur: ShardRecord, rep: ReportedShard): ApplyResult {
  if (!fitsBeside(state, rep, [cur.id])) return stale(state, cur, 'reported range overlaps another shard');
  for (const r of cur.replicas) {
    if (!rep.replicas.some((x) => x.peerId === r.peerId)) addGarbage(state, { nodeId: r.nodeId, shardId: cur.id, peerId: r.peerId });
  }
  const leaderPeerId = rep.leaderPeerId !== 0 ? rep.leaderPeerId : keptLeader(cur, rep);
  putShard(state, { ...rep, leaderPeerId, routeVersion: bumpRouteVersion(state) });
  return ok({ kind: 'shards-updated', shardIds: [cur.id] });
}

/** The stored leader hint survives an update that keeps that peer a voter. */
function keptLeader(cur: ShardRecord, rep: ReportedShard): PeerId {
  return rep.replicas.some((r) => r.peerId === cur.leaderPeerId && r.role === 'voter') ? cur.leaderPeerId : (0 as PeerId);
}

function runningSplit(state: TopologyState, shard: ShardId): SplitStep | undefined {
  const op = operatorOfShard(state, shard);
  const step = op?.steps[op.stepIndex];
  return step?.kind === 'split' ? step : undefined;
}

/** The split's parent is unchanged but for version + 1 and an end inside its old range. */
function isLeftHalf(cur: ShardRecord, rep: ReportedShard, split: SplitStep): boolean {
  return rep.epoch.version === cur.epoch.version + 1 && rep.epoch.confVer === split.fromEpoch.confVer
    && equalBytes(rep.startKey, cur.startKey) && compareBytes(rep.endKey, cur.endKey) < 0
    && sameReplicas(cur, rep) && split.newPeerIds.length === cur.replicas.length;
}

function leftOf(cur: ShardRecord, rep: ReportedShard): ShardRecord {
  return { ...cur, endKey: rep.endKey, epoch: rep.epoch, leaderPeerId: rep.leaderPeerId || cur.leaderPeerId };
}

function rightFromLeft(cur: ShardRecord, left: ReportedShard, split: SplitStep): ShardRecord {
  const replicas = cur.replicas.map((r, i) => ({ ...r, peerId: split.newPeerIds[i]! }));
  // The right half elects on the same nodes; the left leader's node is the best guess.
  const leaderNode = cur.replicas.find((r) => r.peerId === (left.leaderPeerId || cur.leaderPeerId))?.nodeId;
  const leader = replicas.find((r) => r.nodeId === leaderNode)?.peerId ?? (0 as PeerId);
  return {
    id: split.newShardId, tableId: cur.tableId, startKey: left.endKey, endKey: cur.endKey, epoch: left.epoch,
    replicas, leaderPeerId: leader, routeVersion: 0,
  };
}

/** Stores both halves under one route version. */
function commitSplit(state: TopologyState, cur: ShardRecord, left: ShardRecord, right: ShardRecord): ApplyResult {
  if (state.shards.has(right.id) || !fitsBeside(state, { ...right, replicas: right.replicas }, [cur.id])) {
    return stale(state, cur, 'split halves do not fit the table');
  }
  const routeVersion = bumpRouteVersion(state);
  putShard(state, { ...left, routeVersion });
  putShard(state, { ...right, routeVersion });
  return ok({ kind: 'shards-updated', shardIds: [left.id, right.id] });
}

/**
 * An id the state does not know: the right half of a running split (its report arrived
 * before the left's), or a shard filling a gap of its table. Anything else is refused.
 */
function reportNewShard(state: TopologyState, rep: ReportedShard): ApplyResult {
  if (rep.id >= state.nextIds.shard) return invalid(`shard ${rep.id} was never allocated`, 'shard');
  const parent = splitParentOf(state, rep);
  if (parent !== undefined) {
    const left: ShardRecord = { ...parent.shard, endKey: rep.startKey, epoch: rep.epoch };
    return commitSplit(state, parent.shard, left, { ...rep, routeVersion: 0 });
  }
  if (!fitsBeside(state, rep, [])) return refuse('SHARD_NOT_FOUND', `unknown shard ${rep.id} overlaps known shards`);
  putShard(state, { ...rep, routeVersion: bumpRouteVersion(state) });
  return ok({ kind: 'shards-updated', shardIds: [rep.id] });
}

function splitParentOf(state: TopologyState, rep: ReportedShard): { shard: ShardRecord } | undefined {
  for (const [shardId] of [...state.operatorByShard.entries()].sort((a, b) => a[0] - b[0])) {
    const split = runningSplit(state, shardId);
    const shard = state.shards.get(shardId);
    if (split === undefined || shard === undefined || split.newShardId !== rep.id) continue;
    const expected = shard.replicas.map((r, i) => ({ ...r, peerId: split.newPeerIds[i]! }));
    const ok = rep.epoch.version === shard.epoch.version + 1 && rep.epoch.confVer === split.fromEpoch.confVer
      && equalBytes(rep.endKey, shard.endKey) && compareBytes(shard.startKey, rep.startKey) < 0
      && sameReplicas({ replicas: expected }, rep);
    return ok ? { shard } : undefined;
  }
  return undefined;
}
