/**
 * The gRPC `NodeAdmin` service: what the metaserver (and, until it exists, operators and
 * tests) use to manage this node's replicas. Every call is idempotent: repeating one that
 * already took effect succeeds.
 *
 * Membership changes are proposed on the shard's leader as raft conf changes whose context
 * is the complete descriptor after the change (confVer + 1), so every member learns the
 * new replica's node from the log (raft/descriptor.ts). The reply comes once the change
 * is applied on the leader.
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { KvError } from '@shoal/common';
import type { Logger, Result } from '@shoal/common';
import { admin, command, common, meta, raft } from '@shoal/proto';
import type { ConfChangeSingle, PeerId } from '@shoal/raft-ts';
import { ConfChangeTransition, ConfChangeType, StateRole } from '@shoal/raft-ts';
import type { ShardDescriptor } from '../raft/descriptor.js';
import { bumpConfVer, encodeDescriptor, epochEquals, withoutReplica, withReplica } from '../raft/descriptor.js';
import type { ReplicaManager } from '../raft/replica-manager.js';
import type { Replica } from '../raft/replica.js';
import type { Scheduler } from '../raft/scheduler.js';
import { asKvError, errorDetail } from './errors.js';

export interface AdminServiceOptions {
  readonly nodeId: number;
  readonly scheduler: Scheduler;
  readonly replicas: ReplicaManager;
  readonly addressOf: (nodeId: number) => string | undefined;
  /** Deadline of admin calls that wait for raft (membership change, leader transfer). */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export class AdminService {
  constructor(private readonly o: AdminServiceOptions) {}

  handlers(): admin.NodeAdminServer {
    return {
      createReplica: this.unary((q) => this.createReplica(q), (error) => admin.CreateReplicaResponse.create({ error })),
      removeReplica: this.unary((q) => this.removeReplica(q), (error) => admin.RemoveReplicaResponse.create({ error })),
      transferLeader: this.unary((q) => this.transferLeader(q), (error) => admin.NodeTransferLeaderResponse.create({ error })),
      changeMembership: this.unary((q) => this.changeMembership(q), (error) => admin.ChangeMembershipResponse.create({ error })),
      splitShard: this.unary((q) => this.splitShard(q), (error) => admin.NodeSplitShardResponse.create({ error })),
      forceReduceReplicas: this.unary((q) => this.forceReduceReplicas(q), (error) => admin.NodeForceReduceReplicasResponse.create({ error })),
      getShardStatus: this.unary((q) => this.getShardStatus(q), (error) => admin.GetShardStatusResponse.create({ error })),
    };
  }

  async createReplica(req: admin.CreateReplicaRequest): Promise<admin.CreateReplicaResponse> {
    if (req.shard === undefined) throw invalid('shard', 'CreateReplica needs the shard descriptor');
    for (const r of req.shard.replicas) {
      if (this.o.addressOf(r.nodeId) === undefined) throw invalid('shard.replicas', `node ${r.nodeId} has no known address`);
    }
    await this.o.replicas.create(req.shard, req.peerId, req.bootstrap);
    return admin.CreateReplicaResponse.create();
  }

  async removeReplica(req: admin.RemoveReplicaRequest): Promise<admin.RemoveReplicaResponse> {
    await this.o.replicas.remove(req.shardId, req.peerId, req.force);
    return admin.RemoveReplicaResponse.create();
  }

  async transferLeader(req: admin.NodeTransferLeaderRequest): Promise<admin.NodeTransferLeaderResponse> {
    const r = this.replica(req.shardId);
    if (r.lead === req.toPeerId && !r.isLeader) return admin.NodeTransferLeaderResponse.create(); // done already
    this.checkEpoch(r, req.epoch);
    if (!r.isLeader) throw this.notLeader(r);
    if (req.toPeerId === r.peerId) return admin.NodeTransferLeaderResponse.create();
    if (!r.confState.voters.includes(req.toPeerId as PeerId)) throw invalid('toPeerId', `peer ${req.toPeerId} is not a voter of shard ${r.shardId}`);
    this.o.scheduler.transferLeader(r, req.toPeerId);
    const reissue = new TransferReissue(r, req.toPeerId, Date.now());
    let exhausted = false;
    await this.o.scheduler.waitUntil(() => {
      if (r.lead === req.toPeerId && !r.isLeader) return true;
      const now = Date.now();
      if (reissue.due(now)) {
        this.o.logger.debug({ shardId: r.shardId, toPeerId: req.toPeerId, attempt: reissue.attempts }, 'raft dropped the leader transfer; re-issuing it');
        this.o.scheduler.transferLeader(r, req.toPeerId);
      }
      // The last attempt was dropped too: answer now rather than at the deadline.
      exhausted = reissue.exhausted(now);
      return exhausted;
    }, Date.now() + this.o.timeoutMs,
    () => new KvError('TIMEOUT', `leadership of shard ${r.shardId} did not move to peer ${req.toPeerId} in time`));
    if (exhausted) {
      throw new KvError('TIMEOUT', `leadership of shard ${r.shardId} did not move to peer ${req.toPeerId} after ${TRANSFER_ATTEMPTS_MAX} transfers`);
    }
    return admin.NodeTransferLeaderResponse.create();
  }

  async changeMembership(req: admin.ChangeMembershipRequest): Promise<admin.ChangeMembershipResponse> {
    const r = this.replica(req.shardId);
    if (req.changes.length === 0) throw invalid('changes', 'no membership change given');
    if (alreadyApplied(r, req.changes)) return admin.ChangeMembershipResponse.create({ shard: r.descriptor });
    this.checkEpoch(r, req.epoch);
    if (!r.isLeader) throw this.notLeader(r);
    let next: ShardDescriptor = r.descriptor;
    const changes: ConfChangeSingle[] = [];
    for (const ch of req.changes) {
      const rep = ch.replica;
      if (rep === undefined || rep.peerId === 0) throw invalid('changes.replica', 'a membership change needs a replica');
      switch (ch.type) {
        case admin.MembershipChangeType.ADD_VOTER:
        case admin.MembershipChangeType.ADD_LEARNER: {
          if (this.o.addressOf(rep.nodeId) === undefined) throw invalid('changes.replica.nodeId', `node ${rep.nodeId} has no known address`);
          const learner = ch.type === admin.MembershipChangeType.ADD_LEARNER;
          next = withReplica(next, common.Replica.create({
            nodeId: rep.nodeId, peerId: rep.peerId, role: learner ? common.ReplicaRole.LEARNER : common.ReplicaRole.VOTER,
          }));
          changes.push({ type: learner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, peerId: rep.peerId as PeerId });
          break;
        }
        case admin.MembershipChangeType.REMOVE:
          next = withoutReplica(next, rep.peerId);
          changes.push({ type: ConfChangeType.RemoveNode, peerId: rep.peerId as PeerId });
          break;
        default:
          throw invalid('changes.type', `unknown membership change type ${String(ch.type)}`);
      }
    }
    next = bumpConfVer(next);
    const shard = await this.o.scheduler.proposeConfChange(r, {
      transition: req.joint ? ConfChangeTransition.JointImplicit : ConfChangeTransition.Auto,
      changes, context: encodeDescriptor(next),
    }, Date.now() + this.o.timeoutMs);
    return admin.ChangeMembershipResponse.create({ shard });
  }

  /**
   * Splits the shard (engine/split.ts) on its leader: chooses the split key if none is
   * given (hash: the middle slot boundary; range: an approximate middle key of the data),
   * proposes a Split command and answers once it is applied here and the right half's
   * replica runs, with both descriptors [left, right]. A repeat of a split that already
   * happened (the right half exists here) answers the same way.
   */
  async splitShard(req: admin.NodeSplitShardRequest): Promise<admin.NodeSplitShardResponse> {
    const deadline = Date.now() + this.o.timeoutMs;
    if (req.newShardId === 0 || req.newShardId === req.shardId) throw invalid('newShardId', 'a split needs a new shard id other than the shard\'s');
    const r = this.replica(req.shardId);
    const done = await this.splitDone(r, req, deadline);
    if (done !== undefined) return done;
    this.checkEpoch(r, req.epoch);
    if (!r.isLeader) throw this.notLeader(r);
    if (req.newPeerIds.length !== r.descriptor.replicas.length) {
      throw invalid('newPeerIds', `${req.newPeerIds.length} new peer ids for ${r.descriptor.replicas.length} replicas`);
    }
    const splitKey = req.splitKey.length > 0 ? req.splitKey : await this.o.replicas.splitKeyOf(r.shardId);
    const cmd = command.RaftCommand.create({
      header: command.CommandHeader.create({ shardId: r.shardId, epoch: r.descriptor.epoch, proposedAtUnixMs: Date.now(), origin: 'admin:split' }),
      op: { $case: 'split', split: command.SplitCommand.create({ splitKey, newShardId: req.newShardId, newPeerIds: req.newPeerIds }) },
    });
    const outcome = await this.o.scheduler.propose(r, command.RaftCommand.encode(cmd).finish(), deadline) as Result<{ op: string }, KvError>;
    if (!outcome.ok) throw outcome.error;
    await this.waitRightHalf(req.newShardId, deadline);
    return this.splitResponse(r, req.newShardId);
  }

  /** The split already happened here (a repeated call): wait for the right half, answer with both. */
  private async splitDone(r: Replica, req: admin.NodeSplitShardRequest, deadline: number): Promise<admin.NodeSplitShardResponse | undefined> {
    if (!this.o.replicas.knows(req.newShardId)) return undefined;
    if (this.o.replicas.removed(req.newShardId)) {
      throw new KvError('CONDITION_FAILED', `shard ${req.newShardId} was split off here and its replica has since been removed from node ${this.o.nodeId}`);
    }
    await this.waitRightHalf(req.newShardId, deadline);
    return this.splitResponse(r, req.newShardId);
  }

  private waitRightHalf(shardId: number, deadline: number): Promise<void> {
    return this.o.scheduler.waitUntil(() => this.o.scheduler.replica(shardId) !== undefined, deadline,
      () => new KvError('TIMEOUT', `the right half ${shardId} of the split did not start in time`));
  }

  private splitResponse(left: Replica, rightId: number): admin.NodeSplitShardResponse {
    const right = this.replica(rightId);
    return admin.NodeSplitShardResponse.create({ shards: [left.descriptor, right.descriptor] });
  }

  /**
   * Forced replica reduction on this node's surviving replica (replica-manager.ts
   * forceReduce): unsafe, for a shard that lost its quorum; idempotent.
   */
  async forceReduceReplicas(req: admin.NodeForceReduceReplicasRequest): Promise<admin.NodeForceReduceReplicasResponse> {
    const shard = await this.o.replicas.forceReduce(req.shardId, req.keepPeerIds);
    return admin.NodeForceReduceReplicasResponse.create({ shard });
  }

  getShardStatus(req: admin.GetShardStatusRequest): Promise<admin.GetShardStatusResponse> {
    const want = req.shardIds.length === 0 ? null : new Set(req.shardIds);
    const shards: admin.ShardStatus[] = [];
    for (const r of this.o.scheduler.allReplicas()) {
      if (r.phase === 'removed' || (want !== null && !want.has(r.shardId))) continue;
      shards.push(shardStatus(r));
    }
    shards.sort((a, b) => (a.shard?.id ?? 0) - (b.shard?.id ?? 0));
    return Promise.resolve(admin.GetShardStatusResponse.create({ shards }));
  }

  // ---- helpers ----------------------------------------------------------------------------

  private replica(shardId: number): Replica {
    const r = this.o.scheduler.replica(shardId);
    if (r === undefined) throw new KvError('SHARD_NOT_FOUND', `shard ${shardId} has no replica on node ${this.o.nodeId}`);
    return r;
  }

  private checkEpoch(r: Replica, epoch: common.Epoch | undefined): void {
    if (epoch !== undefined && !epochEquals(epoch, r.descriptor.epoch)) {
      throw new KvError('EPOCH_NOT_MATCH', `shard ${r.shardId} is at another epoch`, { details: { shard: r.descriptor } });
    }
  }

  private notLeader(r: Replica): KvError {
    this.o.scheduler.wake(r, true);
    return r.notLeader();
  }

  private unary<Req, Res>(fn: (req: Req) => Promise<Res>, fail: (error: common.ErrorDetail) => Res): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      let p: Promise<Res>;
      try {
        p = fn(call.request);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then((res) => callback(null, res), (e: unknown) => {
        const ke = asKvError(e);
        if (ke.code === 'INTERNAL') this.o.logger.error({ err: ke }, 'admin request failed');
        callback(null, fail(errorDetail(ke)));
      });
    };
  }
}

