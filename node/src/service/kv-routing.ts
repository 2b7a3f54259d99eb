/**
 * Checks every KV request makes before touching a replica: the shard is hosted here, the
 * caller routed with the current epoch, its keys belong to the shard and respect the size
 * limits; then the read-consistency gate (reads) or leadership (writes).
 *
 * Epochs are compared exactly (confVer and version): a caller with any other epoch gets
 * EPOCH_NOT_MATCH with the descriptor this replica has, and refreshes its route.
 */
import { dataKey, inRange, keySlot, KvError, tableEnd, tableStart } from '@shoal/common';
import type { KeyRange, TableId } from '@shoal/common';
import { common } from '@shoal/proto';
import type { kv } from '@shoal/proto';
import type { ShardDescriptor } from '../raft/descriptor.js';
import { epochEquals } from '../raft/descriptor.js';
import type { Replica } from '../raft/replica.js';
import type { Scheduler } from '../raft/scheduler.js';
import type { NodeMetrics, ReadConsistencyName } from './metrics.js';

export interface TableLookup {
  table(tableId: number): { readonly tableId: number; readonly partition: 'hash' | 'range'; readonly defaultTtlMs: number } | undefined;
}

export interface KvLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly batchKeysMax: number;
  readonly scanLimitDefault: number;
  readonly scanLimitMax: number;
  readonly requestTimeoutMs: number;
}

export interface Routed {
  readonly r: Replica;
  readonly partition: 'hash' | 'range';
  readonly defaultTtlMs: number;
  readonly deadlineMs: number;
}

