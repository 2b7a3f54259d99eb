/**
 * Membership on a running peer: applying committed conf changes, installing a new
 * configuration (and what the leader does about it, including removing itself), and
 * leaving a joint configuration automatically.
 */
import { confChangeToString, encodeConfChange } from './conf-change.js';
import { changeConfig, restoreConfig } from './conf-changer.js';
import { assert } from './assert.js';
import { EMPTY_BYTES, newMessage } from './message.js';
import { trackerConfigToString, type TrackerConfig } from './progress-tracker.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import { bcastAppend, maybeSendAppend } from './raft-send.js';
import type { ConfChange, ConfState, Entry, LogIndex, PeerId, Term } from './types.js';
import { ConfChangeTransition, EntryType, MessageType, NO_PEER, StateRole } from './types.js';

/** Encoded empty ConfChange: leave the joint configuration. */
const LEAVE_JOINT_DATA = encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [], context: EMPTY_BYTES });

/**
 * Applies a committed ConfChange (the host calls this in log order). An invalid change
 * (which the leader refuses to propose) is logged and ignored identically on every
 * replica, since validity depends only on the log.
 */
export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  const res = changeConfig(r.trk, r.raftLog.lastIndex(), cc);
  if (!res.ok) {
    r.logger?.error(`${r.id} ignoring invalid conf change ${confChangeToString(cc)}: ${res.reason}`);
    return r.trk.confState();
  }
  return switchToConfig(r, res.config, res.progress);
}

export function switchToConfig(r: Raft, config: TrackerConfig, progress: Map<PeerId, Progress>): ConfState {
  r.trk.setConfig(config, progress);
  r.leaseExpiresTick = 0; // a lease is proven against one configuration's quorums
  r.info(`switched to configuration ${trackerConfigToString(config)}`);
  const pr = progress.get(r.id);
  r.isLearner = pr !== undefined && pr.isLearner;
  if ((pr === undefined || r.isLearner) && r.state === StateRole.Leader) {
    // Removed (or demoted) leader. With stepDownOnRemoval it becomes a follower at once;
    // otherwise it keeps leading the remaining members without counting itself (it
    // drops proposals and the host should transfer leadership or shut it down).
    if (r.cfg.stepDownOnRemoval) r.becomeFollower(r.term, NO_PEER);
    return r.trk.confState();
  }
  if (r.state !== StateRole.Leader || config.incoming.length === 0) return r.trk.confState();
  if (r.maybeCommit()) {
    bcastAppend(r); // the new config may commit more: tell everyone
  } else {
    for (const id of r.trk.ids) if (id !== r.id) maybeSendAppend(r, id, false); // probe new members now
  }
  if (r.leadTransferee !== NO_PEER && !r.trk.isVoter(r.leadTransferee)) r.abortLeaderTransfer();
  return r.trk.confState();
}

/** Rebuilds the configuration from a snapshot's ConfState (all progress starts fresh). */
export function restoreConfState(r: Raft, cs: ConfState): void {
  const res = restoreConfig(r.trk, r.raftLog.lastIndex(), cs);
  assert(res.ok, `cannot restore conf state from snapshot: ${res.ok ? '' : res.reason}`);
  switchToConfig(r, res.config, res.progress);
}

/** The host applied entries up to `index`; leaves a joint config automatically when due. */
export function appliedTo(r: Raft, index: LogIndex): void {
  const newApplied = Math.max(index, r.raftLog.applied) as LogIndex;
  r.raftLog.appliedTo(newApplied);
  maybeAutoLeave(r);
}

/**
 * Leader: proposes leaving an auto-leave joint configuration once everything up to it is
 * applied. Refused while a leadership transfer is in progress; retried on the next
 * advance and when the transfer is abandoned (Raft.tickHeartbeat).
 */
export function maybeAutoLeave(r: Raft): void {
  if (r.trk.config.autoLeave && r.raftLog.applied >= r.pendingConfIndex && r.state === StateRole.Leader) {
    const e: Entry = { term: 0 as Term, index: 0 as LogIndex, type: EntryType.ConfChange, data: LEAVE_JOINT_DATA };
    const m = newMessage(MessageType.Prop, NO_PEER, r.id, 0 as Term);
    m.entries = [e];
    const res = r.step(m);
    if (res === null) r.info(`initiating automatic transition out of joint configuration ${trackerConfigToString(r.trk.config)}`);
    else r.debug(`not initiating automatic transition out of joint configuration: ${res.reason}`);
  }
}

