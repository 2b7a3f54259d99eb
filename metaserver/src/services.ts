/**
 * The metaserver's `Meta` service (nodes, SDKs and proxies call it). On the leader:
 * registrations, heartbeats, id allocation and WatchRoutes go through `LeaderDuty`
 * (leader.ts), reads follow a ReadIndex barrier (linearizable). Any other member answers
 * NOT_LEADER with `leader_hint.address` — except GetClusterInfo, which every member
 * answers from its own view. Errors travel in the response's `ErrorDetail`.
 */
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { isKvError, KvError } from '@shoal/common';
import type { Logger, NodeId } from '@shoal/common';
import { common, meta } from '@shoal/proto';
import type { MetaserverConfig } from './config.js';
import type { LeaderDuty } from './leader.js';
import type { MetaRaft } from './meta-raft.js';
import { endWithError } from './route-watch.js';
import { onNodeHeartbeat, onShardHeartbeat, recordNodeHeartbeat } from './schedule/index.js';
import type { CommandKind } from './state/index.js';
import { commands, findTable, nodeInfos, routesOf, tableInfo, tableInfos } from './state/index.js';

export interface ServiceContext {
  readonly raft: MetaRaft;
  readonly leader: LeaderDuty;
  readonly config: MetaserverConfig;
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
    // details.shard is opaque in common; the metaserver only ever puts a ShardDescriptor there.
    currentShard: k.details?.shard as common.ShardDescriptor | undefined,
    option: k.details?.option ?? '',
    retryAfterMs: k.details?.retryAfterMs ?? 0,
  });
}

