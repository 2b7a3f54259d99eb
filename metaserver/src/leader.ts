/**
 * What only the metaserver leader does (README "Seams", steps 5, 9, 10): it holds the
 * soft heartbeat state, runs the scheduler loop, drives the storage nodes through
 * NodeAdmin, feeds WatchRoutes streams and answers CreateTable once its table is active.
 *
 * Lifecycle, driven by MetaRaft's leadership events:
 * - becoming leader: `soft = createSoftState(now)`, then a ReadIndex barrier so that
 *   nothing (heartbeat replies, rounds, admin plans) is decided on a state older than the
 *   previous leader's last commit; then a round every `schedule.scheduleIntervalMs`.
 * - losing leadership: `soft` is dropped, the loop stops (a round in progress stops
 *   proposing), waiting CreateTable calls and WatchRoutes streams end with NOT_LEADER.
 *   MetaRaft itself fails pending proposals and reads.
 *
 * Every round proposes its commands in order and waits for each to apply, so the next
 * round sees their effect; then it starts the NodeAdmin calls `pendingNodeActions` lists
 * without waiting for them (a slow node must not stall scheduling; the driver never runs
 * the same action twice at once).
 */
import { KvError } from '@shoal/common';
import type { Logger, NodeId, TableId } from '@shoal/common';
import type { meta } from '@shoal/proto';
import type { MetaserverConfig } from './config.js';
import type { MetaRaft } from './meta-raft.js';
import type { MetaMetrics } from './metrics.js';
import { NodeDriver } from './node-driver.js';
import { RouteWatchHub } from './route-watch.js';
import { createSoftState, pendingNodeActions, schedule, schedulerConfig } from './schedule/index.js';
import type { SchedulerConfig, SoftState } from './schedule/index.js';
import { tableInfo } from './state/index.js';
import { StuckReport } from './stuck-report.js';
import type { NodeLiveInfo } from './state/index.js';

/** CreateTable calls waiting for their table to become active, on one leader. */
const TABLE_WAITERS_MAX = 1024;

interface TableWaiter {
  readonly tableId: TableId;
  readonly resolve: (t: meta.TableInfo) => void;
  readonly reject: (e: KvError) => void;
  readonly timer: NodeJS.Timeout;
}

export class LeaderDuty {
  readonly scheduler: SchedulerConfig;
  readonly driver: NodeDriver;
  readonly watches: RouteWatchHub;
  /** What the last scheduling round could not help; for ClusterStatus. */
  readonly stuck: StuckReport;
  private soft: SoftState | null = null;
  private caughtUp: Promise<void> | null = null;
  /** Bumped on every leadership change: work started under an older generation stops. */
  private generation = 0;
  private roundTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<TableWaiter>();
  private closed = false;

  constructor(private readonly raft: MetaRaft, private readonly config: MetaserverConfig, private readonly metrics: MetaMetrics, private readonly log: Logger) {
    this.stuck = new StuckReport(log);
    this.scheduler = schedulerConfig(config.schedule, {
      nodeSuspectAfterMs: config.nodeSuspectAfterMs, nodeDownAfterMs: config.nodeDownAfterMs, nodeHeartbeatIntervalMs: config.nodeHeartbeatIntervalMs,
    });
    this.driver = new NodeDriver(raft, {
      timeoutMs: config.nodeAdminTimeoutMs, concurrencyMax: config.nodeAdminConcurrencyMax, logger: log.child({ component: 'node-driver' }),
      onResult: (kind, ok) => metrics.nodeAdminCalls.inc({ kind, result: ok ? 'ok' : 'error' }),
    });
    this.watches = new RouteWatchHub(raft, {
      streamsMax: config.watchRoutesStreamsMax, queueEventsMax: config.watchRoutesQueueEventsMax, logger: log.child({ component: 'watch-routes' }),
    });
    raft.onLeadershipChange((leader) => (leader ? this.becomeLeader() : this.stepDown()));
    raft.onApplied(() => this.onApplied());
  }

  /** The leader's soft state once this member leads and has caught up; NOT_LEADER otherwise. */
  async lead(): Promise<SoftState> {
    const gen = this.generation;
    const soft = this.soft;
    const caughtUp = this.caughtUp;
    if (soft === null || caughtUp === null || this.closed) throw this.raft.notLeader();
    await caughtUp;
    if (gen !== this.generation) throw this.raft.notLeader();
    return soft;
  }

