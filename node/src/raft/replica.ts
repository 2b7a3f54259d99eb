/**
 * One shard replica: a raft-ts RawNode over its WAL group, plus what the host keeps
 * around it — the shard descriptor, applied state, proposals and reads waiting on it,
 * buffered messages, hibernation and staleness bookkeeping.
 *
 * The scheduler drives every replica through the same turn (scheduler.ts): `prepare`
 * (step buffered messages, hand queued proposals and reads to raft), take the Ready,
 * persist and send it (scheduler), `apply` its committed entries into the turn's engine
 * batch, then — once the batch is written — `finish` (serve waiters, `advance`).
 *
 * Staleness (for READ_CONSISTENCY_STALE): the time since this replica last knew its state
 * was current. A leader is current while it is awake and leading (check-quorum deposes a
 * cut-off leader within an election timeout). A follower is current as of the last
 * message from its leader after which it had applied everything that message declared
 * committed. Sleeping (hibernating) replicas stop refreshing it; a stale read with a
 * bound wakes the group, which refreshes it within a heartbeat round.
 */
import { KvError } from '@shoal/common';
import type { LeaderHint, NodeId, PeerId } from '@shoal/common';
import type { ConfChange, ConfState, Entry, Message, RawNode, Ready, SoftState } from '@shoal/raft-ts';
import { decodeConfChange, EntryType, MessageType, StateRole } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { decodeDescriptor, epochNewer, isMember, nodeOfPeer, withLeader } from './descriptor.js';
import { isQuietMessage, pokeCtx } from './hibernation.js';
import type { ApplyBatchPort, GroupStoragePort, SnapshotInstallerPort } from './ports.js';
import { ProposalTracker } from './proposals.js';
import type { Proposal } from './proposals.js';
import { ReadTracker } from './reads.js';

export type ReplicaPhase = 'active' | 'installing' | 'removed';

/** A received snapshot whose data is staged in the engine, waiting for raft to accept it. */
export interface PendingInstall {
  readonly installer: SnapshotInstallerPort;
  readonly message: Message;
  readonly descriptor: ShardDescriptor;
  stepped: boolean;
  resolve(): void;
  reject(e: KvError): void;
}

export interface ReplicaInit {
  readonly shardId: number;
  readonly peerId: number;
  readonly descriptor: ShardDescriptor;
  readonly confState: ConfState;
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly storage: GroupStoragePort;
  readonly raw: RawNode;
  readonly nonce: number;
  /** gRPC address of a node, for leader hints. */
  readonly addressOf: (nodeId: number) => string | undefined;
  /** The engine's apply batch records descriptors (ApplyBatch.setDescriptor). */
  readonly recordsDescriptors: boolean;
}

/** What applying one Ready did that the scheduler must react to. */
export interface ApplyEffects {
  /** The replica applied its own removal from the group. */
  removedSelf: boolean;
  confChanged: boolean;
}

export class Replica {
  readonly shardId: number;
  readonly peerId: number;
  readonly storage: GroupStoragePort;
  readonly raw: RawNode;
  descriptor: ShardDescriptor;
  confState: ConfState;
  appliedIndex: number;
  appliedTerm: number;
  phase: ReplicaPhase = 'active';

  // Mirrors of raft state, refreshed from every Ready.
  role: StateRole = StateRole.Follower;
  lead = 0;
  term = 0;
  commitIndex = 0;

  readonly proposals = new ProposalTracker();
  readonly reads: ReadTracker;
  /** Proposals of this shard not yet settled (queued or in the log). */
  pendingProposals = 0;
  inbox: Message[] = [];
  snapshotReports: { peer: number; ok: boolean }[] = [];
  unreachablePeers = new Set<number>();
  transferTo = 0;
  campaignWanted = false;
  install: PendingInstall | null = null;
  /** A snapshot stream for this replica is being received (one at a time). */
  receivingSnapshot = false;
  /** The Ready held while a snapshot install finishes (phase 'installing'). */
  heldReady: Ready | null = null;

