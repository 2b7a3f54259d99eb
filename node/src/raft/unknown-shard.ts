/**
 * Raft traffic for a shard this node has no replica of — TiKV's "create a peer when a
 * message for an unknown region arrives from its leader".
 *
 * The case it exists for: a replica that missed a split (its leader compacted the log past
 * the split entry and sent a snapshot of the narrowed left half) never creates the split's
 * right half itself, yet the right half's membership names a peer on this node. Its leader
 * keeps heartbeating that peer.
 *
 * A raft message names only (shard, peers): not the table, the key range or the nodes of
 * the other peers, so an empty replica cannot be built from it. The leader's snapshot
 * carries the full descriptor (snapshots.ts: Snapshot.data). Hence two steps:
 *
 * 1. `onMessage`: a term-current leader's App (prev index > 0) or heartbeat is answered on
 *    behalf of the absent replica exactly as an empty replica would answer — App rejected
 *    with hint (0, 0), heartbeat acknowledged without its ReadIndex context. Neither carries
 *    a vote or an acknowledged entry, so nothing needs to be durable (and the answer never
 *    counts towards a read-index quorum). The reject makes the leader probe index 1, which
 *    it has compacted (a split half's log starts at 5), so it sends a snapshot.
 * 2. `admitSnapshot`: that snapshot names the shard's descriptor; the host creates an empty
 *    replica (as NodeAdmin.CreateReplica bootstrap=false) from it, and the snapshot fills it.
 *
 * Ignored: messages of other types (votes, responses), App at prev index 0 (a new shard's
 * bootstrap member: the layout or CreateReplica creates those), hibernate markers, shards
 * the host knows (a split half whose group is starting, or a removed peer: tombstone), and
 * anything beyond UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX. At most UNKNOWN_SHARD_CREATIONS_MAX
 * creations run at once. The host refuses snapshots whose descriptor does not list this
 * node with the target peer, whose table is unknown here, or whose range overlaps a live
 * local shard (a stale parent: it will apply the split or install a narrowed snapshot
 * first; the leader retries after a heartbeat).
 */
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import type { Message, PeerId, Term } from '@shoal/raft-ts';
import { MessageType } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { isHibernateMarker } from './hibernation.js';
import type { SnapshotHeader, TransportEnvelope, TransportPort } from './ports.js';
import { decodeSnapshotData } from './snapshots.js';

/** Replies sent on behalf of absent replicas, node-wide, per second (token bucket, same burst). */
export const UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX = 200;
/** Replicas being created for incoming snapshots at once; more are refused (SERVER_BUSY, raft retries). */
export const UNKNOWN_SHARD_CREATIONS_MAX = 4;
/** Shards whose first answer was logged; cleared when full (log volume only). */
const LOGGED_SHARDS_MAX = 1024;

/** What the owner of replicas (replica-manager.ts) decides. */
export interface UnknownShardHost {
  /** 'known': the node has (or had, with this or a newer peer id) a replica of the shard: answer nothing. */
  lookup(shardId: number, peerId: number): 'absent' | 'known';
  /** Creates an empty replica `peerId` of the snapshot's shard, or throws a KvError saying why not. */
  createForSnapshot(descriptor: ShardDescriptor, peerId: number): Promise<void>;
}

export interface UnknownShardsOptions {
  readonly nodeId: number;
  readonly transport: TransportPort;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

export class UnknownShards {
  /** Set by the replica manager; until then messages are dropped and snapshots refused. */
  host: UnknownShardHost | undefined;
  readonly stats = { answered: 0, ignored: 0, rateLimited: 0, created: 0, refused: 0 };
  private tokens = UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX;
  private refilledAtMs = 0;
  private creating = 0;
  private readonly logged = new Set<number>();
  private readonly nowMs: () => number;

  constructor(private readonly o: UnknownShardsOptions) {
    this.nowMs = o.nowMs ?? Date.now;
  }

