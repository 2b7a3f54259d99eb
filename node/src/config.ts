/**
 * Options of a storage node (`shoal node --config node.yaml`). Names carry their unit last;
 * every queue and size has a named limit here (STYLE.md rule 9), validated at start-up with
 * a message naming the option.
 *
 * Until the metaserver exists, a node can be bootstrapped from a static layout: `nodes`
 * (every node's gRPC address), `tables` and `shards` (each with its replicas). Every node of
 * the layout gets the same three lists; each creates the replicas that name its `nodeId`
 * (once: a replica that exists or was removed is never recreated from the layout).
 */
import { byteSize, durationMs, hostPort, logLevel, SLOT_COUNT } from '@shoal/common';
import { z } from 'zod';

const id = () => z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** A peer node's address, for the Raft transport and leader hints. */
const nodeAddressSchema = z.strictObject({
  nodeId: id(),
  /** gRPC address other nodes and clients dial. */
  address: hostPort(),
});

const tableSchema = z.strictObject({
  id: z.number().int().min(1).max(0xfffffffe),
  name: z.string().min(1),
  partition: z.enum(['hash', 'range']).default('hash'),
  /** Values at or above this size go to the value log; defaults to the node's option. */
  valueSeparationThresholdBytes: byteSize().optional(),
  /** TTL applied to writes that give none; 0 = keys never expire by default. */
  defaultTtlMs: durationMs().prefault(0),
});

const replicaSchema = z.strictObject({
  nodeId: id(),
  peerId: id(),
  role: z.enum(['voter', 'learner']).default('voter'),
});

const shardSchema = z.strictObject({
  id: id(),
  tableId: z.number().int().min(1).max(0xfffffffe),
  /** Hash tables: the slot range [from, to) this shard owns; default all slots. */
  slots: z.tuple([z.number().int().min(0).max(SLOT_COUNT - 1), z.number().int().min(1).max(SLOT_COUNT)]).optional(),
  /** Range tables: user-key bounds (UTF-8); absent = the table's start / end. */
  startKey: z.string().optional(),
  endKey: z.string().optional(),
  replicas: z.array(replicaSchema).min(1),
});

export const nodeConfigSchema = z.strictObject({
  /** Stable id of this node in the cluster; assigned by the operator or the metaserver. */
  nodeId: z.number().int().min(1).max(2 ** 32 - 1),
  /** Directory for the Raft WAL, the classic-level DB and value-log files. */
  dataDir: z.string().min(1),
  listen: hostPort().default('127.0.0.1:7200'),
  /** Address peers and clients dial; defaults to `listen`. */
  advertise: hostPort().optional(),
  httpListen: hostPort().default('127.0.0.1:8200'),
  metaservers: z.array(hostPort()).default([]),
  /** Every node of one cluster has the same id; the Raft transport refuses other clusters' peers. */
  clusterId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
  zone: z.string().min(1).default('zone-1'),
  pool: z.string().min(1).default('default'),
  logLevel: logLevel().default('info'),
  /** Write logs to this file (relative paths are under dataDir) instead of stdout. */
  logFile: z.string().min(1).optional(),

  /** `always`: group-committed fsync before acknowledging; `async`: fsync every raftLogSyncIntervalMs. */
  raftLogSync: z.enum(['always', 'async']).default('always'),
  raftLogSyncIntervalMs: durationMs().prefault('10ms'),
  raftLogSegmentBytes: byteSize().prefault('64MiB'),
  /** Bound on log entry payload bytes the WAL keeps in memory across all groups. */
  raftEntryCacheBytesMax: byteSize().prefault('64MiB'),
  raftTickIntervalMs: durationMs().prefault('100ms'),
  raftElectionTimeoutTicks: z.number().int().min(2).default(10),
  raftHeartbeatIntervalTicks: z.number().int().min(1).default(2),
  /** Max bytes of entries in one append message. */
  raftMessageBytesMax: byteSize().prefault('1MiB'),
  /** Pipelining window per follower, in messages. */
  raftInflightMessagesMax: z.number().int().min(1).default(256),
  /** Leader refuses proposals (SERVER_BUSY) beyond this much uncommitted payload per shard. */
  raftUncommittedBytesMax: byteSize().prefault('256MiB'),
  /** Bytes of committed entries applied per shard per turn. */
  raftApplyBytesPerTurnMax: byteSize().prefault('16MiB'),
  /** Leader lease reads (check-quorum lease) instead of a ReadIndex round per read batch. */
  raftLeaseReads: z.boolean().default(true),
  /** Idle groups stop ticking and heartbeating (see docs/node.md, "Hibernation"). */
  raftHibernate: z.boolean().default(true),
  /** Compact a replica's log once it holds this many applied entries. */
  raftLogCompactThresholdEntries: z.number().int().min(1).default(10_000),
  /** Applied entries kept after compaction, so briefly lagging followers need no snapshot. */
  raftLogCompactKeepEntries: z.number().int().min(0).default(1_000),
  raftLogCompactIntervalMs: durationMs().prefault('10s'),
  raftLogGcIntervalMs: durationMs().prefault('30s'),
  /** Messages buffered per replica between turns; beyond it they are dropped (raft retransmits). */
  raftInboxMessagesMax: z.number().int().min(1).default(4096),

  keyBytesMax: byteSize().prefault('64KiB'),
  valueBytesMax: byteSize().prefault('512MiB'),
  /** gRPC max receive message size: larger requests are refused before they are read. */
  requestBytesMax: byteSize().prefault('600MiB'),
  /** Keys of one BatchGet, ops of one BatchWrite. */
  batchKeysMax: z.number().int().min(1).default(10_000),
  scanLimitDefault: z.number().int().min(1).default(1000),
  scanLimitMax: z.number().int().min(1).default(10_000),
  /** Deadline of a request whose header gives none. */
  requestTimeoutMs: durationMs().prefault('10s'),
  pendingProposalsPerShardMax: z.number().int().min(1).default(4096),
  pendingProposalsPerNodeMax: z.number().int().min(1).default(65536),
  /** Reads waiting for a read index or for apply, per node. */
  pendingReadsPerNodeMax: z.number().int().min(1).default(65536),

  snapshotRateBytesPerSec: byteSize().prefault('64MiB'),
  snapshotChunkBytes: byteSize().prefault('1MiB'),
  /** Outgoing snapshots streamed at once by this node. */
  snapshotSendsMax: z.number().int().min(1).default(4),
  /** Raft messages queued per peer node; beyond it they are dropped and counted. */
  transportSendQueueBytesMax: byteSize().prefault('64MiB'),
  transportReconnectBackoffInitialMs: durationMs().prefault('100ms'),
  transportReconnectBackoffMaxMs: durationMs().prefault('5s'),

  valueSeparationThresholdBytes: byteSize().prefault('16KiB'),
  valueLogFileBytes: byteSize().prefault('256MiB'),
  valueLogGcGarbageRatio: z.number().gt(0).lt(1).default(0.5),
  valueLogGcRateBytesPerSec: byteSize().prefault('32MiB'),
  valueLogGcIntervalMs: durationMs().prefault('60s'),

  /** How often leaders look for expired keys. */
  ttlSweepIntervalMs: durationMs().prefault('1s'),
  /** Expired keys proposed for deletion per second, per node. */
  ttlSweepKeysPerSecMax: z.number().int().min(1).default(10_000),
  /** Shards examined per second by the sweeper, per node (bounds the idle cost). */
  ttlSweepShardsPerSecMax: z.number().int().min(1).default(200),

  shutdownTimeoutMs: durationMs().prefault('10s'),

  /** Static layout (until the metaserver drives the node): every node's address. */
  nodes: z.array(nodeAddressSchema).default([]),
  tables: z.array(tableSchema).default([]),
  shards: z.array(shardSchema).default([]),
}).superRefine((c, ctx) => {
  if (c.raftElectionTimeoutTicks <= c.raftHeartbeatIntervalTicks) {
    ctx.addIssue({ code: 'custom', path: ['raftElectionTimeoutTicks'], message: 'must be greater than raftHeartbeatIntervalTicks' });
  }
  if (c.scanLimitDefault > c.scanLimitMax) {
    ctx.addIssue({ code: 'custom', path: ['scanLimitDefault'], message: 'must not exceed scanLimitMax' });
  }
  if (c.raftMessageBytesMax > c.requestBytesMax) {
    ctx.addIssue({ code: 'custom', path: ['raftMessageBytesMax'], message: 'must not exceed requestBytesMax' });
  }
  checkLayout(c, ctx);
});