/** Every change already holds in the replica's descriptor (a repeated call). */
function alreadyApplied(r: Replica, changes: readonly admin.MembershipChange[]): boolean {
  return changes.every((ch) => {
    const rep = ch.replica;
    if (rep === undefined) return false;
    const cur = r.descriptor.replicas.find((x) => x.peerId === rep.peerId);
    switch (ch.type) {
      case admin.MembershipChangeType.ADD_VOTER: return cur !== undefined && cur.role === common.ReplicaRole.VOTER && r.confState.voters.includes(rep.peerId as PeerId);
      case admin.MembershipChangeType.ADD_LEARNER: return cur !== undefined && cur.role === common.ReplicaRole.LEARNER && r.confState.learners.includes(rep.peerId as PeerId);
      case admin.MembershipChangeType.REMOVE: return cur === undefined;
      default: return false;
    }
  });
}

const ROLE: Record<number, raft.RaftRole> = {
  [StateRole.Follower]: raft.RaftRole.FOLLOWER,
  [StateRole.Candidate]: raft.RaftRole.CANDIDATE,
  [StateRole.Leader]: raft.RaftRole.LEADER,
  [StateRole.PreCandidate]: raft.RaftRole.PRE_CANDIDATE,
};

const PROGRESS: Record<string, meta.ProgressState> = {
  probe: meta.ProgressState.PROBE, replicate: meta.ProgressState.REPLICATE, snapshot: meta.ProgressState.SNAPSHOT,
};

