/**
 * The Raft core: one peer's state machine. It does no I/O: inputs are tick() and step(),
 * outputs accumulate in `msgs`, `readStates` and the log, and RawNode packages them into a
 * Ready. Same inputs, same outputs — randomness only comes from the injected Rand.
 *
 * This file holds the state, role transitions, ticks, elections and appending. Message
 * dispatch is in raft-step.ts (and the role files raft-step-leader.ts and
 * raft-step-follower.ts), sending in raft-send.ts, membership in raft-membership.ts.
 *
 * Invariants: a peer votes at most once per term (`vote` is persisted with `term` before
 * any VoteResp is sent, by the Ready contract); a leader never overwrites its own log; an
 * entry is committed only via an entry of the leader's current term (raft-log.ts).
 */
import { assert } from './assert.js';
import type { Config } from './config.js';
import { validateConfig } from './config.js';
import { restoreConfig } from './conf-changer.js';
import type { MutableMessage } from './message.js';
import { CAMPAIGN_TRANSFER_CONTEXT, CampaignType, EMPTY_BYTES, messageTypeName, newMessage, voteRespType } from './message.js';
import { ProgressTracker } from './progress-tracker.js';
import { ReadOnly } from './read-only.js';
import { RaftLog } from './raft-log.js';
import { VoteResult } from './quorum.js';
import { maybeAutoLeave, switchToConfig } from './raft-membership.js';
import { stepMessage } from './raft-step.js';
import type { StepOutcome } from './step-result.js';
import type { Entry, HardState, LogIndex, Logger, Message, PeerId, Rand, ReadState, SoftState, Term } from './types.js';
import { EntryType, MessageType, NO_PEER, ReadOnlyOption, StateRole } from './types.js';

const ROLE_NAMES = ['StateFollower', 'StateCandidate', 'StateLeader', 'StatePreCandidate'] as const;
export function roleName(r: StateRole): string {
  return ROLE_NAMES[r];
}

/** Fields are public to the step files of this package; Raft itself is not exported. */
export class Raft {
  readonly id: PeerId;
  term: Term = 0 as Term;
  vote: PeerId = NO_PEER;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  state: StateRole = StateRole.Follower;
  /** This peer is a learner in the current config: it never campaigns. */
  isLearner = false;
  msgs: Message[] = [];
  lead: PeerId = NO_PEER;
  /** Target of an ongoing leadership transfer (leader only), or NO_PEER. */
  leadTransferee: PeerId = NO_PEER;
  /**
   * Index of the latest conf change the leader appended. A new conf change may only be
   * proposed once this is applied (the one-change-at-a-time safety rule).
   */
  pendingConfIndex: LogIndex = 0 as LogIndex;
  /** Payload bytes of uncommitted Normal entries this leader appended (bounded by config). */
  uncommittedBytes = 0;
  readOnly: ReadOnly;
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** New entries or a new commit index are not yet broadcast (flushed per Ready; see flushAppends). */
  bcastPending = false;
  /** Ticks since this peer started; never reset. The clock lease reads are measured on. */
  tickCount = 0;
  /**
   * LeaseBased, leader only: reads may be answered locally while tickCount < leaseExpiresTick.
   * Set from the send tick of a heartbeat round a quorum acknowledged (raft-step-leader.ts).
   */
  leaseExpiresTick = 0;
  /**
   * This leader sent MsgTimeoutNow in its term: the transferee's election overrides the
   * followers' promises (campaign-transfer votes ignore the lease), so no lease until the
   * term ends.
   */
  leaseVoid = false;

  readonly cfg: Required<Omit<Config, 'logger' | 'applied'>>;
  readonly logger: Logger | null;
  private readonly rand: Rand;

