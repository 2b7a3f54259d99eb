/**
 * An in-memory `Storage`, used by tests, the simulator and as a reference for a durable
 * implementation. It holds a snapshot (the compacted prefix) plus the entries after it.
 *
 * Invariant: `ents[0]` is a dummy entry whose index/term are those of the last compacted
 * (or snapshotted) entry, so `ents[i].index === ents[0].index + i` for every i.
 */
import { assert } from './assert.js';
import type {
  ConfState, Entry, HardState, LogIndex, Snapshot, Storage, StorageError, Term,
} from './types.js';
import { EntryType, NO_PEER } from './types.js';
import { entriesLimitBytes } from './util.js';

const EMPTY_DATA = new Uint8Array(0);

export const EMPTY_CONF_STATE: ConfState = {
  voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false,
};

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0 as Term, vote: NO_PEER, commit: 0 as LogIndex };
  private snap: Snapshot;
  private ents: Entry[];

  /** `confState` bootstraps the membership at index 0 (every initial member passes the same). */
  constructor(confState: ConfState = EMPTY_CONF_STATE) {
    this.snap = { data: EMPTY_DATA, metadata: { confState, index: 0 as LogIndex, term: 0 as Term } };
    this.ents = [dummy(0 as LogIndex, 0 as Term)];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): readonly Entry[] | StorageError {
    const offset = this.offset();
    if (lo <= offset) return 'compacted';
    assert(hi <= this.lastIndex() + 1, `entries hi ${hi} beyond last index ${this.lastIndex()}`);
    assert(lo <= hi, `entries lo ${lo} > hi ${hi}`);
    const out = this.ents.slice(lo - offset, hi - offset);
    return entriesLimitBytes(out, bytesMax);
  }

  term(i: LogIndex): Term | StorageError {
    const offset = this.offset();
    if (i < offset) return 'compacted';
    const e = this.ents[i - offset];
    if (e === undefined) return 'unavailable';
    return e.term;
  }

  lastIndex(): LogIndex {
    return (this.offset() + this.ents.length - 1) as LogIndex;
  }

  firstIndex(): LogIndex {
    return (this.offset() + 1) as LogIndex;
  }

  snapshot(): Snapshot | 'temporarily-unavailable' {
    return this.snap;
  }

  /** Replaces the whole state with a snapshot received from the leader (must be newer). */
  applySnapshot(s: Snapshot): void {
    assert(s.metadata.index >= this.snap.metadata.index,
      `applySnapshot index ${s.metadata.index} older than ${this.snap.metadata.index}`);
    this.snap = s;
    this.ents = [dummy(s.metadata.index, s.metadata.term)];
  }

  /**
   * Records a snapshot the application took at `index` (<= applied). The caller should
   * then `compact` to release the log prefix.
   */
  createSnapshot(index: LogIndex, confState: ConfState, data: Uint8Array): Snapshot {
    const offset = this.offset();
    assert(index > this.snap.metadata.index || index === 0, `createSnapshot at ${index} is out of date`);
    assert(index <= this.lastIndex(), `createSnapshot at ${index} beyond last index ${this.lastIndex()}`);
    const e = this.ents[index - offset];
    assert(e !== undefined, `createSnapshot at ${index}: entry compacted`);
    this.snap = { data, metadata: { confState, index, term: e.term } };
    return this.snap;
  }

  /** Discards entries <= index, keeping the term of `index` as the new dummy entry. */
  compact(index: LogIndex): void {
    const offset = this.offset();
    if (index <= offset) return; // already compacted: idempotent
    assert(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    const e = this.ents[index - offset]!;
    const rest = this.ents.slice(index - offset + 1);
    rest.unshift(dummy(index, e.term));
    this.ents = rest;
  }

  /**
   * Appends entries, truncating any conflicting suffix. Entries already compacted are
   * ignored. Must be contiguous with (or overlap) the existing log.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const offset = this.offset();
    const last = entries[entries.length - 1]!.index;
    if (last <= offset) return;
    const skip = first <= offset ? offset + 1 - first : 0;
    const from = first + skip;
    assert(from <= this.lastIndex() + 1, `append at ${from} leaves a gap after ${this.lastIndex()}`);
    this.ents.length = from - offset; // truncate the conflicting suffix (if any)
    for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!);
  }

  private offset(): number {
    return this.ents[0]!.index;
  }
}

function dummy(index: LogIndex, term: Term): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_DATA };
}
