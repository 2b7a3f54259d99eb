/**
 * The node's periodic background work, each on its own coarse timer and never
 * overlapping itself:
 *
 * - log compaction: replicas whose log holds raftLogCompactThresholdEntries applied
 *   entries are compacted (engine made durable first; Scheduler.compactLogs);
 * - WAL segment GC (Wal.maybeGc);
 * - the TTL sweeper: leaders find expired keys (engine.expiredKeys) and propose their
 *   deletion through raft (ExpireDelete), within a node-wide budget of shards examined
 *   and keys proposed per second, so a node with thousands of idle shards stays idle;
 * - value-log GC (engine.runValueLogGc, itself rate-limited).
 */
import type { Logger } from '@shoal/common';
import { command } from '@shoal/proto';
import type { Replica } from './replica.js';
import type { Scheduler } from './scheduler.js';

/**
 * Pauses between two looks at a shard in which the sweeper found nothing: 1 min, doubling
 * to 5 min. Expired keys are hidden from reads at once; these pauses only delay reclaiming
 * the space of keys this leader did not write (written before a restart or a leader change).
 */
export const TTL_SWEEP_BACKOFF_MIN_MS = 60_000;
export const TTL_SWEEP_BACKOFF_MAX_MS = 5 * 60_000;
/** A new leader's first look comes at a random time within this window. */
export const TTL_SWEEP_FIRST_LOOK_SPREAD_MS = 5 * 60_000;

export interface HousekeepingEngine {
  expiredKeys(shardId: number, nowMs: number, limit: number): Promise<Uint8Array[]>;
  runValueLogGc(): Promise<{ filesRewritten: number; bytesReclaimed: number }>;
}

export interface HousekeepingOptions {
  readonly scheduler: Scheduler;
  readonly engine: HousekeepingEngine;
  readonly walGc: () => Promise<{ deletedSegments: number; rewrittenBytes: number }>;
  readonly logger: Logger;
  readonly compactIntervalMs: number;
  readonly compactThresholdEntries: number;
  readonly compactKeepEntries: number;
  readonly walGcIntervalMs: number;
  readonly ttlSweepIntervalMs: number;
  readonly ttlSweepKeysPerSecMax: number;
  readonly ttlSweepShardsPerSecMax: number;
  readonly ttlBatchKeysMax: number;
  readonly valueLogGcIntervalMs: number;
  readonly onExpiredProposed?: (n: number) => void;
  readonly onValueLogGc?: (r: { filesRewritten: number; bytesReclaimed: number }) => void;
  readonly onFatal: (e: unknown) => void;
}

export class Housekeeping {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<string>();
  private stopped = false;
  readonly stats = { compactions: 0, walGcRuns: 0, sweeps: 0, expiredProposed: 0, vlogGcRuns: 0 };

  constructor(private readonly o: HousekeepingOptions) {}

  start(): void {
    this.every('compact', this.o.compactIntervalMs, () => this.compact());
    this.every('wal-gc', this.o.walGcIntervalMs, () => this.walGc());
    this.every('ttl-sweep', this.o.ttlSweepIntervalMs, () => this.sweep());
    this.every('vlog-gc', this.o.valueLogGcIntervalMs, () => this.valueLogGc());
  }

  /** Stops the timers and waits for running jobs. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Runs one job now (tests, benchmarks); resolves when it is done. */
  runNow(job: 'compact' | 'wal-gc' | 'ttl-sweep' | 'vlog-gc'): Promise<void> {
    const fn = { compact: () => this.compact(), 'wal-gc': () => this.walGc(), 'ttl-sweep': () => this.sweep(), 'vlog-gc': () => this.valueLogGc() }[job];
    return this.guarded(job, fn);
  }

  private every(name: string, intervalMs: number, fn: () => Promise<void>): void {
    const t = setInterval(() => void this.guarded(name, fn), intervalMs);
    t.unref();
    this.timers.push(t);
  }

  private async guarded(name: string, fn: () => Promise<void>): Promise<void> {
    if (this.stopped || this.running.has(name)) return;
    this.running.add(name);
    try {
      await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      // A disk that fails writes is fatal; a corrupt record found by a background pass is
      // reported (reads of it answer CORRUPTION) but does not stop the node.
      if (code === 'DISK_FAILURE') this.o.onFatal(e);
      else this.o.logger[code === 'CORRUPTION' ? 'error' : 'warn']({ err: e, job: name }, 'background job failed');
    } finally {
      this.running.delete(name);
    }
  }

