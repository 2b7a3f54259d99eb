/**
 * The scheduler's options: a zod section for the metaserver config (to be mounted as
 * `schedule: scheduleOptionsSchema.prefault({})` in config.ts) plus the two failure
 * detection timings config.ts already has at the top level. Units and qualifiers last
 * (STYLE.md rule 6); every limit is named and validated.
 */
import { byteSize, durationMs, KvError } from '@shoal/common';
import { z } from 'zod';

const count = (min: number, max: number) => z.number().int().min(min).max(max);
const percent = () => z.number().min(0).max(100);

export const scheduleOptionsSchema = z.strictObject({
  /** How often the leader runs a scheduling round (`schedule()`). */
  scheduleIntervalMs: durationMs().prefault('1s'),

  /** Whole-operator deadlines, from creation. Moves include a snapshot transfer. */
  moveReplicaTimeoutMs: durationMs().prefault('10m'),
  removeReplicaTimeoutMs: durationMs().prefault('1m'),
  transferLeaderTimeoutMs: durationMs().prefault('30s'),
  splitTimeoutMs: durationMs().prefault('1m'),
  forceReduceTimeoutMs: durationMs().prefault('2m'),
  /** After a shard's operator failed or timed out, wait this long before planning another. */
  operatorRetryBackoffMs: durationMs().prefault('30s'),
  /** A learner is caught up when its match index is within this many entries of the leader's commit. */
  learnerCatchUpLagEntriesMax: count(0, 1_000_000).default(128),

  /** Replacing replicas of down nodes: running operators per target node, and in the cluster. */
  recoveryOperatorsPerNodeMax: count(1, 64).default(2),
  recoveryOperatorsMax: count(1, 4096).default(32),
  /** Draining decommissioning nodes and repairing replica counts share these. */
  drainOperatorsPerNodeMax: count(1, 64).default(2),
  drainOperatorsMax: count(1, 4096).default(16),
  /** Balancing replicas (e.g. onto a new node): gradual on purpose. */
  balanceOperatorsPerNodeMax: count(1, 64).default(1),
  balanceOperatorsMax: count(1, 4096).default(4),
  leaderTransfersMax: count(1, 4096).default(8),
  splitOperatorsMax: count(1, 16384).default(64),

  replicaBalanceEnabled: z.boolean().default(true),
  leaderBalanceEnabled: z.boolean().default(true),
  splitEnabled: z.boolean().default(true),
  /** Replica counts per node may differ by max(1, this % of the mean) before moving replicas. */
  replicaBalanceTolerancePercent: percent().default(5),
  /** Leader counts per node may differ by max(1, this % of the mean) before transferring. */
  leaderBalanceTolerancePercent: percent().default(10),
  /** Disk use (used / capacity) may differ by this many percentage points before moving by bytes. */
  bytesBalanceTolerancePercent: percent().default(10),

  /** Split a shard above this size or key count, unless its table sets its own threshold. */
  shardSplitSizeBytes: byteSize().prefault('256MiB'),
  shardSplitKeyCount: count(1, Number.MAX_SAFE_INTEGER).default(4_000_000),
});

export type ScheduleOptions = z.output<typeof scheduleOptionsSchema>;

/** Failure detection timings, from the top level of MetaserverConfig. */
export interface FailureDetectionOptions {
  readonly nodeSuspectAfterMs: number;
  readonly nodeDownAfterMs: number;
  /**
   * The nodes' heartbeat interval. A node silent for more than two intervals is not chosen
   * as a new replica's or leader's target even while still `up` (suspicion comes much
   * later). Absent (tools, older tests): only the node state counts.
   */
  readonly nodeHeartbeatIntervalMs?: number;
}

/** How long a node may be silent and still be chosen as a target (see above). */
export function targetStaleAfterMs(o: FailureDetectionOptions): number {
  return o.nodeHeartbeatIntervalMs === undefined ? o.nodeSuspectAfterMs : 2 * o.nodeHeartbeatIntervalMs;
}

export type SchedulerConfig = ScheduleOptions & FailureDetectionOptions;

/**
 * Builds the scheduler's config from the parsed `schedule` section and the top-level
 * failure detection timings; CONFIG_INVALID if a node could go down before suspect.
 */
export function schedulerConfig(section: ScheduleOptions, failure: FailureDetectionOptions): SchedulerConfig {
  if (failure.nodeSuspectAfterMs <= 0 || failure.nodeDownAfterMs <= failure.nodeSuspectAfterMs) {
    throw new KvError('CONFIG_INVALID', 'nodeDownAfterMs must exceed nodeSuspectAfterMs > 0', { details: { option: 'nodeDownAfterMs' } });
  }
  return { ...section, ...failure };
}

/** The defaults with the default failure timings (10 s suspect, 30 s down), for tests and tools. */
export function defaultSchedulerConfig(overrides: Partial<SchedulerConfig> = {}): SchedulerConfig {
  const base = schedulerConfig(scheduleOptionsSchema.parse({}), { nodeSuspectAfterMs: 10_000, nodeDownAfterMs: 30_000 });
  return { ...base, ...overrides };
}
