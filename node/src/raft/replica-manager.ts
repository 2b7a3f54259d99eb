/**
 * Creates, recovers and destroys the node's replicas: the engine's persistent replica
 * state, the WAL group and the scheduler's Replica move together here.
 *
 * Ordering (crash safety):
 * - create: engine.createShard (synced) first, then the WAL group (flushed), then the
 *   scheduler. A crash in between leaves an engine replica without a WAL group, which
 *   recovery completes by creating the group from the engine's membership.
 * - remove: the scheduler lets go and the WAL group is dropped (flushed), then the engine
 *   deletes the data and leaves a tombstone, so stale messages or a repeated create with
 *   the same peer id never bring the replica back. A crash in between leaves an engine
 *   replica without a group whose state says removing: the engine finishes it.
 *
 * Calls are serialized (one create/remove at a time), and idempotent as NodeAdmin requires.
 */
import { compareBytes, KvError, tableEnd, tableStart } from '@shoal/common';
import type { Logger, TableId } from '@shoal/common';
import { common } from '@shoal/proto';
import type { ConfState, LogIndex, PeerId, Term } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { bumpConfVer, confStateOf, EMPTY_CONF_STATE, epochNewer, isMember } from './descriptor.js';
import type { DescriptorStore } from './descriptor-store.js';
import type { GroupStoragePort, ShardStatePort, WalPort } from './ports.js';
import type { Replica } from './replica.js';
import type { Scheduler } from './scheduler.js';

export interface TableInfoLike {
  readonly tableId: number;
  readonly partition: 'hash' | 'range';
  readonly valueSeparationThresholdBytes: number;
  readonly defaultTtlMs: number;
}

/** The engine's replica bookkeeping (engine/ Engine). */
export interface EngineReplicas {
  shards(): readonly ShardStatePort[];
  table(tableId: number): TableInfoLike | undefined;
  createShard(state: ShardStatePort, table: TableInfoLike): Promise<void>;
  removeShard(shardId: number): Promise<void>;
  /** Where a split cuts when no key is given (CONDITION_FAILED if nothing to split on). */
  splitKeyOf(shardId: number): Promise<Uint8Array>;
  /** Everything applied so far survives power loss (before a split's right half gets a WAL group). */
  makeDurable(): Promise<void>;
  /** Forced replica reduction: the replica's new membership and descriptor, synced. */
  rewriteMembership(shardId: number, confState: ConfState, descriptor: ShardDescriptor): Promise<void>;
}

export interface ReplicaManagerOptions {
  readonly nodeId: number;
  readonly engine: EngineReplicas;
  readonly wal: WalPort;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Descriptors saved when the engine cannot record them (descriptor-store.ts). */
  readonly descriptorStore?: DescriptorStore;
}