  /** A message for a shard with no replica here (the scheduler's delivery found none). */
  onMessage(env: TransportEnvelope): void {
    const m = env.message;
    const from = env.fromNodeId;
    if (this.host === undefined || from === undefined || from === this.o.nodeId || !fromLeaderNeedingAnswer(m)) {
      this.stats.ignored++;
      return;
    }
    // The rate limit comes before the host's lookup, which walks every local shard.
    if (this.refill() < 1) {
      this.stats.rateLimited++;
      return;
    }
    if (this.host.lookup(env.shardId, env.toPeer) === 'known') {
      this.stats.ignored++;
      return;
    }
    this.tokens--;
    this.o.transport.send(from, env.shardId, env.toPeer, env.fromPeer, answerAsEmpty(m));
    this.stats.answered++;
    if (this.logged.size >= LOGGED_SHARDS_MAX) this.logged.clear();
    if (!this.logged.has(env.shardId)) {
      this.logged.add(env.shardId);
      this.o.logger.info({ shardId: env.shardId, peerId: env.toPeer, leaderPeerId: env.fromPeer, fromNode: from },
        'raft message for a shard with no replica here: answering as an empty replica so its leader sends a snapshot');
    }
  }

  /**
   * A snapshot for a shard with no replica here: creates the empty replica it will fill, or
   * throws (the sender's raft retries after a heartbeat).
   */
  async admitSnapshot(header: SnapshotHeader): Promise<void> {
    const host = this.host;
    const snap = header.message.snapshot;
    if (host === undefined || header.message.type !== MessageType.Snap || snap === null) {
      throw new KvError('SHARD_NOT_FOUND', `no replica ${header.toPeer} of shard ${header.shardId} here`);
    }
    let descriptor: ShardDescriptor;
    try {
      descriptor = decodeSnapshotData(snap.data).descriptor;
    } catch (e) {
      throw new KvError('CORRUPTION', `snapshot for shard ${header.shardId} carries an undecodable descriptor`, { cause: e });
    }
    if (descriptor.id !== header.shardId) {
      throw new KvError('INVALID_ARGUMENT', `snapshot for shard ${header.shardId} carries the descriptor of shard ${descriptor.id}`);
    }
    if (host.lookup(header.shardId, header.toPeer) === 'known') {
      throw new KvError('SHARD_NOT_FOUND', `replica ${header.toPeer} of shard ${header.shardId} was removed from this node or is starting`);
    }
    if (this.creating >= UNKNOWN_SHARD_CREATIONS_MAX) {
      throw new KvError('SERVER_BUSY', `${this.creating} replicas are being created for snapshots (UNKNOWN_SHARD_CREATIONS_MAX)`, { details: { retryAfterMs: 500 } });
    }
    this.creating++;
    try {
      await host.createForSnapshot(descriptor, header.toPeer);
      this.stats.created++;
    } catch (e) {
      this.stats.refused++;
      throw e;
    } finally {
      this.creating--;
    }
  }

  /** Adds the tokens earned since the last call; returns how many there are. */
  private refill(): number {
    const now = this.nowMs();
    const elapsedMs = Math.max(0, now - this.refilledAtMs);
    this.refilledAtMs = now;
    this.tokens = Math.min(UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX, this.tokens + (elapsedMs * UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX) / 1000);
    return this.tokens;
  }
}

/**
 * Only a leader sends App and Heartbeat, in its current term (term 0 would be a local
 * message). App at prev index 0 comes from a group whose log starts at 1: its members are
 * created by the layout or CreateReplica, and an empty replica would take the log from
 * there, which this node cannot do without knowing the shard.
 */
function fromLeaderNeedingAnswer(m: Message): boolean {
  if (m.term === 0) return false;
  if (m.type === MessageType.App) return m.index > 0;
  return m.type === MessageType.Heartbeat && !isHibernateMarker(m);
}

/** What raft-ts's follower with an empty log and no membership answers (raft-step-follower.ts). */
function answerAsEmpty(m: Message): Message {
  const base = {
    to: m.from, from: m.to as PeerId, term: m.term, logTerm: 0 as Term, index: 0 as never, entries: [], commit: 0 as never,
    snapshot: null, reject: false, rejectHint: 0 as never, context: new Uint8Array(0),
  };
  if (m.type === MessageType.App) return { ...base, type: MessageType.AppResp, index: m.index, reject: true };
  return { ...base, type: MessageType.HeartbeatResp };
}
