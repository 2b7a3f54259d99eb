/**
 * The storage-key layout of a node's single ordered keyspace (DESIGN.md "Keyspace"; the
 * byte diagrams and the reasons are in common/README.md). Every key written to a node's
 * classic-level DB is built here, so the invariants hold in one place:
 *
 *   key        := tableId:u32be body
 *   tableId 0           node-local internal keys   := 0x00000000 space:u8 …
 *   tableId 1..2^32-2   user tables                := tableId partition entry
 *   tableId 0xFFFFFFFF  end sentinel: a bound, never the prefix of a written key
 *   partition  := slot:u16be (hash tables) | ε (range tables)
 *   entry      := encodeBytes(userKey) kind:u8 …          one user key's entries
 *               | 00×8 00 area:u8 …                      a partition-wide area
 *
 * Invariants:
 * - a table's keys, a slot's keys and a range shard's keys are each one contiguous range,
 *   so a shard is `[start, end)` and a split moves no data;
 * - internal keys and partition areas can never equal or interleave with a user key's
 *   entries: tableId 0 is not a user table, and `00×8 00` is not a valid memcomparable
 *   encoding (a valid one has a marker ≥ 0xF7 as its ninth byte), yet it sorts before
 *   every valid one, so each area sits at the start of its partition;
 * - all entries of one user key are contiguous, ordered by kind, and for range tables
 *   user keys sort in user-key order.
 */
import { assert, assertNever } from './assert.js';
import { compareBytes } from './bytes.js';
import { SLOT_COUNT } from './crc16.js';
import { KvError } from './errors.js';
import { TABLE_ID_MAX, TABLE_ID_MIN } from './ids.js';
import type { ShardId, TableId } from './ids.js';
import { decodeBytes, encodedBytesLength, GROUP_BYTES, writeEncodedBytes } from './memcomparable.js';

/** A half-open key range `[start, end)`, compared byte-lexicographically. */
export interface KeyRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

/** How a table is partitioned; decides whether storage keys carry a slot. */
export type PartitionScheme = 'hash' | 'range';

/** The slot of a hash table's key, or null for a range table (no partition prefix). */
export type Partition = number | null;

/** The kind byte after a user key: which of the key's entries this is. */
export const KeyKind = {
  /** The key's value: a plain KV value, or a Redis-model key's metadata (type, version, size, expiry). */
  Data: 0x01,
  /** A Redis-model subkey (hash field, set member, list element…) under a metadata version. */
  SubKey: 0x02,
  /** A secondary per-key index under a metadata version (e.g. a sorted set's score order). */
  SubIndex: 0x03,
} as const;
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];
export type VersionedKind = typeof KeyKind.SubKey | typeof KeyKind.SubIndex;

/** The area byte of a partition-wide area (hash tables: one per slot). */
export const PartitionArea = {
  /** Expiry index: `expireAtMs:u64be encodeBytes(userKey)`, scanned by the TTL sweeper. */
  Ttl: 0x01,
} as const;
export type PartitionArea = (typeof PartitionArea)[keyof typeof PartitionArea];

/** The space byte after tableId 0. */
export const InternalSpace = {
  /** Node identity and node-wide state: `name bytes` (e.g. node id, cluster id, format version). */
  Node: 0x01,
  /** Per-shard replica state: `shardId:u64be field:u8 …`, see ShardLocalField. */
  Shard: 0x02,
  /** Value-log bookkeeping: `fileId:u32be …` (live bytes per file). */
  ValueLog: 0x03,
} as const;
export type InternalSpace = (typeof InternalSpace)[keyof typeof InternalSpace];

/** The field byte of a shard-local internal key. */
export const ShardLocalField = {
  /** The applied index (and term), written in the same batch as the data it covers. */
  AppliedState: 0x01,
  /** The shard descriptor: range, epoch, replicas. */
  Descriptor: 0x02,
  /** Raft hard state / conf state, for hosts that keep them in the engine. */
  RaftState: 0x03,
} as const;
export type ShardLocalField = (typeof ShardLocalField)[keyof typeof ShardLocalField];

const TABLE_ID_BYTES = 4;
const SLOT_BYTES = 2;
const KIND_BYTES = 1;
const U64_BYTES = 8;
/** The partition-area marker: eight zero bytes then an invalid memcomparable marker 0x00. */
const AREA_MARKER_BYTES = GROUP_BYTES + 1;
export const INTERNAL_TABLE_ID = 0;
export const END_SENTINEL_TABLE_ID = 0xffffffff;

