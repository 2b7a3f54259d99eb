// Goal: prove the safety checker can fail — every property is fed a hand-made bad history and must report it, and a good history must pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntryFacts, LogView, SafetyProperty } from './checker.js';
import { SafetyChecker } from './checker.js';
import { chainDigest, DIGEST_EMPTY } from './digest.js';

/** A log view over explicit terms: terms[k] is the term of index firstIndex + k. */
function log(terms: number[], firstIndex = 1): LogView {
  return {
    firstIndex,
    lastIndex: firstIndex + terms.length - 1,
    termAt: (i: number) => terms[i - firstIndex],
  };
}

function entry(index: number, term: number, hash = index * 31 + term): EntryFacts {
  return { index, term, hash };
}

/** Applies `entries` in order on `node`, with the digests an honest replica would compute. */
function applyAll(c: SafetyChecker, node: number, entries: EntryFacts[], start = DIGEST_EMPTY): number {
  let d = start;
  for (const e of entries) {
    d = chainDigest(d, e.index, e.term, e.hash);
    c.onApply(node, e, d, null);
  }
  return d;
}

function only(c: SafetyChecker): SafetyProperty {
  assert.equal(c.violations.length, 1, JSON.stringify(c.violations));
  return c.violations[0]!.property;
}

describe('election safety', () => {
  it('flags two leaders in one term', () => {
    const c = new SafetyChecker();
    c.onLeader(1, 3, log([]));
    c.onLeader(2, 3, log([]));
    assert.equal(only(c), 'election-safety');
  });

  it('accepts one leader per term, and the same leader reported twice', () => {
    const c = new SafetyChecker();
    c.onLeader(1, 3, log([]));
    c.onLeader(1, 3, log([]));
    c.onLeader(2, 4, log([]));
    assert.ok(c.ok);
  });
});

describe('log matching and leader append-only', () => {
  it('flags two different entries with the same index and term', () => {
    const c = new SafetyChecker();
    c.onAppend(1, [entry(1, 1, 0xaa)], 0, null);
    c.onAppend(2, [entry(1, 1, 0xbb)], 0, null);
    assert.equal(only(c), 'log-matching');
  });

  it('flags an equal entry whose predecessor differs', () => {
    const c = new SafetyChecker();
    c.onAppend(1, [entry(1, 1), entry(2, 2)], 0, null);
    c.onAppend(2, [entry(1, 2), entry(2, 2)], 0, null);
    assert.equal(only(c), 'log-matching');
  });

  it('accepts replicas that append the same entries in different batches', () => {
    const c = new SafetyChecker();
    c.onAppend(1, [entry(1, 1), entry(2, 1), entry(3, 2)], 0, 0);
    c.onAppend(2, [entry(1, 1)], 0, null);
    c.onAppend(2, [entry(2, 1), entry(3, 2)], 1, null);
    c.onAppend(3, [entry(3, 2)], -1, null); // predecessor compacted: unknown
    assert.ok(c.ok);
  });

  it('flags a leader overwriting its own log', () => {
    const c = new SafetyChecker();
    c.onAppend(1, [entry(4, 2)], 1, 5);
    assert.equal(only(c), 'leader-append-only');
  });
});

describe('leader completeness', () => {
  it('flags a new leader that lacks an entry committed in an earlier term', () => {
    const c = new SafetyChecker();
    c.onCommit(1, 2, 0, 2, (i) => [0, 1, 2][i]);
    c.onLeader(3, 3, log([1]));
    assert.equal(only(c), 'leader-completeness');
  });

  it('flags a new leader holding a different entry at a committed index', () => {
    const c = new SafetyChecker();
    c.onCommit(1, 2, 0, 2, (i) => [0, 1, 2][i]);
    c.onLeader(3, 3, log([1, 1]));
    assert.equal(only(c), 'leader-completeness');
  });

  it('accepts a stale leader of the committing term, and a complete later leader', () => {
    const c = new SafetyChecker();
    c.onCommit(1, 3, 0, 2, (i) => [0, 1, 3][i]);
    // Elected in term 2 by delayed votes after term 3 committed index 2: not required to have it.
    c.onLeader(2, 2, log([1]));
    c.onLeader(3, 4, log([1, 3]));
    // A compacted prefix counts as present.
    c.onLeader(4, 5, log([3, 5], 2));
    assert.ok(c.ok);
  });
});

