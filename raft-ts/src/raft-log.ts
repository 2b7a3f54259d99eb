/**
 * The replicated log as raft sees it: the host's `Storage` (persisted prefix) followed by
 * the `UnstableLog` (not yet persisted tail), plus the commit and apply cursors.
 *
 * Invariants: applied <= committed <= lastIndex(); firstIndex() - 1 <= applied when a
 * snapshot is not pending; every entry <= committed is identical on a quorum.
 */
import { assert } from './assert.js';
import { UnstableLog } from './log-unstable.js';
import type { Entry, LogIndex, Snapshot, Storage, StorageError, Term } from './types.js';
import { entriesLimitBytes } from './util.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  /** Highest index known to be committed (stored on a quorum). */
  committed: LogIndex;
  /** Highest index the host has applied (reported through advance()). */
  applied: LogIndex;
  /** Cap on the bytes of committed entries handed out in one Ready (0 = unlimited). */
  private readonly committedBytesPerReadyMax: number;

  constructor(storage: Storage, committedBytesPerReadyMax: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog((last + 1) as LogIndex);
    this.committed = (first - 1) as LogIndex;
    this.applied = (first - 1) as LogIndex;
    this.committedBytesPerReadyMax = committedBytesPerReadyMax;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, `
      + `unstable.entries=${this.unstable.entries.length}`;
  }

  firstIndex(): LogIndex {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): Term {
    const t = this.term(this.lastIndex());
    assert(typeof t === 'number', `term of last index ${this.lastIndex()} unavailable: ${String(t)}`);
    return t;
  }

  /** Term of entry i; valid for i in [firstIndex()-1, lastIndex()]. */
  term(i: LogIndex): Term | StorageError {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i < this.firstIndex() - 1) return 'compacted';
    if (i > this.lastIndex()) return 'unavailable';
    return this.storage.term(i);
  }

  /** Term of i, or 0 if unknown (compacted or beyond the log). */
  zeroTermOnErr(i: LogIndex): Term {
    const t = this.term(i);
    return typeof t === 'number' ? t : (0 as Term);
  }

  matchTerm(i: LogIndex, t: Term): boolean {
    return this.term(i) === t;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: LogIndex, term: Term): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our log matches (index, logTerm), append the new
   * entries (truncating a conflicting suffix) and advance commit. Returns the last index
   * known to match the leader, or undefined on mismatch.
   */
  maybeAppend(index: LogIndex, logTerm: Term, committed: LogIndex, ents: readonly Entry[]): LogIndex | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = (index + ents.length) as LogIndex;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      const start = ci - (index + 1);
      this.append(start === 0 ? ents : ents.slice(start));
    }
    this.commitTo(Math.min(committed, lastNew) as LogIndex);
    return lastNew;
  }

  /** Appends entries after any truncation; entries must not touch the committed prefix. */
  append(ents: readonly Entry[]): LogIndex {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(after >= this.committed, `append after ${after} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry in `ents` that is not in our log with the same term (a
   * conflict or a new entry), or 0 if all are present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest (index, term) with index <= `index` and term <= `term` in our log: where
   * our log could match one whose entry at `index` has `term`. Used for fast back-off.
   * Unknown terms (compacted) are reported as a possible match with term 0.
   */
  findConflictByTerm(index: LogIndex, term: Term): { index: LogIndex; term: Term } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i as LogIndex);
      if (typeof t !== 'number') return { index: i as LogIndex, term: 0 as Term };
      if (t <= term) return { index: i as LogIndex, term: t };
    }
    return { index: 0 as LogIndex, term: 0 as Term };
  }

  commitTo(toCommit: LogIndex): void {
    if (this.committed >= toCommit) return; // never decrease commit
    assert(toCommit <= this.lastIndex(), `commit ${toCommit} beyond last index ${this.lastIndex()}`);
    this.committed = toCommit;
  }

  /**
   * Leader side: commit `maxIndex` if it is from `term` (the leader's current term).
   * Raft §5.4.2 / Figure 8: entries of older terms are only committed indirectly.
   */
  maybeCommit(maxIndex: LogIndex, term: Term): boolean {
    if (maxIndex > this.committed && this.zeroTermOnErr(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: LogIndex): void {
    if (i === 0) return;
    assert(this.committed >= i && i >= this.applied,
      `applied(${i}) out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    this.applied = i;
  }

  stableTo(i: LogIndex, t: Term): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: LogIndex): void {
    this.unstable.stableSnapTo(i);
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  /**
   * Committed entries not yet applied, capped by committedBytesPerReadyMax. The host
   * persists a Ready's entries before applying its committed entries, so unstable entries
   * may be included. None while a snapshot is pending: it must be applied first.
   */
  nextCommittedEntries(): readonly Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex()) as LogIndex;
    const hi = (this.committed + 1) as LogIndex;
    if (lo >= hi) return [];
    const ents = this.slice(lo, hi, this.committedBytesPerReadyMax);
    assert(typeof ents !== 'string', `committed entries [${lo},${hi}) unavailable: ${String(ents)}`);
    return ents;
  }

  hasNextCommittedEntries(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** The snapshot to send to a lagging follower: a pending unstable one, else the stored one. */
  snapshot(): Snapshot | 'temporarily-unavailable' {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from i to the end, at most bytesMax (0 = unlimited; at least one). */
  entries(i: LogIndex, bytesMax: number): readonly Entry[] | StorageError {
    if (i > this.lastIndex()) return [];
    return this.slice(i, (this.lastIndex() + 1) as LogIndex, bytesMax);
  }

  /** Replaces the log with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) from storage and/or unstable, at most bytesMax (0 = unlimited). */
  slice(lo: LogIndex, hi: LogIndex, bytesMax: number): readonly Entry[] | StorageError {
    if (lo < this.firstIndex()) return 'compacted';
    assert(lo <= hi && hi <= this.lastIndex() + 1,
      `slice [${lo},${hi}) out of bounds [${this.firstIndex()},${this.lastIndex() + 1})`);
    if (lo === hi) return [];
    const uOff = this.unstable.offset;
    if (lo >= uOff) return entriesLimitBytes(this.unstable.slice(lo, hi), bytesMax);
    const stored = this.storage.entries(lo, Math.min(hi, uOff) as LogIndex, bytesMax);
    if (typeof stored === 'string') return stored;
    // Storage returned fewer entries than asked (byte limit): do not add unstable ones.
    if (hi <= uOff || stored.length < Math.min(hi, uOff) - lo) return stored;
    const combined = stored.concat(this.unstable.slice(uOff, hi));
    return entriesLimitBytes(combined, bytesMax);
  }
}
