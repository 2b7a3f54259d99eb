/**
 * Dynamic mode's background work, started once the node serves gRPC (server.ts):
 * NodeHeartbeat every interval (obeying REREGISTER and DESTROY_REPLICA, and sending the
 * shard heartbeats its reply asks for at once), shard heartbeats
 * with operators (shard-heartbeat.ts, operators.ts), the node address directory's reloads,
 * and the NodeAdmin.CreateReplica preparation: before AdminService creates a replica, the
 * addresses of every node the descriptor names and the table's options (Meta.GetTable,
 * persisted by the engine) are fetched if this node does not know them yet, and an
 * earlier joiner of the shard that never joined (a failed add-learner) is removed.
 *
 * Stop: timers and the directory's reloads end, the client closes (calls in flight fail
 * CANCELLED), then the loops are awaited. Operators already running finish or fail on their own.
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import type { NodeConfig } from '../config.js';
import type { TableInfoLike } from '../raft/replica-manager.js';
import type { Replica } from '../raft/replica.js';
import type { NodeIdentity } from './identity.js';
import type { MetaClient } from './meta-client.js';
import type { NodeDirectory } from './node-directory.js';
import type { NodeStatsSource } from './node-stats.js';
import { capacityOf } from './node-stats.js';
import { OperatorExecutor } from './operators.js';
import type { ShardAdminPort } from './operators.js';
import { reregister } from './registration.js';
import { ShardHeartbeats } from './shard-heartbeat.js';
import { ShardStatsSource } from './shard-stats.js';
import type { ShardDataAccess } from './shard-stats.js';

export interface DynamicNodeOptions {
  readonly config: NodeConfig;
  readonly client: MetaClient;
  readonly identity: NodeIdentity;
  readonly heartbeatIntervalMs: number;
  readonly directory: NodeDirectory;
  readonly replicas: {
    allReplicas(): IterableIterator<Replica>;
    replica(shardId: number): Replica | undefined;
  };
  readonly removeReplica: (shardId: number, peerId: number, force: boolean) => Promise<unknown>;
  readonly admin: ShardAdminPort;
  readonly engine: ShardDataAccess & {
    table(tableId: number): TableInfoLike | undefined;
    setTable(t: TableInfoLike): Promise<void>;
  };
  readonly nodeStats: NodeStatsSource;
  /** The node's logger; each part adds its own component. */
  readonly logger: Logger;
}

export class DynamicNode {
  private intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private stopped = false;
  private readonly log: Logger;
  readonly executor: OperatorExecutor;
  readonly shardHeartbeats: ShardHeartbeats;
  /** Counters for tests and logs. */
  readonly counts = { nodeHeartbeats: 0, nodeHeartbeatsFailed: 0, reregistered: 0, destroyed: 0 };

  constructor(private readonly o: DynamicNodeOptions) {
    this.intervalMs = o.heartbeatIntervalMs;
    const log = o.logger;
    this.log = log.child({ component: 'meta' });
    this.executor = new OperatorExecutor({
      admin: o.admin, ensureKnown: (ids) => o.directory.ensureKnown(ids), historyMax: o.config.operatorHistoryMax,
      logger: log.child({ component: 'operators' }), onStateChange: (shardId) => this.shardHeartbeats.markDirty(shardId),
    });
    this.shardHeartbeats = new ShardHeartbeats({
      client: o.client, replicas: o.replicas, stats: new ShardStatsSource(o.engine), executor: this.executor,
      identity: () => o.identity, concurrencyMax: o.config.shardHeartbeatConcurrencyMax,
      idleIntervals: o.config.shardHeartbeatIdleIntervals, logger: log.child({ component: 'shard-heartbeat' }),
    });
  }

  start(): void {
    this.o.directory.start();
    this.shardHeartbeats.start(this.intervalMs);
    this.scheduleNodeHeartbeat(0);
  }

