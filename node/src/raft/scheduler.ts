/**
 * The multi-raft scheduler: drives every shard replica of the node from one event loop.
 *
 * One coarse timer ticks every awake group (missed ticks are caught up from the monotonic
 * clock, capped at one election timeout). Whenever something happened — a tick, a message,
 * a proposal, a read — one *turn* runs (never two at once):
 *
 *   0. feed raft: step buffered messages, hand queued proposals and reads to raft;
 *   1. take the Ready of every replica that has one;
 *   2. stage all snapshots, entries and hard states into the WAL and flush once — one
 *      write, one fdatasync for all groups (group commit) — if any Ready must sync;
 *   3. send every Ready's messages (MsgSnap starts a snapshot stream);
 *   4. apply every Ready's committed entries into ONE engine batch, write it;
 *   5. serve proposers and readers, advance() each replica.
 *
 * Idle groups hibernate (hibernation.ts): they leave the awake set, so ticks, heartbeats
 * and turns cost nothing for them. A failed WAL flush or engine write is fatal: the node
 * cannot know what is durable, so `onFatal` is called and no further turn runs.
 */
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import type { ConfChange, ConfState, Ready } from '@shoal/raft-ts';
import { MessageType } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { isMember, nodeOfPeer } from './descriptor.js';
import { followerMaySleep, isHibernateMarker, leaderMaySleep, sendHibernateMarkers } from './hibernation.js';
import type { EnginePort, GroupStoragePort, SnapshotHeader, TransportEnvelope, TransportPort, WalPort } from './ports.js';
import { Proposal } from './proposals.js';
import { ReadRequest } from './reads.js';
import { Replica } from './replica.js';
import { newRawNode, reconcileWithEngine } from './replica-factory.js';
import type { ApplyEffects } from './replica.js';
import type { DescriptorStore } from './descriptor-store.js';
import { SnapshotSender } from './snapshots.js';
import { declineInstall, finishInstall, receiveSnapshot } from './snapshot-installs.js';
import { UnknownShards } from './unknown-shard.js';
import { Conditions, Deadlines, Waiter } from './waiters.js';

export interface SchedulerOptions {
  readonly nodeId: number;
  readonly wal: WalPort;
  readonly engine: EnginePort;
  readonly transport: TransportPort;
  readonly addressOf: (nodeId: number) => string | undefined;
  readonly logger: Logger;
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly messageBytesMax: number;
  readonly inflightMessagesMax: number;
  readonly uncommittedBytesMax: number;
  readonly proposalBytesMax: number;
  readonly applyBytesPerTurnMax: number;
  readonly leaseReads: boolean;
  readonly hibernate: boolean;
  readonly walSync: 'always' | 'async';
  readonly inboxMessagesMax: number;
  readonly pendingProposalsPerShardMax: number;
  readonly pendingProposalsPerNodeMax: number;
  readonly pendingReadsPerNodeMax: number;
  readonly snapshotSendsMax: number;
  readonly snapshotChunkBytes: number;
  /** The engine's ApplyBatch has setDescriptor (else compaction keeps conf change entries; see Replica). */
  readonly engineRecordsDescriptors: boolean;
  /** Where descriptors go when the engine cannot record them (see descriptor-store.ts). */
  readonly descriptorStore?: DescriptorStore;
  readonly onFatal: (e: unknown) => void;
  readonly observer?: SchedulerObserver;
}

/** Hooks for metrics; every method is optional. */
export interface SchedulerObserver {
  turn?(seconds: number, readies: number): void;
  proposals?(n: number): void;
  applied?(entries: number): void;
  roleChanged?(shardId: number, leader: boolean): void;
}

/** Initial state of a replica, from the engine (restart) or a create request. */
export interface ReplicaState {
  readonly descriptor: ShardDescriptor;
  readonly peerId: number;
  readonly confState: ConfState;
  readonly appliedIndex: number;
  readonly appliedTerm: number;
}

interface Work {
  readonly r: Replica;
  readonly rd: Ready;
  effects?: ApplyEffects;
}

