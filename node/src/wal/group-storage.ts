/**
 * `WalGroupStorage`: one group's view of the WAL as a raft-ts `Storage`.
 *
 * Everything is answered from memory except entry payloads that left the cache: those are
 * read back synchronously from their segment (raft-ts's Storage is synchronous), with the
 * record's CRC verified. Staged entries are visible at once, as raft-ts requires: they
 * stay in the cache until their batch is written.
 *
 * Semantics follow raft-ts's `MemoryStorage`: `firstIndex()` is compactIndex + 1,
 * `term(compactIndex)` is known, `entries(lo, …)` with lo <= compactIndex is 'compacted'.
 */
import { AssertionError, KvError, assert } from '@shoal/common';
import type {
  ConfState, Entry, HardState, LogIndex, Snapshot, SnapshotMetadata, Storage, StorageError, Term,
} from '@shoal/raft-ts';
import { SEG_PENDING } from './entry-index.js';
import type { GroupState } from './group.js';

/** The per-entry overhead raft-ts counts in every byte limit (raft-ts util.ts). */
const RAFT_ENTRY_OVERHEAD_BYTES = 16;

/** Reads back an Entries record of a group; implemented by the Wal. */
export interface EntryRecordReader {
  readEntries(shardId: number, segment: number, offset: number, length: number): readonly Entry[];
}

export type SnapshotProvider = () => Snapshot | 'temporarily-unavailable';

export class WalGroupStorage implements Storage {
  private provider: SnapshotProvider | undefined;

  /** @internal Created by the Wal. */
  constructor(private readonly group: GroupState, private readonly reader: EntryRecordReader) {}

  get shardId(): number {
    return this.group.shardId;
  }

  private state(): GroupState {
    if (this.group.removed) {
      throw new KvError('SHARD_NOT_FOUND', `group ${this.group.shardId} was removed from the WAL`);
    }
    return this.group;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const g = this.state();
    return { hardState: g.hardState, confState: g.snapshot.confState };
  }

  hardState(): HardState {
    return this.state().hardState;
  }

  /** The latest stageSnapshot/createGroup metadata (index 0 for a fresh group). */
  snapshotMetadata(): SnapshotMetadata {
    return this.state().snapshot;
  }

  setSnapshotProvider(p: SnapshotProvider): void {
    this.provider = p;
  }

  snapshot(): Snapshot | 'temporarily-unavailable' {
    this.state();
    return this.provider === undefined ? 'temporarily-unavailable' : this.provider();
  }

  firstIndex(): LogIndex {
    return (this.state().log.compactIndex + 1) as LogIndex;
  }

  lastIndex(): LogIndex {
    return this.state().log.lastIndex as LogIndex;
  }

  term(i: LogIndex): Term | StorageError {
    const log = this.state().log;
    if (i < log.compactIndex) return 'compacted';
    if (i > log.lastIndex) return 'unavailable';
    return log.term(i) as Term;
  }

  /** Entries in [lo, hi): at least one if any, then at most `bytesMax` (0 or Infinity: no limit). */
  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): readonly Entry[] | StorageError {
    const g = this.state();
    const log = g.log;
    if (lo <= log.compactIndex) return 'compacted';
    assert(hi <= log.lastIndex + 1, () => `entries hi ${hi} beyond last index ${log.lastIndex}`);
    assert(lo <= hi, () => `entries lo ${lo} > hi ${hi}`);
    const limited = bytesMax > 0 && bytesMax !== Infinity;
    const out: Entry[] = [];
    let size = 0;
    let record: readonly Entry[] = [];
    let recordSeg = -1;
    let recordOff = -1;
    for (let i = lo; i < hi; i++) {
      let e = g.cached.get(i)?.entry;
      if (e === undefined) {
        const seg = log.segment(i);
        const off = log.offset(i);
        if (seg === SEG_PENDING) throw new AssertionError(`group ${g.shardId}: staged entry ${i} is not cached`);
        if (seg !== recordSeg || off !== recordOff) {
          record = this.reader.readEntries(g.shardId, seg, off, log.recordLength(i));
          recordSeg = seg;
          recordOff = off;
        }
        e = record[i - record[0]!.index];
        if (e === undefined || e.index !== i || e.term !== log.term(i)) {
          throw new AssertionError(`group ${g.shardId}: record at ${seg}:${off} does not hold entry ${i} of term ${log.term(i)}`);
        }
      }
      size += e.data.length + RAFT_ENTRY_OVERHEAD_BYTES;
      if (limited && out.length > 0 && size > bytesMax) break;
      out.push(e);
    }
    return out;
  }
}