  // Hibernation.
  asleep = false;
  idleTicks = 0;
  /**
   * Ticks of this replica since it last took part in a ReadIndex round as leader (a local
   * read, or a follower's forwarded MsgReadIndex). raft-ts extends a leader lease only from
   * such rounds, by at most electionTimeoutTicks − 1 ticks, so once this reaches the
   * election timeout the leader holds no lease (hibernation.ts).
   */
  ticksSinceRead = Number.MAX_SAFE_INTEGER;
  /** Something other than plain heartbeats happened since the last tick. */
  active = true;
  /** The leader's hibernate marker arrived in this turn; sleep after it if caught up. */
  markerFrom = 0;
  pokeWanted = false;
  private pokeSeq = 0;

  // TTL sweeper schedule (housekeeping.ts): when to look for expired keys next, and the
  // back-off that grows while looks find nothing.
  ttlSweepAtMs = 0;
  ttlSweepBackoffMs = 0;
  /** ttlSweepAtMs was set (else the sweeper schedules a first look at a random time). */
  ttlSweepScheduled = false;
  /** Earliest expiry written through this leader and not yet looked for; 0 = none. */
  ttlExpiryHintMs = 0;

  // Staleness (see the file comment).
  syncedAtMs = 0;
  private leaderMsgAtMs = 0;
  private leaderMsgCommit = 0;

  /**
   * Membership after each conf change since the WAL snapshot point, oldest first (the
   * first element is the WAL snapshot's own). Bounded by compaction (compactedTo).
   */
  private confHistory: { index: number; confState: ConfState }[];
  /**
   * Index of the latest conf change whose descriptor the engine could not record (no
   * ApplyBatch.setDescriptor): before the log is compacted past it, the descriptor is saved
   * in the DescriptorStore. 0 = none.
   */
  descriptorUnpersistedAt = 0;
  /**
   * Called (after the batch that applied a split is written, before its proposer is
   * answered) with the new right half's shard id, which the engine now hosts: the replica
   * manager starts that half's raft group. Set by the replica manager.
   */
  onSplit: ((rightShardId: number) => void) | undefined;
  /** Right halves of splits applied in the current turn, handed to onSplit in finish(). */
  private splitsApplied: number[] = [];

  // Applied-state outcomes of the current turn, served in finish().
  private appliedResults: { index: number; term: number; result: () => unknown }[] = [];
  private readonly addressOf: (nodeId: number) => string | undefined;
  private readonly recordsDescriptors: boolean;

  constructor(init: ReplicaInit) {
    this.shardId = init.shardId;
    this.peerId = init.peerId;
    this.storage = init.storage;
    this.raw = init.raw;
    this.descriptor = init.descriptor;
    this.confState = init.confState;
    this.appliedIndex = init.appliedIndex;
    this.appliedTerm = init.appliedTerm;
    const snap = init.storage.snapshotMetadata();
    this.confHistory = [{ index: snap.index, confState: snap.confState }];
    this.reads = new ReadTracker(init.peerId, init.nonce);
    this.addressOf = init.addressOf;
    this.recordsDescriptors = init.recordsDescriptors;
    const hs = init.storage.hardState();
    this.term = hs.term;
    this.commitIndex = Math.max(hs.commit, init.appliedIndex);
  }

  get isLeader(): boolean {
    return this.role === StateRole.Leader;
  }

  /** Host-side work that keeps the replica awake. */
  hasHostWork(): boolean {
    return this.pendingProposals > 0 || this.reads.hasWork() || this.inbox.length > 0 || this.install !== null
      || this.snapshotReports.length > 0 || this.transferTo !== 0;
  }

  /** Whether the next turn has something to feed into raft for this replica. */
  needsTurn(): boolean {
    return this.inbox.length > 0 || this.proposals.queued > 0 || this.reads.queued > 0 || this.snapshotReports.length > 0
      || this.unreachablePeers.size > 0 || this.transferTo !== 0 || this.pokeWanted || this.campaignWanted
      || (this.install !== null && !this.install.stepped);
  }

  staleness(nowMs: number): number {
    if (this.isLeader && !this.asleep) return 0;
    return this.syncedAtMs === 0 ? Number.POSITIVE_INFINITY : Math.max(0, nowMs - this.syncedAtMs);
  }