const NONCE = Date.now();
const DEADLINE_RESOLUTION_MS = 20;
/** Readies handled in one turn at most (the rest wait for the next, after pending I/O). */
const READIES_PER_TURN_MAX = 2048;

export class Scheduler {
  private readonly replicas = new Map<number, Replica>();
  private readonly awake = new Set<Replica>();
  private dirty = new Set<Replica>();
  private resumed: Work[] = [];
  private readonly deadlines = new Deadlines(DEADLINE_RESOLUTION_MS);
  private readonly conditions = new Conditions();
  private readonly snapshots: SnapshotSender;
  /** Messages and snapshots for shards with no replica here (unknown-shard.ts); its host is the replica manager. */
  readonly unknownShards: UnknownShards;
  private readonly hibernateAfterTicks: number;

  private tickTimer: NodeJS.Timeout | null = null;
  private clockBaseMs = 0;
  private ticksDone = 0;
  /** Ticks given to awake groups since start: the clock read retries are measured on. */
  tickCount = 0;
  private turnScheduled = false;
  private turnRunning: Promise<void> | null = null;
  private exclusive: Promise<unknown> = Promise.resolve();
  private exclusiveDepth = 0;
  private unflushed = false;
  private flushWanted = false;
  private stopped = false;
  private failed = false;
  private pendingProposalsNode = 0;
  private pendingReadsNode = 0;
  /** Counters for metrics and tests. */
  readonly stats = { turns: 0, readies: 0, flushes: 0, proposals: 0, appliedEntries: 0, droppedMessages: 0, markersSent: 0, groupTicks: 0 };

  /** Proposals one shard may have pending (the service bounds per-key latch queues by it). */
  get pendingProposalsPerShardMax(): number {
    return this.o.pendingProposalsPerShardMax;
  }

  constructor(private readonly o: SchedulerOptions) {
    // Two heartbeat rounds of quiet (the commit index reached everyone); leases are covered
    // separately by Replica.ticksSinceRead.
    this.hibernateAfterTicks = 2 * o.heartbeatIntervalTicks + 1;
    this.snapshots = new SnapshotSender({
      engine: o.engine, transport: o.transport, logger: o.logger, sendsMax: o.snapshotSendsMax, chunkBytes: o.snapshotChunkBytes,
      nodeOf: (r, peer) => nodeOfPeer(r.descriptor, peer),
      onDone: (r, peer, ok) => {
        r.snapshotReports.push({ peer, ok });
        this.wake(r, false);
      },
    });
    this.unknownShards = new UnknownShards({ nodeId: o.nodeId, transport: o.transport, logger: o.logger });
  }

  // ---- lifecycle ------------------------------------------------------------------------

  start(): void {
    this.clockBaseMs = performance.now();
    this.ticksDone = 0;
    this.tickTimer = setInterval(() => this.onTimer(), this.o.tickIntervalMs);
  }

