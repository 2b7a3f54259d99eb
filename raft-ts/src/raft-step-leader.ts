/**
 * How a leader handles messages: proposals (with the conf-change safety rule and the
 * byte limits), replication responses (flow control, fast back-off, commit), heartbeats
 * and ReadIndex, check-quorum, snapshots status and leadership transfer.
 */
import { assert } from './assert.js';
import { decodeConfChange } from './conf-change.js';
import { changeConfig } from './conf-changer.js';
import { isJoint, trackerConfigToString } from './progress-tracker.js';
import type { Progress } from './progress.js';
import { ProgressState } from './progress.js';
import { VoteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { bcastHeartbeat, bcastHeartbeatWithCtx, maybeSendSnapshot, sendAppend, sendTimeoutNow } from './raft-send.js';
import { newMessage } from './message.js';
import { dropped, type StepOutcome } from './step-result.js';
import type { Entry, LogIndex, Message, Term } from './types.js';
import { EntryType, MessageType, NO_PEER, ReadOnlyOption } from './types.js';

export function stepLeader(r: Raft, m: Message): StepOutcome {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r);
      return null;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return null;
    case MessageType.Prop:
      return propose(r, m);
    case MessageType.ReadIndex:
      readIndex(r, m);
      return null;
    default:
      break;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.debug(`no progress available for ${m.from}`);
    return null;
  }
  switch (m.type) {
    case MessageType.AppResp:
      pr.recentActive = true;
      if (m.reject) handleAppRespReject(r, m, pr);
      else handleAppRespAccept(r, m, pr);
      break;
    case MessageType.HeartbeatResp:
      handleHeartbeatResp(r, m, pr);
      break;
    case MessageType.SnapStatus:
      handleSnapStatus(r, m, pr);
      break;
    case MessageType.Unreachable:
      // While pipelining, an unreachable follower most likely lost an App: probe again.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.debug(`failed to send message to ${m.from} because it is unreachable [${pr.toString()}]`);
      break;
    case MessageType.TransferLeader:
      transferLeader(r, m, pr);
      break;
    default:
      break;
  }
  return null;
}

/** Check-quorum: a leader that has not heard from a quorum in an election timeout steps down. */
function checkQuorum(r: Raft): void {
  if (!r.trk.quorumActive()) {
    r.warn('stepped down to follower since quorum is not active');
    r.becomeFollower(r.term, NO_PEER);
  }
  // Everyone but us starts the next round inactive.
  for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
}

/** Whether some entry of a proposal exceeds proposalBytesMax; the reason if so. */
export function oversizedProposal(r: Raft, ents: readonly Entry[]): string | null {
  const max = r.cfg.proposalBytesMax;
  if (max === 0) return null;
  for (const e of ents) {
    if (e.data.length > max) return `proposal of ${e.data.length} bytes exceeds proposalBytesMax (${max})`;
  }
  return null;
}

function propose(r: Raft, m: Message): StepOutcome {
  assert(m.entries.length > 0, 'stepped empty MsgProp');
  const tooBig = oversizedProposal(r, m.entries);
  if (tooBig !== null) return dropped(tooBig);
  if (!r.trk.progress.has(r.id)) return dropped('this leader was removed from the configuration');
  if (r.leadTransferee !== NO_PEER) {
    return dropped(`leadership transfer to ${r.leadTransferee} is in progress`);
  }
  let confIndex = -1;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.type !== EntryType.ConfChange) continue;
    if (confIndex >= 0) return dropped('at most one conf change per proposal');
    const why = confChangeRefusal(r, e.data);
    if (why !== null) {
      r.info(`ignoring conf change at config ${trackerConfigToString(r.trk.config)}: ${why}`);
      return dropped(why);
    }
    confIndex = i;
  }
  const last = r.raftLog.lastIndex();
  if (!r.appendEntry(m.entries)) {
    r.debug(`dropping proposal: uncommitted log would exceed uncommittedBytesMax`);
    return dropped(`uncommitted log bytes (${r.uncommittedBytes}) would exceed uncommittedBytesMax `
      + `(${r.cfg.uncommittedBytesMax})`);
  }
  if (confIndex >= 0) r.pendingConfIndex = (last + confIndex + 1) as LogIndex;
  r.bcastPending = true; // broadcast once per Ready (Raft.flushAppends)
  return null;
}