/** A unary handler whose failures become the response's ErrorDetail. */
export function unary<Req, Res>(log: Logger, name: string, fn: (req: Req) => Promise<Res>, failed: (error: common.ErrorDetail) => Res) {
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

/** Proposes without waiting: heartbeat bookkeeping the next heartbeat repeats if it is lost. */
function proposeAll(ctx: ServiceContext, proposals: readonly CommandKind[]): void {
  for (const p of proposals) {
    ctx.raft.propose(p).catch((e: unknown) => ctx.logger.debug({ err: e, command: p.$case }, 'heartbeat proposal not applied'));
  }
}

function checkCluster(ctx: ServiceContext, clusterId: number): void {
  const mine = ctx.raft.state.clusterId;
  if (mine === 0) throw new KvError('UNAVAILABLE', 'the metaserver cluster is not bootstrapped yet', { details: { retryAfterMs: 500 } });
  if (clusterId !== 0 && clusterId !== mine) {
    throw new KvError('INVALID_ARGUMENT', `node belongs to cluster ${clusterId}, this is cluster ${mine}`, { details: { option: 'clusterId' } });
  }
}

function registerNode(ctx: ServiceContext) {
  return async (req: meta.RegisterNodeRequest): Promise<meta.RegisterNodeResponse> => {
    const soft = await ctx.leader.lead();
    checkCluster(ctx, req.clusterId);
    const labels = [...req.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
    const out = await ctx.raft.propose(commands.registerNode({
      nodeId: req.nodeId, address: req.address, httpAddress: req.httpAddress, pool: req.pool, zone: req.zone,
      capacityBytes: req.capacityBytes, version: req.version, labels,
    }));
    if (out.kind !== 'node-registered') throw new KvError('INTERNAL', `RegisterNode applied as ${out.kind}`);
    // Registering counts as being heard from: the failure detector starts counting now.
    const hb = meta.NodeHeartbeatRequest.create({ nodeId: out.nodeId, stats: meta.NodeStats.create({ capacityBytes: req.capacityBytes }) });
    recordNodeHeartbeat(soft, hb, Date.now());
    ctx.logger.info({ nodeId: out.nodeId, address: req.address, pool: req.pool, zone: req.zone }, 'node registered');
    return meta.RegisterNodeResponse.create({
      nodeId: out.nodeId, clusterId: ctx.raft.state.clusterId, heartbeatIntervalMs: ctx.config.nodeHeartbeatIntervalMs,
    });
  };
}

function shardHeartbeat(ctx: ServiceContext) {
  return async (req: meta.ShardHeartbeatRequest): Promise<meta.ShardHeartbeatResponse> => {
    const soft = await ctx.leader.lead();
    checkCluster(ctx, req.clusterId);
    const d = onShardHeartbeat(ctx.raft.state, soft, req, Date.now(), ctx.leader.scheduler);
    proposeAll(ctx, d.proposals);
    if (d.error !== undefined) return meta.ShardHeartbeatResponse.create({ error: errorDetail(d.error) });
    if (d.prerequisite !== undefined) {
      // The learner's empty replica must exist before its leader adds it.
      try {
        await ctx.leader.driver.run(d.prerequisite);
      } catch (e) {
        ctx.logger.info({ err: e, shardId: req.shard?.id, address: d.prerequisite.address }, 'CreateReplica for a learner failed; the step waits');
        return meta.ShardHeartbeatResponse.create({});
      }
    }
    return meta.ShardHeartbeatResponse.create({ operator: d.operator });
  };
}

export function metaHandlers(ctx: ServiceContext): meta.MetaServer {
  const { raft, leader, logger: log } = ctx;
  return {
    registerNode: unary(log, 'RegisterNode', registerNode(ctx), (error) => meta.RegisterNodeResponse.create({ error })),
    nodeHeartbeat: unary(log, 'NodeHeartbeat', async (req: meta.NodeHeartbeatRequest) => {
      const soft = await leader.lead();
      const d = onNodeHeartbeat(raft.state, soft, req, Date.now());
      proposeAll(ctx, d.proposals);
      return d.error === undefined ? d.reply : meta.NodeHeartbeatResponse.create({ ...d.reply, error: errorDetail(d.error) });
    }, (error) => meta.NodeHeartbeatResponse.create({ error })),
    shardHeartbeat: unary(log, 'ShardHeartbeat', shardHeartbeat(ctx), (error) => meta.ShardHeartbeatResponse.create({ error })),
    watchRoutes: (call: ServerWritableStream<meta.WatchRoutesRequest, meta.RouteEvent>): void => {
      if (!raft.isLeader) {
        endWithError(call, raft.notLeader());
        return;
      }
      void leader.watches.open(call);
    },
    allocateIds: unary(log, 'AllocateIds', async (req: meta.AllocateIdsRequest) => {
      await leader.lead();
      const out = await raft.propose(commands.allocateIds(req.kind, req.count));
      if (out.kind !== 'ids-allocated') throw new KvError('INTERNAL', `AllocateIds applied as ${out.kind}`);
      return meta.AllocateIdsResponse.create({ firstId: out.firstId, count: out.count });
    }, (error) => meta.AllocateIdsResponse.create({ error })),
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
      return meta.GetNodesResponse.create({ nodes: nodeInfos(raft.state, { ids: req.nodeIds }, (id: NodeId) => leader.liveInfo(id)) });
    }, (error) => meta.GetNodesResponse.create({ error })),
    getClusterInfo: unary(log, 'GetClusterInfo', (_req: meta.GetClusterInfoRequest) => Promise.resolve(clusterInfo(ctx)),
      (error) => meta.GetClusterInfoResponse.create({ error })),
  };
}

/** This member's view of the metaserver group (no barrier: it answers on any member). */
export function clusterInfo(ctx: ServiceContext): meta.GetClusterInfoResponse {
  const leaderId = ctx.raft.leaderId;
  const members = [...ctx.members].sort(([a], [b]) => a - b).map(([id, address]) => meta.MetaMember.create({
    id, address, httpAddress: id === ctx.id ? ctx.httpAddress : '', isLeader: id === leaderId,
  }));
  return meta.GetClusterInfoResponse.create({ clusterId: ctx.raft.state.clusterId, members, leaderId, term: ctx.raft.term });
}

export function listTables(raft: MetaRaft): (req: meta.ListTablesRequest) => Promise<meta.ListTablesResponse> {
  return async () => {
    await raft.readBarrier();
    return meta.ListTablesResponse.create({ tables: tableInfos(raft.state) });
  };
}
