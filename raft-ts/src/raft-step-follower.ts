/**
 * How followers, candidates and pre-candidates handle messages: accepting the leader's
 * appends, heartbeats and snapshots, forwarding proposals and reads, and counting votes.
 */
import type { Raft } from './raft.js';
import { CampaignType, newMessage, type MutableMessage } from './message.js';
import { restoreConfState } from './raft-membership.js';
import { bcastAppend } from './raft-send.js';
import { VoteResult } from './quorum.js';
import { oversizedProposal } from './raft-step-leader.js';
import { dropped, type StepOutcome } from './step-result.js';
import type { LogIndex, Message, Snapshot, Term } from './types.js';
import { MessageType, NO_PEER, StateRole } from './types.js';

export function stepFollowerOrCandidate(r: Raft, m: Message): StepOutcome {
  return r.state === StateRole.Follower ? stepFollower(r, m) : stepCandidate(r, m);
}

function stepFollower(r: Raft, m: Message): StepOutcome {
  switch (m.type) {
    case MessageType.Prop: {
      const tooBig = oversizedProposal(r, m.entries);
      if (tooBig !== null) return dropped(tooBig);
      if (r.lead === NO_PEER) return dropped(`no leader at term ${r.term}`);
      if (r.cfg.disableProposalForwarding) return dropped(`not forwarding to leader ${r.lead} at term ${r.term}`);
      r.send(forwardTo(m, r.lead));
      return null;
    }
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return null;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return null;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return null;
    case MessageType.TransferLeader:
    case MessageType.ReadIndex:
      if (r.lead === NO_PEER) {
        r.info(`no leader at term ${r.term}; dropping ${m.type === MessageType.ReadIndex ? 'index reading' : 'leader transfer'} msg`);
        return null;
      }
      r.send(forwardTo(m, r.lead));
      return null;
    case MessageType.TimeoutNow:
      // A transfer skips pre-vote: the old leader asked for it, nothing is partitioned.
      r.info(`[term ${r.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
      r.hup(CampaignType.Transfer);
      return null;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context });
      return null;
    default:
      return null;
  }
}

function stepCandidate(r: Raft, m: Message): StepOutcome {
  // Only responses to our own kind of vote count (a late VoteResp must not count as a PreVoteResp).
  const myVoteResp = r.state === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      return dropped(`no leader at term ${r.term}`);
    case MessageType.App:
      r.becomeFollower(m.term, m.from); // always m.term === r.term here
      handleAppendEntries(r, m);
      return null;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return null;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return null;
    case MessageType.TimeoutNow:
      r.debug(`ignored MsgTimeoutNow from ${m.from}`);
      return null;
    default:
      break;
  }
  if (m.type !== myVoteResp) return null;
  const res = r.poll(m.from, m.type, !m.reject);
  const { granted, rejected } = r.trk.tallyVotes();
  r.info(`has received ${granted} ${myVoteResp === MessageType.PreVoteResp ? 'MsgPreVoteResp' : 'MsgVoteResp'} `
    + `votes and ${rejected} vote rejections`);
  if (res === VoteResult.Won) {
    if (r.state === StateRole.PreCandidate) {
      r.campaign(CampaignType.Election);
    } else {
      r.becomeLeader();
      bcastAppend(r);
    }
  } else if (res === VoteResult.Lost) {
    // A PreVoteResp carries our future term, so keep r.term.
    r.becomeFollower(r.term, NO_PEER);
  }
  return null;
}

/** A copy of `m` addressed to `to`, with term 0 so send() stamps it correctly. */
function forwardTo(m: Message, to: typeof m.to): MutableMessage {
  const f = newMessage(m.type, to, m.from, 0 as Term);
  f.entries = m.entries;
  f.context = m.context;
  return f;
}

export function handleAppendEntries(r: Raft, m: Message): void {
  const log = r.raftLog;
  if (m.index < log.committed) {
    // Everything up to our commit index matches the leader already.
    const resp = newMessage(MessageType.AppResp, m.from, r.id, 0 as Term);
    resp.index = log.committed;
    r.send(resp);
    return;
  }
  if (m.index === 0 && r.trk.ids.length === 0) {
    // We know no membership (a replica added later starts so). The log builds on the
    // bootstrap membership, which is not in the log: refuse to start from index 0 so
    // the leader sends a snapshot (at worst its bootstrap one, at index 0) first.
    r.info(`knows no membership; rejecting MsgApp at index 0 from ${m.from} to get a snapshot`);
    const resp = newMessage(MessageType.AppResp, m.from, r.id, 0 as Term);
    resp.reject = true;
    r.send(resp);
    return;
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    const resp = newMessage(MessageType.AppResp, m.from, r.id, 0 as Term);
    resp.index = lastNew;
    r.send(resp);
    return;
  }
  // Mismatch at m.index. Hint the largest (index, term) where our logs may match: the
  // last of our entries at or before m.index whose term is <= m.logTerm.
  const hintStart = Math.min(m.index, log.lastIndex()) as LogIndex;
  const hint = log.findConflictByTerm(hintStart, m.logTerm);
  if (r.logger !== null) {
    r.debug(`[logterm: ${log.zeroTermOnErr(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, `
      + `index: ${m.index}] from ${m.from}`);
  }
  const resp = newMessage(MessageType.AppResp, m.from, r.id, 0 as Term);
  resp.index = m.index;
  resp.reject = true;
  resp.rejectHint = hint.index;
  resp.logTerm = hint.term;
  r.send(resp);
}

function handleHeartbeat(r: Raft, m: Message): void {
  // The leader sends min(match, committed), so this never exceeds our log.
  r.raftLog.commitTo(m.commit);
  const resp = newMessage(MessageType.HeartbeatResp, m.from, r.id, 0 as Term);
  resp.context = m.context;
  r.send(resp);
}

function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  const resp = newMessage(MessageType.AppResp, m.from, r.id, 0 as Term);
  if (s === null) {
    r.warn(`ignored MsgSnap without a snapshot from ${m.from}`);
    resp.index = r.raftLog.committed;
  } else if (restore(r, s)) {
    r.info(`[commit: ${r.raftLog.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    resp.index = r.raftLog.lastIndex();
  } else {
    r.info(`[commit: ${r.raftLog.committed}] ignored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    resp.index = r.raftLog.committed;
  }
  r.send(resp);
}

/** Installs a snapshot from the leader if it is news to us. Returns whether it did. */
function restore(r: Raft, s: Snapshot): boolean {
  const { index, term, confState: cs } = s.metadata;
  // A peer that knows no membership takes any snapshot not older than its commit index,
  // even the bootstrap one at index 0 and even one that predates its own addition: the
  // log after it adds this peer.
  const knowsNoMembership = r.trk.ids.length === 0;
  if (index < r.raftLog.committed || (index === r.raftLog.committed && !knowsNoMembership)) return false;
  if (r.state !== StateRole.Follower) {
    // Defense in depth: only a follower (of the sender) should get here.
    r.warn('attempted to restore snapshot as leader; should never happen');
    r.becomeFollower((r.term + 1) as Term, NO_PEER);
    return false;
  }
  const member = cs.voters.includes(r.id) || cs.learners.includes(r.id) || cs.votersOutgoing.includes(r.id);
  if (!member && !knowsNoMembership) {
    r.warn(`attempted to restore snapshot but it is not in the ConfState; should never happen`);
    return false;
  }
  if (!knowsNoMembership && r.raftLog.matchTerm(index, term)) {
    // We have the snapshot's last entry: just commit up to it, keep our log.
    r.info(`fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`);
    r.raftLog.commitTo(index);
    return false;
  }
  r.raftLog.restore(s);
  restoreConfState(r, cs);
  return true;
}
