/**
 * One shard's storage keyspace: how its table maps user keys to storage keys, and the
 * range `[start, end)` the shard owns (common/README.md "Storage-key layout").
 *
 * Positions: a user key k stands for the bound just below every entry of k — for range
 * tables `rangeShardBound(t, k)`, for hash tables the start of k's entries in its slot. So
 * `[pos(a), pos(b))` holds exactly the keys from a up to but excluding b in the shard's
 * storage order: user-key order for range tables, (slot, key) order for hash tables.
 */
import {
  assert, compareBytes, dataKey, decodeStorageKey, inRange, keySlot, rangeShardBound, tableEnd, tableStart,
  userKeyRange,
} from '@shoal/common';
import type { KeyRange, PartitionScheme, TableId } from '@shoal/common';
import { common } from '@shoal/proto';
import { KvError } from '@shoal/common';
import type { TableInfo } from './types.js';

export class ShardKeyspace {
  readonly range: KeyRange;

  constructor(readonly tableId: number, readonly scheme: PartitionScheme, range: KeyRange) {
    assert(compareBytes(range.start, range.end) < 0, 'empty shard range');
    this.range = range;
  }

  static of(descriptor: common.ShardDescriptor, table: TableInfo): ShardKeyspace {
    return new ShardKeyspace(table.tableId, table.partition, descriptorRange(descriptor, table));
  }

  dataKey(userKey: Uint8Array): Uint8Array {
    return dataKey(this.tableId as TableId, this.scheme === 'hash' ? keySlot(userKey) : null, userKey);
  }

  contains(storageKey: Uint8Array): boolean {
    return inRange(storageKey, this.range);
  }

  position(userKey: Uint8Array): Uint8Array {
    if (this.scheme === 'range') return rangeShardBound(this.tableId as TableId, userKey);
    return userKeyRange(this.tableId as TableId, keySlot(userKey), userKey).start;
  }

  /** `[pos(start), pos(end))` ∩ the shard; empty bounds mean the shard's. Undefined if empty. */
  clamp(startUserKey: Uint8Array, endUserKey: Uint8Array): KeyRange | undefined {
    let start = this.range.start;
    let end = this.range.end;
    if (startUserKey.length > 0) {
      const p = this.position(startUserKey);
      if (compareBytes(p, start) > 0) start = p;
    }
    if (endUserKey.length > 0) {
      const p = this.position(endUserKey);
      if (compareBytes(p, end) < 0) end = p;
    }
    return compareBytes(start, end) < 0 ? { start, end } : undefined;
  }

  /** The user key of a data key; undefined for any other key in the range (sub-keys, TTL area). */
  userKeyOf(storageKey: Uint8Array): Uint8Array | undefined {
    const d = decodeStorageKey(storageKey, this.scheme);
    return d.type === 'data' ? d.userKey : undefined;
  }
}

/** The storage range a descriptor owns; empty bounds are the table's. Throws INVALID_ARGUMENT if malformed. */
export function descriptorRange(d: common.ShardDescriptor, table: TableInfo): KeyRange {
  if (d.tableId !== table.tableId) {
    throw new KvError('INVALID_ARGUMENT', `shard ${d.id} belongs to table ${d.tableId}, not ${table.tableId}`);
  }
  const tStart = tableStart(table.tableId as TableId);
  const tEnd = tableEnd(table.tableId as TableId);
  const start = d.startKey.length === 0 ? tStart : new Uint8Array(d.startKey);
  const end = d.endKey.length === 0 ? tEnd : new Uint8Array(d.endKey);
  if (compareBytes(start, tStart) < 0 || compareBytes(end, tEnd) > 0 || compareBytes(start, end) >= 0) {
    throw new KvError('INVALID_ARGUMENT', `shard ${d.id}: range is empty or outside table ${table.tableId}`);
  }
  const p = d.partition;
  if (p !== undefined && p !== common.Partition.UNSPECIFIED) {
    const scheme = p === common.Partition.HASH ? 'hash' : p === common.Partition.RANGE ? 'range' : undefined;
    if (scheme !== table.partition) {
      throw new KvError('INVALID_ARGUMENT', `shard ${d.id}: descriptor partition ${p} does not match table ${table.tableId} (${table.partition})`);
    }
  }
  return { start, end };
}

export function rangesOverlap(a: KeyRange, b: KeyRange): boolean {
  return compareBytes(a.start, b.end) < 0 && compareBytes(b.start, a.end) < 0;
}
