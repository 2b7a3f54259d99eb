/**
 * Test support: the data of a fake cluster, one sorted map per table keyed by storage data
 * key, with the Kv service's semantics (TTL, conditions, CAS, INCR, paged scans with
 * `next_key`, range deletes) as kv.proto and the storage node define them. All replicas
 * of the fake cluster share it: the fakes test routing, not replication.
 */
import { compareBytes, dataKey, keySlot, rangeShardBound, tableEnd, tableStart, toHex, userKeyRange } from '@shoal/common';
import type { KeyRange, TableId } from '@shoal/common';
import { KvError } from '@shoal/common';
import { kv } from '@shoal/proto';

export type Scheme = 'hash' | 'range';

interface Entry {
  readonly key: Uint8Array;
  readonly storageKey: Uint8Array;
  readonly value: Uint8Array;
  readonly expireAtUnixMs: number;
}

const EMPTY = new Uint8Array(0);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export class FakeStore {
  private readonly tables = new Map<number, Map<string, Entry>>();

  constructor(private readonly schemeOf: (tableId: number) => Scheme) {}

  dataKey(tableId: number, key: Uint8Array): Uint8Array {
    return dataKey(tableId as TableId, this.schemeOf(tableId) === 'hash' ? keySlot(key) : null, key);
  }

  /** A scan bound's position, as the node computes it (node/src/engine/keyspace.ts). */
  position(tableId: number, key: Uint8Array): Uint8Array {
    if (this.schemeOf(tableId) === 'range') return rangeShardBound(tableId as TableId, key);
    return userKeyRange(tableId as TableId, keySlot(key), key).start;
  }

  private map(tableId: number): Map<string, Entry> {
    let m = this.tables.get(tableId);
    if (m === undefined) this.tables.set(tableId, m = new Map());
    return m;
  }

  getEntry(tableId: number, key: Uint8Array): Entry | undefined {
    const e = this.map(tableId).get(toHex(this.dataKey(tableId, key)));
    if (e === undefined || (e.expireAtUnixMs !== 0 && e.expireAtUnixMs <= Date.now())) return undefined;
    return e;
  }

  set(tableId: number, key: Uint8Array, value: Uint8Array, ttlMs: number | undefined): void {
    const storageKey = this.dataKey(tableId, key);
    const expireAtUnixMs = ttlMs === undefined || ttlMs === 0 ? 0 : Date.now() + ttlMs;
    this.map(tableId).set(toHex(storageKey), { key: key.slice(), storageKey, value: value.slice(), expireAtUnixMs });
  }

  del(tableId: number, key: Uint8Array): boolean {
    const existed = this.getEntry(tableId, key) !== undefined;
    this.map(tableId).delete(toHex(this.dataKey(tableId, key)));
    return existed;
  }

  /** Live entries in `range`, in storage order. */
  entries(tableId: number, range: KeyRange): Entry[] {
    const now = Date.now();
    return [...this.map(tableId).values()]
      .filter((e) => compareBytes(e.storageKey, range.start) >= 0 && compareBytes(e.storageKey, range.end) < 0)
      .filter((e) => e.expireAtUnixMs === 0 || e.expireAtUnixMs > now)
      .sort((a, b) => compareBytes(a.storageKey, b.storageKey));
  }

  /** `[position(start), position(end)) ∩ shard`, empty bounds meaning the shard's. */
  clamp(tableId: number, shard: KeyRange, start: Uint8Array, end: Uint8Array): KeyRange {
    let s = shard.start;
    let e = shard.end;
    if (start.length > 0 && compareBytes(this.position(tableId, start), s) > 0) s = this.position(tableId, start);
    if (end.length > 0 && compareBytes(this.position(tableId, end), e) < 0) e = this.position(tableId, end);
    return { start: s, end: e };
  }

  put(tableId: number, req: kv.PutRequest): kv.PutResponse {
    const prev = this.getEntry(tableId, req.key);
    const ok = req.condition === kv.PutCondition.IF_ABSENT ? prev === undefined
      : req.condition === kv.PutCondition.IF_PRESENT ? prev !== undefined : true;
    if (ok) this.set(tableId, req.key, req.value, req.ttlMs);
    return kv.PutResponse.create({
      applied: ok, previousFound: req.returnPrevious && prev !== undefined, previousValue: req.returnPrevious ? prev?.value ?? EMPTY : EMPTY,
    });
  }

  cas(tableId: number, req: kv.CompareAndSwapRequest): kv.CompareAndSwapResponse {
    const cur = this.getEntry(tableId, req.key);
    const match = req.expectAbsent ? cur === undefined : cur !== undefined && compareBytes(cur.value, req.expectedValue) === 0;
    if (!match) return kv.CompareAndSwapResponse.create({ swapped: false, currentFound: cur !== undefined, currentValue: cur?.value ?? EMPTY });
    if (req.delete) this.del(tableId, req.key);
    else this.set(tableId, req.key, req.newValue, req.ttlMs);
    return kv.CompareAndSwapResponse.create({ swapped: true });
  }

  incr(tableId: number, req: kv.IncrRequest): kv.IncrResponse {
    const cur = this.getEntry(tableId, req.key);
    const text = cur === undefined ? '0' : new TextDecoder().decode(cur.value);
    if (!/^-?\d{1,19}$/.test(text)) throw new KvError('INVALID_ARGUMENT', 'value is not an integer');
    const next = BigInt(text) + req.delta;
    if (next < INT64_MIN || next > INT64_MAX) throw new KvError('OVERFLOW', 'increment would overflow');
    const ttl = cur === undefined ? req.ttlMs : cur.expireAtUnixMs === 0 ? 0 : cur.expireAtUnixMs - Date.now();
    this.set(tableId, req.key, new TextEncoder().encode(next.toString()), ttl);
    return kv.IncrResponse.create({ value: next });
  }

  /** One scan page, with the node's `more` / `next_key` rules. */
  scan(tableId: number, shard: KeyRange, req: kv.ScanRequest): kv.ScanResponse {
    const range = this.clamp(tableId, shard, req.startKey, req.endKey);
    const all = compareBytes(range.start, range.end) < 0 ? this.entries(tableId, range) : [];
    if (req.reverse) all.reverse();
    const limit = req.limit === 0 ? 100 : req.limit;
    const page = all.slice(0, limit);
    const pairs = page.map((e) => kv.KeyValue.create({ key: e.key, value: req.keysOnly ? EMPTY : e.value, expireAtUnixMs: e.expireAtUnixMs }));
    if (all.length <= limit) return kv.ScanResponse.create({ pairs, more: false });
    // Forward: resume at the first key not returned (inclusive); reverse: below the last returned (exclusive).
    const nextKey = req.reverse ? page[page.length - 1]!.key : all[limit]!.key;
    return kv.ScanResponse.create({ pairs, more: true, nextKey });
  }

  deleteRange(tableId: number, shard: KeyRange, req: kv.DeleteRangeRequest): number {
    const range = this.clamp(tableId, shard, req.startKey, req.endKey);
    if (compareBytes(range.start, range.end) >= 0) return 0;
    const victims = this.entries(tableId, range);
    for (const e of victims) this.map(tableId).delete(toHex(e.storageKey));
    return victims.length;
  }

  /** Every live key of a table in storage order (test assertions). */
  keys(tableId: number): Uint8Array[] {
    return this.entries(tableId, { start: tableStart(tableId as TableId), end: tableEnd(tableId as TableId) }).map((e) => e.key);
  }
}