export class KvRouting {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly tables: TableLookup,
    private readonly limits: KvLimits,
    private readonly metrics: NodeMetrics | undefined,
  ) {}

  /** Finds the replica and checks the epoch. `callDeadlineMs`: the gRPC deadline, if any. */
  route(header: kv.RequestHeader | undefined, callDeadlineMs: number): Routed {
    if (header === undefined) throw invalid('header', 'request has no header');
    const r = this.scheduler.replica(header.shardId);
    if (r === undefined) throw new KvError('SHARD_NOT_FOUND', `shard ${header.shardId} has no replica on this node`);
    if (header.tableId !== r.descriptor.tableId || !epochEquals(header.epoch, r.descriptor.epoch)) {
      const e = r.descriptor.epoch ?? common.Epoch.create();
      const got = header.epoch ?? common.Epoch.create();
      throw new KvError('EPOCH_NOT_MATCH',
        `shard ${r.shardId} (table ${r.descriptor.tableId}) is at epoch ${e.confVer}/${e.version}, request has table ${header.tableId} epoch ${got.confVer}/${got.version}`,
        { details: { shard: r.descriptor } });
    }
    const table = this.tables.table(r.descriptor.tableId);
    if (table === undefined) throw new KvError('TABLE_NOT_FOUND', `table ${r.descriptor.tableId} is not known on this node`);
    const timeoutMs = header.timeoutMs > 0 ? header.timeoutMs : this.limits.requestTimeoutMs;
    const deadlineMs = Math.min(Date.now() + timeoutMs, callDeadlineMs);
    return { r, partition: table.partition, defaultTtlMs: table.defaultTtlMs, deadlineMs };
  }

  /** A key the request reads or writes: size limit, then shard membership. */
  checkKey(rt: Routed, key: Uint8Array, option = 'key'): void {
    this.checkKeySize(key, option);
    const d = rt.r.descriptor;
    const storageKey = dataKey(d.tableId as TableId, rt.partition === 'hash' ? keySlot(key) : null, key);
    if (!inRange(storageKey, shardRange(d))) {
      throw new KvError('KEY_NOT_IN_SHARD', `key does not belong to shard ${d.id}`, { details: { shard: d, option } });
    }
  }

  /** Range bounds (scan, delete-range) need not lie in the shard; only their size is checked. */
  checkKeySize(key: Uint8Array, option = 'key'): void {
    if (key.length > this.limits.keyBytesMax) {
      throw new KvError('KEY_TOO_LARGE', `${option} has ${key.length} bytes; keyBytesMax is ${this.limits.keyBytesMax}`, { details: { option } });
    }
  }

  checkValue(value: Uint8Array, option = 'value'): void {
    if (value.length > this.limits.valueBytesMax) {
      throw new KvError('VALUE_TOO_LARGE', `${option} has ${value.length} bytes; valueBytesMax is ${this.limits.valueBytesMax}`, { details: { option } });
    }
  }

  checkBatch(n: number, option: string): void {
    if (n > this.limits.batchKeysMax) {
      throw new KvError('INVALID_ARGUMENT', `${option} has ${n} items; batchKeysMax is ${this.limits.batchKeysMax}`, { details: { option } });
    }
  }

  scanLimit(limit: number): number {
    return limit === 0 ? this.limits.scanLimitDefault : Math.min(limit, this.limits.scanLimitMax);
  }

  /**
   * Waits until a read served from this replica's local state satisfies the requested
   * consistency (see Scheduler.readIndex and Replica.staleness).
   */
  async readGate(rt: Routed, header: kv.RequestHeader): Promise<void> {
    const { r } = rt;
    if (r.phase === 'installing') throw notReady(r, 'is installing a snapshot');
    switch (header.consistency) {
      case common.ReadConsistency.LINEARIZABLE:
        if (!r.isLeader) throw this.notLeader(r);
        await this.scheduler.readIndex(r, rt.deadlineMs, true);
        this.countRead('linearizable');
        return;
      case common.ReadConsistency.FOLLOWER:
        if (r.empty) throw notReady(r, 'has no data yet');
        await this.scheduler.readIndex(r, rt.deadlineMs, false);
        this.countRead('follower');
        return;
      case common.ReadConsistency.STALE:
        await this.staleGate(rt, header.maxStalenessMs);
        this.countRead('stale');
        return;
      default:
        throw invalid('header.consistency', `unknown read consistency ${String(header.consistency)}`);
    }
  }

  private async staleGate(rt: Routed, maxStalenessMs: number): Promise<void> {
    const { r } = rt;
    if (r.empty) throw notReady(r, 'has no data yet');
    if (maxStalenessMs === 0 || r.staleness(Date.now()) <= maxStalenessMs) return;
    // A sleeping or lagging replica: wake the group; its leader's heartbeat refreshes us.
    this.scheduler.wake(r, true);
    await this.scheduler.waitUntil(() => r.staleness(Date.now()) <= maxStalenessMs, rt.deadlineMs,
      () => new KvError('TIMEOUT', `replica ${r.peerId} of shard ${r.shardId} did not get within ${maxStalenessMs} ms of its leader in time`));
  }

  /** Writes go through the leader. */
  requireLeader(rt: Routed): void {
    if (!rt.r.isLeader) throw this.notLeader(rt.r);
  }

  /**
   * NOT_LEADER with the hint; also wakes the group (a sleeping follower may be asked
   * because the leader died: it must start counting towards an election).
   */
  notLeader(r: Replica): KvError {
    this.scheduler.wake(r, true);
    return r.notLeader();
  }

  private countRead(consistency: ReadConsistencyName): void {
    this.metrics?.reads.inc({ consistency });
  }
}

/** The storage-key range a descriptor owns; empty bounds are the table's. */
export function shardRange(d: ShardDescriptor): KeyRange {
  return {
    start: d.startKey.length === 0 ? tableStart(d.tableId as TableId) : d.startKey,
    end: d.endKey.length === 0 ? tableEnd(d.tableId as TableId) : d.endKey,
  };
}

function invalid(option: string, message: string): KvError {
  return new KvError('INVALID_ARGUMENT', message, { details: { option } });
}

function notReady(r: Replica, why: string): KvError {
  return new KvError('NOT_READY', `replica ${r.peerId} of shard ${r.shardId} ${why}`);
}
