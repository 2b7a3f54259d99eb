/**
 * How the Redis data model lies in a shard's storage keys (Kvrocks-style, over common's
 * layout; README "Encoding" has the diagrams).
 *
 *   data key  (kind 0x01)  a stored value (engine stored-value.ts):
 *                          header = redisType << 4 | 0x1 (inline) | expireAtMs u64be | body
 *     string   type 0      body = the value: a Redis string IS a plain KV value
 *     hash/list/set/zset   body = format u8 (1) | version u64be | size u64be [| head u64be | tail u64be]
 *   subkey    (kind 0x02)  version u64be | sub
 *     hash  sub = field          value = field value
 *     set   sub = member         value = empty
 *     zset  sub = member         value = score (float64be, as given)
 *     list  sub = index u64be    value = element; elements are [head, tail)
 *   sub-index (kind 0x03)  version u64be | sub
 *     zset  sub = orderedScore(8) | member, value = empty
 *
 * A subkey counts only if its version equals the live metadata's; everything else is
 * garbage for the sweeper (sweeper.ts). Versions are never reused for a key (txn.ts).
 */
import {
  dataKey, decodeStorageKey, inRange, KeyKind, keySlot, KvError, subKey, subKeyRange, userKeyRange,
} from '@shoal/common';
import type { DecodedKey, KeyRange, Partition, TableId, VersionedKind } from '@shoal/common';
import { decodeStoredValue, encodeInline } from '../engine/index.js';

export const RedisType = { String: 0, Hash: 1, List: 2, Set: 3, ZSet: 4 } as const;
export type RedisType = (typeof RedisType)[keyof typeof RedisType];
export type CollectionType = Exclude<RedisType, typeof RedisType.String>;

export const TYPE_NAMES: Readonly<Record<RedisType, string>> = { 0: 'string', 1: 'hash', 2: 'list', 3: 'set', 4: 'zset' };

/** What the executor knows about the shard it runs on. */
export interface ShardInfo {
  readonly tableId: number;
  readonly partition: 'hash' | 'range';
  /** The shard's storage range `[start, end)` (engine ShardKeyspace.range). */
  readonly range: KeyRange;
}

const META_FORMAT = 1;
const META_BODY_BYTES = 1 + 8 + 8;
const LIST_META_BODY_BYTES = META_BODY_BYTES + 16;
/** First index of a new list: the middle of the safe-integer range, so both ends can grow. */
export const LIST_INDEX_START = 2 ** 52;
export const LIST_INDEX_MAX = Number.MAX_SAFE_INTEGER;

export interface Meta {
  readonly type: CollectionType;
  readonly expireAtMs: number;
  readonly version: number;
  readonly size: number;
  /** Lists: the first element's index and one past the last; 0 for other types. */
  readonly head: number;
  readonly tail: number;
}

/** A decoded data-key value. */
export interface DataValue {
  readonly type: RedisType;
  readonly expireAtMs: number;
  readonly body: Uint8Array;
}

export function isExpiredAt(expireAtMs: number, nowMs: number): boolean {
  return expireAtMs !== 0 && expireAtMs <= nowMs;
}

/** Decodes a data key's stored value as a ReadView returns it (inline form). */
export function decodeDataValue(raw: Uint8Array): DataValue {
  const v = decodeStoredValue(raw);
  if (v.storage !== 'inline') throw new KvError('INTERNAL', 'ReadView returned a value-log pointer; views must resolve data values');
  if (v.type > RedisType.ZSet) throw new KvError('CORRUPTION', `unknown Redis value type ${v.type}`);
  return { type: v.type as RedisType, expireAtMs: v.expireAtUnixMs, body: v.value };
}

export function encodeString(value: Uint8Array, expireAtMs: number): Uint8Array {
  return encodeInline(expireAtMs, value, RedisType.String);
}

export function encodeMeta(m: Meta): Uint8Array {
  const isList = m.type === RedisType.List;
  const body = new Uint8Array(isList ? LIST_META_BODY_BYTES : META_BODY_BYTES);
  const dv = new DataView(body.buffer);
  body[0] = META_FORMAT;
  setU64(dv, 1, m.version);
  setU64(dv, 9, m.size);
  if (isList) {
    setU64(dv, 17, m.head);
    setU64(dv, 25, m.tail);
  }
  return encodeInline(m.expireAtMs, body, m.type);
}

export function decodeMeta(v: DataValue): Meta {
  if (v.type === RedisType.String) throw new KvError('INTERNAL', 'decodeMeta on a string');
  const isList = v.type === RedisType.List;
  const b = v.body;
  if (b.length !== (isList ? LIST_META_BODY_BYTES : META_BODY_BYTES) || b[0] !== META_FORMAT) {
    throw new KvError('CORRUPTION', `Redis metadata of ${b.length} bytes, format ${String(b[0])}`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    type: v.type, expireAtMs: v.expireAtMs, version: getU64(dv, 1), size: getU64(dv, 9),
    head: isList ? getU64(dv, 17) : 0, tail: isList ? getU64(dv, 25) : 0,
  };
}

function setU64(dv: DataView, o: number, n: number): void {
  dv.setUint32(o, Math.floor(n / 0x1_0000_0000));
  dv.setUint32(o + 4, n >>> 0);
}

function getU64(dv: DataView, o: number): number {
  const n = dv.getUint32(o) * 0x1_0000_0000 + dv.getUint32(o + 4);
  if (!Number.isSafeInteger(n)) throw new KvError('CORRUPTION', 'Redis metadata field above 2^53');
  return n;
}

export function u64Bytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  setU64(new DataView(out.buffer), 0, n);
  return out;
}