  private async compact(): Promise<void> {
    const n = await this.o.scheduler.compactLogs(this.o.compactThresholdEntries, this.o.compactKeepEntries);
    if (n > 0) {
      this.stats.compactions += n;
      this.o.logger.debug({ replicas: n }, 'compacted raft logs');
    }
  }

  private async walGc(): Promise<void> {
    await this.o.walGc();
    this.stats.walGcRuns++;
  }

  private async valueLogGc(): Promise<void> {
    const r = await this.o.engine.runValueLogGc();
    this.stats.vlogGcRuns++;
    this.o.onValueLogGc?.(r);
    if (r.filesRewritten > 0) this.o.logger.info(r, 'value-log GC');
  }

  /**
   * One sweeper round: leaders whose next look is due, within the round's budget of shards
   * and keys. A look that finds nothing doubles that shard's interval (up to
   * TTL_SWEEP_BACKOFF_MAX_MS), so idle shards cost almost nothing; a write with a TTL on
   * this leader schedules a look at its expiry (KvService), and a look that finds keys
   * keeps the shard at the base interval. Expired keys are hidden from reads at once; the
   * sweeper only reclaims their space.
   */
  private async sweep(): Promise<void> {
    const now = Date.now();
    const due: Replica[] = [];
    for (const r of this.o.scheduler.allReplicas()) {
      if (!r.isLeader || r.phase !== 'active') continue;
      if (!r.ttlSweepScheduled) {
        // A first look at a random time: thousands of new leaders must not all scan at once.
        r.ttlSweepScheduled = true;
        r.ttlSweepAtMs = now + Math.floor(Math.random() * TTL_SWEEP_FIRST_LOOK_SPREAD_MS);
      }
      if (r.ttlSweepAtMs <= now) due.push(r);
    }
    if (due.length === 0) return;
    due.sort((a, b) => a.ttlSweepAtMs - b.ttlSweepAtMs);
    const perRound = this.o.ttlSweepIntervalMs / 1000;
    let shards = Math.max(1, Math.floor(this.o.ttlSweepShardsPerSecMax * perRound));
    let keys = Math.max(1, Math.floor(this.o.ttlSweepKeysPerSecMax * perRound));
    this.stats.sweeps++;
    for (const r of due) {
      if (shards <= 0 || keys <= 0) break;
      shards--;
      const lookedAt = Date.now();
      const expired = await this.o.engine.expiredKeys(r.shardId, lookedAt, Math.min(keys, this.o.ttlBatchKeysMax));
      if (r.ttlExpiryHintMs !== 0 && r.ttlExpiryHintMs <= lookedAt) r.ttlExpiryHintMs = 0;
      if (expired.length === 0) {
        r.ttlSweepBackoffMs = Math.min(Math.max(r.ttlSweepBackoffMs * 2, TTL_SWEEP_BACKOFF_MIN_MS), TTL_SWEEP_BACKOFF_MAX_MS);
        r.ttlSweepAtMs = Date.now() + r.ttlSweepBackoffMs;
        if (r.ttlExpiryHintMs !== 0) r.ttlSweepAtMs = Math.min(r.ttlSweepAtMs, r.ttlExpiryHintMs);
        continue;
      }
      r.ttlSweepBackoffMs = 0;
      r.ttlSweepAtMs = Date.now() + this.o.ttlSweepIntervalMs;
      keys -= expired.length;
      if (r.isLeader) await this.proposeExpireDelete(r, expired);
    }
  }

  private async proposeExpireDelete(r: Replica, keys: Uint8Array[]): Promise<void> {
    const now = Date.now();
    const cmd = command.RaftCommand.encode(command.RaftCommand.create({
      header: command.CommandHeader.create({ shardId: r.shardId, proposedAtUnixMs: now }),
      op: { $case: 'expireDelete', expireDelete: command.ExpireDeleteCommand.create({ keys }) },
    })).finish();
    try {
      await this.o.scheduler.propose(r, cmd, now + 10_000);
      this.stats.expiredProposed += keys.length;
      this.o.onExpiredProposed?.(keys.length);
    } catch (e) {
      this.o.logger.debug({ err: e, shardId: r.shardId }, 'TTL sweep proposal failed');
    }
  }
}
