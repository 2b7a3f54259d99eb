/**
 * Computes the configuration that results from a ConfChange, without touching the live
 * tracker: the result is applied only if every invariant holds. Failures are values
 * (a reason string) so the leader can refuse an invalid proposal up front.
 *
 * Three operations (etcd's confchange.Changer):
 *  - simple: at most one voter changes; applied directly (the one-at-a-time protocol;
 *    any two majorities of configurations differing by one voter intersect);
 *  - enterJoint: incoming := changed config, outgoing := old voters; decisions need both;
 *  - leaveJoint: drop outgoing; demoted voters (learnersNext) become learners.
 */
import type { Progress } from './progress.js';
import type { ProgressTracker, TrackerConfig } from './progress-tracker.js';
import { isJoint } from './progress-tracker.js';
import type { ConfChange, ConfChangeSingle, ConfState, LogIndex, PeerId } from './types.js';
import { ConfChangeType } from './types.js';
import { autoLeaves, entersJoint, isLeaveJoint } from './conf-change.js';

export type ChangeResult =
  | { ok: true; config: TrackerConfig; progress: Map<PeerId, Progress> }
  | { ok: false; reason: string };

/** Mutable working copy of a TrackerConfig. */
interface Draft {
  incoming: Set<PeerId>;
  outgoing: Set<PeerId>;
  learners: Set<PeerId>;
  learnersNext: Set<PeerId>;
  autoLeave: boolean;
  progress: Map<PeerId, Progress>;
}

/** Applies `cc` on top of the tracker's current config. */
export function changeConfig(trk: ProgressTracker, lastIndex: LogIndex, cc: ConfChange): ChangeResult {
  if (isLeaveJoint(cc)) return leaveJoint(trk);
  if (entersJoint(cc)) return enterJoint(trk, lastIndex, autoLeaves(cc), cc.changes);
  return simple(trk, lastIndex, cc.changes);
}

/** Builds the config described by a ConfState (restart, snapshot) from scratch. */
export function restoreConfig(trk: ProgressTracker, lastIndex: LogIndex, cs: ConfState): ChangeResult {
  const d: Draft = {
    incoming: new Set(cs.voters), outgoing: new Set(cs.votersOutgoing), learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext), autoLeave: cs.autoLeave, progress: new Map(),
  };
  for (const id of [...d.incoming, ...d.outgoing, ...d.learners, ...d.learnersNext]) {
    if (!d.progress.has(id)) d.progress.set(id, trk.newProgress(nextFor(lastIndex), d.learners.has(id)));
  }
  return check(d);
}

function enterJoint(trk: ProgressTracker, lastIndex: LogIndex, autoLeave: boolean,
  changes: readonly ConfChangeSingle[]): ChangeResult {
  if (isJoint(trk.config)) return { ok: false, reason: 'config is already joint' };
  const d = draftOf(trk);
  if (d.incoming.size === 0) return { ok: false, reason: "can't make a zero-voter config joint" };
  d.outgoing = new Set(d.incoming);
  const err = applyChanges(d, trk, lastIndex, changes);
  if (err !== null) return { ok: false, reason: err };
  d.autoLeave = autoLeave;
  return check(d);
}

function leaveJoint(trk: ProgressTracker): ChangeResult {
  if (!isJoint(trk.config)) return { ok: false, reason: "can't leave a non-joint config" };
  const d = draftOf(trk);
  for (const id of d.learnersNext) {
    d.learners.add(id);
    d.progress.get(id)!.isLearner = true;
  }
  d.learnersNext.clear();
  for (const id of d.outgoing) {
    if (!d.incoming.has(id) && !d.learners.has(id)) d.progress.delete(id);
  }
  d.outgoing.clear();
  d.autoLeave = false;
  return check(d);
}

function simple(trk: ProgressTracker, lastIndex: LogIndex, changes: readonly ConfChangeSingle[]): ChangeResult {
  if (isJoint(trk.config)) return { ok: false, reason: "can't apply simple config change in joint config" };
  const d = draftOf(trk);
  const err = applyChanges(d, trk, lastIndex, changes);
  if (err !== null) return { ok: false, reason: err };
  let diff = 0;
  for (const id of trk.config.incoming) if (!d.incoming.has(id)) diff++;
  for (const id of d.incoming) if (!trk.config.incoming.includes(id)) diff++;
  if (diff > 1) return { ok: false, reason: 'more than one voter changed without entering joint config' };
  return check(d);
}

/** A copy whose Progress objects are cloned lazily (only the ones a change mutates). */
function draftOf(trk: ProgressTracker): Draft {
  const c = trk.config;
  return {
    incoming: new Set(c.incoming), outgoing: new Set(c.outgoing), learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext), autoLeave: c.autoLeave, progress: cloneProgress(trk.progress),
  };
}