  /** Stops ticking and turning; fails every waiter. The caller closes the WAL and engine. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    await this.turnRunning;
    await this.exclusive.catch(() => undefined);
    const e = new KvError('UNAVAILABLE', 'node is shutting down');
    for (const r of this.replicas.values()) r.failAll(e);
    this.conditions.failAll(e);
    await this.snapshots.closeAll();
  }

  get replicaCount(): number {
    return this.replicas.size;
  }

  get snapshotStats(): { readonly sent: number; readonly failed: number } {
    return this.snapshots.stats;
  }

  get awakeCount(): number {
    return this.awake.size;
  }

  replica(shardId: number): Replica | undefined {
    const r = this.replicas.get(shardId);
    return r === undefined || r.phase === 'removed' ? undefined : r;
  }

  allReplicas(): IterableIterator<Replica> {
    return this.replicas.values();
  }

  /**
   * Adds a replica over its WAL group. Reconciles the log with the engine first: the engine
   * may be ahead of the log when a crash hit after a snapshot was installed but before the
   * WAL recorded it, or after entries were applied whose commit index was not yet synced.
   */
  addReplica(state: ReplicaState, storage: GroupStoragePort): Replica {
    const shardId = state.descriptor.id;
    if (this.replicas.has(shardId)) throw new KvError('ALREADY_EXISTS', `shard ${shardId} already has a replica on this node`);
    if (reconcileWithEngine(this.o.wal, this.o.logger, shardId, state, storage)) {
      this.unflushed = true;
      this.flushWanted = true;
    }
    const r = new Replica({
      shardId, peerId: state.peerId, descriptor: state.descriptor, confState: state.confState,
      appliedIndex: state.appliedIndex, appliedTerm: state.appliedTerm, storage, raw: newRawNode(this.o, state.peerId, storage, shardId),
      nonce: NONCE, addressOf: this.o.addressOf, recordsDescriptors: this.o.engineRecordsDescriptors,
    });
    storage.setSnapshotProvider(() => this.snapshots.provide(r));
    this.replicas.set(shardId, r);
    this.awake.add(r);
    this.dirty.add(r);
    this.scheduleTurn();
    return r;
  }

  /**
   * Takes a replica out of the scheduler between turns and drops its WAL group (durably).
   * Its waiters fail with `reason`. The caller removes the engine data.
   */
  async detach(shardId: number, reason: KvError): Promise<void> {
    await this.runExclusive(async () => {
      const r = this.replicas.get(shardId);
      if (r === undefined) return;
      r.phase = 'removed';
      r.failAll(reason);
      this.replicas.delete(shardId);
      this.awake.delete(r);
      this.dirty.delete(r);
      this.o.wal.stageRemoveGroup(shardId);
      await this.o.wal.flush().catch((e: unknown) => this.fail(e));
    });
  }

  // ---- requests ---------------------------------------------------------------------------

  /** Proposes a command on the shard's leader; resolves with the engine's apply result. */
  propose(r: Replica, data: Uint8Array, deadlineMs: number): Promise<unknown> {
    return this.enqueueProposal(r, data, null, deadlineMs);
  }

  /** Proposes a membership change; resolves with the descriptor once it is applied here. */
  proposeConfChange(r: Replica, cc: ConfChange, deadlineMs: number): Promise<ShardDescriptor> {
    return this.enqueueProposal(r, new Uint8Array(0), cc, deadlineMs) as Promise<ShardDescriptor>;
  }

  private enqueueProposal(r: Replica, data: Uint8Array, cc: ConfChange | null, deadlineMs: number): Promise<unknown> {
    this.checkUsable();
    if (this.pendingProposalsNode >= this.o.pendingProposalsPerNodeMax) {
      return Promise.reject(busy(`node has ${this.pendingProposalsNode} pending proposals (pendingProposalsPerNodeMax)`));
    }
    if (r.pendingProposals >= this.o.pendingProposalsPerShardMax) {
      return Promise.reject(busy(`shard ${r.shardId} has ${r.pendingProposals} pending proposals (pendingProposalsPerShardMax)`));
    }
    this.pendingProposalsNode++;
    r.pendingProposals++;
    const { waiter, promise } = Waiter.create<unknown>(deadlineMs, () => {
      this.pendingProposalsNode--;
      r.pendingProposals--;
    });
    const p = new Proposal(waiter, data, cc);
    r.proposals.enqueue(p);
    this.deadlines.add(p);
    this.stats.proposals++;
    this.wake(r, false);
    return promise;
  }

  /**
   * Resolves when a read served from this replica's state now is linearizable: raft
   * confirmed a read index and the replica applied up to it. `leaderOnly`: fail with
   * NOT_LEADER if this replica loses leadership first (linearizable reads on the leader).
   */
  readIndex(r: Replica, deadlineMs: number, leaderOnly: boolean): Promise<void> {
    this.checkUsable();
    if (this.pendingReadsNode >= this.o.pendingReadsPerNodeMax) {
      return Promise.reject(busy(`node has ${this.pendingReadsNode} pending reads (pendingReadsPerNodeMax)`));
    }
    this.pendingReadsNode++;
    const { waiter, promise } = Waiter.create<undefined>(deadlineMs, () => {
      this.pendingReadsNode--;
    });
    const req = new ReadRequest(waiter, leaderOnly);
    r.reads.enqueue(req);
    this.deadlines.add(req);
    this.wake(r, false);
    return promise;
  }

