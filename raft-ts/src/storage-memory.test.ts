// Goal: MemoryStorage appends with truncation, compacts keeping the boundary term, and snapshots consistently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from './storage-memory.js';
import type { ConfState, Entry, LogIndex, PeerId, Term } from './types.js';
import { EntryType } from './types.js';

const i = (n: number): LogIndex => n as LogIndex;
const ent = (term: number, index: number): Entry => ({ term: term as Term, index: i(index), type: EntryType.Normal, data: new Uint8Array(4) });
const cs: ConfState = { voters: [1 as PeerId], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

test('bootstrap confState at index 0', () => {
  const s = new MemoryStorage(cs);
  assert.deepEqual(s.initialState().confState, cs);
  assert.equal(s.firstIndex(), 1);
  assert.equal(s.lastIndex(), 0);
  assert.equal(s.term(i(0)), 0);
});

test('append truncates a conflicting suffix and rejects gaps', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(1, 2), ent(1, 3)]);
  s.append([ent(2, 2)]);
  assert.equal(s.lastIndex(), 2);
  assert.equal(s.term(i(2)), 2);
  assert.throws(() => s.append([ent(2, 5)]), /gap/);
});

test('compact keeps the term of the compaction index and is idempotent', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 2), ent(3, 3)]);
  s.compact(i(2));
  s.compact(i(1));
  assert.equal(s.firstIndex(), 3);
  assert.equal(s.term(i(2)), 2);
  assert.equal(s.term(i(1)), 'compacted');
  assert.equal(s.entries(i(2), i(4), 0), 'compacted');
  assert.equal(s.entries(i(3), i(4), 0).length, 1);
  // Appending entries that are partly compacted keeps only the new part.
  s.append([ent(2, 2), ent(3, 3), ent(3, 4)]);
  assert.equal(s.lastIndex(), 4);
  assert.throws(() => s.compact(i(9)), /beyond last index/);
});

test('createSnapshot and applySnapshot', () => {
  const s = new MemoryStorage(cs);
  s.append([ent(1, 1), ent(1, 2)]);
  const snap = s.createSnapshot(i(2), cs, new Uint8Array([7]));
  assert.equal(snap.metadata.term, 1);
  assert.throws(() => s.createSnapshot(i(1), cs, new Uint8Array(0)), /out of date/);
  const t = new MemoryStorage();
  t.applySnapshot(snap);
  assert.equal(t.firstIndex(), 3);
  assert.equal(t.lastIndex(), 2);
  assert.equal(t.term(i(2)), 1);
  assert.deepEqual(t.initialState().confState, cs);
});

test('entries honours the byte limit but returns at least one entry', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(1, 2), ent(1, 3)]);
  const one = s.entries(i(1), i(4), 1);
  assert.ok(typeof one !== 'string' && one.length === 1);
  const two = s.entries(i(1), i(4), 40);
  assert.ok(typeof two !== 'string' && two.length === 2);
});
