// Goal: check the raft log's append/conflict/commit rules across stable storage and the unstable tail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from './raft-log.js';
import { MemoryStorage } from './storage-memory.js';
import type { Entry, LogIndex, Term } from './types.js';
import { EntryType } from './types.js';

const i = (n: number): LogIndex => n as LogIndex;
const t = (n: number): Term => n as Term;
const ent = (term: number, index: number, data = ''): Entry => ({
  term: t(term), index: i(index), type: EntryType.Normal, data: new TextEncoder().encode(data),
});
const terms = (ents: readonly Entry[] | string): string =>
  typeof ents === 'string' ? ents : ents.map((e) => `${e.term}/${e.index}`).join(' ');

/** A log with entries 1..n (terms given) persisted in storage. */
function logWith(...entryTerms: number[]): RaftLog {
  const s = new MemoryStorage();
  s.append(entryTerms.map((tm, k) => ent(tm, k + 1)));
  return new RaftLog(s, 0);
}

test('maybeAppend: matching prefix, new entries, conflicts truncate the suffix', () => {
  const log = logWith(1, 1, 2);
  assert.equal(log.maybeAppend(i(3), t(3), i(0), [ent(3, 4)]), undefined, 'prev term mismatch');
  assert.equal(log.maybeAppend(i(3), t(2), i(3), [ent(2, 4), ent(2, 5)]), 5);
  assert.equal(log.committed, 3);
  assert.equal(terms(log.slice(i(1), i(6), 0)), '1/1 1/2 2/3 2/4 2/5');
  // A conflicting entry at 4 replaces 4 and 5.
  assert.equal(log.maybeAppend(i(3), t(2), i(3), [ent(3, 4)]), 4);
  assert.equal(terms(log.slice(i(1), i(5), 0)), '1/1 1/2 2/3 3/4');
  // A duplicate (already present) append changes nothing and does not truncate.
  assert.equal(log.maybeAppend(i(1), t(1), i(3), [ent(1, 2)]), 2);
  assert.equal(log.lastIndex(), 4);
  // Commit never exceeds the last entry known to match the leader.
  assert.equal(log.maybeAppend(i(2), t(1), i(100), []), 2);
  assert.equal(log.committed, 3);
});

test('a conflict at or below the commit index is a broken invariant', () => {
  const log = logWith(1, 1, 1);
  log.commitTo(i(3));
  assert.throws(() => log.maybeAppend(i(1), t(1), i(3), [ent(2, 2)]), /conflicts with committed/);
});

test('maybeCommit only commits entries of the given (current) term', () => {
  const log = logWith(1, 1, 2);
  assert.equal(log.maybeCommit(i(2), t(2)), false, 'entry 2 is from term 1');
  assert.equal(log.committed, 0);
  assert.equal(log.maybeCommit(i(3), t(2)), true);
  assert.equal(log.committed, 3);
  assert.equal(log.maybeCommit(i(2), t(1)), false, 'commit never decreases');
});

test('findConflictByTerm gives the last index with term <= the given term', () => {
  const log = logWith(1, 1, 2, 2, 4, 4);
  assert.deepEqual(log.findConflictByTerm(i(6), t(3)), { index: 4, term: 2 });
  assert.deepEqual(log.findConflictByTerm(i(6), t(4)), { index: 6, term: 4 });
  assert.deepEqual(log.findConflictByTerm(i(4), t(1)), { index: 2, term: 1 });
  assert.deepEqual(log.findConflictByTerm(i(6), t(0)), { index: 0, term: 0 });
});

test('slice spans storage and the unstable tail, honouring the byte limit', () => {
  const log = logWith(1, 1);
  log.append([ent(2, 3, 'abcd'), ent(2, 4, 'efgh')]);
  assert.equal(terms(log.slice(i(1), i(5), 0)), '1/1 1/2 2/3 2/4');
  // Each entry costs data + 16 bytes: the first always comes, then up to the limit.
  assert.equal(terms(log.slice(i(2), i(5), 16 + 20)), '1/2 2/3');
  assert.equal(terms(log.slice(i(3), i(5), 1)), '2/3');
  assert.equal(terms(log.entries(i(5), 0)), '');
});

test('compaction: terms below the first index are compacted; snapshots restore the log', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(1, 2), ent(2, 3), ent(2, 4)]);
  s.compact(i(2));
  const log = new RaftLog(s, 0);
  assert.equal(log.firstIndex(), 3);
  assert.equal(log.term(i(2)), 1);
  assert.equal(log.term(i(1)), 'compacted');
  assert.equal(log.slice(i(2), i(4), 0), 'compacted');
  assert.equal(log.committed, 2, 'a compacted prefix is committed');
  log.restore({ data: new Uint8Array(0), metadata: { index: i(10), term: t(3), confState: s.initialState().confState } });
  assert.equal(log.firstIndex(), 11);
  assert.equal(log.lastIndex(), 10);
  assert.equal(log.lastTerm(), 3);
  assert.equal(log.committed, 10);
  assert.equal(log.hasNextCommittedEntries(), false, 'the snapshot must be applied first');
});

test('stableTo ignores an acknowledgement for entries replaced since', () => {
  const log = logWith(1);
  log.append([ent(1, 2), ent(1, 3)]);
  log.append([ent(2, 3)]); // replaced before the host persisted the first Ready
  log.stableTo(i(3), t(1));
  assert.equal(terms(log.unstableEntries()), '1/2 2/3');
  log.stableTo(i(3), t(2));
  assert.equal(log.unstableEntries().length, 0);
});

test('applied never passes committed', () => {
  const log = logWith(1, 1);
  log.commitTo(i(1));
  assert.throws(() => log.appliedTo(i(2)), /out of range/);
  log.appliedTo(i(1));
  assert.equal(terms(log.nextCommittedEntries()), '');
  log.commitTo(i(2));
  assert.equal(terms(log.nextCommittedEntries()), '1/2');
});