/** `[00000000, 00000001)`: every node-local internal key. */
export const INTERNAL_RANGE: KeyRange = { start: u32(INTERNAL_TABLE_ID), end: u32(INTERNAL_TABLE_ID + 1) };
/** `[00000001, FFFFFFFF)`: every user table's keys. */
export const USER_RANGE: KeyRange = { start: u32(TABLE_ID_MIN), end: u32(END_SENTINEL_TABLE_ID) };

function u32(n: number): Uint8Array {
  const out = new Uint8Array(TABLE_ID_BYTES);
  writeU32(out, 0, n);
  return out;
}

function writeU32(out: Uint8Array, o: number, n: number): void {
  out[o] = n >>> 24;
  out[o + 1] = (n >>> 16) & 0xff;
  out[o + 2] = (n >>> 8) & 0xff;
  out[o + 3] = n & 0xff;
}

function writeU64(out: Uint8Array, o: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, () => `u64 field must be a non-negative safe integer, got ${n}`);
  writeU32(out, o, Math.floor(n / 0x1_0000_0000));
  writeU32(out, o + 4, n >>> 0);
}

function readU32(buf: Uint8Array, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

function readU64(buf: Uint8Array, o: number): number {
  const n = readU32(buf, o) * 0x1_0000_0000 + readU32(buf, o + 4);
  if (!Number.isSafeInteger(n)) throw new KvError('CORRUPTION', `u64 field above 2^53 at offset ${o}`);
  return n;
}

function checkTable(table: TableId): void {
  assert(Number.isInteger(table) && table >= TABLE_ID_MIN && table <= TABLE_ID_MAX, () => `not a user table id: ${table}`);
}

function checkPartition(partition: Partition): void {
  assert(partition === null || (Number.isInteger(partition) && partition >= 0 && partition < SLOT_COUNT),
    () => `not a slot: ${String(partition)}`);
}

function partitionBytes(partition: Partition): number {
  return partition === null ? 0 : SLOT_BYTES;
}

/** Writes `tableId partition` and returns the offset after it. */
function writeTablePartition(out: Uint8Array, table: TableId, partition: Partition): number {
  checkTable(table);
  checkPartition(partition);
  writeU32(out, 0, table);
  if (partition === null) return TABLE_ID_BYTES;
  out[TABLE_ID_BYTES] = partition >>> 8;
  out[TABLE_ID_BYTES + 1] = partition & 0xff;
  return TABLE_ID_BYTES + SLOT_BYTES;
}

// ---------------------------------------------------------------------------------------
// Bounds: tables, hash shards (slot ranges), range shards.

export function tableStart(table: TableId): Uint8Array {
  checkTable(table);
  return u32(table);
}

/** `tableId + 1` as 4 bytes; for the last user table that is the end sentinel FFFFFFFF. */
export function tableEnd(table: TableId): Uint8Array {
  checkTable(table);
  return u32(table + 1);
}

export function tableRange(table: TableId): KeyRange {
  return { start: tableStart(table), end: tableEnd(table) };
}

/**
 * Start bound of a hash shard owning slots `[slotLo, …)`. Slot 0 starts at the table
 * start, so a hash table's shards tile `tableRange` exactly.
 */
export function slotRangeStart(table: TableId, slotLo: number): Uint8Array {
  assert(Number.isInteger(slotLo) && slotLo >= 0 && slotLo < SLOT_COUNT, () => `bad slotLo ${slotLo}`);
  if (slotLo === 0) return tableStart(table);
  const out = new Uint8Array(TABLE_ID_BYTES + SLOT_BYTES);
  writeTablePartition(out, table, slotLo);
  return out;
}

/** End bound of a hash shard owning slots `[…, slotHi)` (exclusive). Slot 16384 ends at the table end. */
export function slotRangeEnd(table: TableId, slotHi: number): Uint8Array {
  assert(Number.isInteger(slotHi) && slotHi > 0 && slotHi <= SLOT_COUNT, () => `bad slotHi ${slotHi}`);
  if (slotHi === SLOT_COUNT) return tableEnd(table);
  const out = new Uint8Array(TABLE_ID_BYTES + SLOT_BYTES);
  writeTablePartition(out, table, slotHi);
  return out;
}

/** The storage-key range of the hash slots `[slotLo, slotHi)` of a table. */
export function slotRange(table: TableId, slotLo: number, slotHi: number): KeyRange {
  assert(slotLo < slotHi, () => `empty slot range [${slotLo}, ${slotHi})`);
  return { start: slotRangeStart(table, slotLo), end: slotRangeEnd(table, slotHi) };
}

/**
 * The bound that splits a range table before `userKey`: every entry of every user key
 * < userKey sorts below it, every entry of userKey and above sorts at or above it. A range
 * table's first shard starts at `tableStart` and its last ends at `tableEnd` (not at a
 * bound of the empty key: the partition areas sit before it).
 */
export function rangeShardBound(table: TableId, userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(TABLE_ID_BYTES + encodedBytesLength(userKey.length));
  writeEncodedBytes(out, writeTablePartition(out, table, null), userKey);
  return out;
}

export function inRange(key: Uint8Array, range: KeyRange): boolean {
  return compareBytes(key, range.start) >= 0 && compareBytes(key, range.end) < 0;
}

/**
 * The range of all keys starting with `prefix`: `[prefix, successor)`, where successor is
 * the prefix with trailing 0xFF bytes dropped and the last byte incremented. Asserts the
 * prefix is not all 0xFF (no key built here has such a prefix).
 */
export function prefixRange(prefix: Uint8Array): KeyRange {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  assert(n > 0, 'prefixRange: prefix has no finite successor');
  const end = prefix.slice(0, n);
  end[n - 1]! += 1;
  return { start: prefix, end };
}

// ---------------------------------------------------------------------------------------
// One user key's entries.

/** Length of `tableId partition encodeBytes(userKey)`. */
function userKeyPrefixLength(partition: Partition, userKey: Uint8Array): number {
  return TABLE_ID_BYTES + partitionBytes(partition) + encodedBytesLength(userKey.length);
}

function writeUserKeyPrefix(out: Uint8Array, table: TableId, partition: Partition, userKey: Uint8Array): number {
  return writeEncodedBytes(out, writeTablePartition(out, table, partition), userKey);
}

/** The key holding a user key's value (or Redis metadata): `tableId partition enc(userKey) 01`. */
export function dataKey(table: TableId, partition: Partition, userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(userKeyPrefixLength(partition, userKey) + KIND_BYTES);
  out[writeUserKeyPrefix(out, table, partition, userKey)] = KeyKind.Data;
  return out;
}

/** All entries of one user key (data, subkeys, sub-indexes): `[prefix 00, prefix FF)`. */
export function userKeyRange(table: TableId, partition: Partition, userKey: Uint8Array): KeyRange {
  const n = userKeyPrefixLength(partition, userKey);
  const start = new Uint8Array(n + KIND_BYTES);
  writeUserKeyPrefix(start, table, partition, userKey);
  const end = start.slice();
  end[n] = 0xff;
  return { start, end };
}

/**
 * A Redis-model subkey: `tableId partition enc(userKey) kind version:u64be sub`. `sub` is
 * last, so its layout (raw field bytes, score‖member…) belongs to the data type; `version`
 * is the metadata version the subkey belongs to, so bumping it orphans old subkeys at once.
 */
export function subKey(
  table: TableId, partition: Partition, userKey: Uint8Array, version: number, sub: Uint8Array,
  kind: VersionedKind = KeyKind.SubKey,
): Uint8Array {
  const n = userKeyPrefixLength(partition, userKey) + KIND_BYTES + U64_BYTES;
  const out = new Uint8Array(n + sub.length);
  writeVersionedPrefix(out, table, partition, userKey, version, kind);
  out.set(sub, n);
  return out;
}

/** Every subkey (or sub-index entry) of one user key under one version. */
export function subKeyRange(
  table: TableId, partition: Partition, userKey: Uint8Array, version: number,
  kind: VersionedKind = KeyKind.SubKey,
): KeyRange {
  const out = new Uint8Array(userKeyPrefixLength(partition, userKey) + KIND_BYTES + U64_BYTES);
  writeVersionedPrefix(out, table, partition, userKey, version, kind);
  return prefixRange(out);
}

function writeVersionedPrefix(
  out: Uint8Array, table: TableId, partition: Partition, userKey: Uint8Array, version: number, kind: VersionedKind,
): void {
  assert(kind === KeyKind.SubKey || kind === KeyKind.SubIndex, () => `not a versioned kind: ${kind}`);
  const o = writeUserKeyPrefix(out, table, partition, userKey);
  out[o] = kind;
  writeU64(out, o + KIND_BYTES, version);
}

// ---------------------------------------------------------------------------------------
// Partition areas (hash tables: per slot).

function writeAreaPrefix(out: Uint8Array, table: TableId, slot: number, area: PartitionArea): number {
  // Range tables have one partition, owned by their first shard only, so a per-shard index
  // there would not move with splits. Areas are therefore per slot, on hash tables.
  assert(slot !== null, 'partition areas exist on hash tables only');
  const o = writeTablePartition(out, table, slot);
  out.fill(0, o, o + AREA_MARKER_BYTES);
  out[o + AREA_MARKER_BYTES] = area;
  return o + AREA_MARKER_BYTES + 1;
}

const AREA_PREFIX_LENGTH = TABLE_ID_BYTES + SLOT_BYTES + AREA_MARKER_BYTES + 1;

/** A TTL index entry: `tableId slot 00×8 00 01 expireAtMs:u64be enc(userKey)`. */
export function ttlIndexKey(table: TableId, slot: number, expireAtMs: number, userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(AREA_PREFIX_LENGTH + U64_BYTES + encodedBytesLength(userKey.length));
  const o = writeAreaPrefix(out, table, slot, PartitionArea.Ttl);
  writeU64(out, o, expireAtMs);
  writeEncodedBytes(out, o + U64_BYTES, userKey);
  return out;
}

/** TTL index entries of one slot expiring before `expireBeforeMs` (all of them if omitted). */
export function ttlIndexRange(table: TableId, slot: number, expireBeforeMs?: number): KeyRange {
  const prefix = new Uint8Array(AREA_PREFIX_LENGTH);
  writeAreaPrefix(prefix, table, slot, PartitionArea.Ttl);
  if (expireBeforeMs === undefined) return prefixRange(prefix);
  const end = new Uint8Array(AREA_PREFIX_LENGTH + U64_BYTES);
  end.set(prefix);
  writeU64(end, AREA_PREFIX_LENGTH, expireBeforeMs);
  return { start: prefix, end };
}

// ---------------------------------------------------------------------------------------
// Node-local internal keys (tableId 0).

/** `00000000 space parts…` — parts are concatenated as given (the caller owns their layout). */
export function internalKey(space: InternalSpace, ...parts: Uint8Array[]): Uint8Array {
  let n = TABLE_ID_BYTES + 1;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  out[TABLE_ID_BYTES] = space;
  let o = TABLE_ID_BYTES + 1;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function internalSpaceRange(space: InternalSpace): KeyRange {
  return prefixRange(internalKey(space));
}

/** `00000000 02 shardId:u64be field rest` — one shard replica's local state. */
export function shardLocalKey(shard: ShardId, field: ShardLocalField, rest?: Uint8Array): Uint8Array {
  const head = new Uint8Array(U64_BYTES + 1);
  writeU64(head, 0, shard);
  head[U64_BYTES] = field;
  return rest === undefined ? internalKey(InternalSpace.Shard, head) : internalKey(InternalSpace.Shard, head, rest);
}

/** Every local-state key of one shard replica: deleted in one range delete when the replica goes. */
export function shardLocalRange(shard: ShardId): KeyRange {
  const id = new Uint8Array(U64_BYTES);
  writeU64(id, 0, shard);
  return prefixRange(internalKey(InternalSpace.Shard, id));
}

// ---------------------------------------------------------------------------------------
// Decoding.

export type DecodedKey =
  | { readonly type: 'internal'; readonly space: number; readonly rest: Uint8Array }
  | { readonly type: 'data'; readonly table: TableId; readonly partition: Partition; readonly userKey: Uint8Array }
  | {
    readonly type: 'subkey' | 'subindex'; readonly table: TableId; readonly partition: Partition;
    readonly userKey: Uint8Array; readonly version: number; readonly sub: Uint8Array;
  }
  | {
    readonly type: 'ttl'; readonly table: TableId; readonly partition: number;
    readonly expireAtMs: number; readonly userKey: Uint8Array;
  };

function corrupt(key: Uint8Array, why: string): KvError {
  return new KvError('CORRUPTION', `malformed storage key (${why}), length ${key.length}`);
}

/**
 * Decodes any storage key. The scheme of the key's table must be given: the bytes alone do
 * not say whether a slot follows the table id. Throws `KvError('CORRUPTION')` on bytes no
 * function here produces.
 */
export function decodeStorageKey(key: Uint8Array, scheme: PartitionScheme): DecodedKey {
  if (key.length < TABLE_ID_BYTES + 1) throw corrupt(key, 'too short');
  const table = readU32(key, 0);
  if (table === INTERNAL_TABLE_ID) return { type: 'internal', space: key[TABLE_ID_BYTES]!, rest: key.subarray(TABLE_ID_BYTES + 1) };
  if (table === END_SENTINEL_TABLE_ID) throw corrupt(key, 'end sentinel table id');
  let o = TABLE_ID_BYTES;
  let partition: Partition = null;
  if (scheme === 'hash') {
    if (key.length < o + SLOT_BYTES) throw corrupt(key, 'no slot');
    partition = (key[o]! << 8) | key[o + 1]!;
    if (partition >= SLOT_COUNT) throw corrupt(key, 'slot out of range');
    o += SLOT_BYTES;
  }
  if (isAreaMarker(key, o)) {
    if (partition === null) throw corrupt(key, 'partition area on a range table');
    return decodeAreaKey(key, table as TableId, partition, o + AREA_MARKER_BYTES);
  }
  const { value: userKey, next } = decodeBytes(key, o);
  return decodeEntry(key, table as TableId, partition, userKey, next);
}

function isAreaMarker(key: Uint8Array, o: number): boolean {
  if (key.length < o + AREA_MARKER_BYTES) return false;
  for (let i = o; i < o + AREA_MARKER_BYTES; i++) if (key[i] !== 0) return false;
  return true;
}

function decodeEntry(key: Uint8Array, table: TableId, partition: Partition, userKey: Uint8Array, o: number): DecodedKey {
  if (o >= key.length) throw corrupt(key, 'no kind byte');
  const kind = key[o]! as KeyKind;
  switch (kind) {
    case KeyKind.Data:
      if (o + KIND_BYTES !== key.length) throw corrupt(key, 'bytes after a data key');
      return { type: 'data', table, partition, userKey };
    case KeyKind.SubKey:
    case KeyKind.SubIndex: {
      if (o + KIND_BYTES + U64_BYTES > key.length) throw corrupt(key, 'truncated version');
      const version = readU64(key, o + KIND_BYTES);
      const sub = key.slice(o + KIND_BYTES + U64_BYTES);
      return { type: kind === KeyKind.SubKey ? 'subkey' : 'subindex', table, partition, userKey, version, sub };
    }
    default:
      // Not assertNever: `kind` is a byte read from disk, and an unknown one is corruption.
      throw corrupt(key, `unknown kind byte ${String(kind)}`);
  }
}

function decodeAreaKey(key: Uint8Array, table: TableId, partition: number, o: number): DecodedKey {
  if (o >= key.length) throw corrupt(key, 'no area byte');
  const area = key[o]! as PartitionArea;
  switch (area) {
    case PartitionArea.Ttl: {
      if (o + 1 + U64_BYTES > key.length) throw corrupt(key, 'truncated expiry');
      const expireAtMs = readU64(key, o + 1);
      const { value: userKey, next } = decodeBytes(key, o + 1 + U64_BYTES);
      if (next !== key.length) throw corrupt(key, 'bytes after a TTL index key');
      return { type: 'ttl', table, partition, expireAtMs, userKey };
    }
    default:
      throw corrupt(key, `unknown area byte ${String(area)}`);
  }
}

/** Decodes a data key; throws `KvError('CORRUPTION')` if `key` is any other kind of key. */
export function decodeDataKey(key: Uint8Array, scheme: PartitionScheme): { table: TableId; partition: Partition; userKey: Uint8Array } {
  const d = decodeStorageKey(key, scheme);
  switch (d.type) {
    case 'data':
      return { table: d.table, partition: d.partition, userKey: d.userKey };
    case 'internal':
    case 'subkey':
    case 'subindex':
    case 'ttl':
      throw corrupt(key, `expected a data key, found a ${d.type} key`);
    default:
      return assertNever(d, 'decoded key');
  }
}