export function readU64(b: Uint8Array): number {
  if (b.length !== 8) throw new KvError('CORRUPTION', `expected 8 bytes, found ${b.length}`);
  return getU64(new DataView(b.buffer, b.byteOffset, 8), 0);
}

// ------------------------------------------------------------------------- zset scores

/** float64 big-endian with the sign bit flipped (positives) or all bits flipped (negatives): byte order = numeric order. -0 sorts as 0. */
export function encodeScoreOrdered(score: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, score === 0 ? 0 : score);
  if ((out[0]! & 0x80) !== 0) for (let i = 0; i < 8; i++) out[i] = ~out[i]! & 0xff;
  else out[0] = out[0]! ^ 0x80;
  return out;
}

export function decodeScoreOrdered(b: Uint8Array, o = 0): number {
  if (b.length < o + 8) throw new KvError('CORRUPTION', 'truncated zset score');
  // A copy: `b` may be a Buffer, whose slice() is a view into a shared pool.
  const buf = new Uint8Array(8);
  buf.set(b.subarray(o, o + 8));
  if ((buf[0]! & 0x80) !== 0) buf[0] = buf[0]! ^ 0x80;
  else for (let i = 0; i < 8; i++) buf[i] = ~buf[i]! & 0xff;
  return new DataView(buf.buffer).getFloat64(0);
}

export function encodeScoreValue(score: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, score);
  return out;
}

export function decodeScoreValue(b: Uint8Array): number {
  if (b.length !== 8) throw new KvError('CORRUPTION', `zset score of ${b.length} bytes`);
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0);
}

/** The sub-index entry of a zset member: orderedScore | member. */
export function scoreIndexSub(score: number, member: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + member.length);
  out.set(encodeScoreOrdered(score));
  out.set(member, 8);
  return out;
}

// ------------------------------------------------------------------------- keys

/** Storage keys of one shard's Redis keys. */
export class KeyCodec {
  private readonly table: TableId;

  constructor(readonly shard: ShardInfo) {
    this.table = shard.tableId as TableId;
  }

  partition(userKey: Uint8Array): Partition {
    return this.shard.partition === 'hash' ? keySlot(userKey) : null;
  }

  dataKey(userKey: Uint8Array): Uint8Array {
    return dataKey(this.table, this.partition(userKey), userKey);
  }

  sub(userKey: Uint8Array, version: number, sub: Uint8Array, kind: VersionedKind = KeyKind.SubKey): Uint8Array {
    return subKey(this.table, this.partition(userKey), userKey, version, sub, kind);
  }

  /** Every entry of one version and kind. */
  subRange(userKey: Uint8Array, version: number, kind: VersionedKind = KeyKind.SubKey): KeyRange {
    return subKeyRange(this.table, this.partition(userKey), userKey, version, kind);
  }

  /** Entries of one version and kind whose sub starts at `from` (inclusive) up to `to` (exclusive, or the version's end). */
  subSpan(userKey: Uint8Array, version: number, from: Uint8Array, to: Uint8Array | undefined, kind: VersionedKind = KeyKind.SubKey): KeyRange {
    return { start: this.sub(userKey, version, from, kind), end: to === undefined ? this.subRange(userKey, version, kind).end : this.sub(userKey, version, to, kind) };
  }

  /** Every entry of one kind, all versions: `prefix kind .. prefix kind+1`. */
  kindRange(userKey: Uint8Array, kind: VersionedKind): KeyRange {
    const all = userKeyRange(this.table, this.partition(userKey), userKey);
    const start = all.start.slice();
    const end = all.start.slice();
    start[start.length - 1] = kind;
    end[end.length - 1] = kind + 1;
    return { start, end };
  }

  userKeyRange(userKey: Uint8Array): KeyRange {
    return userKeyRange(this.table, this.partition(userKey), userKey);
  }

  decode(storageKey: Uint8Array): DecodedKey {
    return decodeStorageKey(storageKey, this.shard.partition);
  }

  contains(storageKey: Uint8Array): boolean {
    return inRange(storageKey, this.shard.range);
  }

  /** The sub bytes of a subkey built by `sub(userKey, version, …, kind)`. */
  subOf(storageKey: Uint8Array, userKey: Uint8Array, version: number, kind: VersionedKind = KeyKind.SubKey): Uint8Array {
    const prefix = this.subRange(userKey, version, kind).start.length;
    return storageKey.subarray(prefix);
  }
}
