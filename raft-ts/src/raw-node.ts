/**
 * The public, single-threaded API over the Raft core: feed it ticks, messages and
 * proposals; take a Ready; do what it says (see doc.ts); call advance(). Not thread-safe
 * and does no I/O; the host owns persistence, transport and timing.
 */
import { assert } from './assert.js';
import type { Config } from './config.js';
import { encodeConfChange } from './conf-change.js';
import { isLocalMsg, isResponseMsg, messageTypeName, newMessage } from './message.js';
import { progressStateName, ProgressState } from './progress.js';
import { Raft } from './raft.js';
import { appliedTo, applyConfChange } from './raft-membership.js';
import { flushAppends } from './raft-send.js';
import type { ProgressStatus, Status } from './status.js';
import type { ProposeResult, StepOutcome, StepResult } from './step-result.js';
import { OK } from './step-result.js';
import type {
  ConfChange, ConfState, Entry, HardState, LogIndex, Message, PeerId, Ready, SoftState, Term,
} from './types.js';
import { EntryType, MessageType, NO_PEER, StateRole } from './types.js';

export type { ProposeResult, StepResult } from './step-result.js';

export class RawNode {
  private readonly r: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** The Ready handed out and not yet advanced; at most one at a time. */
  private pending: Ready | null = null;

  /** Validates `config` (throws RaftConfigError) and restores from `config.storage`. */
  constructor(config: Config) {
    this.r = new Raft(config);
    this.prevSoftState = this.r.softState();
    this.prevHardState = this.r.hardState();
  }

  /** Advances the logical clock by one tick (election and heartbeat timeouts count ticks). */
  tick(): void {
    this.r.tick();
  }

  /** Starts an election now (with pre-vote if configured). */
  campaign(): StepResult {
    return toStepResult(this.r.step(newMessage(MessageType.Hup, NO_PEER, this.r.id, 0 as Term)));
  }

