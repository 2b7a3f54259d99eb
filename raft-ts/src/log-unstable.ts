/**
 * The tail of the log that the host has not yet persisted, plus an incoming snapshot not
 * yet persisted. Raft hands both out in a Ready and forgets them on `advance()`.
 *
 * Invariants: `entries[i].index === offset + i`; if `snapshot` is set then
 * `offset === snapshot.metadata.index + 1` at the time it was restored.
 */
import { assert } from './assert.js';
import type { Entry, LogIndex, Snapshot, Term } from './types.js';

export class UnstableLog {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: LogIndex;

  constructor(offset: LogIndex) {
    this.offset = offset;
  }

  /** First index if a snapshot is pending (the snapshot defines the log's start). */
  maybeFirstIndex(): LogIndex | undefined {
    return this.snapshot === null ? undefined : (this.snapshot.metadata.index + 1) as LogIndex;
  }

  maybeLastIndex(): LogIndex | undefined {
    if (this.entries.length > 0) return (this.offset + this.entries.length - 1) as LogIndex;
    return this.snapshot === null ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(i: LogIndex): Term | undefined {
    if (i < this.offset) {
      const s = this.snapshot;
      return s !== null && s.metadata.index === i ? s.metadata.term : undefined;
    }
    const e = this.entries[i - this.offset];
    return e === undefined ? undefined : e.term;
  }

  /**
   * The host persisted entries up to (i, t). Entries are dropped only if the term still
   * matches: a newer leader may have replaced them since the Ready was taken.
   */
  stableTo(i: LogIndex, t: Term): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const n = i + 1 - this.offset;
    this.entries = n >= this.entries.length ? [] : this.entries.slice(n);
    this.offset = (i + 1) as LogIndex;
  }

  stableSnapTo(i: LogIndex): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === i) this.snapshot = null;
  }

  restore(s: Snapshot): void {
    this.offset = (s.metadata.index + 1) as LogIndex;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends `ents`, first dropping any unstable entries at or after `ents[0].index`. */
  truncateAndAppend(ents: readonly Entry[]): void {
    assert(ents.length > 0, 'truncateAndAppend with no entries');
    const after = ents[0]!.index;
    const end = this.offset + this.entries.length;
    if (after === end) {
      // The common case: a plain append. Push keeps the existing array (no copy).
    } else if (after <= this.offset) {
      // Replacing the whole unstable tail (and possibly some persisted entries).
      this.offset = after;
      this.entries = [];
    } else {
      assert(after < end, `unstable append at ${after} leaves a gap after ${end - 1}`);
      this.entries.length = after - this.offset;
    }
    for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]!);
  }

  /** Entries in [lo, hi), which must lie within the unstable range. */
  slice(lo: LogIndex, hi: LogIndex): Entry[] {
    assert(lo >= this.offset && lo <= hi && hi <= this.offset + this.entries.length,
      `unstable slice [${lo},${hi}) out of bounds [${this.offset},${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
