/**
 * Local reads of one shard. The caller (the service) has already made the read consistent
 * (lease, ReadIndex, or accepted staleness); these read the engine's current state. Expired
 * keys are hidden at `nowMs` (the reader's clock). Multi-key reads — BatchGet, a Scan page —
 * read one classic-level snapshot, so they see one point in time.
 */
import { KvError } from '@shoal/common';
import { EMPTY_BYTES } from '@shoal/proto';
import type { kv } from '@shoal/proto';
import type { EngineCore, ShardRuntime } from './core.js';
import { checkKey, wrongType } from './commands.js';
import { decodeStoredValue, isExpired, VALUE_TYPE_PLAIN } from './stored-value.js';
import type { GetResult, ScanRequest, ScanResult } from './types.js';

const NOT_FOUND: GetResult = Object.freeze({ found: false, value: EMPTY_BYTES, expireAtUnixMs: 0 });

function readKeyCheck(core: EngineCore, sh: ShardRuntime, key: Uint8Array): void {
  const bad = checkKey({ ks: sh.ks, keyBytesMax: core.opts.keyBytesMax }, key);
  if (bad !== undefined) throw bad;
}

export function getOne(core: EngineCore, sh: ShardRuntime, key: Uint8Array, nowMs: number): GetResult {
  readKeyCheck(core, sh, key);
  const sk = sh.ks.dataKey(key);
  const v = core.getStored(sk);
  if (v === undefined || isExpired(v.expireAtUnixMs, nowMs)) return NOT_FOUND;
  // A Redis collection's metadata is not a value (README "Semantics").
  if (v.type !== VALUE_TYPE_PLAIN) throw wrongType();
  return { found: true, value: core.resolveSync(sk, v), expireAtUnixMs: v.expireAtUnixMs };
}

export async function getMany(core: EngineCore, sh: ShardRuntime, keys: readonly Uint8Array[], nowMs: number): Promise<kv.GetResult[]> {
  if (keys.length > core.opts.batchKeysMax) {
    throw new KvError('REQUEST_TOO_LARGE', `${keys.length} keys exceed ${core.opts.batchKeysMax}`, { details: { option: 'keys' } });
  }
  for (const k of keys) readKeyCheck(core, sh, k);
  const snapshot = core.db.snapshot();
  try {
    return keys.map((key) => {
      const sk = sh.ks.dataKey(key);
      const v = core.getStored(sk, snapshot);
      if (v === undefined || isExpired(v.expireAtUnixMs, nowMs)) return { found: false, value: EMPTY_BYTES, expireAtUnixMs: 0 };
      // One key holding a Redis collection fails the whole request (there is no per-key error).
      if (v.type !== VALUE_TYPE_PLAIN) throw wrongType();
      // Synchronous from here to the return: no GC deletion can run in between.
      return { found: true, value: core.resolveSync(sk, v), expireAtUnixMs: v.expireAtUnixMs };
    });
  } finally {
    await snapshot.close();
  }
}

/**
 * One page of `[startKey, endKey) ∩ shard`, in storage order (reverse: downwards). A page
 * ends at `limit` pairs, at scanPageBytesMax of keys and values, or after stepping over
 * scanExaminedKeysMax entries (expired keys cost time too); `nextKey` then resumes it
 * (forward: as the next start, inclusive; reverse: as the next end, exclusive). Hash
 * tables: storage order is (slot, key), and a user key resumes at its own position.
 */
export async function scanPage(core: EngineCore, sh: ShardRuntime, req: ScanRequest, nowMs: number): Promise<ScanResult> {
  const o = core.opts;
  for (const k of [req.startKey, req.endKey]) {
    if (k.length > o.keyBytesMax) throw new KvError('KEY_TOO_LARGE', `scan bound of ${k.length} bytes exceeds ${o.keyBytesMax}`);
  }
  const limit = req.limit === 0 ? o.scanPageKeysDefault : Math.min(req.limit, o.scanPageKeysMax);
  const range = sh.ks.clamp(req.startKey, req.endKey);
  const pairs: kv.KeyValue[] = [];
  if (range === undefined) return { pairs, more: false, nextKey: EMPTY_BYTES };
  const snapshot = core.db.snapshot();
  const reader = core.acquireReader();
  const it = core.db.iterator({ gte: range.start, lt: range.end, reverse: req.reverse, snapshot });
  let bytes = 0;
  let examined = 0;
  let lastExamined: Uint8Array | undefined;
  try {
    for (;;) {
      const entries = await it.nextv(Math.min(256, limit + 1));
      if (entries.length === 0) return { pairs, more: false, nextKey: EMPTY_BYTES };
      for (const [k, raw] of entries) {
        examined++;
        const userKey = sh.ks.userKeyOf(k);
        if (userKey === undefined) continue;
        const full = pairs.length >= limit || bytes >= o.scanPageBytesMax || examined > o.scanExaminedKeysMax;
        // The resume key: forward, this key (inclusive); reverse, the last one examined
        // (exclusive). The empty key cannot be one — an empty bound means "the shard's
        // end" — so a page whose cut falls on it takes one more key.
        const resume = req.reverse ? lastExamined : userKey;
        if (full && resume !== undefined && resume.length > 0) return { pairs, more: true, nextKey: resume };
        lastExamined = userKey;
        const v = decodeStoredValue(raw);
        // Expired keys and Redis collections (their value is metadata, not user data) are skipped.
        if (isExpired(v.expireAtUnixMs, nowMs) || v.type !== VALUE_TYPE_PLAIN) continue;
        const value = req.keysOnly ? EMPTY_BYTES : await core.resolve(k, v);
        pairs.push({ key: userKey, value, expireAtUnixMs: v.expireAtUnixMs });
        bytes += userKey.length + value.length;
      }
    }
  } finally {
    await it.close();
    await snapshot.close();
    core.releaseReader(reader);
  }
}

/**
 * Up to `limit` keys expired at `nowMs`, for the leader's sweeper. Walks the shard's range
 * from `cursor` (exclusive), stepping over at most scanExaminedKeysMax entries; returns the
 * keys and the cursor to continue from (undefined: the walk reached the end and wraps).
 */
export async function findExpired(
  core: EngineCore, sh: ShardRuntime, cursor: Uint8Array | undefined, nowMs: number, limit: number,
): Promise<{ keys: Uint8Array[]; cursor: Uint8Array | undefined }> {
  const range = sh.ks.range;
  const from = cursor !== undefined && sh.ks.contains(cursor) ? { gt: cursor } : { gte: range.start };
  const it = core.db.iterator({ ...from, lt: range.end });
  const keys: Uint8Array[] = [];
  let examined = 0;
  let last = cursor;
  try {
    for (;;) {
      const entries = await it.nextv(256);
      if (entries.length === 0) return { keys, cursor: undefined };
      for (const [k, raw] of entries) {
        if (keys.length >= limit || examined >= core.opts.scanExaminedKeysMax) return { keys, cursor: last };
        examined++;
        last = k;
        const userKey = sh.ks.userKeyOf(k);
        if (userKey === undefined) continue;
        if (isExpired(decodeStoredValue(raw).expireAtUnixMs, nowMs)) keys.push(userKey);
      }
    }
  } finally {
    await it.close();
  }
}
