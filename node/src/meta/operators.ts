/**
 * Runs the operators the metaserver hands to shard leaders in ShardHeartbeat replies.
 *
 * - Idempotent by operator id: an id seen before is never started again; its status is
 *   reported instead (the metaserver re-sends an operator until it hears the outcome).
 * - The epoch the operator was planned for goes with the NodeAdmin request, which fails it
 *   with EPOCH_NOT_MATCH unless the change already holds (a repeated membership change).
 * - `timeout_ms` bounds the wait: past it the operator is TIMED_OUT (the raft proposal it
 *   made may still apply later; the metaserver sees that in the shard's epoch).
 * - History is bounded (`historyMax`): the oldest finished operators are forgotten first;
 *   running ones (at most one per shard, the metaserver's rule) are always kept.
 *
 * - transfer_leader is one NodeAdmin call: AdminService.transferLeader itself re-issues a
 *   transfer raft gave up on (a just-promoted target ignores its first TimeoutNow).
 *
 * The status of a shard's latest operator rides every heartbeat of that shard while it
 * runs, and once more after it ends; `acknowledged` stops the repeats.
 */
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import { admin, common, meta } from '@shoal/proto';
import { fromDetail } from './meta-client.js';
import { asKvError } from '../service/errors.js';

/** What the executor needs from NodeAdmin (AdminService has these public methods). */
export interface ShardAdminPort {
  changeMembership(req: admin.ChangeMembershipRequest): Promise<admin.ChangeMembershipResponse>;
  transferLeader(req: admin.NodeTransferLeaderRequest): Promise<admin.NodeTransferLeaderResponse>;
  splitShard(req: admin.NodeSplitShardRequest): Promise<admin.NodeSplitShardResponse>;
}

/** The shard as the executor sees it when an operator arrives. */
export interface OperatorShard {
  readonly descriptor: common.ShardDescriptor;
}

export interface OperatorExecutorOptions {
  readonly admin: ShardAdminPort;
  /** Waits until every node id has a known address; returns those still unknown. */
  readonly ensureKnown: (nodeIds: readonly number[]) => Promise<number[]>;
  readonly historyMax: number;
  readonly logger: Logger;
  /** An operator changed state (the shard's next heartbeat should carry it promptly). */
  readonly onStateChange: (shardId: number) => void;
}

interface Entry {
  readonly id: number;
  readonly shardId: number;
  state: meta.OperatorState;
  message: string;
  /** The terminal state was carried by an acknowledged heartbeat. */
  acknowledged: boolean;
}

export class OperatorExecutor {
  private readonly byId = new Map<number, Entry>();
  private readonly latestOfShard = new Map<number, number>();
  /** Counters for tests and logs. */
  readonly stats = { started: 0, repeated: 0, succeeded: 0, failed: 0, timedOut: 0 };

  constructor(private readonly o: OperatorExecutorOptions) {}

  /** Starts `op` for `shard` unless it ran or runs already. */
  handle(op: meta.Operator, shard: OperatorShard): void {
    const seen = this.byId.get(op.id);
    if (seen !== undefined) {
      this.stats.repeated++;
      seen.acknowledged = false; // asked again: report the outcome again
      this.latestOfShard.set(seen.shardId, seen.id);
      return;
    }
    const e: Entry = { id: op.id, shardId: op.shardId, state: meta.OperatorState.RUNNING, message: '', acknowledged: false };
    this.byId.set(op.id, e);
    this.latestOfShard.set(op.shardId, op.id);
    this.trim();
    this.stats.started++;
    this.o.logger.info({ operatorId: op.id, shardId: op.shardId, kind: op.kind?.$case, reason: op.reason }, 'operator started');
    void this.run(op, shard, e);
  }

  /** The status to put in the shard's next heartbeat, if any. */
  statusFor(shardId: number): meta.OperatorStatus | undefined {
    const id = this.latestOfShard.get(shardId);
    const e = id === undefined ? undefined : this.byId.get(id);
    if (e === undefined || e.acknowledged) return undefined;
    return meta.OperatorStatus.create({ operatorId: e.id, state: e.state, message: e.message });
  }

  /** A heartbeat carrying `status` was answered: a finished operator need not be repeated. */
  acknowledged(status: meta.OperatorStatus): void {
    const e = this.byId.get(status.operatorId);
    if (e !== undefined && e.state === status.state && e.state !== meta.OperatorState.RUNNING) e.acknowledged = true;
  }

  state(operatorId: number): meta.OperatorState | undefined {
    return this.byId.get(operatorId)?.state;
  }

