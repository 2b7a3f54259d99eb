/**
 * The shards the leader's last scheduling round could not help (quorum lost, no node for a
 * replacement, …), kept for ClusterStatus and announced in a warn-level log line when the
 * set changes. Before, they were only logged at debug level, so an administrator learned
 * that a shard needed a force-reduce only by reading the code.
 *
 * The warn line is rate-limited (one per STUCK_WARN_INTERVAL_MS): a flapping set must not
 * flood the log. A change seen while muted is announced by the first round after the
 * interval, with the set as it is then.
 */
import type { Logger } from '@shoal/common';
import { admin } from '@shoal/proto';
import type { StuckShard } from './schedule/index.js';
import type { TopologyState } from './state/index.js';

/** Stuck shards kept (and returned by ClusterStatus); the rest are counted only. */
export const STUCK_SHARDS_MAX = 256;
/** Stuck shards named in one log line. */
const STUCK_LOGGED_MAX = 16;
/** Least time between two warn lines about the stuck set. */
const STUCK_WARN_INTERVAL_MS = 30_000;

export class StuckReport {
  private shards: admin.StuckShard[] = [];
  private key = '';
  private announcedKey = '';
  private lastWarnMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly log: Logger) {}

  /** The last round's stuck shards, by shard id (empty until this leader's first round). */
  get current(): readonly admin.StuckShard[] {
    return this.shards;
  }

  /** Records one round's result; `nowMs` only paces the log. */
  update(stuck: readonly StuckShard[], state: TopologyState, nowMs: number): void {
    const sorted = [...stuck].sort((a, b) => a.shardId - b.shardId);
    this.shards = sorted.slice(0, STUCK_SHARDS_MAX).map((s) => admin.StuckShard.create({
      shardId: s.shardId, tableId: state.shards.get(s.shardId as never)?.tableId ?? 0, reason: s.reason,
    }));
    this.key = sorted.map((s) => `${s.shardId}:${s.reason}`).join('\n');
    if (this.key === this.announcedKey || nowMs - this.lastWarnMs < STUCK_WARN_INTERVAL_MS) return;
    this.announcedKey = this.key;
    this.lastWarnMs = nowMs;
    if (sorted.length === 0) {
      this.log.warn('no shard is stuck any more');
      return;
    }
    this.log.warn({ count: sorted.length, stuck: sorted.slice(0, STUCK_LOGGED_MAX) }, 'shards the scheduler cannot help (see `shoal cluster status`)');
  }

  /** Leadership lost: the next leader reports from its own rounds. */
  clear(): void {
    this.shards = [];
    this.key = '';
    this.announcedKey = '';
  }
}