  /** Resolves once `check()` holds (re-checked after every turn and tick), or fails at the deadline. */
  waitUntil(check: () => boolean, deadlineMs: number, onExpire: () => KvError): Promise<void> {
    if (check()) return Promise.resolve();
    const { promise, expirable } = this.conditions.add(check, deadlineMs, onExpire);
    this.deadlines.add(expirable);
    this.scheduleTurn();
    return promise.then(() => undefined);
  }

  /** Starts an election on this replica now (a new shard's designated first leader). */
  campaign(r: Replica): void {
    r.campaignWanted = true;
    this.wake(r, false);
  }

  transferLeader(r: Replica, toPeer: number): void {
    r.transferTo = toPeer;
    this.wake(r, false);
  }

  /**
   * Wakes a sleeping replica (it ticks again). `poke`: a follower also sends its leader a
   * ReadIndex request, which wakes the leader — used when a local request needs the group
   * (a NOT_LEADER answer, a bounded stale read) and would not message the leader itself.
   */
  wake(r: Replica, poke: boolean): void {
    if (r.phase === 'removed') return;
    if (r.asleep) {
      r.asleep = false;
      r.idleTicks = 0;
      this.awake.add(r);
    }
    r.active = true;
    if (poke && !r.isLeader) r.pokeWanted = true;
    this.dirty.add(r);
    this.scheduleTurn();
  }

  // ---- transport callbacks ------------------------------------------------------------

  onMessages(batch: readonly TransportEnvelope[]): void {
    for (const env of batch) this.deliver(env);
    this.scheduleTurn();
  }

  private deliver(env: TransportEnvelope): void {
    const r = this.replicas.get(env.shardId);
    const m = env.message;
    if (r === undefined) {
      // Possibly a peer this node should host but never created (it missed a split).
      this.stats.droppedMessages++;
      this.unknownShards.onMessage(env);
      return;
    }
    if (r.phase === 'removed' || env.toPeer !== r.peerId || m.type === MessageType.Snap) {
      this.stats.droppedMessages++;
      return;
    }
    if (isHibernateMarker(m)) {
      if (m.type === MessageType.HeartbeatResp) return; // the sleeping leader needs no answer
      r.markerFrom = m.from;
    } else if (r.asleep) {
      this.wake(r, false);
    }
    if (r.inbox.length >= this.o.inboxMessagesMax) {
      this.stats.droppedMessages++;
      return;
    }
    r.inbox.push(m);
    this.dirty.add(r);
  }

  /** The transport lost a peer node: leaders stop pipelining to it, followers it led wake up. */
  onUnreachable(nodeId: number): void {
    for (const r of this.replicas.values()) {
      if (r.phase !== 'active') continue;
      if (!r.isLeader && r.lead !== 0 && nodeOfPeer(r.descriptor, r.lead) === nodeId) {
        this.wake(r, false);
        continue;
      }
      if (!r.isLeader || r.asleep) continue;
      for (const rep of r.descriptor.replicas) if (rep.nodeId === nodeId) r.unreachablePeers.add(rep.peerId);
      this.dirty.add(r);
    }
    this.scheduleTurn();
  }

  /**
   * Receiver side of a snapshot: stages the streamed data in the engine, then lets raft
   * decide (in a turn) whether to take it. Resolves once the replica runs on the snapshot
   * (or raft declined it as stale); the transport then acknowledges.
   */
  async receiveSnapshot(header: SnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    // No replica: one this node should host but never created (it missed a split) is
    // created empty from the snapshot's descriptor, and this snapshot fills it.
    if (!this.replicas.has(header.shardId)) {
      this.checkUsable();
      await this.unknownShards.admitSnapshot(header);
    }
    const r = this.replica(header.shardId);
    if (r === undefined || r.peerId !== header.toPeer) throw new KvError('SHARD_NOT_FOUND', `no replica ${header.toPeer} of shard ${header.shardId} here`);
    await receiveSnapshot(r, this.o.engine, header, chunks, () => this.wake(r, false));
  }