function cloneProgress(m: Map<PeerId, Progress>): Map<PeerId, Progress> {
  const out = new Map<PeerId, Progress>();
  for (const [id, pr] of m) out.set(id, Object.assign(Object.create(Object.getPrototypeOf(pr) as object) as Progress, pr));
  return out;
}

function applyChanges(d: Draft, trk: ProgressTracker, lastIndex: LogIndex,
  changes: readonly ConfChangeSingle[]): string | null {
  for (const ch of changes) {
    if (ch.peerId === 0) continue; // etcd compatibility: id 0 is a no-op
    switch (ch.type) {
      case ConfChangeType.AddNode: makeVoter(d, trk, lastIndex, ch.peerId); break;
      case ConfChangeType.AddLearnerNode: makeLearner(d, trk, lastIndex, ch.peerId); break;
      case ConfChangeType.RemoveNode: remove(d, ch.peerId); break;
    }
  }
  if (d.incoming.size === 0) return 'removed all voters';
  return null;
}

function makeVoter(d: Draft, trk: ProgressTracker, lastIndex: LogIndex, id: PeerId): void {
  const pr = d.progress.get(id);
  if (pr === undefined) {
    d.progress.set(id, trk.newProgress(nextFor(lastIndex), false));
  } else {
    pr.isLearner = false;
  }
  d.learners.delete(id);
  d.learnersNext.delete(id);
  d.incoming.add(id);
}

/**
 * A voter of the outgoing half cannot become a learner until the joint config is left
 * (it still votes there), so it is parked in learnersNext.
 */
function makeLearner(d: Draft, trk: ProgressTracker, lastIndex: LogIndex, id: PeerId): void {
  const pr = d.progress.get(id);
  if (pr === undefined) {
    d.progress.set(id, trk.newProgress(nextFor(lastIndex), true));
    d.learners.add(id);
    return;
  }
  if (pr.isLearner) return;
  d.incoming.delete(id);
  d.learners.delete(id);
  d.learnersNext.delete(id);
  if (d.outgoing.has(id)) {
    d.learnersNext.add(id);
  } else {
    pr.isLearner = true;
    d.learners.add(id);
  }
}

function remove(d: Draft, id: PeerId): void {
  if (!d.progress.has(id)) return;
  d.incoming.delete(id);
  d.learners.delete(id);
  d.learnersNext.delete(id);
  // An outgoing voter keeps its Progress: it still counts until the joint config is left.
  if (!d.outgoing.has(id)) d.progress.delete(id);
}

/** A new member is probed at the last index (the probe most likely carries the conf change). */
function nextFor(lastIndex: LogIndex): LogIndex {
  return Math.max(lastIndex, 1) as LogIndex;
}

function check(d: Draft): ChangeResult {
  const sorted = (s: Set<PeerId>): PeerId[] => [...s].sort((a, b) => a - b);
  const config: TrackerConfig = {
    incoming: sorted(d.incoming), outgoing: sorted(d.outgoing), learners: sorted(d.learners),
    learnersNext: sorted(d.learnersNext), autoLeave: d.autoLeave,
  };
  const err = invariantViolation(config, d.progress);
  return err === null ? { ok: true, config, progress: d.progress } : { ok: false, reason: err };
}

function invariantViolation(c: TrackerConfig, progress: Map<PeerId, Progress>): string | null {
  for (const ids of [c.incoming, c.outgoing, c.learners, c.learnersNext]) {
    for (const id of ids) if (!progress.has(id)) return `no progress for ${id}`;
  }
  for (const id of c.learnersNext) {
    if (!c.outgoing.includes(id)) return `${id} is in learnersNext but not outgoing`;
    if (progress.get(id)!.isLearner) return `${id} is in learnersNext but already marked as learner`;
  }
  for (const id of c.learners) {
    if (c.outgoing.includes(id)) return `${id} is in learners and outgoing voters`;
    if (c.incoming.includes(id)) return `${id} is in learners and incoming voters`;
    if (!progress.get(id)!.isLearner) return `${id} is in learners but not marked as learner`;
  }
  if (c.outgoing.length === 0) {
    if (c.learnersNext.length > 0) return 'learnersNext must be empty when not joint';
    if (c.autoLeave) return 'autoLeave must be false when not joint';
  }
  for (const [id, pr] of progress) {
    const member = c.incoming.includes(id) || c.outgoing.includes(id) || c.learners.includes(id);
    if (!member) return `progress for ${id} but it is not a member`;
    if (pr.isLearner !== c.learners.includes(id)) return `learner flag of ${id} disagrees with config`;
  }
  return null;
}