/**
 * The membership safety rules, checked before a conf change enters the log:
 *  - one at a time: no new change while an earlier one is not yet applied;
 *  - a joint config must be left (empty change) before anything else;
 *  - the change must produce a valid configuration.
 */
function confChangeRefusal(r: Raft, data: Uint8Array): string | null {
  const cc = decodeConfChange(data);
  const applied = r.raftLog.applied;
  const joint = isJoint(r.trk.config);
  const leave = cc.changes.length === 0;
  if (r.pendingConfIndex > applied) {
    return `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${applied})`;
  }
  if (joint && !leave) return 'must transition out of joint config first';
  if (!joint && leave) return 'not in joint state; refusing empty conf change';
  const res = changeConfig(r.trk, r.raftLog.lastIndex(), cc);
  return res.ok ? null : res.reason;
}

function handleAppRespReject(r: Raft, m: Message, pr: Progress): void {
  if (r.logger !== null) {
    r.debug(`received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} `
      + `for index ${m.index}`);
  }
  // Fast back-off: skip every index of the follower's conflicting tail whose term is
  // greater than the follower's hint term, rather than probing one index at a time.
  let nextProbe = m.rejectHint;
  if (m.logTerm > 0) nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
  if (pr.maybeDecrTo(m.index, nextProbe)) {
    r.debug(`decreased progress of ${m.from} to [${pr.toString()}]`);
    if (pr.state === ProgressState.Replicate) pr.becomeProbe();
    // A rejection at index 0 means the follower knows no membership: it needs a
    // snapshot (which carries one) before it can take the log from the start.
    if (m.index === 0 && maybeSendSnapshot(r, m.from)) return;
    sendAppend(r, m.from);
  }
}

function handleAppRespAccept(r: Raft, m: Message, pr: Progress): void {
  // An ack of what we already knew still confirms a probe, or a snapshot the follower
  // installed at our match index (the bootstrap snapshot at index 0).
  const confirms = pr.match === m.index && pr.state !== ProgressState.Replicate;
  if (!(pr.maybeUpdate(m.index) || confirms)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The follower can now be caught up from the log (wherever its snapshot ended).
    r.debug(`recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) releasePendingReadIndexMessages(r);
  // The window may have opened (several messages after probe -> replicate) and the
  // commit index may have advanced: Raft.flushAppends sends both once per Ready.
  r.bcastPending = true;
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.info(`sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
    sendTimeoutNow(r, m.from);
  }
}

function handleHeartbeatResp(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  // Even a throttled follower gets an (empty) App: if every inflight App was lost, its
  // ack or reject is what frees the window. A caught-up follower in Probe gets one so it
  // can return to Replicate.
  if (pr.match < r.raftLog.lastIndex() || pr.state === ProgressState.Probe) sendAppend(r, m.from);
  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === null || r.trk.voteResultOf(acks) !== VoteResult.Won) return;
  for (const rs of r.readOnly.advance(m.context)) {
    if (r.cfg.readOnlyOption === ReadOnlyOption.LeaseBased) extendLease(r, rs.tick);
    respondToReadIndex(r, rs.req, rs.index);
  }
}

/**
 * A quorum acknowledged a heartbeat sent no earlier than `sentTick`: each of them heard
 * from us at or after it and (check-quorum) will not help elect a rival for an election
 * timeout from then. The lease ends one tick earlier than that, because peers' ticks are
 * not in phase; hosts leave a further margin for clock drift (doc.ts).
 */
function extendLease(r: Raft, sentTick: number): void {
  if (r.leaseVoid) return;
  const expires = sentTick + r.cfg.electionTimeoutTicks - 1;
  if (expires > r.leaseExpiresTick) r.leaseExpiresTick = expires;
}

