/**
 * Process wiring of a storage node: opens the WAL and the engine under `dataDir`, builds
 * the Raft transport, the multi-raft scheduler and the replica manager, recovers the
 * replicas, creates the static layout's new ones, and serves gRPC (Kv, NodeAdmin,
 * RaftTransport on one port) and HTTP (/metrics, /healthz).
 *
 * Dynamic mode (`metaservers` set): before anything is opened, the node registers with
 * the metaserver (its node id may be allocated there and is saved in the data dir,
 * meta/registration.ts); once it serves, meta/dynamic-node.ts sends the heartbeats and
 * runs the operators. Peer addresses come from the metaserver (meta/node-directory.ts).
 *
 * Shutdown (`stop`) runs in the reverse order: background jobs, the gRPC server (no new
 * calls), the scheduler (no new turns; waiters fail UNAVAILABLE), the transport, then the
 * WAL (flushed) and the engine. A WAL or engine write failure is fatal: `fatal` resolves
 * with the error, the scheduler stops turning, and the process must exit non-zero.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createLogger, createRegistry, KvError, parseHostPort, startHttpServer } from '@shoal/common';
import type { Logger, Registry, RunningHttpServer } from '@shoal/common';
import { admin, kv } from '@shoal/proto';
import type { NodeConfig } from './config.js';
import { Failpoints } from './failpoints.js';
import { Engine } from './engine/index.js';
import { DescriptorStore } from './raft/descriptor-store.js';
import { Housekeeping } from './raft/housekeeping.js';
import { localLayout, tableInfoOf } from './raft/layout.js';
import { ReplicaManager } from './raft/replica-manager.js';
import { Scheduler } from './raft/scheduler.js';
import { RaftTransport } from './raft/transport.js';
import { raftTransportServerOptions } from './raft/transport-options.js';
import { AdminService } from './service/admin-service.js';
import { KvService } from './service/kv-service.js';
import { NodeMetrics } from './service/metrics.js';
import { Wal } from './wal/index.js';
import type { WalFailpoints } from './wal/index.js';
import { DynamicNode } from './meta/dynamic-node.js';
import { MetaClient } from './meta/meta-client.js';
import { NodeDirectory } from './meta/node-directory.js';
import { capacityOf, NodeStatsSource } from './meta/node-stats.js';
import { registerNode } from './meta/registration.js';

/** In-flight calls get this long to finish at shutdown (idle client connections would hold tryShutdown forever). */
const GRPC_DRAIN_MS_MAX = 2000;
/** Room for a raft message's framing around one maximal entry. */
const RAFT_MESSAGE_SLACK_BYTES = 1 << 20;

export interface NodeServerOptions {
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Tests and chaos: storage fault injection (never set in production). */
  readonly failpoints?: { readonly wal?: WalFailpoints };
}

export class NodeServer {
  /** Resolves with the error when the node hit a fatal storage failure. */
  readonly fatal: Promise<unknown>;
  private resolveFatal!: (e: unknown) => void;
  private failed = false;
  private stopping: Promise<void> | null = null;
  grpcPort = 0;
  private http: RunningHttpServer | null = null;
  private grpc: Server | null = null;
  private housekeeping: Housekeeping | null = null;
  private scheduler: Scheduler | null = null;
  private transport: RaftTransport | null = null;
  private wal: Wal | null = null;
  private engine: Engine | null = null;
  private dynamicNode: DynamicNode | null = null;
  private kvService: KvService | null = null;
  private metaClient: MetaClient | null = null;
  /** This node's id: configured (static mode) or registered (dynamic mode); 0 until known. */
  nodeId = 0;

  private constructor(
    readonly config: NodeConfig, readonly logger: Logger, readonly registry: Registry, private readonly failpoints: NodeServerOptions['failpoints'],
  ) {
    this.fatal = new Promise((resolve) => {
      this.resolveFatal = resolve;
    });
  }

  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  get replicas(): Scheduler {
    return this.scheduler!;
  }

