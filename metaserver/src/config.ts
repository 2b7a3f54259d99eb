/**
 * Options of a metaserver (`shoal metaserver --config metaserver.yaml`): membership and
 * raft timings, node failure detection, table defaults, the leader's limits on NodeAdmin
 * calls and WatchRoutes streams, and the scheduler's section (`schedule`).
 */
import { durationMs, hostPort, logLevel } from '@shoal/common';
import { z } from 'zod';
import { scheduleOptionsSchema } from './schedule/options.js';

export const metaserverConfigSchema = z.strictObject({
  /** This member's id in the metaserver Raft group. */
  id: z.number().int().min(1).max(255),
  dataDir: z.string().min(1),
  listen: hostPort().default('127.0.0.1:7100'),
  advertise: hostPort().optional(),
  httpListen: hostPort().default('127.0.0.1:8100'),
  /** Every member as `id=host:port`, this one included: 1, 3 or 5 members. */
  members: z.array(z.string().regex(/^\d+=.+:\d+$/, 'must be id=host:port')).min(1).max(5).default([]),
  logLevel: logLevel().default('info'),
  nodeSuspectAfterMs: durationMs().prefault('10s'),
  nodeDownAfterMs: durationMs().prefault('30s'),
  defaultReplicaCount: z.number().int().min(1).max(7).default(3),
  /** Shards of a hash table created with shard_count 0 (a power of two): 8 spreads a new table over a small cluster without many tiny shards. */
  defaultHashShardCount: z.number().int().min(1).max(16384).refine((n) => (n & (n - 1)) === 0, 'must be a power of two').default(8),
  /** How often nodes send NodeHeartbeat and ShardHeartbeat (told to them in RegisterNode's reply). */
  nodeHeartbeatIntervalMs: durationMs().prefault('1s'),
  /** How long Admin.CreateTable waits for every shard to elect a leader; then TIMEOUT (the table stays creating and is still driven). */
  createTableTimeoutMs: durationMs().prefault('30s'),
  /** Deadline of one NodeAdmin call the leader makes on a storage node. */
  nodeAdminTimeoutMs: durationMs().prefault('5s'),
  /** NodeAdmin calls in flight at once, over all nodes. */
  nodeAdminConcurrencyMax: z.number().int().min(1).max(1024).default(16),
  /** Open WatchRoutes streams on this member; more are refused with RESOURCE_EXHAUSTED. */
  watchRoutesStreamsMax: z.number().int().min(1).max(100_000).default(4096),
  /** Events buffered for one WatchRoutes stream; a watcher that falls further behind is ended with RESOURCE_EXHAUSTED. */
  watchRoutesQueueEventsMax: z.number().int().min(1).max(1_000_000).default(1024),
  /** The leader's scheduler (metaserver/src/schedule/options.ts). */
  schedule: scheduleOptionsSchema.prefault({}),
  /** The metaserver Raft group's tick; elections and heartbeats count ticks. */
  raftTickIntervalMs: durationMs().prefault('100ms'),
  raftElectionTimeoutTicks: z.number().int().min(2).max(1000).default(10),
  raftHeartbeatIntervalTicks: z.number().int().min(1).max(100).default(2),
  /** always: every Raft write is fdatasynced before it is acknowledged. */
  raftLogSync: z.enum(['always', 'async']).default('always'),
  /** Snapshot the state and compact the log once this many entries were applied since the last snapshot. */
  snapshotIntervalEntries: z.number().int().min(1).max(10_000_000).default(10_000),
  /** How long a proposal or a linearizable read may wait before it answers TIMEOUT / UNKNOWN_OUTCOME. */
  requestTimeoutMs: durationMs().prefault('10s'),
  shutdownTimeoutMs: durationMs().prefault('10s'),
}).superRefine((c, ctx) => {
  if (c.raftElectionTimeoutTicks <= c.raftHeartbeatIntervalTicks) {
    ctx.addIssue({ code: 'custom', path: ['raftElectionTimeoutTicks'], message: 'must be greater than raftHeartbeatIntervalTicks' });
  }
  if (c.nodeDownAfterMs <= c.nodeSuspectAfterMs) {
    ctx.addIssue({ code: 'custom', path: ['nodeDownAfterMs'], message: 'must be greater than nodeSuspectAfterMs' });
  }
  if (c.nodeSuspectAfterMs <= c.nodeHeartbeatIntervalMs) {
    ctx.addIssue({ code: 'custom', path: ['nodeSuspectAfterMs'], message: 'must be greater than nodeHeartbeatIntervalMs' });
  }
  if (c.members.length === 0) return;
  const ids = c.members.map((m) => Number(m.slice(0, m.indexOf('='))));
  if (![1, 3, 5].includes(ids.length)) ctx.addIssue({ code: 'custom', path: ['members'], message: 'must list 1, 3 or 5 members' });
  if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', path: ['members'], message: 'member ids must be distinct' });
  if (ids.some((i) => i < 1 || i > 255)) ctx.addIssue({ code: 'custom', path: ['members'], message: 'member ids must be 1..255' });
  if (!ids.includes(c.id)) ctx.addIssue({ code: 'custom', path: ['members'], message: `must include this member (id ${c.id})` });
});

/** The members as id → gRPC address; no `members` = this member alone. */
export function memberAddresses(c: MetaserverConfig): Map<number, string> {
  if (c.members.length === 0) return new Map([[c.id, c.advertise ?? c.listen]]);
  return new Map(c.members.map((m) => {
    const at = m.indexOf('=');
    return [Number(m.slice(0, at)), m.slice(at + 1)] as const;
  }));
}

export type MetaserverConfig = z.output<typeof metaserverConfigSchema>;
