/**
 * The metaserver leader's scheduling logic (see metaserver/README.md): pure functions of
 * the replicated state, the leader's soft heartbeat data, the clock and the config that
 * return commands to propose, replies for heartbeats, and NodeAdmin calls to make.
 */
export {
  planCancelOperator, planCreateTable, planForceReduce, planMoveReplica, planSplit, planTransferLeader,
} from './admin.js';
export type { TableDefaults, TableExtras } from './admin.js';
export { detectFailures, livenessTarget, nodeServes } from './failure-detector.js';
export { caughtUp, currentStep, NODE_COMMANDS_MAX, onNodeHeartbeat, onShardHeartbeat } from './heartbeats.js';
export type { NodeHeartbeatDecision, ShardHeartbeatDecision } from './heartbeats.js';
export { buildLoadView } from './load-view.js';
export type { LoadView, NodeView, OperatorClass } from './load-view.js';
export { learnerReplica, NODE_ACTIONS_MAX, pendingNodeActions } from './node-actions.js';
export type { NodeAction } from './node-actions.js';
export { defaultSchedulerConfig, scheduleOptionsSchema, schedulerConfig, targetStaleAfterMs } from './options.js';
export type { FailureDetectionOptions, ScheduleOptions, SchedulerConfig } from './options.js';
export { chooseNodes, placeShards } from './placement.js';
export type { PlacementRequest } from './placement.js';
export type { StuckShard } from './replica-checker.js';
export { schedule } from './scheduler.js';
export type { ScheduleDecision } from './scheduler.js';
export {
  createSoftState, lastHeardMs, pruneSoftState, recordNodeHeartbeat, recordShardHeartbeat,
} from './soft-state.js';
export type { NodeLoad, PeerProgress, ShardLoad, SoftState } from './soft-state.js';