  /** The engine's options of a table, if this node knows it (tests, diagnostics). */
  tableInfo(tableId: number): { readonly tableId: number; readonly partition: string; readonly valueSeparationThresholdBytes: number; readonly defaultTtlMs: number } | undefined {
    const t = this.engine?.table(tableId);
    return t === undefined ? undefined : { ...t };
  }

  /** Dynamic mode's heartbeats and operators; null in static mode. */
  get dynamic(): DynamicNode | null {
    return this.dynamicNode;
  }

  static async start(config: NodeConfig, options: NodeServerOptions = {}): Promise<NodeServer> {
    mkdirSync(config.dataDir, { recursive: true });
    const logger = options.logger ?? createLogger({
      name: 'node', level: config.logLevel, nodeId: config.nodeId,
      file: config.logFile === undefined ? undefined : isAbsolute(config.logFile) ? config.logFile : join(config.dataDir, config.logFile),
    });
    const server = new NodeServer(config, logger, options.registry ?? createRegistry('node'), options.failpoints);
    try {
      await server.open();
    } catch (e) {
      await server.stop().catch(() => undefined);
      throw e;
    }
    return server;
  }

  private async open(): Promise<void> {
    const c = this.config;
    const startedAtMs = Date.now();
    const ids = await this.identify();
    const nodeId = ids.nodeId;
    // An allocated id was not known when the logger was made: every component's lines carry it from here on.
    const log = c.nodeId === undefined ? this.logger.child({ nodeId }) : this.logger;
    this.nodeId = nodeId;
    const directory = new NodeDirectory({ logger: log.child({ component: 'directory' }), meta: this.metaClient, refreshIntervalMs: c.nodeAddressRefreshIntervalMs });
    for (const n of c.nodes) directory.set(n.nodeId, n.address);
    directory.set(nodeId, c.advertise ?? c.listen, true);
    if (this.metaClient !== null) {
      await directory.refresh().catch((e: unknown) => log.warn({ err: e }, 'loading node addresses failed; retried on demand'));
    }
    const addressOf = directory.addressOf;
    const onFatal = (e: unknown): void => this.onFatal(e);

    // Chaos tests only: config failpoints, else the caller's WAL hooks (unit tests).
    const failpoints = c.failpointsEnabled ? new Failpoints(c.failpoints) : undefined;
    if (failpoints === undefined && c.failpoints !== '') {
      throw new KvError('CONFIG_INVALID', 'failpoints: needs failpointsEnabled: true (testing only)', { details: { option: 'failpoints' } });
    }
    const walFailpoints = failpoints?.wal() ?? this.failpoints?.wal;
    this.wal = await Wal.open({
      dir: join(c.dataDir, 'wal'), segmentBytes: c.raftLogSegmentBytes, sync: c.raftLogSync, syncIntervalMs: c.raftLogSyncIntervalMs,
      entryCacheBytesMax: c.raftEntryCacheBytesMax, logger: log.child({ component: 'wal' }),
      recordBytesMax: Math.max(c.requestBytesMax, 1 << 20),
      ...(walFailpoints === undefined ? {} : { failpoints: walFailpoints }),
    });
    this.engine = await Engine.open({
      dir: c.dataDir, valueLogFileBytes: c.valueLogFileBytes, valueLogGcGarbageRatio: c.valueLogGcGarbageRatio,
      valueLogGcRateBytesPerSec: c.valueLogGcRateBytesPerSec, keyBytesMax: c.keyBytesMax, valueBytesMax: c.valueBytesMax,
      batchKeysMax: c.batchKeysMax, scanPageKeysDefault: c.scanLimitDefault, scanPageKeysMax: c.scanLimitMax,
      logger: log.child({ component: 'engine' }),
    });
    const engine = this.engine;
    for (const t of c.tables) {
      const info = tableInfoOf(t, c.valueSeparationThresholdBytes);
      const cur = engine.table(t.id);
      if (cur === undefined || cur.defaultTtlMs !== info.defaultTtlMs || cur.valueSeparationThresholdBytes !== info.valueSeparationThresholdBytes) {
        await engine.setTable(info);
      }
    }

    // One gRPC port for clients and peers: its receive limit is requestBytesMax, and raft
    // entries (commands carved from requests) stay below it with room for the framing.
    const grpcMessageBytesMax = c.requestBytesMax;
    let scheduler: Scheduler | null = null;
    this.transport = new RaftTransport({
      nodeId, clusterId: ids.clusterId, resolve: addressOf,
      onMessages: (batch) => scheduler?.onMessages(batch),
      onSnapshot: (header, chunks) => {
        if (scheduler === null) return Promise.reject(new KvError('NOT_READY', 'node is starting'));
        return scheduler.receiveSnapshot(header, chunks);
      },
      onUnreachable: (nodeId) => scheduler?.onUnreachable(nodeId),
      snapshotRateBytesPerSec: c.snapshotRateBytesPerSec, snapshotChunkBytes: c.snapshotChunkBytes,
      // A peer's queue must hold at least one maximal message (the transport requires it).
      sendQueueBytesMax: Math.max(c.transportSendQueueBytesMax, grpcMessageBytesMax),
      reconnectBackoffMs: { initial: c.transportReconnectBackoffInitialMs, max: c.transportReconnectBackoffMaxMs },
      logger: log.child({ component: 'transport' }), grpcMessageBytesMax, registry: this.registry,
      ...(failpoints === undefined ? {} : { failpoints: { dropTo: (n: number) => failpoints.dropsTo(n), dropFrom: (n: number) => failpoints.dropsFrom(n) } }),
    });

    const metricsSources = {
      replicas: () => scheduler?.replicaCount ?? 0,
      leaders: () => countLeaders(scheduler),
      hibernating: () => (scheduler === null ? 0 : scheduler.replicaCount - scheduler.awakeCount),
      walFsyncs: () => this.wal?.stats().fsyncs ?? 0,
      walFlushes: () => this.wal?.stats().flushes ?? 0,
      snapshotsSent: () => scheduler?.snapshotStats.sent ?? 0,
      snapshotsFailed: () => scheduler?.snapshotStats.failed ?? 0,
    };
    const metrics = new NodeMetrics(this.registry, metricsSources);
    const engineRecordsDescriptors = await recordsDescriptors(engine);
    const descriptorStore = new DescriptorStore(c.dataDir);
    scheduler = new Scheduler({
      nodeId, wal: this.wal, engine, transport: this.transport, addressOf, logger: log.child({ component: 'raft' }),
      tickIntervalMs: c.raftTickIntervalMs, electionTimeoutTicks: c.raftElectionTimeoutTicks, heartbeatIntervalTicks: c.raftHeartbeatIntervalTicks,
      messageBytesMax: c.raftMessageBytesMax, inflightMessagesMax: c.raftInflightMessagesMax, uncommittedBytesMax: c.raftUncommittedBytesMax,
      proposalBytesMax: Math.max(c.requestBytesMax - RAFT_MESSAGE_SLACK_BYTES, 1), applyBytesPerTurnMax: c.raftApplyBytesPerTurnMax, leaseReads: c.raftLeaseReads,
      hibernate: c.raftHibernate, walSync: c.raftLogSync, inboxMessagesMax: c.raftInboxMessagesMax,
      pendingProposalsPerShardMax: c.pendingProposalsPerShardMax, pendingProposalsPerNodeMax: c.pendingProposalsPerNodeMax,
      pendingReadsPerNodeMax: c.pendingReadsPerNodeMax, snapshotSendsMax: c.snapshotSendsMax, snapshotChunkBytes: c.snapshotChunkBytes,
      engineRecordsDescriptors,
      ...(engineRecordsDescriptors ? {} : { descriptorStore }),
      onFatal,
      observer: {
        turn: (seconds, readies) => {
          metrics.turnSeconds.observe(seconds);
          if (readies > 0) metrics.readiesPerTurn.observe(readies);
        },
        applied: (n) => metrics.appliedEntries.inc(n),
        roleChanged: (shardId) => this.dynamicNode?.onRoleChanged(shardId),
      },
    });
    this.scheduler = scheduler;

    const replicas = new ReplicaManager({
      nodeId, engine, wal: this.wal, scheduler, logger: log.child({ component: 'replicas' }),
      ...(engineRecordsDescriptors ? {} : { descriptorStore }),
    });
    const recovered = await replicas.recover();
    const created = await replicas.createLayout(localLayout({ ...c, nodeId }));

    const grpc = new Server(raftTransportServerOptions({ grpcMessageBytesMax }));
    this.grpc = grpc;
    const kvService = new KvService({
      scheduler, engine, metrics, logger: log.child({ component: 'kv' }),
      limits: {
        keyBytesMax: c.keyBytesMax, valueBytesMax: c.valueBytesMax, batchKeysMax: c.batchKeysMax,
        scanLimitDefault: c.scanLimitDefault, scanLimitMax: c.scanLimitMax, requestTimeoutMs: c.requestTimeoutMs,
      },
    });
    this.kvService = kvService;
    grpc.addService(kv.KvService, kvService.handlers());
    const adminService = new AdminService({
      nodeId, scheduler, replicas, addressOf, timeoutMs: c.requestTimeoutMs, logger: log.child({ component: 'admin' }),
    });
    if (this.metaClient !== null) {
      this.dynamicNode = new DynamicNode({
        config: c, client: this.metaClient, identity: ids, heartbeatIntervalMs: ids.heartbeatIntervalMs, directory,
        replicas: scheduler, removeReplica: (shardId, peerId, force) => replicas.remove(shardId, peerId, force),
        admin: adminService, engine, logger: log,
        nodeStats: new NodeStatsSource({
          dataDir: c.dataDir, capacityBytes: c.capacityBytes, startedAtMs,
          counts: () => replicaCounts(scheduler),
          writes: () => scheduler?.stats.proposals ?? 0,
          reads: async () => sumCounter(await metrics.reads.get()),
        }),
      });
    }
    const adminHandlers = adminService.handlers();
    grpc.addService(admin.NodeAdminService, this.dynamicNode?.wrapAdminHandlers(adminHandlers) ?? adminHandlers);
    this.transport.addToServer(grpc);
    this.grpcPort = await bind(grpc, c.listen);
    if (parseHostPort(c.listen).port === 0 && c.advertise === undefined) directory.set(nodeId, `${parseHostPort(c.listen).host}:${this.grpcPort}`, true);

    scheduler.start();
    this.housekeeping = new Housekeeping({
      scheduler, engine, walGc: () => this.wal!.maybeGc(), logger: log.child({ component: 'housekeeping' }),
      compactIntervalMs: c.raftLogCompactIntervalMs, compactThresholdEntries: c.raftLogCompactThresholdEntries,
      compactKeepEntries: c.raftLogCompactKeepEntries, walGcIntervalMs: c.raftLogGcIntervalMs,
      ttlSweepIntervalMs: c.ttlSweepIntervalMs, ttlSweepKeysPerSecMax: c.ttlSweepKeysPerSecMax,
      ttlSweepShardsPerSecMax: c.ttlSweepShardsPerSecMax, ttlBatchKeysMax: c.batchKeysMax, valueLogGcIntervalMs: c.valueLogGcIntervalMs,
      onExpiredProposed: (n) => metrics.ttlExpiredProposed.inc(n),
      onValueLogGc: (r) => metrics.vlogGcReclaimedBytes.inc(r.bytesReclaimed),
      onFatal,
    });
    this.housekeeping.start();
    this.dynamicNode?.start();

    const httpAt = parseHostPort(c.httpListen);
    this.http = await startHttpServer({
      host: httpAt.host, port: httpAt.port, registry: this.registry, logger: log,
      ...(failpoints === undefined ? {} : { handlers: { '/failpoints': (req, res) => failpoints.handle(req, res) } }),
      health: () => ({
        healthy: !this.failed && this.stopping === null,
        checks: {
          storage: { healthy: !this.failed, ...(this.failed ? { detail: 'fatal storage failure' } : {}) },
          replicas: { healthy: true, detail: `${scheduler.replicaCount} replicas, ${countLeaders(scheduler)} leading` },
        },
      }),
    });
    log.info({ nodeId, grpcPort: this.grpcPort, httpPort: this.http.port, recovered, created, dataDir: c.dataDir, dynamic: this.dynamicNode !== null },
      'storage node started');
  }

