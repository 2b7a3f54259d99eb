// Goal: round-trip ConfChange encoding and check the conf changer's rules (one voter at a time, joint enter/leave, demotion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConfChange, encodeConfChange } from './conf-change.js';
import { changeConfig, restoreConfig } from './conf-changer.js';
import { ProgressTracker } from './progress-tracker.js';
import type { ConfChange, ConfState, LogIndex, PeerId } from './types.js';
import { ConfChangeTransition as T, ConfChangeType as C } from './types.js';

const p = (n: number): PeerId => n as PeerId;
const cc = (transition: T, ...changes: [C, number][]): ConfChange => ({
  transition, changes: changes.map(([type, id]) => ({ type, peerId: p(id) })), context: new Uint8Array(0),
});

test('encode/decode round-trips, including large ids and a context', () => {
  const orig: ConfChange = {
    transition: T.JointExplicit,
    changes: [{ type: C.AddNode, peerId: p(2 ** 40 + 3) }, { type: C.RemoveNode, peerId: p(1) }, { type: C.AddLearnerNode, peerId: p(300) }],
    context: new Uint8Array([1, 2, 3, 255]),
  };
  assert.deepEqual(decodeConfChange(encodeConfChange(orig)), orig);
  const empty = cc(T.Auto);
  assert.deepEqual(decodeConfChange(encodeConfChange(empty)), empty);
});

test('decode rejects corrupt input loudly', () => {
  const b = encodeConfChange(cc(T.Auto, [C.AddNode, 4]));
  assert.throws(() => decodeConfChange(b.slice(0, b.length - 1)), /RaftAssertionError|invariant/);
  assert.throws(() => decodeConfChange(new Uint8Array([9, 0, 0, 0])), /version/);
});

function tracker(cs: Partial<ConfState>): ProgressTracker {
  const trk = new ProgressTracker(8, 0);
  const full: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...cs };
  const r = restoreConfig(trk, 10 as LogIndex, full);
  assert.ok(r.ok);
  trk.setConfig(r.config, r.progress);
  return trk;
}

function apply(trk: ProgressTracker, c: ConfChange): string {
  const r = changeConfig(trk, 10 as LogIndex, c);
  if (!r.ok) return `error: ${r.reason}`;
  trk.setConfig(r.config, r.progress);
  const s = trk.confState();
  return `voters=${s.voters.join(',')} out=${s.votersOutgoing.join(',')} learners=${s.learners.join(',')} `
    + `next=${s.learnersNext.join(',')} auto=${s.autoLeave}`;
}

test('simple changes: one voter at a time', () => {
  const trk = tracker({ voters: [p(1), p(2), p(3)] });
  assert.equal(apply(trk, cc(T.Auto, [C.AddNode, 4])), 'voters=1,2,3,4 out= learners= next= auto=false');
  assert.equal(apply(trk, cc(T.Auto, [C.AddLearnerNode, 5])), 'voters=1,2,3,4 out= learners=5 next= auto=false');
  assert.equal(apply(trk, cc(T.Auto, [C.AddNode, 5])), 'voters=1,2,3,4,5 out= learners= next= auto=false');
  assert.equal(apply(trk, cc(T.Auto, [C.RemoveNode, 9])), 'voters=1,2,3,4,5 out= learners= next= auto=false');
  assert.equal(apply(trk, cc(T.Auto, [C.AddLearnerNode, 5])), 'voters=1,2,3,4 out= learners=5 next= auto=false');
  assert.match(apply(trk, cc(T.Auto, [C.RemoveNode, 1])), /^voters=2,3,4 /);
});

test('cannot remove all voters', () => {
  const trk = tracker({ voters: [p(1)] });
  assert.equal(apply(trk, cc(T.Auto, [C.RemoveNode, 1])), 'error: removed all voters');
});

test('joint: enter, refuse nesting, demote via learnersNext, leave', () => {
  const trk = tracker({ voters: [p(1), p(2), p(3)] });
  assert.equal(apply(trk, cc(T.Auto, [C.AddNode, 4], [C.AddLearnerNode, 3])),
    'voters=1,2,4 out=1,2,3 learners= next=3 auto=true');
  assert.equal(apply(trk, cc(T.Auto, [C.AddNode, 5], [C.AddNode, 6])), 'error: config is already joint');
  assert.equal(apply(trk, cc(T.Auto, [C.AddNode, 5])), "error: can't apply simple config change in joint config");
  assert.equal(apply(trk, cc(T.Auto)), 'voters=1,2,4 out= learners=3 next= auto=false');
  assert.equal(apply(trk, cc(T.Auto)), "error: can't leave a non-joint config");
});

test('joint explicit does not auto-leave; removed outgoing voters keep progress until leaving', () => {
  const trk = tracker({ voters: [p(1), p(2), p(3)] });
  assert.equal(apply(trk, cc(T.JointExplicit, [C.RemoveNode, 3])), 'voters=1,2 out=1,2,3 learners= next= auto=false');
  assert.ok(trk.progress.has(p(3)));
  apply(trk, cc(T.Auto));
  assert.equal(trk.progress.has(p(3)), false);
});

test('restore rejects an inconsistent ConfState', () => {
  const trk = new ProgressTracker(8, 0);
  const r = restoreConfig(trk, 1 as LogIndex, {
    voters: [p(1)], learners: [p(1)], votersOutgoing: [], learnersNext: [], autoLeave: false,
  });
  assert.equal(r.ok, false);
});