export class ReplicaManager {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ReplicaManagerOptions) {
    o.scheduler.removedSelf = (shardId) => {
      const r = o.scheduler.replica(shardId);
      if (r === undefined) return;
      void this.remove(shardId, r.peerId, true).catch((e: unknown) => o.logger.error({ err: e, shardId }, 'removing a replica that left its group failed'));
    };
    o.scheduler.unknownShards.host = {
      lookup: (shardId, peerId) => this.lookup(shardId, peerId),
      createForSnapshot: (desc, peerId) => this.createForSnapshot(desc, peerId),
    };
  }

  /** For unknown-shard.ts: 'known' if a replica of the shard exists here (maybe starting) or a newer-or-same peer id was removed. */
  private lookup(shardId: number, peerId: number): 'absent' | 'known' {
    const st = this.o.engine.shards().find((s) => s.descriptor.id === shardId);
    if (st === undefined) return 'absent';
    return st.tombstone && peerId > st.peerId ? 'absent' : 'known';
  }

  /**
   * Creates an empty replica (as CreateReplica bootstrap=false) for a snapshot that arrived
   * for a shard with no replica here — typically the right half of a split this replica
   * missed (unknown-shard.ts). The descriptor is the leader's, from the snapshot.
   *
   * Refused (the leader retries after a heartbeat) while a live local shard overlaps its
   * range: that is the stale parent, which either still applies the split from its log
   * (creating this very shard: a replica made here first would make that apply fail with
   * CORRUPTION) or installs a snapshot of its narrowed left half, which deletes the stale
   * right-range data as long as no local shard owns it. Either way the next attempt finds
   * no overlap. Also refused: a table unknown here, a descriptor that does not place the
   * peer on this node (createEngineShard), a replica that exists but is still starting.
   */
  private createForSnapshot(desc: ShardDescriptor, peerId: number): Promise<void> {
    return this.serialized(async () => {
      if (this.o.scheduler.replica(desc.id) !== undefined) return;
      const existing = this.o.engine.shards().find((s) => s.descriptor.id === desc.id);
      if (existing !== undefined && !existing.tombstone) {
        throw new KvError('SERVER_BUSY', `shard ${desc.id}'s replica on node ${this.o.nodeId} is starting`, { details: { retryAfterMs: 200 } });
      }
      const stale = this.o.engine.shards().find((s) => !s.tombstone && rangesMeet(s.descriptor, desc));
      if (stale !== undefined) {
        this.o.logger.debug({ shardId: desc.id, overlaps: stale.descriptor.id, epoch: stale.descriptor.epoch }, 'snapshot for an unknown shard waits: a stale local shard still covers its range');
        throw new KvError('SERVER_BUSY', `shard ${desc.id}'s range overlaps shard ${stale.descriptor.id} on node ${this.o.nodeId}, `
          + 'which has not applied the split or installed a narrowed snapshot yet', { details: { retryAfterMs: 200 } });
      }
      try {
        await this.createOne(desc, peerId, false, existing);
      } catch (e) {
        this.o.logger.warn({ err: e, shardId: desc.id, peerId, tableId: desc.tableId }, 'refused to create a replica for a snapshot of an unknown shard');
        throw e;
      }
      this.o.logger.info({ shardId: desc.id, peerId, epoch: desc.epoch }, 'replica created on demand for its leader\'s snapshot');
    });
  }

  /** Attaches every replica the engine knows (after a restart) and drops orphan WAL groups. */
  async recover(): Promise<number> {
    const known = new Set<number>();
    const saved = this.o.descriptorStore?.loadAll() ?? new Map<number, ShardDescriptor>();
    let n = 0;
    for (const engineState of this.o.engine.shards()) {
      if (engineState.tombstone) continue;
      const newer = saved.get(engineState.descriptor.id);
      const st = newer !== undefined && epochNewer(newer.epoch, engineState.descriptor.epoch) ? { ...engineState, descriptor: newer } : engineState;
      known.add(st.descriptor.id);
      let storage = this.o.wal.group(st.descriptor.id);
      if (storage === undefined) {
        this.o.logger.warn({ shardId: st.descriptor.id }, 'replica has no WAL group (crash during create); creating it');
        storage = this.o.wal.createGroup(st.descriptor.id, st.appliedIndex === 0 ? st.confState : EMPTY_CONF_STATE);
      }
      this.attach(st, storage);
      n++;
    }
    for (const id of this.o.wal.groupIds()) {
      if (known.has(id)) continue;
      this.o.logger.warn({ shardId: id }, 'WAL group without an engine replica (crash during create or remove); dropping it');
      this.o.wal.stageRemoveGroup(id);
    }
    await this.o.wal.flush();
    return n;
  }

  private attach(st: ShardStatePort, storage: GroupStoragePort): Replica {
    const r = this.o.scheduler.addReplica({
      descriptor: st.descriptor, peerId: st.peerId, confState: st.confState, appliedIndex: st.appliedIndex, appliedTerm: st.appliedTerm,
    }, storage);
    r.onSplit = (rightId) => {
      const ledParent = r.isLeader;
      void this.serialized(() => this.startSplitHalf(rightId, ledParent))
        .catch((e: unknown) => this.o.logger.error({ err: e, shardId: r.shardId, rightShardId: rightId }, 'starting the right half of a split failed'));
    };
    return r;
  }

  /**
   * Starts the raft group of a split's right half, which the engine created when it applied
   * the split (engine/split.ts: log at SPLIT_INIT_INDEX, the parent's membership renamed).
   * The engine is made durable first: the right half's WAL group must never outlive (after a
   * power loss) the engine state that created it, or its votes and acks would be forgotten.
   * A crash before the group exists is repaired by recover(), which creates it from the
   * engine. The replica that led the parent campaigns at once, so the half has a leader
   * without waiting out an election timeout (the others accept once they applied the split).
   */
  private async startSplitHalf(rightId: number, ledParent: boolean): Promise<void> {
    if (this.o.scheduler.replica(rightId) !== undefined) return;
    await this.o.engine.makeDurable();
    const st = this.o.engine.shards().find((s) => s.descriptor.id === rightId);
    if (st === undefined || st.tombstone || this.o.scheduler.replica(rightId) !== undefined) return;
    if (this.o.wal.group(rightId) !== undefined) this.o.wal.stageRemoveGroup(rightId);
    const storage = createSplitHalfGroup(this.o.wal, st);
    await this.o.wal.flush();
    const r = this.attach(st, storage);
    this.o.logger.info({ shardId: rightId, peerId: st.peerId, campaign: ledParent }, 'split: right half started');
    if (ledParent) this.o.scheduler.campaign(r);
  }

  /** Where a split of the shard cuts when no key is given (engine splitKeyOf). */
  splitKeyOf(shardId: number): Promise<Uint8Array> {
    return this.o.engine.splitKeyOf(shardId);
  }

  /**
   * Forced replica reduction (B-Station's dynamic replica reduction), on one surviving
   * replica, without a quorum: the membership becomes exactly `keep` (all voters), the
   * descriptor drops the others with confVer + 1 (what the metaserver expects), both are
   * persisted, and the replica's raft restarts on them so the survivors elect among
   * themselves. Unsafe by nature (writes only the lost replicas had are gone). Idempotent:
   * a replica already reduced to `keep` answers with its descriptor.
   *
   * The raft log is rebuilt: a snapshot point at the applied index carrying the new
   * membership, the entries after it kept, the term bumped with no vote (a fresh term is
   * safe to vote in). Committed entries after the applied index are applied as usual.
   */
  forceReduce(shardId: number, keep: readonly number[]): Promise<ShardDescriptor> {
    return this.serialized(async () => {
      const r = this.o.scheduler.replica(shardId);
      const st = this.o.engine.shards().find((s) => s.descriptor.id === shardId && !s.tombstone);
      if (r === undefined || st === undefined) throw new KvError('SHARD_NOT_FOUND', `shard ${shardId} has no replica on node ${this.o.nodeId}`);
      const keepSorted = [...new Set(keep)].sort((a, b) => a - b);
      if (keepSorted.length === 0 || keepSorted.length !== keep.length) throw invalid('keepPeerIds', 'keep at least one peer, each once');
      if (!keepSorted.includes(r.peerId)) throw invalid('keepPeerIds', `the local replica ${r.peerId} of shard ${shardId} is not among the kept peers`);
      for (const p of keepSorted) {
        if (!r.descriptor.replicas.some((x) => x.peerId === p)) throw invalid('keepPeerIds', `peer ${p} is not a replica of shard ${shardId}`);
      }
      const descDone = sameMembers(r.descriptor, keepSorted);
      const raftDone = r.confState.voters.length === keepSorted.length && keepSorted.every((p) => r.confState.voters.includes(p as PeerId))
        && r.confState.learners.length === 0 && r.confState.votersOutgoing.length === 0;
      if (descDone && raftDone) return r.descriptor;
      const next: ShardDescriptor = descDone ? r.descriptor : bumpConfVer({
        ...r.descriptor, leaderPeerId: 0,
        replicas: r.descriptor.replicas.filter((x) => keepSorted.includes(x.peerId))
          .map((x) => common.Replica.create({ nodeId: x.nodeId, peerId: x.peerId, role: common.ReplicaRole.VOTER }))
          .sort((a, b) => a.peerId - b.peerId),
      });
      const cs: ConfState = { voters: keepSorted as PeerId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
      // What the log holds beyond the applied state, before the group is dropped.
      const hs = r.storage.hardState();
      const applied = st.appliedIndex;
      const last = r.storage.lastIndex();
      const tail = last > applied ? r.storage.entries((applied + 1) as never, (last + 1) as never, Number.MAX_SAFE_INTEGER) : [];
      if (!Array.isArray(tail)) throw new KvError('UNAVAILABLE', `shard ${shardId}: the raft log tail is not readable`);
      await this.o.engine.rewriteMembership(shardId, cs, next);
      await this.o.scheduler.detach(shardId, new KvError('NOT_LEADER', `shard ${shardId}: membership is being rewritten (force-reduce)`));
      const storage = this.o.wal.createGroup(shardId, cs);
      if (applied > 0) this.o.wal.stageSnapshot(shardId, { index: applied as never, term: st.appliedTerm as never, confState: cs });
      this.o.wal.stageHardState(shardId, { term: (Math.max(hs.term, st.appliedTerm) + 1) as never, vote: 0 as never, commit: Math.max(applied, Math.min(hs.commit, last)) as never });
      if (tail.length > 0) this.o.wal.stageEntries(shardId, tail);
      await this.o.wal.flush();
      const fresh = this.o.engine.shards().find((s) => s.descriptor.id === shardId)!;
      const nr = this.attach(fresh, storage);
      this.o.logger.warn({ shardId, keep: keepSorted, epoch: next.epoch }, 'force-reduce: membership rewritten without a quorum');
      // One survivor campaigns at once (the lowest peer id); the others would time out anyway.
      if (keepSorted[0] === nr.peerId) this.o.scheduler.campaign(nr);
      return next;
    });
  }

  /**
   * Creates this node's replica `peerId` of `desc`. `bootstrap`: a brand-new shard whose
   * descriptor replicas are the initial members; else an empty replica that waits for the
   * leader's snapshot after being added to the group.
   */
  create(desc: ShardDescriptor, peerId: number, bootstrap: boolean): Promise<'created' | 'exists'> {
    return this.serialized(() => this.createOne(desc, peerId, bootstrap, this.o.engine.shards().find((s) => s.descriptor.id === desc.id)));
  }

  /**
   * Creates the static layout's replicas this node does not know yet (never recreating a
   * removed one). One engine lookup for all, so thousands of shards start quickly.
   */
  createLayout(items: readonly { descriptor: ShardDescriptor; peerId: number }[]): Promise<number> {
    return this.serialized(async () => {
      const known = new Set(this.o.engine.shards().map((s) => s.descriptor.id));
      const created: ShardStatePort[] = [];
      for (const { descriptor, peerId } of items) {
        if (known.has(descriptor.id)) continue;
        created.push(await this.createEngineShard(descriptor, peerId, true, undefined));
      }
      // One WAL flush for all the new groups.
      const groups = created.map((st) => this.o.wal.createGroup(st.descriptor.id, st.confState));
      if (created.length > 0) await this.o.wal.flush();
      created.forEach((st, i) => {
        const r = this.attach(st, groups[i]!);
        // One designated replica per new shard campaigns at once (spread over the nodes
        // by shard id): no waiting for election timeouts, no split votes among thousands
        // of new groups. If it is down, the others time out and elect as usual.
        const voters = st.confState.voters;
        if (voters.length > 0 && voters[st.descriptor.id % voters.length] === st.peerId) this.o.scheduler.campaign(r);
      });
      return created.length;
    });
  }

  private async createOne(desc: ShardDescriptor, peerId: number, bootstrap: boolean, existing: ShardStatePort | undefined): Promise<'created' | 'exists'> {
    if (existing !== undefined && !existing.tombstone && existing.peerId === peerId) return 'exists';
    const state = await this.createEngineShard(desc, peerId, bootstrap, existing);
    if (this.o.wal.group(desc.id) !== undefined) this.o.wal.stageRemoveGroup(desc.id);
    const storage = this.o.wal.createGroup(desc.id, state.confState);
    await this.o.wal.flush();
    this.attach(state, storage);
    this.o.logger.info({ shardId: desc.id, peerId, bootstrap }, 'replica created');
    return 'created';
  }

  /** Validates and persists the engine side of a new replica. */
  private async createEngineShard(
    desc: ShardDescriptor, peerId: number, bootstrap: boolean, existing: ShardStatePort | undefined,
  ): Promise<ShardStatePort> {
    const mine = desc.replicas.find((x) => x.peerId === peerId);
    if (mine === undefined || mine.nodeId !== this.o.nodeId) {
      throw new KvError('INVALID_ARGUMENT', `peer ${peerId} is not a replica of shard ${desc.id} on node ${this.o.nodeId}`, { details: { option: 'peerId' } });
    }
    const table = this.o.engine.table(desc.tableId);
    if (table === undefined) throw new KvError('TABLE_NOT_FOUND', `table ${desc.tableId} is not known on node ${this.o.nodeId}`);
    if (existing !== undefined && !existing.tombstone) {
      throw new KvError('ALREADY_EXISTS', `shard ${desc.id} already has replica ${existing.peerId} on this node`);
    }
    if (existing?.tombstone === true && peerId <= existing.peerId) {
      throw new KvError('ALREADY_EXISTS', `replica ${peerId} of shard ${desc.id} was removed from this node; peer ids are never reused`);
    }
    const cs: ConfState = bootstrap ? confStateOf(desc) : EMPTY_CONF_STATE;
    const state: ShardStatePort = { descriptor: desc, appliedIndex: 0, appliedTerm: 0, confState: cs, peerId, tombstone: false };
    await this.o.engine.createShard(state, table);
    return state;
  }

  /**
   * Destroys the local replica and its data, leaving a tombstone. Refused while the replica
   * is still a member of its group, unless `force`. Idempotent: an absent replica is fine.
   */
  remove(shardId: number, peerId: number, force: boolean): Promise<'removed' | 'absent'> {
    return this.serialized(async () => {
      const st = this.o.engine.shards().find((s) => s.descriptor.id === shardId);
      if (st === undefined || st.tombstone) return 'absent';
      if (st.peerId !== peerId) throw new KvError('INVALID_ARGUMENT', `shard ${shardId}'s replica here is peer ${st.peerId}, not ${peerId}`, { details: { option: 'peerId' } });
      const r = this.o.scheduler.replica(shardId);
      if (r !== undefined && !force && isMember(r.confState, peerId)) {
        throw new KvError('CONDITION_FAILED', `replica ${peerId} is still a member of shard ${shardId}; remove it from the group first (or force)`);
      }
      await this.o.scheduler.detach(shardId, new KvError('SHARD_NOT_FOUND', `replica ${peerId} of shard ${shardId} was removed`));
      await this.o.engine.removeShard(shardId);
      this.o.descriptorStore?.remove(shardId);
      this.o.logger.info({ shardId, peerId, force }, 'replica removed');
      return 'removed';
    });
  }

  /** Whether the engine's replica of the shard is a tombstone (removed). */
  removed(shardId: number): boolean {
    return this.o.engine.shards().some((s) => s.descriptor.id === shardId && s.tombstone);
  }

  /** Whether the engine has (or had: tombstone) a replica of the shard. */
  knows(shardId: number): boolean {
    return this.o.engine.shards().some((s) => s.descriptor.id === shardId);
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(fn);
    this.chain = run;
    return run;
  }
}

