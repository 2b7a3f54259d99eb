/**
 * Options of a storage node (`shoal node --config node.yaml`). Names carry their unit last;
 * every queue and size has a named limit here (STYLE.md rule 9), validated at start-up with
 * a message naming the option.
 *
 * Two modes:
 * - static: a layout in the config — `nodes` (every node's gRPC address), `tables` and
 *   `shards` (each with its replicas). Every node of the layout gets the same three lists;
 *   each creates the replicas that name its `nodeId` (once: a replica that exists or was
 *   removed is never recreated from the layout). `nodeId` is required.
 * - dynamic (`metaservers` non-empty): the metaserver drives the node (src/meta/). `nodeId`
 *   is optional (the metaserver allocates one; it is persisted in the data dir), the
 *   cluster id comes from the metaserver, and the static layout options are refused.
 */
import { byteSize, durationMs, hostPort, logLevel, SLOT_COUNT } from '@shoal/common';
import { z } from 'zod';

/** Members of a metaserver group a node may name. */
const METASERVERS_MAX = 16;

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
  /** Stable id of this node in the cluster; required in static mode, optional (allocated) in dynamic mode. */
  nodeId: z.number().int().min(1).max(2 ** 32 - 1).optional(),
  /** Directory for the Raft WAL, the classic-level DB and value-log files. */
  dataDir: z.string().min(1),
  listen: hostPort().default('127.0.0.1:7200'),
  /** Address peers and clients dial; defaults to `listen`. */
  advertise: hostPort().optional(),
  httpListen: hostPort().default('127.0.0.1:8200'),
  /** Metaserver members (host:port); non-empty = dynamic mode (`--metaservers a,b,c`, `SHOAL_METASERVERS=a,b,c`). */
  metaservers: z.array(hostPort()).max(METASERVERS_MAX).default([]),
  /** Static mode: every node of one cluster has the same id (the Raft transport refuses other clusters' peers). Dynamic mode: ignored, the metaserver's id is used. */
  clusterId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(1),
  /** Placement labels reported to the metaserver (dynamic mode). */
  zone: z.string().min(1).default('default'),
  pool: z.string().min(1).default('default'),
  /** Capacity reported to the metaserver; 0 = the size of dataDir's filesystem (statfs). */
  capacityBytes: byteSize().prefault(0),
  /** Deadline of one metaserver RPC attempt. */
  metaRequestTimeoutMs: durationMs().prefault('3s'),
  /** Start-up gives up (exit 1) if no metaserver accepted the registration by then. */
  metaRegisterTimeoutMs: durationMs().prefault('5m'),
  metaRetryBackoffInitialMs: durationMs().prefault('100ms'),
  metaRetryBackoffMaxMs: durationMs().prefault('5s'),
  /** Shard heartbeats in flight at once. */
  shardHeartbeatConcurrencyMax: z.number().int().min(1).max(1024).default(16),
  /** An idle hibernating shard whose last heartbeat was acknowledged reports only every this many intervals. */
  shardHeartbeatIdleIntervals: z.number().int().min(1).max(1000).default(10),
  /** Operator ids remembered (with their outcome) for idempotence. */
  operatorHistoryMax: z.number().int().min(16).max(1_000_000).default(4096),
  /** How often the node → address map is reloaded from the metaserver (also on a miss). */
  nodeAddressRefreshIntervalMs: durationMs().prefault('30s'),
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
  /**
   * FOR TESTING ONLY (chaos tests, docs/reliability.md): serve GET /failpoints on httpListen,
   * which lets anyone who reaches that port partition this node, fail its WAL or skew its
   * clock (node/src/failpoints.ts). Never enable on a real deployment.
   */
  failpointsEnabled: z.boolean().default(false),
  /** Failpoints active from the start (needs failpointsEnabled), e.g. `wal-fsync-error` or `drop-to=2+3`. */
  failpoints: z.string().max(1024).default(''),

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
  checkMode(c, ctx);
});

interface ModeFields {
  metaservers: string[]; nodeId?: number | undefined; listen: string; advertise?: string | undefined;
  nodes: unknown[]; tables: unknown[]; shards: unknown[]; metaRetryBackoffInitialMs: number; metaRetryBackoffMaxMs: number;
}

function checkMode(c: ModeFields, ctx: z.RefinementCtx): void {
  if (c.metaservers.length === 0) {
    if (c.nodeId === undefined) ctx.addIssue({ code: 'custom', path: ['nodeId'], message: 'is required in static mode (no metaservers)' });
    return;
  }
  for (const option of ['nodes', 'tables', 'shards'] as const) {
    if (c[option].length > 0) {
      ctx.addIssue({ code: 'custom', path: [option], message: 'is a static-layout option; remove it in dynamic mode (metaservers is set), the metaserver owns the layout' });
    }
  }
  // The address is registered before the gRPC port is bound (the node id comes first).
  if (c.advertise === undefined && c.listen.endsWith(':0')) {
    ctx.addIssue({ code: 'custom', path: ['listen'], message: 'needs a fixed port (or set advertise) in dynamic mode: the address is registered before listening' });
  }
  if (c.metaRetryBackoffInitialMs < 1 || c.metaRetryBackoffMaxMs < c.metaRetryBackoffInitialMs) {
    ctx.addIssue({ code: 'custom', path: ['metaRetryBackoffMaxMs'], message: 'must be at least metaRetryBackoffInitialMs (≥ 1ms)' });
  }
}

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
