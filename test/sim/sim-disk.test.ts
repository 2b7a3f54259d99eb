// Goal: the simulated disk keeps exactly what was fsynced — a crash loses the unsynced tail — and a restart rebuilds storage from the durable image.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntryType, NO_PEER } from '@shoal/raft-ts';
import type { ConfState, Entry, LogIndex, PeerId, Snapshot, Term } from '@shoal/raft-ts';
import { SimDisk } from './sim-disk.js';

const BOOT: ConfState = {
  voters: [1, 2, 3] as PeerId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false,
};

function ents(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    out.push({ index: i as LogIndex, term: term as Term, type: EntryType.Normal, data: new Uint8Array([i]) });
  }
  return out;
}

function hs(term: number, commit: number, vote = 0): { term: Term; vote: PeerId; commit: LogIndex } {
  return { term: term as Term, vote: vote as PeerId, commit: commit as LogIndex };
}

function snap(index: number, term: number): Snapshot {
  return { data: new Uint8Array(0), metadata: { confState: BOOT, index: index as LogIndex, term: term as Term } };
}

describe('SimDisk', () => {
  it('loses the unsynced tail on crash and keeps what was synced', () => {
    const d = new SimDisk(BOOT);
    d.write({ kind: 'entries', entries: ents(1, 3, 1) });
    d.write({ kind: 'hard-state', hardState: hs(1, 2, 1) });
    d.fsync();
    d.write({ kind: 'entries', entries: ents(4, 5, 1) });
    d.write({ kind: 'hard-state', hardState: hs(2, 4, NO_PEER) });
    assert.equal(d.crash(), 2);
    const s = d.load();
    assert.equal(s.lastIndex(), 3);
    assert.deepEqual(s.initialState().hardState, hs(1, 2, 1));
    assert.deepEqual(s.initialState().confState, BOOT);
  });

  it('truncates a conflicting suffix like MemoryStorage does', () => {
    const d = new SimDisk(BOOT);
    d.write({ kind: 'entries', entries: ents(1, 5, 1) });
    d.write({ kind: 'entries', entries: ents(3, 4, 2) });
    d.fsync();
    const s = d.load();
    assert.equal(s.lastIndex(), 4);
    assert.equal(s.term(3 as LogIndex), 2);
    assert.equal(s.term(2 as LogIndex), 1);
  });

  it('restores from a saved snapshot and the entries after it', () => {
    const d = new SimDisk(BOOT);
    d.write({ kind: 'entries', entries: ents(1, 6, 1) });
    d.write({ kind: 'hard-state', hardState: hs(1, 6) });
    d.write({ kind: 'save-snapshot', snapshot: snap(4, 1) });
    d.write({ kind: 'compact', index: 2 as LogIndex });
    d.fsync();
    const s = d.load();
    assert.equal(s.firstIndex(), 5);
    assert.equal(s.lastIndex(), 6);
    assert.equal(d.durableSnapshot?.metadata.index, 4);
  });

  it('replaces the log when a leader snapshot is installed', () => {
    const d = new SimDisk({ voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
    d.write({ kind: 'entries', entries: ents(1, 3, 1) });
    d.write({ kind: 'install-snapshot', snapshot: snap(10, 2) });
    d.write({ kind: 'entries', entries: ents(11, 12, 2) });
    d.write({ kind: 'hard-state', hardState: hs(2, 10) });
    d.fsync();
    const s = d.load();
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 12);
    assert.deepEqual(s.initialState().confState, BOOT);
  });

  it('refuses a durable commit beyond the durable log', () => {
    const d = new SimDisk(BOOT);
    d.write({ kind: 'hard-state', hardState: hs(1, 3) });
    assert.throws(() => d.fsync(), /beyond durable log end/);
  });
});