  constructor(c: Config) {
    validateConfig(c);
    this.id = c.id;
    this.rand = c.rand;
    this.logger = c.logger ?? null;
    this.cfg = {
      ...c, disableProposalForwarding: c.disableProposalForwarding ?? false,
      stepDownOnRemoval: c.stepDownOnRemoval ?? false,
    };
    this.raftLog = new RaftLog(c.storage, c.committedBytesPerReadyMax);
    this.trk = new ProgressTracker(c.inflightMessagesMax, c.inflightBytesMax);
    this.readOnly = new ReadOnly();
    const { hardState, confState } = c.storage.initialState();
    const restored = restoreConfig(this.trk, this.raftLog.lastIndex(), confState);
    assert(restored.ok, `cannot restore conf state: ${restored.ok ? '' : restored.reason}`);
    switchToConfig(this, restored.config, restored.progress);
    if (hardState.term !== 0 || hardState.vote !== NO_PEER || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.restoreApplied(c.applied);
    this.becomeFollower(this.term, NO_PEER);
    this.info(`newRaft [peers: [${this.trk.ids.join(',')}], term: ${this.term}, commit: ${this.raftLog.committed}, `
      + `applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`);
  }

  // ---- logging (callers check `logger` first on hot paths to avoid building strings) ----
  debug(s: string): void { this.logger?.debug(`${this.id} ${s}`); }
  info(s: string): void { this.logger?.info(`${this.id} ${s}`); }
  warn(s: string): void { this.logger?.warn(`${this.id} ${s}`); }

  softState(): SoftState {
    return { lead: this.lead, role: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /**
   * A stored commit below the compacted prefix is stale but harmless (a commit-only hard
   * state is not fsynced; the compacted prefix is committed by definition).
   */
  private loadState(hs: HardState): void {
    assert(hs.commit <= this.raftLog.lastIndex(),
      `hard state commit ${hs.commit} beyond the stored log (last ${this.raftLog.lastIndex()}): storage lost entries`);
    if (hs.commit > this.raftLog.committed) this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /**
   * The state machine applied up to `applied` before the restart. A commit-only hard
   * state is not fsynced (mustSync=false), so the stored commit index may lag what was
   * applied; entries were applied only once committed, so commit catches up.
   */
  private restoreApplied(applied: LogIndex): void {
    const log = this.raftLog;
    assert(applied <= log.lastIndex(), `applied ${applied} beyond the stored log (last ${log.lastIndex()}): storage lost entries`);
    if (applied > log.committed) {
      this.info(`restored commit ${log.committed} is behind applied ${applied}; advancing commit`);
      log.commitTo(applied);
    }
    log.appliedTo(applied);
  }

  // ---- sending ----

  /**
   * Queues a message. Vote traffic carries an explicit term (a PreVote is sent for a
   * future term); proposals and ReadIndex forwarded to the leader carry term 0 so the
   * leader treats them as local; everything else carries our term.
   */
  send(m: MutableMessage): void {
    if (m.from === NO_PEER) m.from = this.id;
    const t = m.type;
    if (t === MessageType.Vote || t === MessageType.VoteResp || t === MessageType.PreVote
      || t === MessageType.PreVoteResp) {
      assert(m.term !== 0, `term must be set when sending ${messageTypeName(t)}`);
    } else {
      assert(m.term === 0, `term must not be set when sending ${messageTypeName(t)}`);
      if (t !== MessageType.Prop && t !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- commit and append ----

  /** Advances commit to what a quorum acknowledged (current-term entries only). */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  /**
   * Leader: appends entries (stamping term and index) and acknowledges them for itself.
   * Returns false, appending nothing, if the uncommitted-bytes limit would be exceeded.
   */
  appendEntry(ents: readonly Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const out: Entry[] = new Array<Entry>(ents.length);
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      out[i] = { term: this.term, index: (li + 1 + i) as LogIndex, type: e.type, data: e.data };
    }
    if (!this.increaseUncommittedSize(out)) return false;
    li = this.raftLog.append(out);
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  /**
   * Admits `ents` against uncommittedBytesMax. Conf changes are exempt so membership can
   * always be repaired; a single oversized entry is admitted when nothing is uncommitted
   * so progress is never blocked forever (proposalBytesMax bounds it instead).
   */
  private increaseUncommittedSize(ents: readonly Entry[]): boolean {
    const s = normalPayloadBytes(ents);
    const max = this.cfg.uncommittedBytesMax;
    if (max > 0 && this.uncommittedBytes > 0 && s > 0 && this.uncommittedBytes + s > max) return false;
    this.uncommittedBytes += s;
    return true;
  }

  /** Committed entries were handed out: their bytes no longer count as uncommitted. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.uncommittedBytes === 0) return;
    const s = normalPayloadBytes(ents);
    this.uncommittedBytes = s > this.uncommittedBytes ? 0 : this.uncommittedBytes - s;
  }

  // ---- role transitions ----

  private reset(term: Term): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NO_PEER;
    }
    this.lead = NO_PEER;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      pr.becomeProbe();
      pr.match = (id === this.id ? last : 0) as LogIndex;
      pr.next = (last + 1) as LogIndex;
      pr.recentActive = false;
      pr.sentCommit = 0 as LogIndex;
    }
    this.pendingConfIndex = 0 as LogIndex;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
    this.bcastPending = false;
    this.leaseExpiresTick = 0;
    this.leaseVoid = false;
  }

  becomeFollower(term: Term, lead: PeerId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateRole.Follower;
    this.info(`became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.state !== StateRole.Leader, 'invalid transition [leader -> candidate]');
    this.reset((this.term + 1) as Term);
    this.vote = this.id;
    this.state = StateRole.Candidate;
    this.info(`became candidate at term ${this.term}`);
  }

  /** Pre-candidate: asks for votes for term+1 without changing term or vote (no disruption). */
  becomePreCandidate(): void {
    assert(this.state !== StateRole.Leader, 'invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NO_PEER;
    this.state = StateRole.PreCandidate;
    this.info(`became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.state !== StateRole.Follower, 'invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateRole.Leader;
    const pr = this.trk.progress.get(this.id)!;
    pr.becomeReplicate(); // the leader trivially matches itself
    pr.recentActive = true;
    // Conservative: there may be an unapplied conf change anywhere in our log, so no new
    // one may be proposed before everything we have is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The empty entry of the new term lets us commit earlier terms' entries (Figure 8).
    assert(this.appendEntry([{ term: 0 as Term, index: 0 as LogIndex, type: EntryType.Normal, data: EMPTY_BYTES }]),
      'empty entry was dropped');
    this.info(`became leader at term ${this.term}`);
  }

  private resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTimeoutTicks;
    this.randomizedElectionTimeout = e + this.rand.intn(e);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NO_PEER;
  }

  /**
   * With check-quorum, a peer that heard from a leader within the election timeout has
   * promised that leader not to help elect a rival (votes are ignored, see raft-step.ts);
   * leader leases (LeaseBased reads) rely on it.
   */
  inLease(): boolean {
    return this.cfg.checkQuorum && this.lead !== NO_PEER && this.electionElapsed < this.cfg.electionTimeoutTicks;
  }

  /** A peer may campaign only as a voter, and not while a snapshot is being installed. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  // ---- ticks ----

  tick(): void {
    this.tickCount++;
    if (this.state === StateRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      // Reset after stepping so the lease check in hup() sees that the timeout passed.
      this.step(newMessage(MessageType.Hup, NO_PEER, this.id, 0 as Term));
      this.electionElapsed = 0;
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step(newMessage(MessageType.CheckQuorum, NO_PEER, this.id, 0 as Term));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateRole.Leader && this.leadTransferee !== NO_PEER) {
        this.info(`abort leadership transfer to ${this.leadTransferee}: not done within an election timeout`);
        this.abortLeaderTransfer();
        maybeAutoLeave(this); // it may have been refused because of the transfer
      }
    }
    if (this.state !== StateRole.Leader) return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.step(newMessage(MessageType.Beat, NO_PEER, this.id, 0 as Term));
    }
  }

  // ---- elections ----

  hup(t: CampaignType): void {
    if (this.state === StateRole.Leader) {
      this.debug('ignoring MsgHup because already leader');
      return;
    }
    if (!this.promotable()) {
      this.warn('is unpromotable and can not campaign');
      return;
    }
    if (t !== CampaignType.Transfer && this.cfg.readOnlyOption === ReadOnlyOption.LeaseBased && this.inLease()) {
      // We heard from leader `lead` within the election timeout: it may be serving lease
      // reads on our promise not to help elect a rival before then (our own vote included).
      this.info(`ignoring MsgHup at term ${this.term}: lease of leader ${this.lead} is not expired `
        + `(remaining ticks: ${this.cfg.electionTimeoutTicks - this.electionElapsed})`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.warn(`cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.info(`is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  /**
   * A peer with a committed but unapplied conf change does not know its final membership,
   * so it must not campaign (it could count votes against the wrong configuration).
   */
  private hasUnappliedConfChanges(): boolean {
    const log = this.raftLog;
    if (log.applied >= log.committed) return false;
    const ents = log.slice(Math.max(log.applied + 1, log.firstIndex()) as LogIndex, (log.committed + 1) as LogIndex, 0);
    if (typeof ents === 'string') return false;
    for (const e of ents) if (e.type === EntryType.ConfChange) return true;
    return false;
  }

  campaign(t: CampaignType): void {
    let voteMsg: MessageType;
    let term: Term;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      term = (this.term + 1) as Term; // pre-votes are asked for the term we would campaign in
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, voteRespType(voteMsg), true) === VoteResult.Won) {
      // Single-voter group: won on our own vote.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.info(`[logterm: ${lastTerm}, index: ${lastIndex}] sent ${messageTypeName(voteMsg)} request to ${id} at term ${term}`);
      const m = newMessage(voteMsg, id, this.id, term);
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (t === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER_CONTEXT;
      this.send(m);
    }
  }

  poll(id: PeerId, t: MessageType, granted: boolean): VoteResult {
    this.info(`received ${messageTypeName(t)} ${granted ? '' : 'rejection '}from ${id} at term ${this.term}`);
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---- stepping ----

  /** The single entry point for messages (local and remote). Failures are values. */
  step(m: Message): StepOutcome {
    return stepMessage(this, m);
  }

  /** Leader only: answers committed-in-term ReadIndex requests that were parked. */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnErr(this.raftLog.committed) === this.term;
  }

}



function normalPayloadBytes(ents: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]!;
    if (e.type === EntryType.Normal) n += e.data.length;
  }
  return n;
}
