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
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import type { ConfState } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { confStateOf, EMPTY_CONF_STATE, epochNewer, isMember } from './descriptor.js';
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
    return this.o.scheduler.addReplica({
      descriptor: st.descriptor, peerId: st.peerId, confState: st.confState, appliedIndex: st.appliedIndex, appliedTerm: st.appliedTerm,
    }, storage);
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
