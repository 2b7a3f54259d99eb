/**
 * The state's structural invariants as a checker, for tests, the simulation and (cheaply
 * enough) the process after a restore. Returns the violations; empty means consistent.
 */
import { rangesOverlap, tilesTable, withinTable } from './key-ranges.js';
import { byId, shardsOfTable } from './topology-state.js';
import type { ShardRecord, TopologyState } from './types.js';

function shardProblems(state: TopologyState, s: ShardRecord): string[] {
  const out: string[] = [];
  const nodes = new Set(s.replicas.map((r) => r.nodeId));
  if (nodes.size !== s.replicas.length) out.push(`shard ${s.id}: two replicas on one node`);
  if (s.replicas.some((r, i, a) => i > 0 && a[i - 1]!.peerId >= r.peerId)) out.push(`shard ${s.id}: replicas not sorted`);
  if (s.replicas.some((r) => !state.nodes.has(r.nodeId))) out.push(`shard ${s.id}: replica on an unknown node`);
  if (s.replicas.some((r) => r.peerId >= state.nextIds.peer)) out.push(`shard ${s.id}: unallocated peer id`);
  if (s.id >= state.nextIds.shard) out.push(`shard ${s.id}: unallocated shard id`);
  if (!state.tables.has(s.tableId)) out.push(`shard ${s.id}: unknown table ${s.tableId}`);
  else if (!withinTable(s.tableId, s)) out.push(`shard ${s.id}: range outside its table`);
  if (s.routeVersion > state.routeVersion) out.push(`shard ${s.id}: route version from the future`);
  return out;
}

function tableProblems(state: TopologyState): string[] {
  const out: string[] = [];
  for (const t of byId(state.tables)) {
    if (state.tableIdsByName.get(t.name) !== t.id) out.push(`table ${t.id}: name index out of date`);
    const shards = shardsOfTable(state, t.id);
    for (let i = 1; i < shards.length; i++) {
      if (rangesOverlap(shards[i - 1]!, shards[i]!)) out.push(`table ${t.id}: shards ${shards[i - 1]!.id} and ${shards[i]!.id} overlap`);
    }
  }
  if (state.tableIdsByName.size !== state.tables.size) out.push('table name index has stale entries');
  return out;
}

function operatorProblems(state: TopologyState): string[] {
  const out: string[] = [];
  for (const op of byId(state.operators)) {
    if (op.state !== 'running') out.push(`operator ${op.id}: finished but still running`);
    if (state.operatorByShard.get(op.shardId) !== op.id) out.push(`operator ${op.id}: shard index out of date`);
    if (!state.shards.has(op.shardId)) out.push(`operator ${op.id}: shard ${op.shardId} is gone`);
    if (op.id + op.steps.length > state.nextIds.operator) out.push(`operator ${op.id}: unallocated step ids`);
  }
  if (state.operatorByShard.size !== state.operators.size) out.push('operator shard index has stale entries');
  return out;
}

export function checkInvariants(state: TopologyState): string[] {
  const out: string[] = [];
  for (const s of byId(state.shards)) out.push(...shardProblems(state, s));
  out.push(...tableProblems(state), ...operatorProblems(state));
  const g = state.garbage;
  if (g.some((x, i) => i > 0 && compareGarbage(g[i - 1]!, x) >= 0)) out.push('garbage not sorted');
  return out;
}

function compareGarbage(a: TopologyState['garbage'][number], b: TopologyState['garbage'][number]): number {
  return a.nodeId - b.nodeId || a.shardId - b.shardId || a.peerId - b.peerId;
}

/** True if the table's shards cover its key range exactly (no split half missing). */
export function tableTiled(state: TopologyState, table: ShardRecord['tableId']): boolean {
  return tilesTable(table, shardsOfTable(state, table));
}
