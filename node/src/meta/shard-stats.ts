/**
 * Approximate size, key count and write rate of a shard, for its leader's ShardHeartbeat
 * (the metaserver splits and balances by them; it needs magnitudes, not exact figures).
 *
 * - size: classic-level `approximateSize` over the shard's storage-key range — on-disk
 *   table files only (not the memtable), and value-log values count as their pointers.
 * - keys: the first KEY_SAMPLE_MAX entries of the range are read; if the range ends
 *   within them, that count is exact, else size ÷ (mean entry bytes of the sample).
 * - writes: applied raft entries per second since the previous sample (an entry is one
 *   command, which may carry a batch of keys).
 *
 * Figures are cached per shard for STATS_CACHE_MS, so a heartbeat storm costs at most one
 * size probe and one short scan per shard per STATS_CACHE_MS. The cache is keyed by the
 * shard's key range too: after a split the left half keeps the shard id, and reporting
 * the parent's figures under the new epoch would make the metaserver split it again (and
 * again). Cache entries of shards that stopped reporting are dropped by `retain`.
 */
import type { KeyRange } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { ClassicLevel } from 'classic-level';

/** Entries read to estimate the mean entry size. */
const KEY_SAMPLE_MAX = 256;
/** Figures older than this are measured again. */
const STATS_CACHE_MS = 5000;

export interface ShardDataAccess {
  rawReadAccess(shardId: number): { readonly access: { readonly db: ClassicLevel<Uint8Array, Uint8Array> }; readonly range: KeyRange };
}

interface Cached {
  atMs: number;
  /** The key range measured; figures of another range (before a split) are not reused. */
  start: Uint8Array;
  end: Uint8Array;
  sizeBytes: number;
  keyCount: number;
  appliedIndex: number;
  writeKeysPerSec: number;
}

export class ShardStatsSource {
  private readonly cache = new Map<number, Cached>();

  constructor(private readonly engine: ShardDataAccess) {}

  async stats(shardId: number, raft: { term: number; commitIndex: number; appliedIndex: number }, nowMs: number): Promise<meta.ShardStats> {
    let c = this.cache.get(shardId);
    let range: KeyRange;
    try {
      ({ range } = this.engine.rawReadAccess(shardId));
    } catch {
      // Not hosted any more (removed between the leader check and now): nothing to measure.
      range = c === undefined ? { start: new Uint8Array(0), end: new Uint8Array(0) } : { start: c.start, end: c.end };
    }
    const sameRange = c !== undefined && Buffer.compare(c.start, range.start) === 0 && Buffer.compare(c.end, range.end) === 0;
    if (c === undefined || !sameRange || nowMs - c.atMs >= STATS_CACHE_MS) {
      const previous = sameRange ? c : undefined;
      const measured = await this.measure(shardId).catch(() => ({ sizeBytes: previous?.sizeBytes ?? 0, keyCount: previous?.keyCount ?? 0 }));
      const elapsedSec = previous === undefined ? 0 : (nowMs - previous.atMs) / 1000;
      const writeKeysPerSec = elapsedSec > 0 ? Math.round(Math.max(0, raft.appliedIndex - previous!.appliedIndex) / elapsedSec) : 0;
      c = { atMs: nowMs, start: range.start, end: range.end, ...measured, appliedIndex: raft.appliedIndex, writeKeysPerSec };
      this.cache.set(shardId, c);
    }
    return meta.ShardStats.create({
      sizeBytes: c.sizeBytes, keyCount: c.keyCount, writeKeysPerSec: c.writeKeysPerSec,
      term: raft.term, commitIndex: raft.commitIndex, appliedIndex: raft.appliedIndex,
    });
  }

  /** Drops cached figures of shards not in `shardIds` (no longer led here). */
  retain(shardIds: ReadonlySet<number>): void {
    for (const id of this.cache.keys()) if (!shardIds.has(id)) this.cache.delete(id);
  }

  private async measure(shardId: number): Promise<{ sizeBytes: number; keyCount: number }> {
    const { access, range } = this.engine.rawReadAccess(shardId);
    const sizeBytes = await access.db.approximateSize(range.start, range.end);
    let n = 0;
    let sampleBytes = 0;
    for await (const [k, v] of access.db.iterator({ gte: range.start, lt: range.end, limit: KEY_SAMPLE_MAX })) {
      n++;
      sampleBytes += k.length + v.length;
    }
    if (n < KEY_SAMPLE_MAX) return { sizeBytes: Math.max(sizeBytes, sampleBytes), keyCount: n };
    return { sizeBytes, keyCount: Math.max(n, Math.round(sizeBytes / (sampleBytes / n))) };
  }
}
