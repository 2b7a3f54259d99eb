/**
 * The metaserver's gRPC services (first slice of issue #5): `Meta` reads and cluster info,
 * `Admin` pools and zones. Reads are served by the leader after a ReadIndex barrier
 * (linearizable); a follower answers NOT_LEADER with `leader_hint.address`. Writes are
 * proposed on the leader and answered once applied. `GetClusterInfo` is answered by any
 * member from its own view. Errors travel in the response's `ErrorDetail`; RPCs not wired
 * yet answer gRPC UNIMPLEMENTED.
 */
import { status } from '@grpc/grpc-js';
import type { handleServerStreamingCall, handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { isKvError, KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import { admin, common, meta } from '@shoal/proto';
import type { MetaRaft } from './meta-raft.js';
import { commands, findTable, nodeInfos, poolInfos, routesOf, tableInfo, tableInfos } from './state/index.js';

export interface ServiceContext {
  readonly raft: MetaRaft;
  readonly id: number;
  readonly members: ReadonlyMap<number, string>;
  readonly httpAddress: string;
  readonly logger: Logger;
}

export function errorDetail(e: unknown): common.ErrorDetail {
  const k = isKvError(e) ? e : new KvError('INTERNAL', e instanceof Error ? e.message : String(e));
  const hint = k.details?.leaderHint;
  return common.ErrorDetail.create({
    code: k.code,
    message: k.message,
    leaderHint: hint === undefined ? undefined : common.LeaderHint.create({ nodeId: hint.nodeId, peerId: hint.peerId, address: hint.address }),
    option: k.details?.option ?? '',
    retryAfterMs: k.details?.retryAfterMs ?? 0,
  });
}

/** A unary handler whose failures become the response's ErrorDetail. */
function unary<Req, Res>(log: Logger, name: string, fn: (req: Req) => Promise<Res>, failed: (error: common.ErrorDetail) => Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    fn(call.request).then(
      (res) => callback(null, res),
      (e: unknown) => {
        if (!isKvError(e)) log.error({ err: e, rpc: name }, 'unexpected failure');
        callback(null, failed(errorDetail(e)));
      },
    );
  };
}

function unimplemented<Req, Res>(name: string): handleUnaryCall<Req, Res> {
  return (_call, callback): void => {
    callback({ code: status.UNIMPLEMENTED, details: `${name} is not implemented by this metaserver yet (issue #5)` });
  };
}

function unimplementedStream<Req, Res>(name: string): handleServerStreamingCall<Req, Res> {
  return (call): void => {
    call.emit('error', { code: status.UNIMPLEMENTED, details: `${name} is not implemented by this metaserver yet (issue #5)` });
  };
}

export function metaHandlers(ctx: ServiceContext): meta.MetaServer {
  const { raft, logger: log } = ctx;
  return {
    registerNode: unimplemented('Meta.RegisterNode'),
    nodeHeartbeat: unimplemented('Meta.NodeHeartbeat'),
    shardHeartbeat: unimplemented('Meta.ShardHeartbeat'),
    watchRoutes: unimplementedStream('Meta.WatchRoutes'),
    allocateIds: unimplemented('Meta.AllocateIds'),
    getRoutes: unary(log, 'GetRoutes', async (req: meta.GetRoutesRequest) => {
      await raft.readBarrier();
      const r = routesOf(raft.state, req.tableName, req.tableId);
      if (!r.ok) throw r.error;
      return r.value;
    }, (error) => meta.GetRoutesResponse.create({ error })),
    getTable: unary(log, 'GetTable', async (req: meta.GetTableRequest) => {
      await raft.readBarrier();
      const t = findTable(raft.state, req.name, req.id);
      if (!t.ok) throw t.error;
      return meta.GetTableResponse.create({ table: tableInfo(t.value) });
    }, (error) => meta.GetTableResponse.create({ error })),
    listTables: unary(log, 'ListTables', listTables(raft), (error) => meta.ListTablesResponse.create({ error })),
    getNodes: unary(log, 'GetNodes', async (req: meta.GetNodesRequest) => {
      await raft.readBarrier();
      return meta.GetNodesResponse.create({ nodes: nodeInfos(raft.state, { ids: req.nodeIds }) });
    }, (error) => meta.GetNodesResponse.create({ error })),
    getClusterInfo: unary(log, 'GetClusterInfo', (_req: meta.GetClusterInfoRequest) => {
      const leaderId = raft.leaderId;
      const members = [...ctx.members].sort(([a], [b]) => a - b).map(([id, address]) => meta.MetaMember.create({
        id, address, httpAddress: id === ctx.id ? ctx.httpAddress : '', isLeader: id === leaderId,
      }));
      return Promise.resolve(meta.GetClusterInfoResponse.create({ clusterId: raft.state.clusterId, members, leaderId, term: raft.term }));
    }, (error) => meta.GetClusterInfoResponse.create({ error })),
  };
}

function listTables(raft: MetaRaft): (req: meta.ListTablesRequest) => Promise<meta.ListTablesResponse> {
  return async () => {
    await raft.readBarrier();
    return meta.ListTablesResponse.create({ tables: tableInfos(raft.state) });
  };
}

export function adminHandlers(ctx: ServiceContext): admin.AdminServer {
  const { raft, logger: log } = ctx;
  return {
    createTable: unimplemented('Admin.CreateTable'),
    dropTable: unimplemented('Admin.DropTable'),
    listNodes: unimplemented('Admin.ListNodes'),
    decommissionNode: unimplemented('Admin.DecommissionNode'),
    splitShard: unimplemented('Admin.SplitShard'),
    transferLeader: unimplemented('Admin.TransferLeader'),
    forceReduceReplicas: unimplemented('Admin.ForceReduceReplicas'),
    listOperators: unimplemented('Admin.ListOperators'),
    cancelOperator: unimplemented('Admin.CancelOperator'),
    clusterStatus: unimplemented('Admin.ClusterStatus'),
    listTables: unary(log, 'Admin.ListTables', listTables(raft), (error) => meta.ListTablesResponse.create({ error })),
    createPool: unary(log, 'CreatePool', async (req: admin.CreatePoolRequest) => {
      await raft.propose(commands.createPool(req.name, req.description));
      return admin.CreatePoolResponse.create({});
    }, (error) => admin.CreatePoolResponse.create({ error })),
    createZone: unary(log, 'CreateZone', async (req: admin.CreateZoneRequest) => {
      await raft.propose(commands.createZone(req.pool, req.name));
      return admin.CreateZoneResponse.create({});
    }, (error) => admin.CreateZoneResponse.create({ error })),
    listPools: unary(log, 'ListPools', async (_req: admin.ListPoolsRequest) => {
      await raft.readBarrier();
      return admin.ListPoolsResponse.create(poolInfos(raft.state));
    }, (error) => admin.ListPoolsResponse.create({ error })),
  };
}
