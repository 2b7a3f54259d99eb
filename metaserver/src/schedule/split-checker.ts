/**
 * The split checker: a shard whose size or key count reaches its table's threshold (or
 * the scheduler's default) is split.
 * - Range tables: that shard splits, at the approximate middle key its leader reported,
 *   or — without one — at a key the leader picks (empty split key).
 * - Hash tables double (B-Station): once any shard is over the threshold, every shard of
 *   the table halves its slot range. Shards still wider than the table's narrowest are
 *   split first, so a doubling interrupted by limits or failures completes later; a shard
 *   owning a single slot cannot split.
 */
import { strictlyInside, shardsOfTable, slotBoundsOf, sortedTables } from '../state/index.js';
import type { ShardRecord, TableRecord } from '../state/index.js';
import { planOperator } from './round.js';
import type { Round } from './round.js';

function overThreshold(round: Round, table: TableRecord, shard: ShardRecord): boolean {
  const load = round.soft.shards.get(shard.id);
  if (load === undefined) return false;
  const sizeMax = table.splitSizeBytes || round.config.shardSplitSizeBytes;
  const keysMax = table.splitKeyCount || round.config.shardSplitKeyCount;
  return load.sizeBytes >= sizeMax || load.keyCount >= keysMax;
}

function slotWidth(shard: ShardRecord): number {
  const b = slotBoundsOf(shard.tableId, shard);
  return b === null ? 0 : b.hi - b.lo;
}

/** The hash shards to split now: the wider ones of an unfinished doubling, or all of them. */
export function hashSplitCandidates(round: Round, table: TableRecord, shards: readonly ShardRecord[]): ShardRecord[] {
  const widths = shards.map(slotWidth);
  const narrowest = Math.min(...widths);
  if (widths.some((w) => w > narrowest)) return shards.filter((s) => slotWidth(s) > narrowest);
  if (!shards.some((s) => overThreshold(round, table, s))) return [];
  return shards.filter((s) => slotWidth(s) >= 2);
}

function planSplit(round: Round, shard: ShardRecord, splitKey: Uint8Array, reason: string): void {
  planOperator(round, { shard, cause: 'split', reason, spec: { kind: 'split', splitKey } });
}

export function checkSplits(round: Round): void {
  if (!round.config.splitEnabled) return;
  for (const table of sortedTables(round.state)) {
    if (table.state !== 'active') continue;
    const shards = shardsOfTable(round.state, table.id).filter((s) => s.leaderPeerId !== 0);
    if (shards.length === 0) continue;
    if (table.partition === 'hash') {
      for (const s of hashSplitCandidates(round, table, shards)) planSplit(round, s, new Uint8Array(), `double table ${table.name}`);
      continue;
    }
    for (const s of shards) {
      if (!overThreshold(round, table, s)) continue;
      const mid = round.soft.shards.get(s.id)?.approximateMiddleKey;
      const key = mid !== undefined && strictlyInside(mid, s) ? mid : new Uint8Array();
      planSplit(round, s, key, `shard ${s.id} over its split threshold`);
    }
  }
}
