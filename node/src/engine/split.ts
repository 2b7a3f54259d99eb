/**
 * Shard split (DESIGN.md "Storage node"): a Raft command on the shard. Every replica applies
 * it in the same engine batch as its applied index: the left half [start, splitKey) keeps
 * the shard id and narrows, the right half [splitKey, end) becomes a new shard over the same
 * local data (nothing is copied), with its own descriptor, applied state and replica state.
 *
 * The rules match the metaserver's state machine (metaserver/src/state/apply-shards.ts,
 * operator-plan.ts, key-ranges.ts) — they are the NodeAdmin contract:
 * - both halves get epoch {confVer: parent's, version: parent's + 1};
 * - the right half's peers are `new_peer_ids` in the order of the parent's replicas sorted
 *   by peer id (same node, same role each);
 * - a hash shard with no split key given is cut at the middle slot boundary
 *   (`hashMiddleKey`); a range shard at an approximate middle user key of its data.
 *
 * The right half's raft group starts with its log at SPLIT_INIT_INDEX / SPLIT_INIT_TERM (as
 * TiKV's RAFT_INIT_LOG_INDEX): every replica that applies the split starts there, with the
 * parent's membership mapped to the new peer ids, so all agree without any message. A
 * replica created empty for the right half (index 0, e.g. one that missed the split) is
 * behind the leader's first index and therefore gets a snapshot, never a log from index 1
 * that would lack the data the split carried over.
 */
import {
  compareBytes, equalBytes, KvError, SLOT_COUNT, slotRangeStart, tableEnd, tableStart,
} from '@shoal/common';
import type { TableId } from '@shoal/common';
import { common } from '@shoal/proto';
import type { command } from '@shoal/proto';
import type { ConfState, PeerId } from '@shoal/raft-ts';
import type { Db } from './core.js';
import type { ShardKeyspace } from './keyspace.js';

export const SPLIT_INIT_INDEX = 5;
export const SPLIT_INIT_TERM = 5;
/** Bound on the keys a range split samples to find its middle (memory, not scan length). */
export const SPLIT_SAMPLE_KEYS_MAX = 1024;

export interface SplitPlan {
  readonly left: common.ShardDescriptor;
  readonly right: common.ShardDescriptor;
  /** Parent peer id → right-half peer id. */
  readonly peerMap: ReadonlyMap<number, number>;
}

/** The parent's replicas sorted by peer id: the order `new_peer_ids` follows. */
function sortedReplicas(d: common.ShardDescriptor): common.Replica[] {
  return [...d.replicas].sort((a, b) => a.peerId - b.peerId);
}

/**
 * Deterministic checks of a split against the shard as applied (every replica decides the
 * same) and the two descriptors it produces. `epoch` is the proposer's (header.epoch).
 */
export function planSplit(
  parent: common.ShardDescriptor, ks: ShardKeyspace, confState: ConfState, epoch: common.Epoch | undefined, c: command.SplitCommand,
): SplitPlan | KvError {
  const cur = parent.epoch ?? common.Epoch.create();
  if (epoch === undefined || epoch.confVer !== cur.confVer || epoch.version !== cur.version) {
    return new KvError('EPOCH_NOT_MATCH', `shard ${parent.id} changed before the split applied`, { details: { shard: parent } });
  }
  if (c.newShardId === 0 || c.newShardId === parent.id) return invalid('newShardId', `bad new shard id ${c.newShardId}`);
  const replicas = sortedReplicas(parent);
  if (c.newPeerIds.length !== replicas.length) {
    return invalid('newPeerIds', `${c.newPeerIds.length} new peer ids for ${replicas.length} replicas`);
  }
  const seen = new Set<number>();
  for (const p of c.newPeerIds) {
    if (p === 0 || seen.has(p) || replicas.some((r) => r.peerId === p)) return invalid('newPeerIds', `new peer id ${p} is zero, repeated or in use`);
    seen.add(p);
  }
  if (confState.votersOutgoing.length > 0 || confState.learnersNext.length > 0) {
    return new KvError('CONDITION_FAILED', `shard ${parent.id} is in a joint membership change; split it afterwards`);
  }
  if (!(compareBytes(ks.range.start, c.splitKey) < 0 && compareBytes(c.splitKey, ks.range.end) < 0)) {
    return new KvError('KEY_NOT_IN_SHARD', 'the split key is not strictly inside the shard', { details: { shard: parent } });
  }
  const bad = checkBoundary(ks, c.splitKey);
  if (bad !== undefined) return bad;
  const peerMap = new Map<number, number>();
  replicas.forEach((r, i) => peerMap.set(r.peerId, c.newPeerIds[i]!));
  const members = [...confState.voters, ...confState.learners];
  if (members.some((p) => !peerMap.has(p))) return new KvError('CONDITION_FAILED', `shard ${parent.id}: a raft member is missing from the descriptor`);
  const epochAfter = common.Epoch.create({ confVer: cur.confVer, version: cur.version + 1 });
  const left: common.ShardDescriptor = { ...parent, endKey: c.splitKey.slice(), epoch: epochAfter };
  const right: common.ShardDescriptor = {
    ...parent, id: c.newShardId, startKey: c.splitKey.slice(), endKey: parent.endKey.slice(), epoch: epochAfter,
    replicas: replicas.map((r) => common.Replica.create({ nodeId: r.nodeId, peerId: peerMap.get(r.peerId)!, role: r.role })),
    leaderPeerId: 0,
  };
  return { left, right, peerMap };
}

