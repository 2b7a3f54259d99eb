/**
 * ShardHeartbeat: every shard this node leads reports its descriptor (current epoch,
 * leader_peer_id = this replica), stats, follower progress and operator status, and takes
 * the operator the metaserver hands back.
 *
 * When a shard reports (checked every scan, a quarter interval; a role change scans at once):
 * - at once: it has no report yet here, or its epoch or term changed since the last one
 *   (became leader, membership change applied, split applied), or its operator changed
 *   state (`markDirty`);
 * - every interval: while its last report was not acknowledged, an operator of it runs
 *   or finished unreported, or its group is awake (writes, elections, catching up);
 * - every `idleIntervals` intervals otherwise: an idle hibernating leader whose last
 *   report was acknowledged and nothing changed — so 10k idle shards cost 10k / (10 ×
 *   interval) RPCs per second, not 10k per interval, and the metaserver still hears of
 *   each often enough not to think it lost;
 * - at once when the metaserver asks (`requestReports`, from a NodeHeartbeat reply's
 *   report_shard_ids): it has an operator step for the shard waiting on a report, which
 *   an idle leader would otherwise make wait up to `idleIntervals` intervals per step.
 *
 * At most `concurrencyMax` heartbeats are in flight; a scan waits for the previous one.
 */
import type { Logger } from '@shoal/common';
import { common, meta } from '@shoal/proto';
import type { Replica } from '../raft/replica.js';
import { shardStatus } from '../service/admin-service.js';
import type { MetaClient } from './meta-client.js';
import type { OperatorExecutor } from './operators.js';
import type { ShardStatsSource } from './shard-stats.js';

/** Reports honoured per `requestReports` call; the metaserver asks again next heartbeat. */
export const REQUESTED_REPORTS_MAX = 256;
/** Bounds of the scan period (a quarter of the heartbeat interval). */
const SCAN_INTERVAL_MS_MIN = 50;
const SCAN_INTERVAL_MS_MAX = 1000;

export interface ReplicaSource {
  allReplicas(): IterableIterator<Replica>;
  replica(shardId: number): Replica | undefined;
}

export interface ShardHeartbeatsOptions {
  readonly client: MetaClient;
  readonly replicas: ReplicaSource;
  readonly stats: ShardStatsSource;
  readonly executor: OperatorExecutor;
  readonly identity: () => { readonly clusterId: number; readonly nodeId: number };
  readonly concurrencyMax: number;
  readonly idleIntervals: number;
  readonly logger: Logger;
}

interface Reported {
  atMs: number;
  /** Epoch and term when reported: a change means the metaserver's view is stale. */
  key: string;
  acked: boolean;
}

export class ShardHeartbeats {
  private intervalMs = 0;
  private readonly reported = new Map<number, Reported>();
  private readonly dirty = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Counters for tests and logs. */
  readonly counts = { sent: 0, failed: 0, operators: 0 };

  constructor(private readonly o: ShardHeartbeatsOptions) {}

  /** Starts (or re-times) the scans. */
  start(intervalMs: number): void {
    this.intervalMs = intervalMs;
    if (this.timer !== null) clearInterval(this.timer);
    const scanMs = Math.min(SCAN_INTERVAL_MS_MAX, Math.max(SCAN_INTERVAL_MS_MIN, Math.floor(intervalMs / 4)));
    this.timer = setInterval(() => this.kick(), scanMs);
    this.timer.unref();
    this.kick();
  }

  /** Something changed for the shard (role, operator): report it at the next scan, which runs now. */
  markDirty(shardId: number): void {
    this.dirty.add(shardId);
    this.kick();
  }

  /**
   * The metaserver asks for prompt reports of these shards (operators waiting on them).
   * Only shards this node leads are taken, at most REQUESTED_REPORTS_MAX; returns how many.
   */
  requestReports(shardIds: readonly number[]): number {
    let n = 0;
    for (const id of shardIds) {
      if (n >= REQUESTED_REPORTS_MAX) break;
      const r = this.o.replicas.replica(id);
      if (r === undefined || !r.isLeader || r.phase !== 'active') continue;
      this.dirty.add(id);
      n++;
    }
    if (n > 0) this.kick();
    return n;
  }

  /** Forget acknowledgements (after re-registering: the metaserver may have lost them). */
  resetAll(): void {
    this.reported.clear();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private kick(): void {
    if (this.stopped || this.intervalMs === 0) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.scan().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async scan(): Promise<void> {
    const now = Date.now();
    const due: Replica[] = [];
    const leading = new Set<number>();
    for (const r of this.o.replicas.allReplicas()) {
      if (r.phase !== 'active' || !r.isLeader) continue;
      leading.add(r.shardId);
      if (this.isDue(r, now)) due.push(r);
    }
    for (const id of this.reported.keys()) if (!leading.has(id)) this.reported.delete(id);
    // A shard marked while not leading reports when it leads (a role change marks it again).
    for (const id of this.dirty) if (!leading.has(id)) this.dirty.delete(id);
    this.o.stats.retain(leading);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.stopped) {
        const r = due[next++]!;
        await this.send(r).catch((e: unknown) => this.o.logger.error({ err: e, shardId: r.shardId }, 'shard heartbeat failed'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrencyMax, due.length) }, worker));
  }

  private isDue(r: Replica, now: number): boolean {
    const last = this.reported.get(r.shardId);
    if (last === undefined || this.dirty.has(r.shardId) || last.key !== keyOf(r)) return true;
    const since = now - last.atMs;
    if (since < this.intervalMs) return false;
    if (!last.acked || !r.asleep || this.o.executor.statusFor(r.shardId) !== undefined) return true;
    return since >= this.intervalMs * this.o.idleIntervals;
  }

  private async send(r: Replica): Promise<void> {
    this.dirty.delete(r.shardId);
    if (!r.isLeader || r.phase !== 'active') return;
    const status = shardStatus(r);
    const rec: Reported = { atMs: Date.now(), key: keyOf(r), acked: false };
    this.reported.set(r.shardId, rec);
    const operatorStatus = this.o.executor.statusFor(r.shardId);
    const id = this.o.identity();
    const stats = await this.o.stats.stats(r.shardId, { term: status.term, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex }, rec.atMs);
    const req = meta.ShardHeartbeatRequest.create({
      clusterId: id.clusterId, nodeId: id.nodeId,
      shard: common.ShardDescriptor.create({ ...r.descriptor, leaderPeerId: r.peerId }),
      stats, progress: status.progress, operatorStatus,
    });
    let res: meta.ShardHeartbeatResponse;
    try {
      res = await this.o.client.call(meta.MetaService.shardHeartbeat, req);
    } catch (e) {
      this.counts.failed++;
      this.o.logger.debug({ err: e, shardId: r.shardId }, 'shard heartbeat not acknowledged');
      return;
    }
    this.counts.sent++;
    rec.acked = true;
    if (operatorStatus !== undefined) this.o.executor.acknowledged(operatorStatus);
    const op = res.operator;
    if (op !== undefined && op.id !== 0 && r.isLeader && r.phase === 'active') {
      this.counts.operators++;
      this.o.executor.handle(op, r);
    }
  }
}

function keyOf(r: Replica): string {
  const e = r.descriptor.epoch;
  return `${e?.confVer ?? 0}/${e?.version ?? 0}/${r.term}`;
}