  /** Static mode: the configured ids. Dynamic mode: registers first (the WAL and engine need the node id). */
  private async identify(): Promise<{ nodeId: number; clusterId: number; heartbeatIntervalMs: number }> {
    const c = this.config;
    if (c.metaservers.length === 0) return { nodeId: c.nodeId!, clusterId: c.clusterId, heartbeatIntervalMs: 0 };
    this.metaClient = new MetaClient({
      addresses: c.metaservers, requestTimeoutMs: c.metaRequestTimeoutMs, backoffInitialMs: c.metaRetryBackoffInitialMs,
      backoffMaxMs: c.metaRetryBackoffMaxMs, logger: this.logger.child({ component: 'meta-client' }),
    });
    const reg = await registerNode(this.metaClient, c, capacityOf(c.dataDir, c.capacityBytes), this.logger);
    return { ...reg.identity, heartbeatIntervalMs: reg.heartbeatIntervalMs };
  }

  private onFatal(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.logger.fatal({ err: e }, 'fatal storage failure: the node stops (it cannot know what is durable)');
    this.resolveFatal(e);
  }

  /** Graceful shutdown; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const log = this.logger;
    await this.dynamicNode?.stop();
    this.metaClient?.close();
    await this.housekeeping?.stop();
    // Before the scheduler: a sweep step proposes through it.
    this.kvService?.subkeySweeper.stop();
    if (this.grpc !== null) {
      const grpc = this.grpc;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          grpc.forceShutdown();
          resolve();
        }, Math.min(this.config.shutdownTimeoutMs / 2, GRPC_DRAIN_MS_MAX));
        grpc.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await this.scheduler?.stop();
    await this.transport?.close();
    await this.wal?.close({ flush: !this.failed }).catch((e: unknown) => log.warn({ err: e }, 'closing the WAL failed'));
    await this.engine?.close().catch((e: unknown) => log.warn({ err: e }, 'closing the engine failed'));
    await this.http?.close();
    log.info('storage node stopped');
  }
}

function replicaCounts(s: Scheduler | null): { replicas: number; leaders: number; receivingSnapshots: number } {
  let replicas = 0;
  let leaders = 0;
  let receivingSnapshots = 0;
  for (const r of s?.allReplicas() ?? []) {
    replicas++;
    if (r.isLeader) leaders++;
    if (r.receivingSnapshot) receivingSnapshots++;
  }
  return { replicas, leaders, receivingSnapshots };
}

function sumCounter(m: { values: readonly { value: number }[] }): number {
  let n = 0;
  for (const v of m.values) n += v.value;
  return n;
}

function countLeaders(s: Scheduler | null): number {
  if (s === null) return 0;
  let n = 0;
  for (const r of s.allReplicas()) if (r.isLeader) n++;
  return n;
}

/** Whether the engine's apply batch records descriptors after conf changes. */
async function recordsDescriptors(engine: Engine): Promise<boolean> {
  const probe = engine.beginApply() as unknown as { setDescriptor?: unknown; commit(): Promise<void> };
  const has = typeof probe.setDescriptor === 'function';
  await probe.commit();
  return has;
}

function bind(server: Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (e, port) => {
      if (e !== null) reject(new KvError('UNAVAILABLE', `cannot listen for gRPC on ${address}: ${e.message}`, { cause: e }));
      else resolve(port);
    });
  });
}