/** The parent's membership with every peer renamed to its right-half id. */
export function mapConfState(cs: ConfState, peerMap: ReadonlyMap<number, number>): ConfState {
  const m = (xs: readonly PeerId[]): PeerId[] => xs.map((p) => peerMap.get(p)! as PeerId);
  return { voters: m(cs.voters), learners: m(cs.learners), votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/**
 * A split key must not cut a user key's entries (data, Redis subkeys) apart: for hash
 * tables it is a slot boundary, for range tables the bound of a user key.
 */
function checkBoundary(ks: ShardKeyspace, key: Uint8Array): KvError | undefined {
  const t = ks.tableId as TableId;
  if (ks.scheme === 'hash') {
    const slot = slotOfBound(t, key);
    return slot === null ? invalid('splitKey', 'a hash shard splits at a slot boundary') : undefined;
  }
  const uk = ks.userKeyOf(key.length > 4 ? concat(key, Uint8Array.of(0x01)) : key);
  if (uk === undefined || !equalBytes(ks.position(uk), key)) return invalid('splitKey', 'a range shard splits at the bound of a user key');
  return undefined;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const SLOT_KEY_BYTES = 6;

function slotOfBound(table: TableId, key: Uint8Array): number | null {
  if (key.length !== SLOT_KEY_BYTES || !equalBytes(key.subarray(0, 4), tableStart(table))) return null;
  const slot = (key[4]! << 8) | key[5]!;
  return slot > 0 && slot < SLOT_COUNT ? slot : null;
}

/** The slot a hash shard's start / end bound stands for (table bounds are 0 / SLOT_COUNT). */
function boundSlot(table: TableId, key: Uint8Array, end: boolean): number | null {
  if (equalBytes(key, end ? tableEnd(table) : tableStart(table))) return end ? SLOT_COUNT : 0;
  return slotOfBound(table, key);
}

/** As the metaserver's key-ranges.ts `hashMiddleKey`: the middle slot boundary, or null for a single slot. */
export function hashMiddleKey(ks: ShardKeyspace): Uint8Array | null {
  const t = ks.tableId as TableId;
  const lo = boundSlot(t, ks.range.start, false);
  const hi = boundSlot(t, ks.range.end, true);
  if (lo === null || hi === null || hi - lo < 2) return null;
  return slotRangeStart(t, lo + Math.floor((hi - lo) / 2));
}

/**
 * An approximate middle of a range shard's data: the bound of the median user key of a
 * systematic sample (every 2^k-th data key, k growing so at most SPLIT_SAMPLE_KEYS_MAX are
 * kept). One keys-only pass over the shard, memory bounded. Null when the shard holds fewer
 * than two user keys (nothing to split on).
 */
export async function rangeMiddleKey(db: Db, ks: ShardKeyspace): Promise<Uint8Array | null> {
  let sample: Uint8Array[] = [];
  let stride = 1;
  let seen = 0;
  const it = db.keys({ gte: ks.range.start, lt: ks.range.end });
  try {
    for (;;) {
      const keys = await it.nextv(512);
      if (keys.length === 0) break;
      for (const k of keys) {
        const uk = ks.userKeyOf(k);
        if (uk === undefined) continue;
        if (seen++ % stride !== 0) continue;
        sample.push(uk.slice());
        if (sample.length >= SPLIT_SAMPLE_KEYS_MAX) {
          sample = sample.filter((_, i) => i % 2 === 0);
          stride *= 2;
        }
      }
    }
  } finally {
    await it.close();
  }
  // sample[0] is the shard's first key: cutting at or before it would leave the left empty.
  for (let i = Math.max(1, Math.floor(sample.length / 2)); i < sample.length; i++) {
    const bound = ks.position(sample[i]!);
    if (compareBytes(ks.range.start, bound) < 0 && compareBytes(bound, ks.range.end) < 0) return bound;
  }
  return null;
}

function invalid(option: string, message: string): KvError {
  return new KvError('INVALID_ARGUMENT', message, { details: { option } });
}