/**
 * Creates the WAL group of a split's right half. Its log starts where the engine's split
 * put it (engine/split.ts: SPLIT_INIT_INDEX/TERM): that point is staged as the group's
 * snapshot and commit, so raft starts there and reconcileWithEngine does not take the new
 * group for a crash ("engine is ahead of the raft log …", a warning on every split).
 */
export function createSplitHalfGroup(wal: WalPort, st: ShardStatePort): GroupStoragePort {
  const id = st.descriptor.id;
  const storage = wal.createGroup(id, st.confState);
  if (st.appliedIndex === 0) return storage;
  wal.stageSnapshot(id, { index: st.appliedIndex as LogIndex, term: st.appliedTerm as Term, confState: st.confState });
  wal.stageHardState(id, { term: st.appliedTerm as Term, vote: 0 as PeerId, commit: st.appliedIndex as LogIndex });
  return storage;
}

function invalid(option: string, message: string): KvError {
  return new KvError('INVALID_ARGUMENT', message, { details: { option } });
}

/** Whether two shards of the same table share any key (empty bounds are the table's). */
function rangesMeet(a: ShardDescriptor, b: ShardDescriptor): boolean {
  if (a.tableId !== b.tableId) return false;
  const t = a.tableId as TableId;
  const start = (d: ShardDescriptor): Uint8Array => (d.startKey.length === 0 ? tableStart(t) : d.startKey);
  const end = (d: ShardDescriptor): Uint8Array => (d.endKey.length === 0 ? tableEnd(t) : d.endKey);
  return compareBytes(start(a), end(b)) < 0 && compareBytes(start(b), end(a)) < 0;
}

/** The descriptor's replicas are exactly `peers`, all voters. */
function sameMembers(d: ShardDescriptor, peers: readonly number[]): boolean {
  return d.replicas.length === peers.length
    && d.replicas.every((x) => peers.includes(x.peerId) && x.role === common.ReplicaRole.VOTER);
}
