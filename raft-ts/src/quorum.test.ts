// Goal: pin down majority and joint quorum math (commit index and vote outcome), including empty halves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  jointCommittedIndex, jointVoteResult, majorityCommittedIndex, majorityVoteResult, VoteResult,
} from './quorum.js';

const acked = (m: Record<number, number>) => (id: number): number | undefined => m[id];
const votes = (m: Record<number, boolean>) => (id: number): boolean | undefined => m[id];

test('majority commit index is the largest index acked by a majority', () => {
  assert.equal(majorityCommittedIndex([], acked({})), Infinity);
  assert.equal(majorityCommittedIndex([1], acked({ 1: 7 })), 7);
  assert.equal(majorityCommittedIndex([1, 2], acked({ 1: 7, 2: 5 })), 5);
  assert.equal(majorityCommittedIndex([1, 2, 3], acked({ 1: 7, 2: 5, 3: 9 })), 7);
  assert.equal(majorityCommittedIndex([1, 2, 3], acked({ 1: 7 })), 0); // missing counts as 0
  assert.equal(majorityCommittedIndex([1, 2, 3, 4], acked({ 1: 1, 2: 2, 3: 3, 4: 4 })), 2);
  assert.equal(majorityCommittedIndex([1, 2, 3, 4, 5], acked({ 1: 10, 2: 10, 3: 4, 4: 1, 5: 1 })), 4);
});

test('majority commit index matches a brute-force definition', () => {
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 48271) % 2147483647; return seed % n; };
  for (let iter = 0; iter < 500; iter++) {
    const n = 1 + rnd(7);
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const m: Record<number, number> = {};
    for (const id of ids) if (rnd(4) !== 0) m[id] = rnd(10);
    let want = 0;
    for (let idx = 0; idx <= 10; idx++) {
      if (ids.filter((id) => (m[id] ?? 0) >= idx).length > n / 2) want = idx;
    }
    assert.equal(majorityCommittedIndex(ids, acked(m)), want, JSON.stringify({ ids, m }));
  }
});

test('majority vote result', () => {
  assert.equal(majorityVoteResult([], votes({})), VoteResult.Won);
  assert.equal(majorityVoteResult([1, 2, 3], votes({ 1: true })), VoteResult.Pending);
  assert.equal(majorityVoteResult([1, 2, 3], votes({ 1: true, 2: true })), VoteResult.Won);
  assert.equal(majorityVoteResult([1, 2, 3], votes({ 1: true, 2: false })), VoteResult.Pending);
  assert.equal(majorityVoteResult([1, 2, 3], votes({ 1: false, 2: false })), VoteResult.Lost);
  assert.equal(majorityVoteResult([1, 2, 3, 4], votes({ 1: true, 2: true })), VoteResult.Pending);
  assert.equal(majorityVoteResult([1, 2, 3, 4], votes({ 1: true, 2: true, 3: false, 4: false })), VoteResult.Lost);
});

test('joint commit index is the minimum of both halves; an empty half does not limit', () => {
  const a = acked({ 1: 9, 2: 8, 3: 2, 4: 3, 5: 1 });
  assert.equal(jointCommittedIndex([1, 2, 3], [], a), 8);
  assert.equal(jointCommittedIndex([1, 2, 3], [3, 4, 5], a), 2);
  assert.equal(jointCommittedIndex([1, 2, 4], [1, 2, 3], a), 8);
});

test('joint vote needs both halves', () => {
  const v = votes({ 1: true, 2: true, 4: false, 5: false });
  assert.equal(jointVoteResult([1, 2, 3], [], v), VoteResult.Won);
  assert.equal(jointVoteResult([1, 2, 3], [3, 4, 5], v), VoteResult.Lost);
  assert.equal(jointVoteResult([1, 2, 3], [1, 3, 6], v), VoteResult.Pending);
  assert.equal(jointVoteResult([1, 2, 3], [1, 2, 6], v), VoteResult.Won);
});