describe('state machine safety', () => {
  it('flags replicas applying different entries at the same index', () => {
    const c = new SafetyChecker();
    applyAll(c, 1, [entry(1, 1), entry(2, 1, 0x11)]);
    applyAll(c, 2, [entry(1, 1), entry(2, 1, 0x22)]);
    assert.equal(only(c), 'state-machine-safety');
  });

  it('flags a gap in a replica\'s applied sequence', () => {
    const c = new SafetyChecker();
    applyAll(c, 1, [entry(1, 1), entry(3, 1)]);
    assert.equal(only(c), 'state-machine-safety');
  });

  it('flags a replica whose state digest diverges although entries agree', () => {
    const c = new SafetyChecker();
    applyAll(c, 1, [entry(1, 1), entry(2, 1)]);
    c.onApply(2, entry(1, 1), 0xdead, null);
    assert.equal(only(c), 'state-machine-safety');
  });

  it('flags a snapshot that rolls a replica back, and one with the wrong state', () => {
    const a = new SafetyChecker();
    const d2 = applyAll(a, 1, [entry(1, 1), entry(2, 1)]);
    a.onApplyReset(1, 1, d2, true);
    assert.equal(only(a), 'state-machine-safety');
    const b = new SafetyChecker();
    applyAll(b, 1, [entry(1, 1), entry(2, 1)]);
    b.onApplyReset(2, 2, 0xbad, true);
    assert.equal(only(b), 'snapshot-integrity');
  });

  it('accepts applied sequences that are prefixes of one another, with restarts and snapshots', () => {
    const c = new SafetyChecker();
    const ents = [entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)];
    const d4 = applyAll(c, 1, ents);
    const d2 = applyAll(c, 2, ents.slice(0, 2));
    c.onApplyReset(2, 0, DIGEST_EMPTY, false); // restart without a snapshot: replays from 1
    applyAll(c, 2, ents.slice(0, 3));
    c.onApplyReset(3, 4, d4, true); // installs a snapshot at 4
    assert.ok(d2 !== d4);
    assert.ok(c.ok, JSON.stringify(c.violations));
  });
});

describe('vote durability', () => {
  it('flags a synced vote that changes within a term, and a term that goes back', () => {
    const a = new SafetyChecker();
    a.onVoteSynced(1, 5, 2);
    a.onVoteSynced(1, 5, 3);
    assert.equal(only(a), 'vote-durability');
    const b = new SafetyChecker();
    b.onVoteSynced(1, 5, 2);
    b.onVoteSynced(1, 4, 0);
    assert.equal(only(b), 'vote-durability');
  });
});

describe('linearizable reads', () => {
  /** Index 1 writes key 0 := 101, index 2 writes key 0 := 102 (both applied on n1). */
  function history(): SafetyChecker {
    const c = new SafetyChecker();
    let d = chainDigest(DIGEST_EMPTY, 1, 1, 7);
    c.onApply(1, entry(1, 1, 7), d, { key: 0, writeId: 101 });
    d = chainDigest(d, 2, 1, 8);
    c.tick = 10;
    c.onApply(1, entry(2, 1, 8), d, { key: 0, writeId: 102 });
    return c;
  }

  it('flags a stale read: its read index precedes a write acknowledged before it was issued', () => {
    const c = history();
    c.tick = 11;
    c.onReadIssued(1, 0);
    c.onReadServed(1, 2, 1, 1, 101);
    assert.equal(only(c), 'linearizable-read');
  });

  it('flags a read that observes a value other than the state at its index', () => {
    const c = history();
    c.onReadIssued(1, 0);
    c.onReadServed(1, 2, 2, 2, 101);
    assert.equal(only(c), 'linearizable-read');
  });

  it('flags a read served before the replica applied up to the read index', () => {
    const c = history();
    c.onReadIssued(1, 0);
    c.onReadServed(1, 2, 2, 1, 101);
    assert.equal(only(c), 'api-contract');
  });

  it('accepts a read that observes every acknowledged write, and a read issued before the write', () => {
    const c = new SafetyChecker();
    c.onReadIssued(1, 0); // issued before anything was acknowledged
    const d = chainDigest(DIGEST_EMPTY, 1, 1, 7);
    c.onApply(1, entry(1, 1, 7), d, { key: 0, writeId: 101 });
    c.onReadServed(1, 2, 0, 0, 0); // concurrent with the write: may miss it
    c.onReadIssued(2, 0);
    c.onReadServed(2, 1, 1, 1, 101);
    assert.ok(c.ok, JSON.stringify(c.violations));
  });
});
