/**
 * The metaserver's `Admin` service (the `shoal` CLI, the dashboard). Every call needs the
 * leader (followers answer NOT_LEADER with the leader's address). Writes go through the
 * planners of `schedule/admin.ts` — placement and defaults are chosen here, apply has the
 * final word — and are answered once applied. CreateTable also waits until every shard
 * elected a leader (`createTableTimeoutMs`, then TIMEOUT with the table still creating).
 */
import { KvError } from '@shoal/common';
import type { NodeId, Result, ShardId, TableId } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import {
  planCancelOperator, planCreateTable, planForceReduce, planMoveReplica, planSplit, planTransferLeader,
} from './schedule/index.js';
import type { SoftState } from './schedule/index.js';
import type { ApplyOutcome, CommandKind } from './state/index.js';
import { clusterCounts, commands, nodeInfo, nodeInfos, operatorInfos, poolInfos, replicaOnNode } from './state/index.js';
import { clusterInfo, listTables, unary } from './services.js';
import type { ServiceContext } from './services.js';

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

/** Plans on the caught-up leader's state, proposes, and returns the new operator's id. */
async function scheduleOperator(ctx: ServiceContext, plan: (soft: SoftState) => Result<CommandKind>): Promise<admin.ScheduleResponse> {
  const soft = await ctx.leader.lead();
  const out = await ctx.raft.propose(unwrap(plan(soft)));
  if (out.kind !== 'operator-added') throw new KvError('INTERNAL', `the operator applied as ${out.kind}`);
  return admin.ScheduleResponse.create({ operatorId: out.operatorId });
}

function tableIdOf(out: ApplyOutcome): number {
  if (out.kind === 'table-created' || out.kind === 'table-exists') return out.tableId;
  throw new KvError('INTERNAL', `CreateTable applied as ${out.kind}`);
}

function createTable(ctx: ServiceContext) {
  return async (req: admin.CreateTableRequest): Promise<admin.CreateTableResponse> => {
    const soft = await ctx.leader.lead();
    const defaults = { replicaCount: ctx.config.defaultReplicaCount, hashShardCount: ctx.config.defaultHashShardCount };
    const tableId = tableIdOf(await ctx.raft.propose(unwrap(planCreateTable(ctx.raft.state, soft, req, defaults))));
    ctx.leader.driveNodes();
    const table = await ctx.leader.waitActive(tableId as TableId, ctx.config.createTableTimeoutMs);
    ctx.logger.info({ table: table.name, tableId }, 'table created');
    return admin.CreateTableResponse.create({ table });
  };
}

function moveReplica(ctx: ServiceContext) {
  return (req: admin.MoveReplicaRequest): Promise<admin.ScheduleResponse> => scheduleOperator(ctx, (soft) => {
    const state = ctx.raft.state;
    const shard = state.shards.get(req.shardId as ShardId);
    let fromPeerId = 0;
    if (shard !== undefined && req.fromNodeId !== 0) {
      const r = replicaOnNode(shard, req.fromNodeId as NodeId);
      if (r === undefined) {
        return { ok: false, error: new KvError('INVALID_ARGUMENT', `node ${req.fromNodeId} has no replica of shard ${shard.id}`, { details: { option: 'fromNodeId' } }) };
      }
      fromPeerId = r.peerId;
    }
    return planMoveReplica(state, soft, ctx.leader.scheduler, req.shardId, fromPeerId, req.toNodeId);
  });
}

function clusterStatus(ctx: ServiceContext) {
  return async (_req: admin.ClusterStatusRequest): Promise<admin.ClusterStatusResponse> => {
    const soft = await ctx.leader.lead();
    await ctx.raft.readBarrier();
    const counts = clusterCounts(ctx.raft.state);
    let usedBytes = 0;
    for (const n of soft.nodes.values()) usedBytes += n.usedBytes;
    return admin.ClusterStatusResponse.create({ ...counts, metaservers: clusterInfo(ctx), usedBytes, stuckShards: [...ctx.leader.stuck.current] });
  };
}

export function adminHandlers(ctx: ServiceContext): admin.AdminServer {
  const { raft, leader, logger: log } = ctx;
  const sched = leader.scheduler;
  const scheduled = (error: admin.ScheduleResponse['error']) => admin.ScheduleResponse.create({ error });
  return {
    createTable: unary(log, 'CreateTable', createTable(ctx), (error) => admin.CreateTableResponse.create({ error })),
    dropTable: unary(log, 'DropTable', async (req: admin.DropTableRequest) => {
      await leader.lead();
      await raft.propose(commands.dropTable(req.name, req.ifExists));
      return admin.DropTableResponse.create({});
    }, (error) => admin.DropTableResponse.create({ error })),
    listNodes: unary(log, 'ListNodes', async (req: admin.ListNodesRequest) => {
      await leader.lead();
      await raft.readBarrier();
      return admin.ListNodesResponse.create({ nodes: nodeInfos(raft.state, { pool: req.pool, zone: req.zone }, (id) => leader.liveInfo(id)) });
    }, (error) => admin.ListNodesResponse.create({ error })),
    decommissionNode: unary(log, 'DecommissionNode', async (req: admin.DecommissionNodeRequest) => {
      await leader.lead();
      await raft.propose(commands.decommissionNode(req.nodeId as NodeId, req.cancel));
      const n = raft.state.nodes.get(req.nodeId as NodeId);
      return admin.DecommissionNodeResponse.create({ node: n === undefined ? undefined : nodeInfo(n, leader.liveInfo(n.id)) });
    }, (error) => admin.DecommissionNodeResponse.create({ error })),
    splitShard: unary(log, 'SplitShard', (req: admin.SplitShardRequest) => scheduleOperator(ctx, () => planSplit(raft.state, sched, req)), scheduled),
    transferLeader: unary(log, 'TransferLeader', (req: admin.TransferLeaderRequest) => scheduleOperator(ctx, () => planTransferLeader(raft.state, sched, req)), scheduled),
    forceReduceReplicas: unary(log, 'ForceReduceReplicas', (req: admin.ForceReduceReplicasRequest) => scheduleOperator(ctx, () => planForceReduce(raft.state, sched, req)), scheduled),
    moveReplica: unary(log, 'MoveReplica', moveReplica(ctx), scheduled),
    listOperators: unary(log, 'ListOperators', async (req: admin.ListOperatorsRequest) => {
      await leader.lead();
      await raft.readBarrier();
      return admin.ListOperatorsResponse.create({ operators: operatorInfos(raft.state, req.shardId, req.includeFinished) });
    }, (error) => admin.ListOperatorsResponse.create({ error })),
    cancelOperator: unary(log, 'CancelOperator', async (req: admin.CancelOperatorRequest) => {
      await leader.lead();
      await raft.propose(unwrap(planCancelOperator(raft.state, req)));
      return admin.CancelOperatorResponse.create({});
    }, (error) => admin.CancelOperatorResponse.create({ error })),
    clusterStatus: unary(log, 'ClusterStatus', clusterStatus(ctx), (error) => admin.ClusterStatusResponse.create({ error })),
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