  /** What the leader heard from a node (for NodeInfo), if it leads. */
  liveInfo(id: NodeId): NodeLiveInfo | undefined {
    const n = this.soft?.nodes.get(id);
    return n === undefined ? undefined : { lastHeartbeatMs: n.lastHeartbeatMs, stats: n.stats };
  }

  /** Starts the pending NodeAdmin calls now (e.g. right after CreateTable), without waiting. */
  driveNodes(): void {
    if (this.soft === null || this.closed) return;
    void this.driver.runAll(pendingNodeActions(this.raft.state));
  }

  /** Resolves with the table once it is active; TIMEOUT after `timeoutMs` (the table stays creating and is still driven). */
  waitActive(tableId: TableId, timeoutMs: number): Promise<meta.TableInfo> {
    const now = this.raft.state.tables.get(tableId);
    if (now?.state === 'active') return Promise.resolve(tableInfo(now));
    if (this.waiters.size >= TABLE_WAITERS_MAX) {
      return Promise.reject(new KvError('SERVER_BUSY', `more than ${TABLE_WAITERS_MAX} CreateTable calls are waiting`));
    }
    return new Promise((resolve, reject) => {
      const w: TableWaiter = {
        tableId, resolve, reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          reject(new KvError('TIMEOUT', `table ${tableId} has shards without a leader after ${timeoutMs} ms; it stays creating and the nodes are still driven`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  close(): void {
    this.closed = true;
    this.stepDown(new KvError('UNAVAILABLE', 'metaserver is stopping'));
    this.driver.close();
  }

  private becomeLeader(): void {
    if (this.closed) return;
    const gen = ++this.generation;
    this.soft = createSoftState(Date.now());
    this.caughtUp = this.catchUp(gen);
    this.caughtUp.then(() => {
      if (gen !== this.generation) return;
      this.log.info({ term: this.raft.term, applied: this.raft.applied }, 'leading: caught up, scheduler started');
      this.driveNodes();
      this.scheduleRound(gen, this.scheduler.scheduleIntervalMs);
    }, () => undefined);
  }

  /** The barrier, repeated until it passes or leadership changes (a slow disk can time one out). */
  private async catchUp(gen: number): Promise<void> {
    for (;;) {
      if (gen !== this.generation) throw this.raft.notLeader();
      try {
        await this.raft.readBarrier();
        return;
      } catch (e) {
        if (gen !== this.generation || !this.raft.isLeader) throw this.raft.notLeader();
        this.log.warn({ err: e }, 'leader read barrier failed; retrying');
      }
    }
  }

  private stepDown(e: KvError = this.raft.notLeader()): void {
    this.generation++;
    this.soft = null;
    this.caughtUp = null;
    this.stuck.clear();
    if (this.roundTimer !== null) clearTimeout(this.roundTimer);
    this.roundTimer = null;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
    this.watches.endAll(e);
  }

  private onApplied(): void {
    this.watches.onApplied();
    for (const w of this.waiters) {
      const t = this.raft.state.tables.get(w.tableId);
      if (t?.state === 'creating') continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      if (t?.state === 'active') w.resolve(tableInfo(t));
      else w.reject(new KvError('TABLE_NOT_FOUND', `table ${w.tableId} was dropped while being created`));
    }
  }

  private scheduleRound(gen: number, delayMs: number): void {
    if (gen !== this.generation) return;
    this.roundTimer = setTimeout(() => {
      this.roundTimer = null;
      this.round(gen)
        .catch((e: unknown) => this.log.error({ err: e }, 'scheduling round failed'))
        .finally(() => this.scheduleRound(gen, this.scheduler.scheduleIntervalMs));
    }, delayMs);
  }

  /** One round: plan, propose each command and wait for it, then drive the nodes. */
  private async round(gen: number): Promise<void> {
    const soft = this.soft;
    if (soft === null || gen !== this.generation) return;
    const started = performance.now();
    const decision = schedule(this.raft.state, soft, Date.now(), this.scheduler);
    for (const cmd of decision.commands) {
      if (gen !== this.generation) return;
      // Refusals are expected (the state moved on since planning) and harmless.
      await this.raft.propose(cmd).catch((e: unknown) => this.log.debug({ err: e, command: cmd.$case }, 'scheduled command not applied'));
    }
    this.metrics.scheduleRoundSeconds.observe((performance.now() - started) / 1000);
    if (decision.commands.length > 0) this.log.debug({ commands: decision.commands.map((c) => c.$case) }, 'scheduling round');
    if (gen !== this.generation) return;
    this.stuck.update(decision.stuck, this.raft.state, Date.now());
    this.driveNodes();
  }
}
