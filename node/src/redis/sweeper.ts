/**
 * The background sweeper of orphaned Redis subkeys. DEL, UNLINK, overwrite, RENAME and
 * expiry of a collection only touch its metadata (O(1)); the elements stay under the old
 * version until the shard leader finds them here and proposes range deletes — one
 * `deleteRange` per (user key, kind, version) — in a raw_batch. The caller rate-limits.
 *
 * A subkey version is stale when it differs from the version of the key's live metadata:
 * the key is absent, expired, a string, or a collection under another version. Versions
 * are never reused for a key (txn.ts), so a stale version stays stale. Still, `sweepOnce`
 * latches the user keys and re-checks on a fresh view before proposing, so a sweep can
 * never interleave with a command on the same key.
 *
 * The scan must read a snapshot view: the metadata and the subkeys from one point in time.
 */
import { KeyKind } from '@shoal/common';
import type { KeyRange, VersionedKind } from '@shoal/common';
import { decodeDataValue, decodeMeta, isExpiredAt, KeyCodec, RedisType } from './encoding.js';
import type { ShardInfo } from './encoding.js';
import type { ClosableView } from './engine-view.js';
import type { LatchManager } from './latches.js';
import { keyId } from './memory-view.js';
import type { RawWrite, ReadView } from './view.js';

export interface StaleRange {
  readonly userKey: Uint8Array;
  readonly kind: VersionedKind;
  readonly version: number;
  /** Every entry of that key, kind and version. */
  readonly range: KeyRange;
}

export interface StaleScanOptions {
  /** Stale ranges to return at most. */
  readonly limit: number;
  /** Expiry is judged at this time (the leader's clock). */
  readonly nowMs: number;
  /** Resume at this storage key (inclusive), from the previous call; default: the shard's start. */
  readonly cursor?: Uint8Array;
  /** Storage entries to step over at most (default 10,000). */
  readonly examinedMax?: number;
}

export interface StaleScan {
  readonly ranges: StaleRange[];
  /** Where to resume; undefined when the walk reached the shard's end (start over next time). */
  readonly cursor: Uint8Array | undefined;
}

/** The live collection version of a user key, or undefined if it has none. */
async function liveVersion(view: ReadView, codec: KeyCodec, userKey: Uint8Array, nowMs: number): Promise<number | undefined> {
  const raw = await view.get(codec.dataKey(userKey));
  if (raw === undefined) return undefined;
  const v = decodeDataValue(raw);
  if (v.type === RedisType.String || isExpiredAt(v.expireAtMs, nowMs)) return undefined;
  return decodeMeta(v).version;
}

/**
 * Finds up to `limit` stale subkey ranges of the shard, walking its storage range from the
 * cursor. Live versions are skipped with one seek each; a stale one is reported and skipped
 * the same way, so the cost is a few seeks per version, never per element.
 */
export async function findStaleSubkeyRanges(view: ReadView, shard: ShardInfo, opts: StaleScanOptions): Promise<StaleScan> {
  const codec = new KeyCodec(shard);
  const examinedMax = opts.examinedMax ?? 10_000;
  const ranges: StaleRange[] = [];
  let start = opts.cursor ?? shard.range.start;
  let examined = 0;
  let known: { id: string; version: number | undefined } | undefined;
  for (;;) {
    let seek: Uint8Array | undefined;
    for await (const [k] of view.iterate({ start, end: shard.range.end })) {
      if (++examined > examinedMax) return { ranges, cursor: k };
      const d = codec.decode(k);
      if (d.type !== 'subkey' && d.type !== 'subindex') continue;
      const id = keyId(d.userKey);
      if (known?.id !== id) known = { id, version: await liveVersion(view, codec, d.userKey, opts.nowMs) };
      const kind = d.type === 'subkey' ? KeyKind.SubKey : KeyKind.SubIndex;
      const range = codec.subRange(d.userKey, d.version, kind);
      if (d.version !== known.version) {
        ranges.push({ userKey: d.userKey, kind, version: d.version, range });
        if (ranges.length >= opts.limit) return { ranges, cursor: range.end };
      }
      seek = range.end;
      break;
    }
    if (seek === undefined) return { ranges, cursor: undefined };
    start = seek;
  }
}

/** The raw_batch writes that delete the ranges. */
export function staleRangeWrites(ranges: readonly StaleRange[]): RawWrite[] {
  return ranges.map((r) => ({ type: 'deleteRange', range: r.range }));
}

export interface SweepHost {
  openView(): ReadView | ClosableView;
  /** As LeaderHost.propose: one raw_batch, resolved once applied here. */
  propose(writes: readonly RawWrite[], stampMs: number): Promise<void>;
  now(): number;
}

/**
 * One sweep step on the leader: find stale ranges, latch their keys (skipping the step if
 * any is busy: background work never queues behind clients), re-check them on a fresh
 * view, propose the deletes and wait for their apply. Returns the cursor for the next
 * step and how many ranges were deleted.
 */
export async function sweepOnce(
  host: SweepHost, latches: LatchManager, shard: ShardInfo, opts: Omit<StaleScanOptions, 'nowMs'>,
): Promise<{ deleted: number; cursor: Uint8Array | undefined }> {
  const codec = new KeyCodec(shard);
  const found = await withView(host, (v) => findStaleSubkeyRanges(v, shard, { ...opts, nowMs: host.now() }));
  if (found.ranges.length === 0) return { deleted: 0, cursor: found.cursor };
  const guard = latches.tryAcquire(found.ranges.map((r) => codec.dataKey(r.userKey)));
  if (guard === undefined) return { deleted: 0, cursor: opts.cursor };
  try {
    const stamp = host.now();
    const still = await withView(host, async (v) => {
      const out: StaleRange[] = [];
      for (const r of found.ranges) {
        if ((await liveVersion(v, codec, r.userKey, stamp)) === r.version) continue;
        for await (const _ of v.iterate(r.range, { limit: 1 })) out.push(r);
      }
      return out;
    });
    if (still.length > 0) await host.propose(staleRangeWrites(still), stamp);
    return { deleted: still.length, cursor: found.cursor };
  } finally {
    guard.release();
  }
}

async function withView<T>(host: SweepHost, fn: (v: ReadView) => Promise<T>): Promise<T> {
  const view = host.openView();
  try {
    return await fn(view);
  } finally {
    if ('close' in view) await view.close();
  }
}