  /** Proposes one Normal entry. Followers forward it to the leader (unless disabled). */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeEntries([{ term: 0 as Term, index: 0 as LogIndex, type: EntryType.Normal, data }]);
  }

  /**
   * Proposes several Normal entries as one message: all are appended or none. Cheaper
   * than one propose() per entry when batching.
   */
  proposeBatch(data: readonly Uint8Array[]): ProposeResult {
    if (data.length === 0) return OK;
    const ents: Entry[] = new Array<Entry>(data.length);
    for (let i = 0; i < data.length; i++) {
      ents[i] = { term: 0 as Term, index: 0 as LogIndex, type: EntryType.Normal, data: data[i]! };
    }
    return this.proposeEntries(ents);
  }

  /**
   * Proposes a membership change. The leader refuses it (PROPOSAL_DROPPED) while an
   * earlier change is unapplied, while joint (unless it leaves), or if it is invalid.
   */
  proposeConfChange(cc: ConfChange): ProposeResult {
    const data = encodeConfChange(cc);
    return this.proposeEntries([{ term: 0 as Term, index: 0 as LogIndex, type: EntryType.ConfChange, data }]);
  }

  private proposeEntries(ents: Entry[]): ProposeResult {
    const m = newMessage(MessageType.Prop, NO_PEER, this.r.id, 0 as Term);
    m.entries = ents;
    const res = this.r.step(m);
    return res === null ? OK : { ok: false, code: res.code, reason: res.reason };
  }

  /**
   * Applies a committed ConfChange entry's change to the membership; the host must call
   * it for every ConfChange entry, in log order, when applying it. Returns the new ConfState
   * (to store with the applied state and in snapshots).
   */
  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this.r, cc);
  }

  /** Steps a message received from a peer. Local message types are rejected. */
  step(m: Message): StepResult {
    if (isLocalMsg(m.type)) {
      return { ok: false, code: 'STEP_LOCAL_MSG', reason: `cannot step local message ${messageTypeName(m.type)}` };
    }
    if (isResponseMsg(m.type) && !this.r.trk.progress.has(m.from)) {
      return { ok: false, code: 'STEP_PEER_NOT_FOUND', reason: `no progress for peer ${m.from}` };
    }
    return toStepResult(this.r.step(m));
  }

  /**
   * Requests a linearizable read. The result arrives as a ReadState carrying `requestCtx`
   * in a later Ready; serve the read once applied >= its index. Dropped silently if there
   * is no leader — the caller retries after a timeout. Contexts must be unique.
   */
  readIndex(requestCtx: Uint8Array): void {
    const m = newMessage(MessageType.ReadIndex, NO_PEER, NO_PEER, 0 as Term);
    m.context = requestCtx;
    this.r.step(m);
  }

  /** Asks the leader (directly, or via forwarding) to hand leadership to `to`. */
  transferLeader(to: PeerId): void {
    this.r.step(newMessage(MessageType.TransferLeader, NO_PEER, to, 0 as Term));
  }

  /** The transport could not deliver to `id`; the leader stops pipelining to it. */
  reportUnreachable(id: PeerId): void {
    this.r.step(newMessage(MessageType.Unreachable, NO_PEER, id, 0 as Term));
  }

  /** The transport finished sending a snapshot to `id` (ok = delivered). */
  reportSnapshot(id: PeerId, ok: boolean): void {
    const m = newMessage(MessageType.SnapStatus, NO_PEER, id, 0 as Term);
    m.reject = !ok;
    this.r.step(m);
  }

  hasReady(): boolean {
    const r = this.r;
    flushAppends(r);
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.raftLog.unstable.entries.length > 0 || r.raftLog.hasPendingSnapshot()) return true;
    if (r.raftLog.hasNextCommittedEntries()) return true;
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true;
    return !hardStateEqual(r.hardState(), this.prevHardState);
  }

  /**
   * What the host must do next (see Ready in types.ts and doc.ts). Call advance() once
   * done; ready() must not be called again before that.
   */
  ready(): Ready {
    assert(this.pending === null, 'ready() called twice without advance()');
    const r = this.r;
    flushAppends(r);
    const soft = r.softState();
    const hard = r.hardState();
    const entries = r.raftLog.unstableEntries().slice();
    const rd: Ready = {
      softState: softStateEqual(soft, this.prevSoftState) ? null : soft,
      hardState: hardStateEqual(hard, this.prevHardState) ? null : hard,
      readStates: r.readStates,
      entries,
      snapshot: r.raftLog.unstable.snapshot,
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      // Term and vote must be durable before any vote is sent; entries and snapshots
      // before any ack. A commit-only change need not be synced (it can be re-learned).
      mustSync: entries.length > 0 || r.raftLog.unstable.snapshot !== null
        || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    if (rd.softState !== null) this.prevSoftState = soft;
    this.pending = rd;
    return rd;
  }

  /** The last Ready was persisted, sent and applied. */
  advance(): void {
    const rd = this.pending;
    assert(rd !== null, 'advance() without a Ready');
    this.pending = null;
    const r = this.r;
    if (rd.hardState !== null) this.prevHardState = rd.hardState;
    r.reduceUncommittedSize(rd.committedEntries);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) appliedTo(r, lastCommitted.index);
    else if (rd.snapshot !== null) appliedTo(r, rd.snapshot.metadata.index);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) r.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== null) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  status(): Status {
    const r = this.r;
    let progress: Map<PeerId, ProgressStatus> | null = null;
    if (r.state === StateRole.Leader) {
      progress = new Map();
      for (const id of r.trk.ids) {
        const pr = r.trk.progress.get(id)!;
        progress.set(id, {
          match: pr.match, next: pr.next, state: progressStateName(pr.state), pendingSnapshot: pr.pendingSnapshot,
          recentActive: pr.recentActive, msgAppFlowPaused: pr.msgAppFlowPaused, inflightCount: pr.inflights.count(),
          inflightBytes: pr.inflights.bytes(), isLearner: pr.isLearner,
        });
      }
    }
    return {
      id: r.id, hardState: r.hardState(), softState: r.softState(), applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(), config: r.trk.confState(), progress, leadTransferee: r.leadTransferee,
    };
  }

  /**
   * Hibernation hint for a multi-raft host: true when this peer leads and nothing is in
   * flight — every member acknowledged the whole log, everything is committed, applied
   * and told to every member, and no read, transfer or Ready is pending. A host may then
   * stop ticking the group until it proposes or receives a message (followers must be
   * told too, or they will campaign when their election timeout passes).
   */
  isIdle(): boolean {
    const r = this.r;
    if (r.state !== StateRole.Leader || r.leadTransferee !== NO_PEER || this.pending !== null) return false;
    const log = r.raftLog;
    const last = log.lastIndex();
    if (log.committed !== last || log.applied !== last) return false;
    if (r.readOnly.pendingCount() > 0 || r.pendingReadIndexMessages.length > 0) return false;
    for (const [id, pr] of r.trk.progress) {
      if (id === r.id) continue;
      if (pr.match !== last || pr.sentCommit < last || pr.state !== ProgressState.Replicate) return false;
    }
    return !this.hasReady();
  }
}

function toStepResult(o: StepOutcome): StepResult {
  return o === null ? OK : { ok: false, code: o.code, reason: o.reason };
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}


