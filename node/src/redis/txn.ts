/**
 * One command's transaction: typed reads of user keys through the ReadView (with the
 * command's own point writes visible to its later point reads), and the write batch it
 * builds. Commands read a collection's elements before they write that collection (range
 * reads do not see the batch's own writes).
 *
 * Versions: a new collection gets `max(nowMs·1024 + seq, highest version still present
 * under the key + 1)`. The second term makes versions never repeat for a key even when a
 * new leader's clock is behind the old one's: orphaned subkeys of an old version can never
 * come back to life. Both terms are decided here, on the leader; the batch carries the
 * result, so replicas never compute a version.
 */
import { assert, inRange, KeyKind } from '@shoal/common';
import type { KeyRange, VersionedKind } from '@shoal/common';
import {
  decodeDataValue, decodeMeta, encodeMeta, encodeString, isExpiredAt, readU64, RedisType,
} from './encoding.js';
import type { CollectionType, KeyCodec, Meta } from './encoding.js';
import { keyBytes, keyId } from './memory-view.js';
import { Err } from './reply.js';
import type { Reply } from './reply.js';
import type { ExecContext, RawWrite, ReadView } from './view.js';

/** A Redis error reply raised inside a command: the dispatcher answers it and drops the batch. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(reply.kind === 'error' ? reply.text : 'reply error');
  }
}

export function fail(reply: Reply): never {
  throw new ReplyError(reply);
}

/** Versions per millisecond before the sequence wraps (the max() with stored versions keeps them unique anyway). */
const VERSIONS_PER_MS = 1024;

/** The leader's source of collection versions; deterministic for a given sequence of calls. */
export class VersionAllocator {
  private seq = 0;

  next(nowMs: number): number {
    const v = nowMs * VERSIONS_PER_MS + (this.seq % VERSIONS_PER_MS);
    this.seq++;
    assert(Number.isSafeInteger(v), () => `version ${v} from stamp ${nowMs} is not a safe integer`);
    return v;
  }
}

export type KeyState =
  | { readonly kind: 'absent'; readonly physical: boolean }
  | { readonly kind: 'string'; readonly value: Uint8Array; readonly expireAtMs: number }
  | { readonly kind: 'collection'; readonly meta: Meta };

export interface SubScan {
  readonly kind?: VersionedKind;
  /** Sub bytes to start at (inclusive); default: the first. */
  readonly from?: Uint8Array;
  /** Sub bytes to stop before (exclusive); default: after the last. */
  readonly to?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export class Txn {
  readonly nowMs: number;
  private readonly out: RawWrite[] = [];
  private readonly lastWrite = new Map<string, number>();
  private lastRangeAt = -1;
  private readonly overlay = new Map<string, Uint8Array | null>();
  private readonly ranges: KeyRange[] = [];
  private bytes = 0;

  constructor(
    readonly view: ReadView, readonly codec: KeyCodec, readonly ctx: ExecContext, private readonly versions: VersionAllocator,
  ) {
    assert(Number.isSafeInteger(ctx.nowMs) && ctx.nowMs >= 0, () => `bad stamp ${ctx.nowMs}`);
    this.nowMs = ctx.nowMs;
  }

  // ----------------------------------------------------------------------------- reads

  async raw(storageKey: Uint8Array): Promise<Uint8Array | undefined> {
    const o = this.overlay.get(keyId(storageKey));
    if (o !== undefined) return o ?? undefined;
    for (const r of this.ranges) if (inRange(storageKey, r)) return undefined;
    return this.view.get(storageKey);
  }

  async lookup(userKey: Uint8Array): Promise<KeyState> {
    const raw = await this.raw(this.codec.dataKey(userKey));
    if (raw === undefined) return { kind: 'absent', physical: false };
    const v = decodeDataValue(raw);
    if (isExpiredAt(v.expireAtMs, this.nowMs)) return { kind: 'absent', physical: true };
    if (v.type === RedisType.String) return { kind: 'string', value: v.body, expireAtMs: v.expireAtMs };
    return { kind: 'collection', meta: decodeMeta(v) };
  }

  /** The live string under the key; WRONGTYPE if it holds a collection. */
  async readString(userKey: Uint8Array): Promise<{ value: Uint8Array; expireAtMs: number } | undefined> {
    const s = await this.lookup(userKey);
    if (s.kind === 'absent') return undefined;
    if (s.kind === 'collection') fail(Err.wrongType);
    return s;
  }

  /** The live collection of `type` under the key; WRONGTYPE if it holds anything else. */
  async readCollection(userKey: Uint8Array, type: CollectionType): Promise<Meta | undefined> {
    const s = await this.lookup(userKey);
    if (s.kind === 'absent') return undefined;
    if (s.kind === 'string' || s.meta.type !== type) fail(Err.wrongType);
    return s.meta;
  }

  async getSub(userKey: Uint8Array, meta: Meta, sub: Uint8Array, kind: VersionedKind = KeyKind.SubKey): Promise<Uint8Array | undefined> {
    return this.raw(this.codec.sub(userKey, meta.version, sub, kind));
  }

  /** The elements of one version in sub order: `[sub, value]`. */
  async *subs(userKey: Uint8Array, version: number, scan: SubScan = {}): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const kind = scan.kind ?? KeyKind.SubKey;
    const all = this.codec.subRange(userKey, version, kind);
    const range = {
      start: scan.from === undefined ? all.start : this.codec.sub(userKey, version, scan.from, kind),
      end: scan.to === undefined ? all.end : this.codec.sub(userKey, version, scan.to, kind),
    };
    const prefix = all.start.length;
    for await (const [k, v] of this.view.iterate(range, { reverse: scan.reverse ?? false, limit: scan.limit })) {
      yield [k.subarray(prefix), v] as const;
    }
  }