  // ---- background work ----------------------------------------------------------------

  /** Runs `fn` between turns, with no turn running meanwhile. Serialized with other exclusive work. */
  runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.catch(() => undefined).then(async () => {
      this.exclusiveDepth++;
      try {
        while (this.turnRunning !== null) await this.turnRunning;
        return await fn();
      } finally {
        this.exclusiveDepth--;
        this.scheduleTurn();
      }
    });
    this.exclusive = run;
    return run;
  }

  /**
   * Log compaction: replicas whose log holds at least `thresholdEntries` applied entries
   * are compacted to `applied - keepEntries`, after the engine made everything applied
   * durable (the log is the durability source until then).
   */
  async compactLogs(thresholdEntries: number, keepEntries: number): Promise<number> {
    return this.runExclusive(async () => {
      const due: { r: Replica; to: number }[] = [];
      for (const r of this.replicas.values()) {
        if (r.phase !== 'active') continue;
        const to = r.appliedIndex - keepEntries;
        if (r.appliedIndex - r.storage.firstIndex() + 1 >= thresholdEntries + keepEntries && to >= r.storage.firstIndex()) due.push({ r, to });
      }
      if (due.length === 0) return 0;
      await this.o.engine.makeDurable();
      for (const { r, to } of due) {
        if (r.descriptorUnpersistedAt > 0 && r.descriptorUnpersistedAt <= to) {
          // The conf change entry that carries the descriptor is about to go: keep it elsewhere.
          this.o.descriptorStore?.save(r.descriptor);
          r.descriptorUnpersistedAt = 0;
        }
        // A snapshot record (not a bare compaction) so the WAL's membership, from which
        // raft restarts, stays right when conf change entries are compacted away.
        const term = r.storage.term(to as never);
        const confState = r.confStateAt(to);
        if (typeof term !== 'number' || confState === undefined) continue;
        this.o.wal.stageSnapshot(r.shardId, { index: to as never, term, confState });
        r.compactedTo(to);
      }
      await this.o.wal.flush().catch((e: unknown) => this.fail(e));
      return due.length;
    });
  }

  // ---- the turn -----------------------------------------------------------------------

  private onTimer(): void {
    if (this.unflushed) this.flushWanted = true;
    if (this.awake.size > 0 || this.conditions.size > 0 || this.flushWanted || this.deadlines.hasDue(Date.now())) this.scheduleTurn();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled || this.stopped || this.failed) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      if (this.turnRunning !== null || this.exclusiveDepth > 0) return; // re-scheduled when they end
      this.turnRunning = this.turn().catch((e: unknown) => this.fail(e)).finally(() => {
        this.turnRunning = null;
        if (this.dirty.size > 0 || this.resumed.length > 0 || this.flushWanted) this.scheduleTurn();
      });
    });
  }

  private async turn(): Promise<void> {
    const started = performance.now();
    const nowMs = Date.now();
    // Messages that arrived while the event loop was busy are stepped before the ticks that
    // accumulated meanwhile: a leader must see the heartbeat responses of that time before
    // its check-quorum runs, or every stall would depose leaders wholesale.
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const r of dirty) if (r.phase === 'active') r.stepInbox(nowMs);
    this.advanceClock(started);
    for (const r of this.dirty) dirty.add(r);
    this.dirty = new Set();
    this.deadlines.expire(nowMs);
    const work: Work[] = [];
    // Bounded work per turn keeps the event loop responsive (gRPC keepalives, requests);
    // replicas beyond the bound stay dirty for the next turn.
    for (const r of dirty) {
      if (work.length >= READIES_PER_TURN_MAX) this.dirty.add(r);
      else this.collect(r, nowMs, work);
    }
    for (const w of this.resumed) {
      w.r.phase = 'active';
      w.r.heldReady = null;
      work.push(w);
    }
    this.resumed = [];
    if (work.length > 0 || this.flushWanted) {
      await this.persist(work);
      this.snapshots.closeUnsent();
      for (const w of work) this.send(w);
      await this.applyAll(work);
      for (const w of work) this.finishOne(w, nowMs);
      this.stats.readies += work.length;
    }
    this.conditions.checkAll();
    this.stats.turns++;
    this.o.observer?.turn?.((performance.now() - started) / 1000, work.length);
  }

  /**
   * Gives awake groups the ticks the monotonic clock says are due. Leaders get every due
   * tick (at most an election timeout's worth): their lease is counted in ticks and must not
   * outlast real time after a stall. Other replicas get at most one tick per turn: a slow
   * election clock is always safe (they campaign later), and under overload it keeps
   * thousands of groups from timing out together and livelocking in split votes.
   */
  private advanceClock(nowMono: number): void {
    const due = Math.floor((nowMono - this.clockBaseMs) / this.o.tickIntervalMs);
    const n = Math.min(due - this.ticksDone, this.o.electionTimeoutTicks);
    this.ticksDone = due;
    if (n <= 0) return;
    this.tickCount += n;
    for (const r of this.awake) {
      const k = r.isLeader ? n : 1;
      for (let i = 0; i < k && !r.asleep; i++) this.tickOne(r);
    }
  }

  private tickOne(r: Replica): void {
    if (r.phase !== 'active') return;
    if (this.o.hibernate && leaderMaySleep(r, this.hibernateAfterTicks, this.o.electionTimeoutTicks)) {
      this.stats.markersSent += sendHibernateMarkers(r, this.o.transport);
      r.asleep = true;
      r.idleTicks = 0;
      this.awake.delete(r);
      return;
    }
    if (r.ticksSinceRead < Number.MAX_SAFE_INTEGER) r.ticksSinceRead++;
    r.active = false;
    r.raw.tick();
    this.stats.groupTicks++;
    // Most ticks change nothing visible (a follower's election clock); only a heartbeat or
    // a campaign needs a turn.
    if (r.raw.hasReady() || r.reads.hasWork()) this.dirty.add(r);
  }

  private collect(r: Replica, nowMs: number, work: Work[]): void {
    if (r.phase !== 'active') return;
    if (r.needsTurn() || r.reads.hasWork()) r.prepare(nowMs, this.tickCount, this.o.electionTimeoutTicks);
    const rd = r.raw.hasReady() ? r.raw.ready() : null;
    if (r.install !== null && r.install.stepped && (rd === null || rd.snapshot === null)) declineInstall(r);
    if (rd === null) {
      this.maybeSleepFollower(r, nowMs);
      return;
    }
    if (r.observe(rd)) this.o.observer?.roleChanged?.(r.shardId, false);
    if (rd.softState !== null) this.logRole(r);
    if (rd.snapshot !== null) {
      this.holdForInstall(r, rd);
      return;
    }
    work.push({ r, rd });
  }

  private logRole(r: Replica): void {
    if (r.isLeader) this.o.observer?.roleChanged?.(r.shardId, true);
    this.o.logger.debug({ shardId: r.shardId, peerId: r.peerId, role: r.role, lead: r.lead, term: r.term }, 'raft role changed');
  }

  /** Raft declined a received snapshot (stale, or it had the entries): drop the staged data. */
  /** Raft took a snapshot: make the engine data durable and visible first, then continue the Ready. */
  private holdForInstall(r: Replica, rd: Ready): void {
    // Still 'installing' until a turn takes the held Ready back (no second ready() before).
    finishInstall(r, rd, () => {
      this.resumed.push({ r, rd });
      this.scheduleTurn();
    }, (e) => this.fail(e));
  }

  private maybeSleepFollower(r: Replica, nowMs: number): void {
    if (!followerMaySleep(r, this.o.hibernate)) return;
    r.syncedAtMs = Math.max(r.syncedAtMs, nowMs);
    r.asleep = true;
    this.awake.delete(r);
  }

  private async persist(work: Work[]): Promise<void> {
    let sync = false;
    for (const { r, rd } of work) {
      if (rd.snapshot !== null) this.o.wal.stageSnapshot(r.shardId, rd.snapshot.metadata);
      if (rd.entries.length > 0) this.o.wal.stageEntries(r.shardId, rd.entries);
      if (rd.hardState !== null) this.o.wal.stageHardState(r.shardId, rd.hardState);
      if (rd.snapshot !== null || rd.entries.length > 0 || rd.hardState !== null) this.unflushed = true;
      if (rd.mustSync) sync = true;
    }
    if (!this.unflushed) {
      this.flushWanted = false;
      return;
    }
    // Commit-only hard states need no fsync (a lost commit index is re-learned); they are
    // written with the next flush, at the latest one tick later (flushWanted).
    if (sync || this.flushWanted || this.o.walSync === 'async') {
      this.unflushed = false;
      this.flushWanted = false;
      await this.o.wal.flush();
      this.stats.flushes++;
    }
  }

  private send(w: Work): void {
    const { r, rd } = w;
    for (const m of rd.messages) {
      if (m.type === MessageType.Snap) {
        this.snapshots.send(r, m);
        continue;
      }
      const node = nodeOfPeer(r.descriptor, m.to);
      if (node === undefined || node === this.o.nodeId) {
        r.unreachablePeers.add(m.to);
        this.dirty.add(r);
        continue;
      }
      this.o.transport.send(node, r.shardId, r.peerId, m.to, m);
    }
  }

  private async applyAll(work: Work[]): Promise<void> {
    let batch = null;
    let entries = 0;
    for (const w of work) {
      if (w.rd.committedEntries.length === 0 && w.rd.snapshot === null) continue;
      batch ??= this.o.engine.beginApply();
      w.effects = w.r.apply(w.rd, batch);
      entries += w.rd.committedEntries.length;
    }
    if (batch === null) return;
    await batch.commit();
    this.stats.appliedEntries += entries;
    this.o.observer?.applied?.(entries);
  }

  private finishOne(w: Work, nowMs: number): void {
    const { r, rd } = w;
    if (r.phase === 'removed') return;
    r.finish(rd, nowMs);
    if (w.effects?.removedSelf === true) this.onRemovedSelf(r);
    if (r.raw.hasReady() || r.needsTurn()) this.dirty.add(r);
    else this.maybeSleepFollower(r, nowMs);
  }

  /** The replica applied its own removal: it leaves the scheduler (the admin API deletes its data). */
  private onRemovedSelf(r: Replica): void {
    if (isMember(r.confState, r.peerId)) return;
    this.o.logger.info({ shardId: r.shardId, peerId: r.peerId }, 'replica removed from its group; it stops');
    this.removedSelf?.(r.shardId);
  }

  /** Set by the owner of replicas (service/replicas.ts) to destroy a replica removed by a conf change. */
  removedSelf: ((shardId: number) => void) | undefined;

  private checkUsable(): void {
    if (this.failed) throw new KvError('UNAVAILABLE', 'node stopped after a fatal storage error');
    if (this.stopped) throw new KvError('UNAVAILABLE', 'node is shutting down');
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    // Nothing will be applied or answered any more: every waiter learns it now.
    const reason = new KvError('UNAVAILABLE', 'node stopped after a fatal storage error', { cause: e });
    for (const r of this.replicas.values()) r.failAll(reason);
    this.conditions.failAll(reason);
    this.o.onFatal(e);
  }

  /** For tests: resolves after the current and any already scheduled turn ran. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.turnRunning !== null || this.turnScheduled) {
      await this.turnRunning;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function busy(message: string): KvError {
  return new KvError('SERVER_BUSY', message, { details: { retryAfterMs: 50 } });
}