export function shardStatus(r: Replica): admin.ShardStatus {
  const st = r.raw.status();
  const progress: meta.ReplicaProgress[] = [];
  for (const [peer, p] of st.progress ?? []) {
    progress.push(meta.ReplicaProgress.create({
      peerId: peer, matchIndex: p.match, nextIndex: p.next, state: PROGRESS[p.state] ?? meta.ProgressState.PROBE, recentActive: p.recentActive,
    }));
  }
  const commit = st.hardState.commit;
  return admin.ShardStatus.create({
    shard: r.descriptor, peerId: r.peerId, role: ROLE[st.softState.role] ?? raft.RaftRole.FOLLOWER, term: st.hardState.term,
    commitIndex: commit, appliedIndex: r.appliedIndex, leaderPeerId: st.softState.lead, progress,
    stats: meta.ShardStats.create({ term: st.hardState.term, commitIndex: commit, appliedIndex: r.appliedIndex }),
    pendingConfChange: r.confState.votersOutgoing.length > 0,
  });
}

/** Leader transfers one TransferLeader call makes at most (the first included). */
export const TRANSFER_ATTEMPTS_MAX = 5;
/** Floor of the gap between attempts, should raft refuse a transfer at once (no timeout measured). */
const TRANSFER_GAP_MS_MIN = 100;

