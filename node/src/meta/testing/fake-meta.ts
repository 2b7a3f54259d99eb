/**
 * A fake metaserver for tests of dynamic mode: a real grpc-js server implementing
 * meta.MetaServer over loopback, recording what nodes send and answering from scripts
 * (allocated ids, commands for NodeHeartbeat, operators for ShardHeartbeat, nodes and
 * tables). `notLeaderOf` makes a second instance that answers every call NOT_LEADER with
 * a hint pointing at the real one, to exercise leader following.
 */
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { common, meta } from '@shoal/proto';

export interface FakeMetaOptions {
  readonly clusterId?: number;
  readonly heartbeatIntervalMs?: number;
  /** Answer every call NOT_LEADER, hinting at this address. */
  readonly notLeaderOf?: string;
}

export class FakeMeta {
  readonly registrations: meta.RegisterNodeRequest[] = [];
  readonly nodeHeartbeats: { atMs: number; req: meta.NodeHeartbeatRequest }[] = [];
  readonly shardHeartbeats: { atMs: number; req: meta.ShardHeartbeatRequest }[] = [];
  readonly nodes = new Map<number, meta.NodeInfo>();
  readonly tables = new Map<number, meta.TableInfo>();
  /** Commands handed out with the next NodeHeartbeat reply (then cleared). */
  pendingCommands: meta.NodeCommand[] = [];
  /** Sent as `reportShardIds` in every NodeHeartbeat reply. */
  reportShardIds: number[] = [];
  /** Decides the operator of each ShardHeartbeat reply. */
  operatorFor: (req: meta.ShardHeartbeatRequest) => meta.Operator | undefined = () => undefined;
  calls = 0;
  private nextNodeId = 1;
  private server: Server | null = null;
  address = '';

  constructor(private readonly o: FakeMetaOptions = {}) {}

  async start(): Promise<this> {
    const server = new Server();
    server.addService(meta.MetaService, this.handlers());
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e)));
    });
    this.server = server;
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = null;
  }

  private handlers(): meta.MetaServer {
    const missing = <Req, Res>(): handleUnaryCall<Req, Res> => (_call, cb) => cb({ code: status.UNIMPLEMENTED, details: 'fake' }, null);
    return {
      registerNode: this.unary((q) => this.register(q), (error) => meta.RegisterNodeResponse.create({ error })),
      nodeHeartbeat: this.unary((q) => this.nodeHeartbeat(q), (error) => meta.NodeHeartbeatResponse.create({ error })),
      shardHeartbeat: this.unary((q) => this.shardHeartbeat(q), (error) => meta.ShardHeartbeatResponse.create({ error })),
      getNodes: this.unary(() => meta.GetNodesResponse.create({ nodes: [...this.nodes.values()] }), (error) => meta.GetNodesResponse.create({ error })),
      getTable: this.unary((q) => this.getTable(q), (error) => meta.GetTableResponse.create({ error })),
      getRoutes: missing(), watchRoutes: (call) => call.destroy(), listTables: missing(), allocateIds: missing(), getClusterInfo: missing(),
    };
  }

  private unary<Req, Res>(fn: (req: Req) => Res, fail: (error: common.ErrorDetail) => Res): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      this.calls++;
      if (this.o.notLeaderOf !== undefined) {
        cb(null, fail(common.ErrorDetail.create({ code: 'NOT_LEADER', message: 'fake follower', leaderHint: common.LeaderHint.create({ address: this.o.notLeaderOf }) })));
        return;
      }
      cb(null, fn(call.request));
    };
  }

  private register(q: meta.RegisterNodeRequest): meta.RegisterNodeResponse {
    this.registrations.push(q);
    const nodeId = q.nodeId === 0 ? this.nextNodeId++ : q.nodeId;
    this.nextNodeId = Math.max(this.nextNodeId, nodeId + 1);
    this.nodes.set(nodeId, meta.NodeInfo.create({ id: nodeId, address: q.address, pool: q.pool, zone: q.zone, state: meta.NodeState.UP }));
    return meta.RegisterNodeResponse.create({ nodeId, clusterId: this.o.clusterId ?? 77, heartbeatIntervalMs: this.o.heartbeatIntervalMs ?? 200 });
  }

  private nodeHeartbeat(q: meta.NodeHeartbeatRequest): meta.NodeHeartbeatResponse {
    this.nodeHeartbeats.push({ atMs: Date.now(), req: q });
    const commands = this.pendingCommands;
    this.pendingCommands = [];
    return meta.NodeHeartbeatResponse.create({ commands, reportShardIds: this.reportShardIds });
  }

  private shardHeartbeat(q: meta.ShardHeartbeatRequest): meta.ShardHeartbeatResponse {
    this.shardHeartbeats.push({ atMs: Date.now(), req: q });
    return meta.ShardHeartbeatResponse.create({ operator: this.operatorFor(q) });
  }

  private getTable(q: meta.GetTableRequest): meta.GetTableResponse {
    const t = this.tables.get(q.id);
    if (t === undefined) return meta.GetTableResponse.create({ error: common.ErrorDetail.create({ code: 'TABLE_NOT_FOUND', message: `no table ${q.id}` }) });
    return meta.GetTableResponse.create({ table: t });
  }
}
