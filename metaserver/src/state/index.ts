/**
 * The metaserver's replicated topology state machine (see metaserver/README.md). The
 * process wiring feeds committed entries to `applyEntry`, snapshots with
 * `encodeSnapshot` / `decodeSnapshot`, and answers reads with the queries.
 */
export { apply, applyEntry, encodeCommand } from './apply.js';
export type { ApplyOutcome, ApplyResult } from './apply-result.js';
export * as commands from './commands.js';
export type { AddOperatorArgs, CommandKind } from './commands.js';
export {
  descriptorPartition, epochFromProto, epochToProto, nodeStateFromProto, nodeStateToProto, operatorStateFromProto,
  reportedShardFromProto,
  shardToDescriptor,
} from './convert.js';
export type { ReportedShard } from './convert.js';
export { compareEpoch, epochEquals, formatEpoch } from './epoch.js';
export type { EpochOrder } from './epoch.js';
export { checkInvariants, tableTiled } from './invariants.js';
export {
  hashMiddleKey, hashShardRanges, rangeShardRanges, rangesOverlap, slotBoundsOf, strictlyInside, tilesTable, withinTable,
} from './key-ranges.js';
export type { ShardRange, SlotBounds } from './key-ranges.js';
export { operatorInfo, stepBlocked, stepDone, stepToWire } from './operator-plan.js';
export {
  clusterCounts, findTable, nodeInfo, nodeInfos, operatorInfos, poolInfos, routeChangesSince, routesOf, tableInfo,
  tableInfos,
} from './queries.js';
export type { NodeFilter, NodeLiveInfo, RouteChanges } from './queries.js';
export { decodeSnapshot, encodeSnapshot } from './snapshot.js';
export {
  byId, createTopologyState, garbageOfNode, leaderNode, operatorOfShard, replicaOfPeer, replicaOnNode, shardsOfTable,
  sortedNodes, sortedOperators, sortedShards, sortedTables, tableByName, voters,
} from './topology-state.js';
export * from './types.js';
