/**
 * The entry point for every message: term handling common to all roles (Raft §5.1, plus
 * the pre-vote and check-quorum lease rules), vote requests, then the role's handler.
 */
import { bytesEqual, CAMPAIGN_TRANSFER_CONTEXT, CampaignType, messageTypeName, newMessage, voteRespType } from './message.js';
import type { Raft } from './raft.js';
import { stepFollowerOrCandidate } from './raft-step-follower.js';
import { stepLeader } from './raft-step-leader.js';
import type { StepOutcome } from './step-result.js';
import type { Message, Term } from './types.js';
import { MessageType, NO_PEER, StateRole } from './types.js';

/**
 * Term handling common to every role (Raft §5.1), then votes, then the role's handler.
 * Returns null on success or a StepFailure.
 */
export function stepMessage(r: Raft, m: Message): StepOutcome {
  if (m.term > r.term) {
    if (!stepHigherTerm(r, m)) return null;
  } else if (m.term !== 0 && m.term < r.term) {
    stepLowerTerm(r, m);
    return null;
  }
  switch (m.type) {
    case MessageType.Hup:
      r.hup(r.cfg.preVote ? CampaignType.PreElection : CampaignType.Election);
      return null;
    case MessageType.Vote:
    case MessageType.PreVote:
      handleVoteRequest(r, m);
      return null;
    default:
      return r.state === StateRole.Leader ? stepLeader(r, m) : stepFollowerOrCandidate(r, m);
  }
}

/** Returns false if the message must be ignored. */
function stepHigherTerm(r: Raft, m: Message): boolean {
  const isVote = m.type === MessageType.Vote || m.type === MessageType.PreVote;
  if (isVote) {
    const force = bytesEqual(m.context, CAMPAIGN_TRANSFER_CONTEXT);
    if (!force && r.inLease()) {
      // We heard from a leader within the minimum election timeout: a disruptive
      // (e.g. partitioned, rejoining) candidate must not depose it. This is also what
      // makes lease reads safe.
      r.info(`[logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${r.vote}] ignored `
        + `${messageTypeName(m.type)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}: `
        + `lease is not expired (remaining ticks: ${r.cfg.electionTimeoutTicks - r.electionElapsed})`);
      return false;
    }
  }
  if (m.type === MessageType.PreVote) return true; // never change term for a pre-vote
  if (m.type === MessageType.PreVoteResp && !m.reject) return true; // granted for our future term
  r.info(`received a ${messageTypeName(m.type)} message with higher term from ${m.from} [term: ${m.term}]`);
  const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
  r.becomeFollower(m.term, fromLeader ? m.from : NO_PEER);
  return true;
}

function stepLowerTerm(r: Raft, m: Message): void {
  if ((r.cfg.checkQuorum || r.cfg.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
    // A stale leader (e.g. after a partition) would otherwise never learn it was deposed
    // when our term was bumped by an election it could not see; answering with our term
    // makes it step down.
    r.send(newMessage(MessageType.AppResp, m.from, r.id, 0 as Term));
  } else if (m.type === MessageType.PreVote) {
    r.info(`[logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${r.vote}] rejected `
      + `${messageTypeName(m.type)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`);
    const resp = newMessage(MessageType.PreVoteResp, m.from, r.id, r.term);
    resp.reject = true;
    r.send(resp);
  } else {
    r.info(`[term: ${r.term}] ignored a ${messageTypeName(m.type)} message with lower term from ${m.from} [term: ${m.term}]`);
  }
}

function handleVoteRequest(r: Raft, m: Message): void {
  // We can vote if we voted for this candidate already, or have not voted and know no
  // leader in this term, or it is a pre-vote for a future term.
  const canVote = r.vote === m.from || (r.vote === NO_PEER && r.lead === NO_PEER)
    || (m.type === MessageType.PreVote && m.term > r.term);
  const respType = voteRespType(m.type);
  const who = `[logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${r.vote}]`;
  const what = `${messageTypeName(m.type)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`;
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.info(`${who} cast ${what}`);
    // Respond with the request's term: for a pre-vote it is our future term.
    r.send(newMessage(respType, m.from, r.id, m.term));
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.info(`${who} rejected ${what}`);
    const resp = newMessage(respType, m.from, r.id, r.term);
    resp.reject = true;
    r.send(resp);
  }
}