  private async run(op: meta.Operator, shard: OperatorShard, e: Entry): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const work = this.execute(op, shard);
    const timeout = op.timeoutMs === 0 ? null : new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), op.timeoutMs);
      timer.unref();
    });
    try {
      const out = await (timeout === null ? work : Promise.race([work, timeout]));
      if (out === 'timeout') this.finish(e, meta.OperatorState.TIMED_OUT, `no outcome within ${op.timeoutMs} ms`);
      else this.finish(e, meta.OperatorState.SUCCEEDED, '');
    } catch (err) {
      const ke = asKvError(err);
      this.finish(e, meta.OperatorState.FAILED, `${ke.code}: ${ke.message}`);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      // A late failure after a timeout must not become an unhandled rejection.
      work.catch(() => undefined);
    }
  }

  private finish(e: Entry, state: meta.OperatorState, message: string): void {
    e.state = state;
    e.message = message;
    if (state === meta.OperatorState.SUCCEEDED) this.stats.succeeded++;
    else if (state === meta.OperatorState.TIMED_OUT) this.stats.timedOut++;
    else this.stats.failed++;
    this.o.logger.info({ operatorId: e.id, shardId: e.shardId, state: operatorStateName(state), message }, 'operator finished');
    this.o.onStateChange(e.shardId);
  }

  private async execute(op: meta.Operator, shard: OperatorShard): Promise<'done'> {
    const d = shard.descriptor;
    if (op.shardId !== d.id) throw new KvError('INVALID_ARGUMENT', `operator ${op.id} is for shard ${op.shardId}, not ${d.id}`);
    const kind = op.kind;
    if (kind === undefined) throw new KvError('INVALID_ARGUMENT', `operator ${op.id} has no kind`);
    const epoch = op.epoch;
    switch (kind.$case) {
      case 'addLearner': {
        const rep = kind.addLearner.replica;
        if (rep === undefined) throw new KvError('INVALID_ARGUMENT', `operator ${op.id}: add_learner without a replica`);
        const unknown = await this.o.ensureKnown([rep.nodeId]);
        if (unknown.length > 0) throw new KvError('UNAVAILABLE', `node ${rep.nodeId} has no known address`);
        await this.change(op.shardId, epoch, admin.MembershipChangeType.ADD_LEARNER, rep.nodeId, rep.peerId);
        return 'done';
      }
      case 'promoteLearner': {
        const peer = kind.promoteLearner.peerId;
        const cur = d.replicas.find((r) => r.peerId === peer);
        if (cur === undefined) throw new KvError('CONDITION_FAILED', `peer ${peer} is not a replica of shard ${d.id}`);
        await this.change(op.shardId, epoch, admin.MembershipChangeType.ADD_VOTER, cur.nodeId, peer);
        return 'done';
      }
      case 'removeReplica': {
        const peer = kind.removeReplica.peerId;
        const cur = d.replicas.find((r) => r.peerId === peer);
        await this.change(op.shardId, epoch, admin.MembershipChangeType.REMOVE, cur?.nodeId ?? 0, peer);
        return 'done';
      }
      case 'transferLeader':
        throwIfError((await this.o.admin.transferLeader(admin.NodeTransferLeaderRequest.create({
          shardId: op.shardId, epoch, toPeerId: kind.transferLeader.toPeerId,
        }))).error);
        return 'done';
      case 'split': {
        const res = await this.o.admin.splitShard(admin.NodeSplitShardRequest.create({
          shardId: op.shardId, epoch, splitKey: kind.split.splitKey, newShardId: kind.split.newShardId, newPeerIds: kind.split.newPeerIds,
        }));
        throwIfError(res.error);
        return 'done';
      }
      default: {
        const never: never = kind;
        throw new KvError('NOT_SUPPORTED', `unknown operator kind ${JSON.stringify(never)}`);
      }
    }
  }

  private async change(shardId: number, epoch: common.Epoch | undefined, type: admin.MembershipChangeType, nodeId: number, peerId: number): Promise<void> {
    const res = await this.o.admin.changeMembership(admin.ChangeMembershipRequest.create({
      shardId, epoch, changes: [admin.MembershipChange.create({ type, replica: common.Replica.create({ nodeId, peerId }) })],
    }));
    throwIfError(res.error);
  }

  /** Forgets the oldest finished operators beyond historyMax. */
  private trim(): void {
    if (this.byId.size <= this.o.historyMax) return;
    for (const [id, e] of this.byId) {
      if (this.byId.size <= this.o.historyMax) break;
      if (e.state === meta.OperatorState.RUNNING) continue;
      this.byId.delete(id);
      if (this.latestOfShard.get(e.shardId) === id) this.latestOfShard.delete(e.shardId);
    }
  }
}

/** Public AdminService methods throw, but a response may also carry an error (e.g. a handler-shaped split). */
function throwIfError(error: common.ErrorDetail | undefined): void {
  if (error !== undefined) throw fromDetail(error);
}

export function operatorStateName(s: meta.OperatorState): string {
  for (const [name, v] of Object.entries(meta.OperatorState)) if (v === s) return name;
  return String(s);
}
