/**
 * The route cache of one table: its shards sorted by start key, found by binary search.
 *
 * Invariants: shards never overlap, and each one's `[start, end)` is non-empty, with empty
 * descriptor bounds replaced by the table's start and end. The cache may have holes (a
 * shard dropped as stale, or a split only half learned); a lookup that falls into a hole
 * answers undefined and the caller reloads routes from the metaserver.
 *
 * Descriptors arrive from three sources that race (metaserver load, watch events, nodes
 * rejecting a stale epoch), so `apply` keeps the newest knowledge, as TiKV's region cache
 * does: an incoming shard replaces the shards it overlaps unless one of them has a newer
 * `epoch.version` (the range changed since), or is the same shard with a newer
 * `epoch.confVer` (membership changed since).
 */
import { compareBytes, KvError, nodeId, peerId, shardId } from '@shoal/common';
import type { NodeId, PeerId, ShardId } from '@shoal/common';
import { common } from '@shoal/proto';
import type { TableKeyspace } from './keyspace.js';

/** One member of a shard's Raft group. */
export interface ShardReplica {
  readonly nodeId: NodeId;
  readonly peerId: PeerId;
  readonly learner: boolean;
}

/** A cached shard. Only the leader and the round-robin position change in place. */
export class CachedShard {
  /** Raft peer id of the believed leader; 0 = unknown. */
  leaderPeerId: PeerId;
  private turn: number;

  constructor(
    readonly id: ShardId,
    readonly start: Uint8Array,
    readonly end: Uint8Array,
    readonly epoch: common.Epoch,
    readonly replicas: readonly ShardReplica[],
    leaderPeerId: PeerId,
    firstTurn: number,
  ) {
    this.leaderPeerId = replicas.some((r) => r.peerId === leaderPeerId) ? leaderPeerId : (0 as PeerId);
    this.turn = firstTurn;
  }

  /** The believed leader, if known. */
  leader(): ShardReplica | undefined {
    return this.leaderPeerId === 0 ? undefined : this.replicas.find((r) => r.peerId === this.leaderPeerId);
  }

  /** The next replica in round-robin order among those `usable` accepts (all, if none is). */
  nextReplica(usable: (r: ShardReplica) => boolean = () => true): ShardReplica | undefined {
    const n = this.replicas.length;
    for (let i = 0; i < n; i++) {
      const r = this.replicas[(this.turn + i) % n]!;
      if (usable(r)) {
        this.turn = (this.turn + i + 1) % n;
        return r;
      }
    }
    return undefined;
  }

  /** True if `key` lies in `[start, end)`. */
  contains(key: Uint8Array): boolean {
    return compareBytes(this.start, key) <= 0 && compareBytes(key, this.end) < 0;
  }
}

/** What `RouteCache.apply` did with a descriptor. */
export type ApplyResult = 'applied' | 'stale';

export class RouteCache {
  private shards: CachedShard[] = [];

  constructor(private readonly ks: TableKeyspace, private readonly random: () => number) {}

  /** Number of cached shards. */
  get size(): number {
    return this.shards.length;
  }

  /** The cached shards in key order (a copy). */
  list(): readonly CachedShard[] {
    return [...this.shards];
  }

  /** The shard whose range contains storage key `key`, or undefined (a hole or outside the table). */
  locate(key: Uint8Array): CachedShard | undefined {
    const i = this.lastStartingAtOrBefore(key);
    const s = i < 0 ? undefined : this.shards[i];
    return s !== undefined && compareBytes(key, s.end) < 0 ? s : undefined;
  }

  /**
   * The shard holding the keys just below position `p` (reverse scans): the last shard
   * starting before `p`, if its range reaches up to `p`.
   */
  locateBefore(p: Uint8Array): CachedShard | undefined {
    let lo = 0;
    let hi = this.shards.length;
    // Invariant: shards[< lo] start before p, shards[≥ hi] start at or after p.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.shards[mid]!.start, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    const s = this.shards[lo - 1];
    return s !== undefined && compareBytes(s.end, p) >= 0 ? s : undefined;
  }

  /** The cached shard with this id. */
  byId(id: number): CachedShard | undefined {
    return this.shards.find((s) => s.id === id);
  }

  /** Merges one descriptor (see the file comment). `leaderPeerId` overrides the descriptor's. */
  apply(d: common.ShardDescriptor, leaderPeerId?: number): ApplyResult {
    const shard = this.toShard(d, leaderPeerId);
    const [first, last] = this.overlapping(shard.start, shard.end);
    const incoming = d.epoch ?? common.Epoch.create();
    for (let i = first; i < last; i++) {
      const o = this.shards[i]!;
      if (o.epoch.version > incoming.version) return 'stale';
      if (o.id === shard.id && o.epoch.version === incoming.version && o.epoch.confVer > incoming.confVer) return 'stale';
      // Same shard, same epoch, no leader news: keep what the cache knows (e.g. a NOT_LEADER hint).
      if (o.id === shard.id && shard.leaderPeerId === 0 && epochEquals(o.epoch, incoming) && o.leader() !== undefined) {
        shard.leaderPeerId = o.leaderPeerId;
      }
    }
    this.shards.splice(first, last - first, shard);
    return 'applied';
  }

  /** Drops a shard (the metaserver removed it, or no node serves it any more). */
  remove(id: number): boolean {
    const i = this.shards.findIndex((s) => s.id === id);
    if (i < 0) return false;
    this.shards.splice(i, 1);
    return true;
  }

  /** Index of the last shard whose start is ≤ key, or -1. */
  private lastStartingAtOrBefore(key: Uint8Array): number {
    let lo = 0;
    let hi = this.shards.length;
    // Invariant: shards[< lo] start at or before key, shards[≥ hi] start after it.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.shards[mid]!.start, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** `[first, last)`: indexes of the cached shards overlapping `[start, end)`. */
  private overlapping(start: Uint8Array, end: Uint8Array): [number, number] {
    let first = this.lastStartingAtOrBefore(start);
    if (first < 0 || compareBytes(this.shards[first]!.end, start) <= 0) first++;
    let last = first;
    while (last < this.shards.length && compareBytes(this.shards[last]!.start, end) < 0) last++;
    return [first, last];
  }

  private toShard(d: common.ShardDescriptor, leader: number | undefined): CachedShard {
    const start = d.startKey.length === 0 ? this.ks.start : d.startKey;
    const end = d.endKey.length === 0 ? this.ks.end : d.endKey;
    if (compareBytes(start, end) >= 0 || compareBytes(start, this.ks.start) < 0 || compareBytes(end, this.ks.end) > 0) {
      // Wire data the metaserver or a node got wrong: nothing the caller can fix by retrying.
      throw new KvError('INTERNAL', `shard ${d.id}: range is empty or outside table ${this.ks.tableId}`);
    }
    const replicas = d.replicas.map((r) => ({
      nodeId: nodeId(r.nodeId), peerId: peerId(r.peerId), learner: r.role === common.ReplicaRole.LEARNER,
    }));
    const firstTurn = replicas.length === 0 ? 0 : Math.floor(this.random() * replicas.length);
    return new CachedShard(shardId(d.id), start, end, d.epoch ?? common.Epoch.create(), replicas,
      peerId(leader ?? d.leaderPeerId), firstTurn);
  }
}

export function epochEquals(a: common.Epoch | undefined, b: common.Epoch | undefined): boolean {
  return (a?.confVer ?? 0) === (b?.confVer ?? 0) && (a?.version ?? 0) === (b?.version ?? 0);
}
