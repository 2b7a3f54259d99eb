/**
 * Shard key ranges in storage-key space (DESIGN.md "Keyspace", common/README.md
 * "Storage-key layout"). A table owns `tableRange(t)`; its shards tile it:
 * - hash tables: shard i of N owns the slots [i·16384/N, (i+1)·16384/N), i.e. the keys
 *   [slotRangeStart(t, lo), slotRangeEnd(t, hi)); doubling halves every slot range;
 * - range tables: N split keys make N + 1 shards cut at `rangeShardBound(t, key)`, the
 *   first starting at `tableStart(t)` and the last ending at `tableEnd(t)`.
 */
import {
  assert, compareBytes, equalBytes, KvError, rangeShardBound, SLOT_COUNT, slotRangeEnd, slotRangeStart, tableEnd,
  tableStart,
} from '@shoal/common';
import type { TableId } from '@shoal/common';

export interface ShardRange {
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
}

/** A hash shard's slots `[lo, hi)`. */
export interface SlotBounds {
  readonly lo: number;
  readonly hi: number;
}

const TABLE_ID_BYTES = 4;
const SLOT_KEY_BYTES = TABLE_ID_BYTES + 2;

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** N contiguous equal slot ranges; N is a power of two ≤ 16384 (checked by the caller). */
export function hashShardRanges(table: TableId, count: number): ShardRange[] {
  assert(isPowerOfTwo(count) && count <= SLOT_COUNT, () => `hash shard count ${count} is not a power of two ≤ ${SLOT_COUNT}`);
  const width = SLOT_COUNT / count;
  const out: ShardRange[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ startKey: slotRangeStart(table, i * width), endKey: slotRangeEnd(table, (i + 1) * width) });
  }
  return out;
}

/** Checks range-table split keys: non-empty user keys in strictly increasing order. */
export function checkSplitKeys(keys: readonly Uint8Array[]): KvError | null {
  for (let i = 0; i < keys.length; i++) {
    if (keys[i]!.length === 0) return new KvError('INVALID_ARGUMENT', `split key ${i} is empty`, { details: { option: 'splitKeys' } });
    if (i > 0 && compareBytes(keys[i - 1]!, keys[i]!) >= 0) {
      return new KvError('INVALID_ARGUMENT', `split keys must be strictly increasing (key ${i})`, { details: { option: 'splitKeys' } });
    }
  }
  return null;
}

/** The N + 1 shards cut at N checked split keys (user keys). */
export function rangeShardRanges(table: TableId, splitKeys: readonly Uint8Array[]): ShardRange[] {
  const bounds = [tableStart(table), ...splitKeys.map((k) => rangeShardBound(table, k)), tableEnd(table)];
  const out: ShardRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push({ startKey: bounds[i]!, endKey: bounds[i + 1]! });
  return out;
}

/** The slot range of a hash shard's keys, or null if they are not slot bounds of `table`. */
export function slotBoundsOf(table: TableId, range: ShardRange): SlotBounds | null {
  const lo = startSlot(table, range.startKey);
  const hi = endSlot(table, range.endKey);
  return lo === null || hi === null || lo >= hi ? null : { lo, hi };
}

function startSlot(table: TableId, key: Uint8Array): number | null {
  if (equalBytes(key, tableStart(table))) return 0;
  return slotOfBound(table, key);
}

function endSlot(table: TableId, key: Uint8Array): number | null {
  if (equalBytes(key, tableEnd(table))) return SLOT_COUNT;
  return slotOfBound(table, key);
}

function slotOfBound(table: TableId, key: Uint8Array): number | null {
  if (key.length !== SLOT_KEY_BYTES || !equalBytes(key.subarray(0, TABLE_ID_BYTES), tableStart(table))) return null;
  const slot = (key[TABLE_ID_BYTES]! << 8) | key[TABLE_ID_BYTES + 1]!;
  return slot > 0 && slot < SLOT_COUNT ? slot : null;
}

/** The key halving a hash shard's slot range, or null if it owns a single slot. */
export function hashMiddleKey(table: TableId, range: ShardRange): Uint8Array | null {
  const slots = slotBoundsOf(table, range);
  if (slots === null || slots.hi - slots.lo < 2) return null;
  return slotRangeStart(table, slots.lo + Math.floor((slots.hi - slots.lo) / 2));
}

export function rangesOverlap(a: ShardRange, b: ShardRange): boolean {
  return compareBytes(a.startKey, b.endKey) < 0 && compareBytes(b.startKey, a.endKey) < 0;
}

/** True if `range` is non-empty and inside `tableRange(table)`. */
export function withinTable(table: TableId, range: ShardRange): boolean {
  return compareBytes(range.startKey, range.endKey) < 0
    && compareBytes(range.startKey, tableStart(table)) >= 0
    && compareBytes(range.endKey, tableEnd(table)) <= 0;
}

/** True if `key` lies strictly inside the range, so splitting there leaves two non-empty halves. */
export function strictlyInside(key: Uint8Array, range: ShardRange): boolean {
  return compareBytes(range.startKey, key) < 0 && compareBytes(key, range.endKey) < 0;
}

/** True if the ranges, sorted by start key, cover `tableRange(table)` without gaps or overlaps. */
export function tilesTable(table: TableId, ranges: readonly ShardRange[]): boolean {
  const sorted = [...ranges].sort((a, b) => compareBytes(a.startKey, b.startKey));
  let expected = tableStart(table);
  for (const r of sorted) {
    if (!equalBytes(r.startKey, expected) || compareBytes(r.startKey, r.endKey) >= 0) return false;
    expected = r.endKey;
  }
  return equalBytes(expected, tableEnd(table));
}
