/**
 * The metaserver process wiring: the member's Raft group (meta-raft.ts), the leader's
 * duties (leader.ts: scheduler loop, NodeAdmin driver, WatchRoutes), one gRPC port
 * (`listen`: RaftTransport + Meta + Admin) and HTTP `/metrics` + `/healthz` (`httpListen`).
 * Shutdown runs in reverse: HTTP health turns unhealthy, leader duties stop (streams and
 * waiting calls end UNAVAILABLE), gRPC drains, raft stops (waiters fail UNAVAILABLE),
 * transport and WAL close.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createLogger, createRegistry, KvError, parseHostPort, startHttpServer } from '@shoal/common';
import type { Logger, RunningHttpServer } from '@shoal/common';
import { raftTransportServerOptions } from '@shoal/node';
import { admin, meta } from '@shoal/proto';
import { memberAddresses } from './config.js';
import type { MetaserverConfig } from './config.js';
import { adminHandlers } from './admin-services.js';
import { LeaderDuty } from './leader.js';
import { MetaRaft } from './meta-raft.js';
import { createMetaMetrics } from './metrics.js';
import { metaHandlers } from './services.js';

const GRPC_DRAIN_MS_MAX = 5000;

export class MetaserverProcess {
  /** Resolves on a fatal storage failure (the process must exit 1). */
  readonly fatal: Promise<unknown>;
  grpcPort = 0;
  httpPort = 0;
  private resolveFatal!: (e: unknown) => void;
  private failed = false;
  private raft: MetaRaft | null = null;
  private leader: LeaderDuty | null = null;
  private grpc: Server | null = null;
  private http: RunningHttpServer | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(readonly config: MetaserverConfig, readonly logger: Logger) {
    this.fatal = new Promise((resolve) => {
      this.resolveFatal = resolve;
    });
  }

  static async start(config: MetaserverConfig): Promise<MetaserverProcess> {
    const logger = createLogger({ name: 'metaserver', level: config.logLevel, nodeId: config.id });
    const p = new MetaserverProcess(config, logger);
    try {
      await p.open();
    } catch (e) {
      await p.stop().catch(() => undefined);
      throw e;
    }
    return p;
  }

  private async open(): Promise<void> {
    const c = this.config;
    const log = this.logger;
    const members = memberAddresses(c);
    const registry = createRegistry('metaserver');
    this.raft = await MetaRaft.open({
      id: c.id, members, dataDir: c.dataDir, tickIntervalMs: c.raftTickIntervalMs, electionTimeoutTicks: c.raftElectionTimeoutTicks,
      heartbeatIntervalTicks: c.raftHeartbeatIntervalTicks, sync: c.raftLogSync, snapshotIntervalEntries: c.snapshotIntervalEntries,
      requestTimeoutMs: c.requestTimeoutMs, logger: log.child({ component: 'raft' }), onFatal: (e) => this.onFatal(e),
    });
    const raft = this.raft;
    const grpc = new Server(raftTransportServerOptions({ grpcMessageBytesMax: 16 << 20 }));
    this.grpc = grpc;
    const leader = new LeaderDuty(raft, c, createMetaMetrics(registry, raft), log.child({ component: 'leader' }));
    this.leader = leader;
    const ctx = { raft, leader, config: c, id: c.id, members, httpAddress: c.httpListen, logger: log.child({ component: 'service' }) };
    grpc.addService(meta.MetaService, metaHandlers(ctx));
    grpc.addService(admin.AdminService, adminHandlers(ctx));
    raft.transport.addToServer(grpc);
    this.grpcPort = await bind(grpc, c.listen);
    raft.start();
    const httpAt = parseHostPort(c.httpListen);
    this.http = await startHttpServer({
      host: httpAt.host, port: httpAt.port, registry, logger: log,
      health: () => ({
        healthy: !this.failed && this.stopping === null,
        checks: {
          storage: { healthy: !this.failed, ...(this.failed ? { detail: 'fatal storage failure' } : {}) },
          raft: {
            healthy: raft.leaderId !== 0,
            detail: `${raft.roleName} term ${raft.term} leader ${raft.leaderId} commit ${raft.commit} applied ${raft.applied}`,
          },
        },
      }),
    });
    this.httpPort = this.http.port;
    log.info({ grpcPort: this.grpcPort, httpPort: this.httpPort, members: [...members], dataDir: c.dataDir }, 'metaserver started');
  }

  private onFatal(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.logger.fatal({ err: e }, 'fatal storage failure: the metaserver stops (it cannot know what is durable)');
    this.resolveFatal(e);
  }

  /** Graceful shutdown; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    // Ends WatchRoutes streams and waiting CreateTable calls first, so gRPC can drain.
    this.leader?.close();
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
    await this.raft?.stop();
    await this.http?.close();
    this.logger.info('metaserver stopped');
  }
}

function bind(server: Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (e, port) => {
      if (e !== null) reject(new KvError('UNAVAILABLE', `cannot listen for gRPC on ${address}: ${e.message}`, { cause: e }));
      else resolve(port);
    });
  });
}