/**
 * When to re-issue a leader transfer raft gave up on. Raft sends the target one TimeoutNow
 * and abandons the transfer after an election timeout; a target that has not applied its
 * own promotion yet (the usual case right after a move's promote step) ignores it, so one
 * attempt often fails although the target is healthy. The transfer is re-issued once raft
 * dropped it and as long again has passed (about two election timeouts per attempt: raft
 * drops proposals while a transfer is in progress, so the gaps let the shard's writes
 * through), at most TRANSFER_ATTEMPTS_MAX times, and only while this replica still leads
 * and the target is replicating and recently active — never to a silent target.
 */
export class TransferReissue {
  attempts = 1;
  private issuedMs: number;
  /** When raft was first seen without a transfer in progress since the last attempt. */
  private droppedMs: number | undefined = undefined;

  constructor(private readonly r: Replica, private readonly toPeerId: number, nowMs: number) {
    this.issuedMs = nowMs;
  }

  /** Whether to re-issue now; counts the attempt if so. Called after every scheduler turn and tick. */
  due(nowMs: number): boolean {
    if (this.attempts >= TRANSFER_ATTEMPTS_MAX || !this.r.isLeader || this.r.transferTo !== 0) return false;
    const st = this.r.raw.status();
    if (st.leadTransferee !== 0) return false; // raft still waits for the target's election
    if (this.droppedMs === undefined) this.droppedMs = nowMs;
    // Raft held the transfer for one election timeout; wait as long again before the next.
    const electionMs = Math.max(TRANSFER_GAP_MS_MIN, this.droppedMs - this.issuedMs);
    if (nowMs - this.droppedMs < electionMs) return false;
    const p = st.progress?.get(this.toPeerId as PeerId);
    if (p === undefined || !p.recentActive || p.state !== 'replicate') return false;
    this.attempts++;
    this.issuedMs = nowMs;
    this.droppedMs = undefined;
    return true;
  }

  /**
   * Whether the last allowed attempt was dropped by raft as well (and as long again has
   * passed, as between attempts): nothing more will be tried, so the caller can answer.
   */
  exhausted(nowMs: number): boolean {
    if (this.attempts < TRANSFER_ATTEMPTS_MAX || !this.r.isLeader || this.r.transferTo !== 0) return false;
    if (this.r.raw.status().leadTransferee !== 0) return false;
    if (this.droppedMs === undefined) this.droppedMs = nowMs;
    return nowMs - this.droppedMs >= Math.max(TRANSFER_GAP_MS_MIN, this.droppedMs - this.issuedMs);
  }
}

function invalid(option: string, message: string): KvError {
  return new KvError('INVALID_ARGUMENT', message, { details: { option } });
}
