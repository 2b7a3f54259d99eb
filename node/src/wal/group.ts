/**
 * The WAL's state of one Raft group: hard state, snapshot metadata, the index of its live
 * tail, its share of the entry cache, and the durability pins GC needs.
 *
 * Pins. A segment is needed while it holds the newest record defining one of the group's
 * hard state, snapshot metadata or compaction point, or any live entry. `*Segment` fields
 * say where those records are (`SEG_PENDING` while staged). When a stage call supersedes
 * records that are durable, the superseding record is not durable yet: until its batch
 * is, the old records are still what a restart would read. `hold()` therefore remembers
 * the oldest segment the group needed before the change (`holdSegment`) until the batch
 * `holdBatch` is durable.
 */
import type { HardState, SnapshotMetadata } from '@shoal/raft-ts';
import type { CachedEntry } from './entry-cache.js';
import { EntryIndex, SEG_PENDING } from './entry-index.js';

/** Which metadata a record defines (a bit set). */
export const Pin = { HardState: 1, Snapshot: 2, Compact: 4 } as const;
export const PIN_ALL = Pin.HardState | Pin.Snapshot | Pin.Compact;

export class GroupState {
  readonly log: EntryIndex;
  /** Cached entries by index; see EntryCache for the eviction order. */
  readonly cached = new Map<number, CachedEntry>();
  hsSegment = SEG_PENDING;
  hsRecord = 0;
  snapSegment = SEG_PENDING;
  snapRecord = 0;
  compactSegment = SEG_PENDING;
  compactRecord = 0;
  holdSegment = SEG_PENDING;
  holdBatch = 0;
  removed = false;

  constructor(
    readonly shardId: number,
    public hardState: HardState,
    public snapshot: SnapshotMetadata,
    compactIndex: number,
    compactTerm: number,
  ) {
    this.log = new EntryIndex(compactIndex, compactTerm);
  }

  /** Drops entries >= index from the index and the cache. */
  truncateFrom(index: number): void {
    this.uncache(index, this.log.lastIndex);
    this.log.truncateFrom(index);
  }

  /** Drops entries <= index (index may exceed the last entry). */
  compactTo(index: number, term: number): void {
    this.uncache(this.log.compactIndex + 1, Math.min(index, this.log.lastIndex));
    this.log.compactTo(index, term);
  }

  resetLog(index: number, term: number): void {
    this.cached.clear();
    this.log.reset(index, term);
  }

  private uncache(lo: number, hi: number): void {
    if (hi < lo || this.cached.size === 0) return;
    if (this.cached.size < hi - lo + 1) {
      for (const i of this.cached.keys()) if (i >= lo && i <= hi) this.cached.delete(i);
    } else {
      for (let i = lo; i <= hi; i++) this.cached.delete(i);
    }
  }

  /** Marks `pins` as defined by the staged record `recordSeq` (not yet placed). */
  setPending(pins: number, recordSeq: number): void {
    if (pins & Pin.HardState) { this.hsSegment = SEG_PENDING; this.hsRecord = recordSeq; }
    if (pins & Pin.Snapshot) { this.snapSegment = SEG_PENDING; this.snapRecord = recordSeq; }
    if (pins & Pin.Compact) { this.compactSegment = SEG_PENDING; this.compactRecord = recordSeq; }
  }

  /** The record `recordSeq` landed in `segment`: move the pins it still defines there. */
  placePins(pins: number, recordSeq: number, segment: number): void {
    if (pins & Pin.HardState && this.hsRecord === recordSeq) this.hsSegment = segment;
    if (pins & Pin.Snapshot && this.snapRecord === recordSeq) this.snapSegment = segment;
    if (pins & Pin.Compact && this.compactRecord === recordSeq) this.compactSegment = segment;
  }

  /** The oldest segment this group needs, counting a hold unless batch `durableBatch` covers it. */
  neededSegment(durableBatch: number): number {
    let n = Math.min(this.hsSegment, this.snapSegment, this.compactSegment, this.log.firstSegment());
    if (this.holdBatch > durableBatch) n = Math.min(n, this.holdSegment);
    return n;
  }

  /** Call before changing durable state in batch `stagingBatch` (see the file comment). */
  hold(stagingBatch: number, durableBatch: number): void {
    this.holdSegment = this.neededSegment(durableBatch);
    this.holdBatch = stagingBatch;
  }
}

/**
 * A record in the batch being staged: what to update once the batch is sealed and its
 * place in a segment is known.
 */
export class StagedRecord {
  constructor(
    readonly group: GroupState,
    readonly recordSeq: number,
    readonly pins: number,
    /** For an Entries record: its first index and entry count (0 otherwise). */
    readonly firstIndex: number,
    readonly count: number,
    /** Offset within the batch, and the record's length in bytes. */
    readonly batchOffset: number,
    readonly length: number,
  ) {}

  place(segment: number, batchBase: number): void {
    const offset = batchBase + this.batchOffset;
    for (let k = 0; k < this.count; k++) {
      this.group.log.place(this.firstIndex + k, this.recordSeq, segment, offset, this.length);
    }
    if (this.pins !== 0) this.group.placePins(this.pins, this.recordSeq, segment);
  }
}
