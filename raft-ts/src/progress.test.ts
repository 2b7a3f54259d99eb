// Goal: check Progress state transitions (probe/replicate/snapshot), pausing, and stale-rejection handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';
import { Progress, ProgressState } from './progress.js';
import type { LogIndex } from './types.js';

const idx = (n: number): LogIndex => n as LogIndex;
const newPr = (next: number, size = 3): Progress => new Progress(idx(next), new Inflights(size, 0), false, true);

test('probe sends one message at a time', () => {
  const pr = newPr(5);
  assert.equal(pr.state, ProgressState.Probe);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(2, 20);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.next, 5, 'probe does not advance next optimistically');
  assert.equal(pr.maybeUpdate(idx(6)), true);
  assert.equal(pr.isPaused(), false);
  assert.equal(pr.next, 7);
});

test('replicate pipelines until the window is full', () => {
  const pr = newPr(1);
  pr.becomeReplicate();
  pr.sentEntries(2, 1);
  pr.sentEntries(2, 1);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(2, 1);
  assert.equal(pr.next, 7);
  assert.equal(pr.isPaused(), true);
  pr.maybeUpdate(idx(4));
  pr.inflights.freeLE(4);
  assert.equal(pr.inflights.count(), 1);
});

test('maybeDecrTo: stale rejections are ignored, fresh ones move next to the hint', () => {
  const pr = newPr(10);
  assert.equal(pr.maybeDecrTo(idx(5), idx(3)), false, 'rejection of an index we did not send last');
  assert.equal(pr.maybeDecrTo(idx(9), idx(3)), true);
  assert.equal(pr.next, 4);
  const rp = newPr(1);
  rp.maybeUpdate(idx(5));
  rp.becomeReplicate();
  rp.sentEntries(3, 1);
  assert.equal(rp.maybeDecrTo(idx(4), idx(0)), false, 'below match: stale');
  assert.equal(rp.maybeDecrTo(idx(8), idx(0)), true);
  assert.equal(rp.next, 6, 'replicate falls back to match + 1');
});

test('snapshot state pauses and resumes after the snapshot', () => {
  const pr = newPr(3);
  pr.becomeSnapshot(idx(20));
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.pendingSnapshot, 20);
  pr.becomeProbe();
  assert.equal(pr.next, 21);
  assert.equal(pr.pendingSnapshot, 0);
  const failed = newPr(3);
  failed.maybeUpdate(idx(2));
  failed.becomeSnapshot(idx(20));
  failed.pendingSnapshot = idx(0); // reportSnapshot(ok=false)
  failed.becomeProbe();
  assert.equal(failed.next, 3);
});

test('canBumpCommit tells whether the follower may lack the commit index', () => {
  const pr = newPr(1);
  pr.maybeUpdate(idx(5));
  assert.equal(pr.canBumpCommit(idx(5)), true);
  pr.sentCommitIndex(idx(5));
  assert.equal(pr.canBumpCommit(idx(5)), false);
});