function checkLayout(c: { tables: TableConfig[]; shards: ShardConfig[]; nodes: NodeAddress[] }, ctx: z.RefinementCtx): void {
  const tables = new Map(c.tables.map((t) => [t.id, t]));
  const nodeIds = new Set(c.nodes.map((n) => n.nodeId));
  const peers = new Set<number>();
  const shardIds = new Set<number>();
  c.shards.forEach((s, i) => {
    const at = (field: string) => ['shards', i, field];
    if (shardIds.has(s.id)) ctx.addIssue({ code: 'custom', path: at('id'), message: `duplicate shard id ${s.id}` });
    shardIds.add(s.id);
    const table = tables.get(s.tableId);
    if (table === undefined) {
      ctx.addIssue({ code: 'custom', path: at('tableId'), message: `no table ${s.tableId} in tables` });
    } else if (table.partition === 'hash' && (s.startKey !== undefined || s.endKey !== undefined)) {
      ctx.addIssue({ code: 'custom', path: at('startKey'), message: 'hash tables take slots, not keys' });
    } else if (table.partition === 'range' && s.slots !== undefined) {
      ctx.addIssue({ code: 'custom', path: at('slots'), message: 'range tables take startKey/endKey, not slots' });
    }
    if (s.slots !== undefined && s.slots[0] >= s.slots[1]) {
      ctx.addIssue({ code: 'custom', path: at('slots'), message: 'must be [from, to) with from < to' });
    }
    const onNodes = new Set<number>();
    for (const r of s.replicas) {
      if (!nodeIds.has(r.nodeId)) ctx.addIssue({ code: 'custom', path: at('replicas'), message: `node ${r.nodeId} is not in nodes` });
      if (onNodes.has(r.nodeId)) ctx.addIssue({ code: 'custom', path: at('replicas'), message: `two replicas on node ${r.nodeId}` });
      if (peers.has(r.peerId)) ctx.addIssue({ code: 'custom', path: at('replicas'), message: `peer id ${r.peerId} used twice` });
      onNodes.add(r.nodeId);
      peers.add(r.peerId);
    }
  });
}

export type NodeConfig = z.output<typeof nodeConfigSchema>;
export type NodeAddress = z.output<typeof nodeAddressSchema>;
export type TableConfig = z.output<typeof tableSchema>;
export type ShardConfig = z.output<typeof shardSchema>;