  /** A replica that never had any state (a joiner waiting for its first snapshot). */
  get empty(): boolean {
    return this.confState.voters.length === 0 && this.confState.learners.length === 0 && this.appliedIndex === 0;
  }

  // ---- turn, step 0: feed raft --------------------------------------------------------

  /**
   * Steps buffered messages and local events into raft and hands it the queued proposals
   * and reads. Returns whether anything other than quiet heartbeats happened.
   */
  prepare(nowMs: number, tick: number, retryTicks: number): void {
    this.stepInbox(nowMs);
    for (const { peer, ok } of this.snapshotReports) this.raw.reportSnapshot(peer as never, ok);
    this.snapshotReports = [];
    for (const peer of this.unreachablePeers) this.raw.reportUnreachable(peer as never);
    this.unreachablePeers.clear();
    if (this.campaignWanted) {
      this.campaignWanted = false;
      this.raw.campaign();
    }
    if (this.transferTo !== 0) {
      this.raw.transferLeader(this.transferTo as never);
      this.transferTo = 0;
      this.active = true;
    }
    if (this.pokeWanted) {
      this.pokeWanted = false;
      if (!this.isLeader && this.lead !== 0) this.raw.readIndex(pokeCtx(this.peerId, ++this.pokeSeq));
    }
    this.submitProposals();
    if (this.reads.submit(this.raw, tick)) {
      this.active = true;
      this.ticksSinceRead = 0;
    }
    if (this.reads.retry(this.raw, tick, retryTicks)) this.ticksSinceRead = 0;
    if (this.install !== null && !this.install.stepped) {
      this.install.stepped = true;
      this.raw.step(this.install.message);
      this.active = true;
    }
  }