  /** A replica's raft role changed (scheduler observer): its leader reports promptly. */
  onRoleChanged(shardId: number): void {
    this.shardHeartbeats.markDirty(shardId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.o.directory.stop();
    // Closing the client first cancels calls in flight, so shutdown does not wait out their deadlines.
    this.o.client.close();
    await this.shardHeartbeats.stop();
    await this.beating;
  }

  /** NodeAdmin handlers with CreateReplica preceded by fetching unknown node addresses and table options. */
  wrapAdminHandlers(base: admin.NodeAdminServer): admin.NodeAdminServer {
    const createReplica: handleUnaryCall<admin.CreateReplicaRequest, admin.CreateReplicaResponse> = (call, callback) => {
      this.prepareCreate(call.request)
        .catch((e: unknown) => this.log.warn({ err: e, shardId: call.request.shard?.id }, 'preparing CreateReplica failed; AdminService decides'))
        .finally(() => base.createReplica(call, callback));
    };
    return { ...base, createReplica };
  }

  /** Addresses of the descriptor's nodes and the table's options, from the metaserver when unknown here. */
  async prepareCreate(req: admin.CreateReplicaRequest): Promise<void> {
    const shard = req.shard;
    if (shard === undefined) return;
    await this.removeOrphanJoiner(req);
    await this.o.directory.ensureKnown(shard.replicas.map((r) => r.nodeId));
    if (this.o.engine.table(shard.tableId) !== undefined) return;
    const res = await this.o.client.call(meta.MetaService.getTable, meta.GetTableRequest.create({ id: shard.tableId }));
    const t = res.table;
    if (t === undefined || t.id !== shard.tableId) return;
    const opts = t.options ?? meta.TableOptions.create();
    await this.o.engine.setTable({
      tableId: t.id, partition: opts.partition === meta.PartitionKind.RANGE ? 'range' : 'hash',
      valueSeparationThresholdBytes: opts.valueSeparationThresholdBytes, defaultTtlMs: opts.defaultTtlMs,
    });
    this.log.info({ tableId: t.id, name: t.name }, 'table options loaded from the metaserver');
  }

  /**
   * A replica of the shard already here under another peer id, which the new descriptor
   * does not list and which never joined its group (applied nothing, knows no
   * configuration): the joiner of an add-learner step that failed before the leader added
   * it. The metaserver never recorded it, so nobody destroys it, and it would refuse every
   * later replica of the shard on this node (ALREADY_EXISTS). It holds no data: removed.
   */
  private async removeOrphanJoiner(req: admin.CreateReplicaRequest): Promise<void> {
    const shard = req.shard;
    const r = shard === undefined || req.bootstrap ? undefined : this.o.replicas.replica(shard.id);
    if (r === undefined || r.peerId === req.peerId || shard!.replicas.some((x) => x.peerId === r.peerId)) return;
    const cs = r.confState;
    if (r.isLeader || r.appliedIndex > 0 || cs.voters.length + cs.learners.length + cs.votersOutgoing.length > 0) return;
    await this.o.removeReplica(r.shardId, r.peerId, true);
    this.log.warn({ shardId: r.shardId, peerId: r.peerId, newPeerId: req.peerId }, 'removed a joiner that never joined its group, for a new replica of the shard');
  }

  private scheduleNodeHeartbeat(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.nodeHeartbeat().finally(() => {
        this.beating = null;
        this.scheduleNodeHeartbeat(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async nodeHeartbeat(): Promise<void> {
    const id = this.o.identity;
    let res: meta.NodeHeartbeatResponse;
    try {
      res = await this.o.client.call(meta.MetaService.nodeHeartbeat, meta.NodeHeartbeatRequest.create({
        clusterId: id.clusterId, nodeId: id.nodeId, stats: await this.o.nodeStats.sample(Date.now()),
      }));
    } catch (e) {
      this.counts.nodeHeartbeatsFailed++;
      this.log.debug({ err: e }, 'node heartbeat not acknowledged');
      return;
    }
    this.counts.nodeHeartbeats++;
    if (res.reportShardIds.length > 0) this.shardHeartbeats.requestReports(res.reportShardIds);
    for (const cmd of res.commands) await this.obey(cmd);
  }

  private async obey(cmd: meta.NodeCommand): Promise<void> {
    switch (cmd.type) {
      case meta.NodeCommandType.REREGISTER: {
        try {
          const c = this.o.config;
          this.intervalMs = await reregister(this.o.client, c, capacityOf(c.dataDir, c.capacityBytes), this.o.identity);
          this.counts.reregistered++;
          this.shardHeartbeats.start(this.intervalMs);
          this.shardHeartbeats.resetAll();
          this.log.info({ heartbeatIntervalMs: this.intervalMs }, 're-registered with the metaserver');
        } catch (e) {
          this.log.warn({ err: e }, 're-registering failed; retried on the next REREGISTER');
        }
        return;
      }
      case meta.NodeCommandType.DESTROY_REPLICA:
        await this.destroy(cmd.shardId, cmd.peerId);
        return;
      default:
        this.log.warn({ type: cmd.type }, 'unknown node command ignored');
    }
  }

  /**
   * DESTROY_REPLICA: the metaserver says the peer is no longer a member of its group, so
   * the replica is removed with force (it may still believe itself a member: it missed the
   * conf change that removed it). One exception: a replica that leads its group is a
   * member as of its own latest configuration, newer than anything the metaserver saw —
   * destroying it would be the metaserver acting on stale news, so it is refused.
   */
  private async destroy(shardId: number, peerId: number): Promise<void> {
    const r = this.o.replicas.replica(shardId);
    if (r !== undefined && r.peerId === peerId && r.isLeader) {
      this.log.warn({ shardId, peerId }, 'DESTROY_REPLICA for a replica that leads its group: refused');
      return;
    }
    try {
      const out = await this.o.removeReplica(shardId, peerId, true);
      // 'absent': destroyed before (the metaserver repeats the command until it learns so).
      if (out === 'removed') {
        this.counts.destroyed++;
        this.log.info({ shardId, peerId }, 'replica destroyed on the metaserver\'s command');
      }
    } catch (e) {
      this.log.warn({ err: e, shardId, peerId }, 'DESTROY_REPLICA failed');
    }
  }
}
