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
 * size probe and one short scan per shard per STATS_CACHE_MS. Cache entries of shards
 * that stopped reporting are dropped by `retain`.
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
    if (c === undefined || nowMs - c.atMs >= STATS_CACHE_MS) {
      const measured = await this.measure(shardId).catch(() => ({ sizeBytes: c?.sizeBytes ?? 0, keyCount: c?.keyCount ?? 0 }));
      const elapsedSec = c === undefined ? 0 : (nowMs - c.atMs) / 1000;
      const writeKeysPerSec = elapsedSec > 0 ? Math.round(Math.max(0, raft.appliedIndex - c!.appliedIndex) / elapsedSec) : 0;
      c = { atMs: nowMs, ...measured, appliedIndex: raft.appliedIndex, writeKeysPerSec };
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