/**
 * Whether a lease read may be answered without a heartbeat round: the lease holds, no
 * transfer overrode it, and every conf change in our log is applied (the lease was
 * proven against the current configuration; switchToConfig drops it on any change).
 */
function leaseValid(r: Raft): boolean {
  return !r.leaseVoid && r.tickCount < r.leaseExpiresTick && r.pendingConfIndex <= r.raftLog.applied;
}

function handleSnapStatus(r: Raft, m: Message, pr: Progress): void {
  if (pr.state !== ProgressState.Snapshot) return;
  if (!m.reject) {
    pr.becomeProbe();
    r.debug(`snapshot succeeded, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
  } else {
    // Probe from match again; the snapshot will be re-sent if still needed.
    pr.pendingSnapshot = 0 as LogIndex;
    pr.becomeProbe();
    r.debug(`snapshot failed, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
  }
  // Success: wait for the follower's AppResp. Failure: wait a heartbeat before retrying.
  pr.msgAppFlowPaused = true;
}

function transferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) {
    r.debug(`is learner. Ignored transferring leadership`);
    return;
  }
  const transferee = m.from;
  if (r.leadTransferee !== NO_PEER) {
    if (r.leadTransferee === transferee) {
      r.info(`[term ${r.term}] transfer leadership to ${transferee} is in progress, ignores request to same node`);
      return;
    }
    r.info(`[term ${r.term}] abort previous transferring leadership to ${r.leadTransferee}`);
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) {
    r.debug('is already leader. Ignored transferring leadership to self');
    return;
  }
  r.info(`[term ${r.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within one election timeout (see Raft.tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    r.info(`sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
    sendTimeoutNow(r, transferee);
  } else {
    sendAppend(r, transferee); // catch it up first; TimeoutNow follows its AppResp
  }
}

/** Bounds the ReadIndex requests a leader holds; beyond it requests are dropped (callers retry). */
export const READ_INDEX_PENDING_MAX = 4096;

function readIndex(r: Raft, m: Message): void {
  if (r.readOnly.pendingCount() + r.pendingReadIndexMessages.length >= READ_INDEX_PENDING_MAX) {
    r.warn(`dropping ReadIndex request: ${READ_INDEX_PENDING_MAX} requests already pending`);
    return;
  }
  if (r.trk.isSingleton() && r.trk.isVoter(r.id)) {
    // We are the only voter: nobody else can be elected. (A removed leader whose group
    // shrank to one other voter is not: it must confirm with that voter like any leader.)
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  // Until this leader commits an entry of its term, its commit index may lag the true
  // one (Raft §6.4), so the read would not be linearizable: park it.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  serveReadIndex(r, m);
}

function serveReadIndex(r: Raft, m: Message): void {
  const committed = r.raftLog.committed;
  if (r.cfg.readOnlyOption === ReadOnlyOption.LeaseBased && leaseValid(r)) {
    // A quorum promised not to elect a rival until the lease expires (assuming bounded
    // clock drift; see doc.ts), so answer at once.
    respondToReadIndex(r, m, committed);
    return;
  }
  // Safe, or no valid lease: confirm leadership with a heartbeat round (with leases, its
  // acknowledgement also renews the lease).
  r.readOnly.addRequest(committed, m, r.tickCount);
  r.readOnly.recvAck(r.id, m.context); // the leader acknowledges itself
  bcastHeartbeatWithCtx(r, m.context);
}

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) serveReadIndex(r, m);
}

function respondToReadIndex(r: Raft, req: Message, index: LogIndex): void {
  if (req.from === NO_PEER || req.from === r.id) {
    r.readStates.push({ index, requestCtx: req.context });
    return;
  }
  const resp = newMessage(MessageType.ReadIndexResp, req.from, r.id, 0 as Term);
  resp.index = index;
  resp.context = req.context;
  r.send(resp);
}
