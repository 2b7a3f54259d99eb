/**
 * Test support: a fake metaserver member — a real grpc-js server serving GetRoutes,
 * GetTable, GetClusterInfo and WatchRoutes from the routes its cluster has *published*
 * (which may lag behind what nodes enforce, as a real metaserver does). A member that is
 * not the leader answers NOT_LEADER with the leader's address and ends watch streams.
 */
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { common, meta } from '@shoal/proto';

/** What a member needs from its cluster. */
export interface MetaCluster {
  leaderMeta(): FakeMeta | undefined;
  members(): readonly FakeMeta[];
  table(sel: { name: string; id: number }): meta.TableInfo | undefined;
  routes(tableId: number): meta.GetRoutesResponse;
}

export class FakeMeta {
  /** Calls per method name (e.g. 'GetRoutes'). */
  readonly calls = new Map<string, number>();
  readonly watchers = new Set<ServerWritableStream<meta.WatchRoutesRequest, meta.RouteEvent>>();
  /** WatchRoutes requests received. */
  readonly watchRequests: meta.WatchRoutesRequest[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(readonly id: number, private readonly cluster: MetaCluster) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isLeader(): boolean {
    return this.cluster.leaderMeta() === this;
  }

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  async start(): Promise<void> {
    const server = new Server();
    const impl: Pick<meta.MetaServer, 'getRoutes' | 'getTable' | 'getClusterInfo' | 'watchRoutes'> = {
      getRoutes: (call, cb) => this.unary('GetRoutes', call, cb, (error) => meta.GetRoutesResponse.create({ error }), (r) => {
        const t = this.cluster.table({ name: r.tableName, id: r.tableId });
        if (t === undefined) return meta.GetRoutesResponse.create({ error: detail('TABLE_NOT_FOUND', `no table ${r.tableName || r.tableId}`) });
        return this.cluster.routes(t.id);
      }),
      getTable: (call, cb) => this.unary('GetTable', call, cb, (error) => meta.GetTableResponse.create({ error }), (r) => {
        const table = this.cluster.table({ name: r.name, id: r.id });
        return table === undefined ? meta.GetTableResponse.create({ error: detail('TABLE_NOT_FOUND', 'no such table') }) : meta.GetTableResponse.create({ table });
      }),
      getClusterInfo: (call, cb) => {
        this.bump('GetClusterInfo');
        const leader = this.cluster.leaderMeta();
        cb(null, meta.GetClusterInfoResponse.create({
          clusterId: 1, leaderId: leader?.id ?? 0,
          members: this.cluster.members().map((m) => meta.MetaMember.create({ id: m.id, address: m.address, isLeader: m === leader })),
        }));
      },
      watchRoutes: (call) => {
        this.bump('WatchRoutes');
        this.watchRequests.push(call.request);
        if (!this.isLeader) {
          call.emit('error', { code: status.UNAVAILABLE, details: 'not the metaserver leader' });
          return;
        }
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
        call.on('close', () => this.watchers.delete(call));
      },
    };
    server.addService(meta.MetaService, impl);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    this.server = server;
  }

  /** Sends an event to every watcher of its table (a resync to every watcher). */
  push(ev: meta.RouteEvent): void {
    for (const w of this.watchers) {
      if (w.request.tableIds.length === 0 || w.request.tableIds.includes(ev.tableId) || ev.resync) w.write(ev);
    }
  }

  /** Ends every watch stream (as a member losing leadership does). */
  endWatches(): void {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }

  stop(): void {
    this.endWatches();
    this.server?.forceShutdown();
    this.server = undefined;
  }

  async restart(): Promise<void> {
    this.stop();
    await this.start();
  }

  private bump(method: string): void {
    this.calls.set(method, this.count(method) + 1);
  }

  private unary<Req, Res>(
    method: string, call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>,
    fail: (e: common.ErrorDetail) => Res, serve: (req: Req) => Res,
  ): void {
    this.bump(method);
    const leader = this.cluster.leaderMeta();
    if (leader !== this) {
      const leaderHint = common.LeaderHint.create({ nodeId: leader?.id ?? 0, peerId: leader?.id ?? 0, address: leader?.address ?? '' });
      cb(null, fail(common.ErrorDetail.create({ code: 'NOT_LEADER', message: 'not the metaserver leader', leaderHint })));
      return;
    }
    cb(null, serve(call.request));
  }
}

function detail(code: string, message: string): common.ErrorDetail {
  return common.ErrorDetail.create({ code, message });
}