  async allSubs(userKey: Uint8Array, version: number, scan: SubScan = {}): Promise<(readonly [Uint8Array, Uint8Array])[]> {
    const out: (readonly [Uint8Array, Uint8Array])[] = [];
    for await (const e of this.subs(userKey, version, scan)) out.push(e);
    return out;
  }

  // ----------------------------------------------------------------------------- writes

  /** Expiry of a key this command creates without an explicit one: the table's default TTL. */
  get defaultExpireAtMs(): number {
    const ttl = this.ctx.defaultTtlMs ?? 0;
    return ttl > 0 ? this.nowMs + ttl : 0;
  }

  putString(userKey: Uint8Array, value: Uint8Array, expireAtMs: number): void {
    this.put(this.codec.dataKey(userKey), encodeString(value, expireAtMs));
  }

  putMeta(userKey: Uint8Array, meta: Meta): void {
    this.put(this.codec.dataKey(userKey), encodeMeta(meta));
  }

  /** Deletes the key's data entry: O(1) for collections; their subkeys become the sweeper's. */
  deleteKey(userKey: Uint8Array): void {
    this.del(this.codec.dataKey(userKey));
  }

  putSub(userKey: Uint8Array, version: number, sub: Uint8Array, value: Uint8Array, kind: VersionedKind = KeyKind.SubKey): void {
    this.put(this.codec.sub(userKey, version, sub, kind), value);
  }

  delSub(userKey: Uint8Array, version: number, sub: Uint8Array, kind: VersionedKind = KeyKind.SubKey): void {
    this.del(this.codec.sub(userKey, version, sub, kind));
  }

  /** Metadata of a new, empty collection with a fresh version. */
  async newMeta(userKey: Uint8Array, type: CollectionType, expireAtMs: number, head = 0): Promise<Meta> {
    const version = Math.max(this.versions.next(this.nowMs), (await this.highestStoredVersion(userKey)) + 1);
    return { type, expireAtMs, version, size: 0, head, tail: head };
  }

  private async highestStoredVersion(userKey: Uint8Array): Promise<number> {
    const prefix = this.codec.userKeyRange(userKey).start.length - 1;
    let highest = -1;
    for (const kind of [KeyKind.SubKey, KeyKind.SubIndex] as const) {
      for await (const [k] of this.view.iterate(this.codec.kindRange(userKey, kind), { reverse: true, limit: 1 })) {
        highest = Math.max(highest, readU64(k.subarray(prefix + 1, prefix + 9)));
      }
    }
    return highest;
  }

  put(storageKey: Uint8Array, value: Uint8Array): void {
    this.record(storageKey, { type: 'put', key: storageKey, value }, value);
  }

  del(storageKey: Uint8Array): void {
    this.record(storageKey, { type: 'delete', key: storageKey }, null);
  }

  deleteRange(range: KeyRange): void {
    this.out.push({ type: 'deleteRange', range });
    this.lastRangeAt = this.out.length - 1;
    this.ranges.push(range);
    for (const [id] of this.overlay) if (inRange(keyBytes(id), range)) this.overlay.set(id, null);
    this.bytes += range.start.length + range.end.length;
  }

  private record(storageKey: Uint8Array, w: RawWrite, value: Uint8Array | null): void {
    const id = keyId(storageKey);
    const at = this.lastWrite.get(id);
    // A later write of the same key replaces the earlier one unless a range delete lies between them.
    if (at !== undefined && at > this.lastRangeAt) {
      this.out[at] = w;
    } else {
      this.out.push(w);
      this.lastWrite.set(id, this.out.length - 1);
    }
    this.overlay.set(id, value);
    this.bytes += storageKey.length + (value?.length ?? 0);
  }

  get writeBytes(): number {
    return this.bytes;
  }

  writes(): readonly RawWrite[] {
    return this.out;
  }
}