  /** Steps the buffered messages (before the turn's ticks: see Scheduler.turn). */
  stepInbox(nowMs: number): void {
    if (this.inbox.length === 0) return;
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) this.stepMessage(m, nowMs);
  }

  private stepMessage(m: Message, nowMs: number): void {
    if (!isQuietMessage(m)) this.active = true;
    if (m.type === MessageType.ReadIndex) this.ticksSinceRead = 0;
    const res = this.raw.step(m);
    if (!res.ok) return; // e.g. a response from a peer no longer in the group
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    if (fromLeader && m.from === this.lead && m.term === this.term) {
      this.leaderMsgAtMs = nowMs;
      this.leaderMsgCommit = m.commit;
    }
  }

  private submitProposals(): void {
    if (this.proposals.queued === 0) return;
    const { normal, conf } = this.proposals.takeQueued();
    if (normal.length === 0 && conf.length === 0) return;
    this.active = true;
    if (!this.isLeader) {
      const e = this.notLeader();
      for (const p of normal) p.waiter.reject(e);
      for (const p of conf) p.waiter.reject(e);
      return;
    }
    if (normal.length > 0) this.proposeNormal(normal);
    for (const p of conf) this.proposeConf(p);
  }

  private proposeNormal(ps: Proposal[]): void {
    const res = this.raw.proposeBatch(ps.map((p) => p.data));
    if (!res.ok) {
      // All or none: one oversized entry fails the batch, so retry the others alone.
      if (ps.length > 1 && res.reason.includes('proposalBytesMax')) {
        for (const p of ps) this.proposeNormal([p]);
        return;
      }
      const e = this.refused(res.reason);
      for (const p of ps) p.waiter.reject(e);
      return;
    }
    const st = this.raw.status();
    const first = st.lastIndex - ps.length + 1;
    ps.forEach((p, i) => this.proposals.track(p, first + i, st.hardState.term));
  }

  private proposeConf(p: Proposal): void {
    const res = this.raw.proposeConfChange(p.confChange!);
    if (!res.ok) {
      p.waiter.reject(this.refused(res.reason));
      return;
    }
    const st = this.raw.status();
    this.proposals.track(p, st.lastIndex, st.hardState.term);
  }

  /** raft dropped a proposal (nothing was appended): the reason as a retryable or final code. */
  private refused(reason: string): KvError {
    if (reason.includes('proposalBytesMax')) return new KvError('REQUEST_TOO_LARGE', `shard ${this.shardId}: ${reason}`);
    if (reason.includes('transfer') || reason.includes('removed')) return this.notLeader();
    return new KvError('SERVER_BUSY', `shard ${this.shardId} refused the proposal: ${reason}`, { details: { retryAfterMs: 100 } });
  }

  // ---- turn, step 3: apply -------------------------------------------------------------

  /** Mirrors soft/hard state from a Ready; returns true when this replica stopped leading. */
  observe(rd: Ready): boolean {
    let lostLeadership = false;
    if (rd.softState !== null) lostLeadership = this.observeSoft(rd.softState);
    if (rd.hardState !== null) {
      this.term = rd.hardState.term;
      this.commitIndex = Math.max(this.commitIndex, rd.hardState.commit);
    }
    if (rd.snapshot !== null) this.commitIndex = Math.max(this.commitIndex, rd.snapshot.metadata.index);
    return lostLeadership;
  }

  private observeSoft(s: SoftState): boolean {
    const wasLeader = this.isLeader;
    this.role = s.role;
    this.lead = s.lead;
    this.descriptor = withLeader(this.descriptor, s.lead);
    if (wasLeader && !this.isLeader) {
      if (this.reads.hasWork()) this.reads.onLostLeadership(this.notLeader());
      return true;
    }
    return false;
  }

  /**
   * Applies a Ready's committed entries into `batch` (results are served in finish()).
   * After a restart raft replays entries from the WAL snapshot point; those the engine
   * already holds (index <= appliedIndex) are skipped, except that their conf changes are
   * still applied to raft, whose membership starts from the WAL snapshot metadata.
   */
  apply(rd: Ready, batch: ApplyBatchPort): ApplyEffects {
    const effects: ApplyEffects = { removedSelf: false, confChanged: false };
    if (rd.snapshot !== null) this.restoreFromSnapshot(rd);
    for (const e of rd.committedEntries) {
      const replay = e.index <= this.appliedIndex;
      if (e.type === EntryType.ConfChange) {
        this.applyConfEntry(e, replay ? null : batch, effects);
      } else if (replay) {
        continue;
      } else if (e.data.length === 0) {
        batch.setApplied(this.shardId, e.index, e.term);
      } else {
        const result = batch.apply(this.shardId, e.index, e.term, e.data);
        const split = splitOf(result);
        if (split !== undefined) {
          // The shard narrowed to the left half (the engine recorded it in this batch).
          this.descriptor = withLeader(split.left, this.lead);
          this.splitsApplied.push(split.right.id);
        }
        this.appliedResults.push({ index: e.index, term: e.term, result: () => result });
      }
      if (replay) continue;
      this.appliedIndex = e.index;
      this.appliedTerm = e.term;
    }
    return effects;
  }

  private restoreFromSnapshot(rd: Ready): void {
    const meta = rd.snapshot!.metadata;
    // The engine holds the snapshot's data already (installed before raft accepted it).
    this.appliedIndex = meta.index;
    this.appliedTerm = meta.term;
    this.confState = meta.confState;
    this.confHistory = [{ index: meta.index, confState: meta.confState }];
    this.descriptorUnpersistedAt = 0; // the install recorded the descriptor
    if (this.install !== null) this.descriptor = withLeader(this.install.descriptor, this.lead);
    this.proposals.skippedTo(meta.index);
  }

  private applyConfEntry(e: Entry, batch: ApplyBatchPort | null, effects: ApplyEffects): void {
    const cc: ConfChange = decodeConfChange(e.data);
    this.confState = this.raw.applyConfChange(cc);
    this.confHistory.push({ index: e.index, confState: this.confState });
    effects.confChanged = true;
    if (cc.context.length > 0) {
      const next = rebaseAfterSplit(decodeDescriptor(cc.context), this.descriptor);
      if (epochNewer(next.epoch, this.descriptor.epoch)) this.descriptor = withLeader(next, this.lead);
    }
    if (!isMember(this.confState, this.peerId) && cc.changes.length > 0) effects.removedSelf = true;
    if (!this.recordsDescriptors) this.descriptorUnpersistedAt = e.index;
    if (batch === null) return;
    batch.setApplied(this.shardId, e.index, e.term, this.confState);
    batch.setDescriptor?.(this.shardId, this.descriptor);
    const desc = this.descriptor;
    this.appliedResults.push({ index: e.index, term: e.term, result: () => desc });
  }

  /**
   * The membership in force at `index` (<= applied): what a WAL snapshot record at that
   * index must carry when the log is compacted up to it.
   */
  confStateAt(index: number): ConfState | undefined {
    for (let i = this.confHistory.length - 1; i >= 0; i--) {
      const h = this.confHistory[i]!;
      if (h.index <= index) return h.confState;
    }
    return undefined;
  }

  /** The log was compacted up to `index`: older membership history is no longer needed. */
  compactedTo(index: number): void {
    let keep = 0;
    for (let i = 0; i < this.confHistory.length; i++) if (this.confHistory[i]!.index <= index) keep = i;
    this.confHistory = this.confHistory.slice(keep);
  }

  // ---- turn, step 4: after the batch is written ----------------------------------------

  /** Serves proposals and reads the applied entries made ready, then advances raft. */
  finish(rd: Ready, nowMs: number): void {
    if (this.splitsApplied.length > 0) {
      const ids = this.splitsApplied;
      this.splitsApplied = [];
      for (const id of ids) this.onSplit?.(id);
    }
    for (const a of this.appliedResults) this.proposals.applied(a.index, a.term, a.result);
    this.appliedResults = [];
    for (const rs of rd.readStates) this.reads.onReadState(rs, this.appliedIndex);
    this.reads.onApplied(this.appliedIndex);
    if (this.install !== null && rd.snapshot !== null) {
      this.install.resolve();
      this.install = null;
    }
    this.raw.advance();
    if (this.isLeader) this.syncedAtMs = nowMs;
    else if (this.leaderMsgAtMs > this.syncedAtMs && this.appliedIndex >= this.leaderMsgCommit) this.syncedAtMs = this.leaderMsgAtMs;
    if (rd.entries.length > 0 || rd.committedEntries.length > 0 || rd.snapshot !== null || rd.readStates.length > 0) this.active = true;
  }

  /** NOT_LEADER with a hint: the peer this replica believes leads, its node and address. */
  notLeader(): KvError {
    const msg = `replica ${this.peerId} of shard ${this.shardId} is not the leader`;
    const hint = this.leaderHint();
    return new KvError('NOT_LEADER', hint === undefined ? `${msg} (leader unknown)` : `${msg}; try peer ${hint.peerId} on node ${hint.nodeId}`,
      hint === undefined ? {} : { details: { leaderHint: hint } });
  }

  leaderHint(): LeaderHint | undefined {
    if (this.lead === 0 || this.lead === this.peerId) return undefined;
    const node = nodeOfPeer(this.descriptor, this.lead);
    if (node === undefined) return undefined;
    return { nodeId: node as NodeId, peerId: this.lead as PeerId, address: this.addressOf(node) ?? '' };
  }

  failAll(e: KvError): void {
    this.proposals.failAll(e);
    this.reads.failAll(e);
    this.install?.reject(e);
    this.install = null;
  }
}

/** The halves of an applied split, if `result` is the engine's split outcome (engine/split.ts). */
function splitOf(result: unknown): { left: ShardDescriptor; right: ShardDescriptor } | undefined {
  const r = result as { ok?: boolean; value?: { op?: string; response?: { left: ShardDescriptor; right: ShardDescriptor } } } | null;
  return r?.ok === true && r.value?.op === 'split' ? r.value.response : undefined;
}

/**
 * A membership change proposed before a split but applied after it carries the unsplit
 * range and the old version: keep the current (narrowed) range and version, take the
 * change's replicas, bump confVer. Deterministic: every member holds the same current one.
 */
function rebaseAfterSplit(next: ShardDescriptor, cur: ShardDescriptor): ShardDescriptor {
  const n = next.epoch ?? { confVer: 0, version: 0 };
  const c = cur.epoch ?? { confVer: 0, version: 0 };
  if (n.version >= c.version) return next;
  return { ...cur, replicas: next.replicas, epoch: { confVer: Math.max(n.confVer, c.confVer + 1), version: c.version } };
}
