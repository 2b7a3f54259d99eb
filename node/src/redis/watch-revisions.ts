/**
 * WATCH support on a shard leader: a bounded, in-memory record of when each user key was
 * last written (docs/decisions.md "WATCH").
 *
 * Every write a leader proposes for a key — Redis commands (their keys), plain KV Put,
 * Delete, BatchWrite, CAS, Incr — calls `touch` while it holds the key's latch and BEFORE
 * it proposes; a write without latches (DeleteRange, FLUSHDB) calls `touchShard` before
 * proposing AND after it applied. A key's revision is `max(mark(key) ?? 0, floor(shard))`;
 * evicting a mark raises its shard's floor to the evicted revision, so a key's revision
 * never goes back and never stays equal across a write: changes are never missed, only
 * over-reported (a false abort, which the client retries).
 *
 * Revisions are one per-node counter, not Raft indexes: a stamp is only compared by the
 * leader of the same term (the term names one leader, and a restarted process wins its
 * leadership back only in a higher term), so comparing counters of one process suffices.
 * Marks of earlier terms may remain; they are harmless because a stamp of an earlier term
 * never matches.
 */
import { assert, KvError } from '@shoal/common';

export interface WatchRevisionsOptions {
  /** Marks kept per node (all shards); beyond it the oldest is folded into its shard's floor. */
  readonly watchRevisionsMax: number;
}

export const DEFAULT_WATCH_REVISIONS_MAX = 100_000;

export class WatchRevisions {
  private seq = 0;
  /** `${shardId}:${hex(dataKey)}` → { shardId, revision }, oldest first (Map order). */
  private readonly marks = new Map<string, { readonly shardId: number; readonly revision: number }>();
  private readonly floors = new Map<number, number>();
  private readonly max: number;

  constructor(o: WatchRevisionsOptions = { watchRevisionsMax: DEFAULT_WATCH_REVISIONS_MAX }) {
    if (!Number.isSafeInteger(o.watchRevisionsMax) || o.watchRevisionsMax < 1) {
      throw new KvError('CONFIG_INVALID', 'watchRevisionsMax must be a positive integer', { details: { option: 'watchRevisionsMax' } });
    }
    this.max = o.watchRevisionsMax;
  }

  /** Marks a write to these data keys of one shard (call under their latches, before proposing). */
  touch(shardId: number, dataKeys: readonly Uint8Array[]): void {
    if (dataKeys.length === 0) return;
    const revision = ++this.seq;
    for (const k of dataKeys) {
      const id = markId(shardId, k);
      this.marks.delete(id);
      this.marks.set(id, { shardId, revision });
    }
    while (this.marks.size > this.max) {
      const [id, oldest] = this.marks.entries().next().value as [string, { shardId: number; revision: number }];
      this.marks.delete(id);
      this.raiseFloor(oldest.shardId, oldest.revision);
    }
  }

  /** Marks a write to any key of the shard (DeleteRange, FLUSHDB). */
  touchShard(shardId: number): void {
    this.raiseFloor(shardId, ++this.seq);
  }

  /** The key's current revision (compare for equality only). */
  revision(shardId: number, dataKey: Uint8Array): number {
    const mark = this.marks.get(markId(shardId, dataKey))?.revision ?? 0;
    return Math.max(mark, this.floors.get(shardId) ?? 0);
  }

  /** Marks held (for tests and metrics). */
  get size(): number {
    return this.marks.size;
  }

  private raiseFloor(shardId: number, revision: number): void {
    const floor = this.floors.get(shardId) ?? 0;
    assert(revision <= this.seq, 'a floor never passes the counter');
    if (revision > floor) this.floors.set(shardId, revision);
  }
}

function markId(shardId: number, dataKey: Uint8Array): string {
  return `${shardId}:${Buffer.from(dataKey.buffer, dataKey.byteOffset, dataKey.byteLength).toString('hex')}`;
}
