/**
 * Calls the metaserver leader makes on storage nodes' NodeAdmin service, derived from
 * the replicated state so that any leader — a new one included — finds the same work:
 *
 * - `create-replica` (bootstrap): the replicas of a table being created, until every
 *   shard has a leader;
 * - `create-replica` (empty): the target of an AddLearner step, before the step is handed
 *   to the shard leader (heartbeats.ts returns it as the step's prerequisite);
 * - `force-reduce`: a running force-reduce operator, on every kept replica's node;
 * - `destroy-replica`: garbage (replicas no longer in any descriptor), on live nodes;
 *   acknowledge success with the AckDestroyedReplicas command.
 *
 * Every NodeAdmin call is idempotent, so repeating an action after a failure or a leader
 * change is safe.
 */
import type { NodeId } from '@shoal/common';
import { admin, common } from '@shoal/proto';
import {
  epochToProto, replicaOnNode, shardToDescriptor, sortedOperators, sortedShards, sortedTables,
} from '../state/index.js';
import type { OperatorStep, ShardRecord, TableRecord, TopologyState } from '../state/index.js';

export type NodeAction =
  | { readonly kind: 'create-replica'; readonly nodeId: NodeId; readonly address: string; readonly request: admin.CreateReplicaRequest }
  | {
    readonly kind: 'force-reduce'; readonly nodeId: NodeId; readonly address: string; readonly operatorId: number;
    readonly request: admin.NodeForceReduceReplicasRequest;
  }
  | { readonly kind: 'destroy-replica'; readonly nodeId: NodeId; readonly address: string; readonly request: admin.RemoveReplicaRequest };

/** Bounds one call's output; the rest comes on the next call. */
export const NODE_ACTIONS_MAX = 1024;

function addressOf(state: TopologyState, node: NodeId): string {
  return state.nodes.get(node)?.address ?? '';
}

/** The empty replica an AddLearner step needs on its target node first. */
export function learnerReplica(state: TopologyState, shard: ShardRecord, table: TableRecord, step: Extract<OperatorStep, { kind: 'add-learner' }>): NodeAction {
  const withLearner: ShardRecord = {
    ...shard,
    epoch: { ...shard.epoch, confVer: shard.epoch.confVer + 1 },
    replicas: [...shard.replicas, { nodeId: step.nodeId, peerId: step.peerId, role: 'learner' as const }].sort((a, b) => a.peerId - b.peerId),
  };
  return {
    kind: 'create-replica', nodeId: step.nodeId, address: addressOf(state, step.nodeId),
    request: admin.CreateReplicaRequest.create({ shard: shardToDescriptor(withLearner, table.partition), peerId: step.peerId, bootstrap: false }),
  };
}

function bootstrapActions(state: TopologyState, out: NodeAction[]): void {
  for (const table of sortedTables(state)) {
    if (table.state !== 'creating') continue;
    for (const s of sortedShards(state)) {
      if (s.tableId !== table.id || s.leaderPeerId !== 0) continue;
      for (const r of s.replicas) {
        out.push({
          kind: 'create-replica', nodeId: r.nodeId, address: addressOf(state, r.nodeId),
          request: admin.CreateReplicaRequest.create({ shard: shardToDescriptor(s, table.partition), peerId: r.peerId, bootstrap: true }),
        });
      }
    }
  }
}

function forceReduceActions(state: TopologyState, out: NodeAction[]): void {
  for (const op of sortedOperators(state)) {
    const step = op.steps[op.stepIndex];
    const shard = state.shards.get(op.shardId);
    if (step?.kind !== 'force-reduce' || shard === undefined) continue;
    for (const peer of step.keepPeerIds) {
      const node = shard.replicas.find((r) => r.peerId === peer)?.nodeId;
      if (node === undefined) continue;
      out.push({
        kind: 'force-reduce', nodeId: node, address: addressOf(state, node), operatorId: op.id,
        request: admin.NodeForceReduceReplicasRequest.create({ shardId: shard.id, keepPeerIds: step.keepPeerIds }),
      });
    }
  }
}

function destroyActions(state: TopologyState, out: NodeAction[]): void {
  for (const g of state.garbage) {
    const node = state.nodes.get(g.nodeId);
    if (node === undefined || node.state === 'down' || node.state === 'removed') continue;
    const shard = state.shards.get(g.shardId);
    // Never destroy a replica a descriptor names again (e.g. re-added with the same peer).
    if (shard !== undefined && replicaOnNode(shard, g.nodeId)?.peerId === g.peerId) continue;
    out.push({
      kind: 'destroy-replica', nodeId: g.nodeId, address: node.address,
      request: admin.RemoveReplicaRequest.create({
        shardId: g.shardId, peerId: g.peerId, epoch: shard === undefined ? common.Epoch.create() : epochToProto(shard.epoch),
        force: shard === undefined,
      }),
    });
  }
}

/** Every pending NodeAdmin call, in a stable order, at most NODE_ACTIONS_MAX. */
export function pendingNodeActions(state: TopologyState): NodeAction[] {
  const out: NodeAction[] = [];
  bootstrapActions(state, out);
  forceReduceActions(state, out);
  destroyActions(state, out);
  return out.slice(0, NODE_ACTIONS_MAX);
}
