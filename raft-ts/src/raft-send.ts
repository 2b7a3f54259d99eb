/**
 * How the leader sends: appends (or a snapshot when the follower needs compacted
 * entries), heartbeats, TimeoutNow, and the once-per-Ready flush of new entries and
 * commit index. Flow control lives in Progress; this file decides what to put in a message.
 */
import { assert } from './assert.js';
import { EMPTY_BYTES, newMessage } from './message.js';
import { ProgressState } from './progress.js';
import type { Raft } from './raft.js';
import type { Entry, LogIndex, PeerId, Term } from './types.js';
import { MessageType, NO_PEER, StateRole } from './types.js';
import { entriesSizeBytes } from './util.js';

/**
 * Sends an App (or, if the log is compacted past `next`, a snapshot) to `to`. Returns
 * whether a message was sent. Empty Apps are sent only if `sendIfEmpty` (they carry the
 * commit index or probe the follower).
 */
export function maybeSendAppend(r: Raft, to: PeerId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = (pr.next - 1) as LogIndex;
  const prevTerm = r.raftLog.term(prevIndex);
  if (typeof prevTerm !== 'number') return maybeSendSnapshot(r, to);
  let ents: readonly Entry[] = [];
  // A throttled follower only gets empty Apps, which elicit an ack or a reject that frees the window.
  if (!(pr.state === ProgressState.Replicate && pr.inflights.full())) {
    const got = r.raftLog.entries(pr.next, r.cfg.messageBytesMax);
    if (typeof got === 'string') return maybeSendSnapshot(r, to);
    ents = got;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  const m = newMessage(MessageType.App, to, r.id, 0 as Term);
  m.index = prevIndex;
  m.logTerm = prevTerm;
  m.entries = ents;
  m.commit = r.raftLog.committed;
  r.send(m);
  pr.sentEntries(ents.length, entriesSizeBytes(ents));
  pr.sentCommitIndex(r.raftLog.committed);
  return true;
}

export function sendAppend(r: Raft, to: PeerId): void {
  maybeSendAppend(r, to, true);
}

/** Sends the latest snapshot when the follower needs entries we compacted. */
export function maybeSendSnapshot(r: Raft, to: PeerId): boolean {
  const pr = r.trk.progress.get(to)!;
  if (!pr.recentActive) {
    r.debug(`ignore sending snapshot to ${to} since it is not recently active`);
    return false;
  }
  const snap = r.raftLog.snapshot();
  if (snap === 'temporarily-unavailable') {
    r.debug(`failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
    return false;
  }
  const { index, term } = snap.metadata;
  // Index 0 is only useful as the bootstrap membership (for a peer that knows none).
  assert(index > 0 || snap.metadata.confState.voters.length > 0,
    'need a non-empty snapshot: the host compacted the log without one');
  assert(index >= r.raftLog.firstIndex() - 1, `snapshot ${index} does not cover compacted log (first ${r.raftLog.firstIndex()})`);
  r.debug(`[firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot`
    + `[index: ${index}, term: ${term}] to ${to} [${pr.toString()}]`);
  pr.becomeSnapshot(index);
  // Installing the snapshot commits up to its index on the follower.
  if (index > pr.sentCommit) pr.sentCommitIndex(index);
  const m = newMessage(MessageType.Snap, to, r.id, 0 as Term);
  m.snapshot = snap;
  r.send(m);
  return true;
}

/** Heartbeats carry min(match, committed): a follower may not have the entries beyond match. */
export function sendHeartbeat(r: Raft, to: PeerId, ctx: Uint8Array): void {
  const pr = r.trk.progress.get(to)!;
  const commit = Math.min(pr.match, r.raftLog.committed) as LogIndex;
  const m = newMessage(MessageType.Heartbeat, to, r.id, 0 as Term);
  m.commit = commit;
  m.context = ctx;
  r.send(m);
  if (commit > pr.sentCommit) pr.sentCommitIndex(commit);
}

/** Sends App (with entries or just the commit index) to every follower. */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.ids) if (id !== r.id) sendAppend(r, id);
}

export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES);
}

export function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array): void {
  for (const id of r.trk.ids) if (id !== r.id) sendHeartbeat(r, id, ctx);
}

/**
 * Sends what accumulated since the last Ready: new proposals (as many messages per
 * follower as its flow control allows) and the latest commit index (one empty App to
 * a follower that has not been told it). Batching here, rather than per proposal or
 * per ack, is what makes many small proposals cheap: messages only leave with a Ready
 * anyway, so sending earlier would only produce more, smaller messages.
 */
export function flushAppends(r: Raft): void {
  if (!r.bcastPending) return;
  r.bcastPending = false;
  if (r.state !== StateRole.Leader) return;
  const commit = r.raftLog.committed;
  for (const id of r.trk.ids) {
    if (id === r.id) continue;
    let sent = 0;
    while (sent < r.cfg.inflightMessagesMax && maybeSendAppend(r, id, false)) sent++;
    if (sent === 0 && r.trk.progress.get(id)!.canBumpCommit(commit)) maybeSendAppend(r, id, true);
  }
}

export function sendTimeoutNow(r: Raft, to: PeerId): void {
  r.send(newMessage(MessageType.TimeoutNow, to, r.id, 0 as Term));
  // `to` campaigns with the transfer marker, which makes voters ignore their promise to
  // us: our lease is void for the rest of the term (even if the transfer is abandoned,
  // the TimeoutNow may still arrive).
  r.leaseVoid = true;
  r.leaseExpiresTick = 0;
  if (!r.trk.progress.has(r.id)) {
    // A removed leader only kept leading to hand over; no member would ever tell it
    // about the new term, so it steps down now rather than lingering as a leader.
    r.info(`steps down after handing leadership to ${to}: not a member of the configuration`);
    r.becomeFollower(r.term, NO_PEER);
  }
}
