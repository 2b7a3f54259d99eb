/**
 * The Redis data model on a shard leader (issue #7): the executor, its reply model, the
 * per-key latches, the read views, the raw-batch Raft command's apply and the subkey
 * sweeper. The module's public entry; README.md has the design, encoding, safety argument
 * and the hooks the engine and the service add.
 */
export { applyRawBatch, checkRawBatch, fromRawBatchCommand, rawBatchRaftCommand, toRawBatchCommand } from './apply-raw.js';
export type { RawApplyResult, RawApplyShard, RawApplyTarget, StoredDataValue } from './apply-raw.js';
export { DEFAULT_LIMITS } from './command.js';
export type { ExecutorLimits } from './command.js';
export {
  decodeDataValue, decodeMeta, encodeMeta, KeyCodec, RedisType, TYPE_NAMES,
} from './encoding.js';
export type { CollectionType, DataValue, Meta, ShardInfo } from './encoding.js';
export { EngineReadView } from './engine-view.js';
export type { ClosableView, EngineRawAccess, RawDb } from './engine-view.js';
export { COMMANDS, RedisExecutor, supportedCommands, unknownCommand } from './executor.js';
export type { CommandInfo, RedisExecutorOptions } from './executor.js';
export { LatchManager } from './latches.js';
export type { LatchGuard, LatchOptions } from './latches.js';
export { LayeredView } from './layered-view.js';
export { commandKeys, executeMultiOnLeader, executeOnLeader } from './leader.js';
export type { LeaderHost, LeaderRequest, WatchCheck } from './leader.js';
export { DEFAULT_WATCH_REVISIONS_MAX, WatchRevisions } from './watch-revisions.js';
export type { WatchRevisionsOptions } from './watch-revisions.js';
export { MemoryView } from './memory-view.js';
export { formatDouble } from './numbers.js';
export { Err, toProtoReply } from './reply.js';
export type { Reply } from './reply.js';
export { DEFAULT_SWEEP_LOOP, SubkeySweepLoop } from './sweep-loop.js';
export type { SweepLoopOptions, SweepShard } from './sweep-loop.js';
export { findStaleSubkeyRanges, staleRangeWrites, sweepOnce } from './sweeper.js';
export type { StaleRange, StaleScan, StaleScanOptions, SweepHost } from './sweeper.js';
export type { ExecContext, ExecResult, IterateOptions, RawWrite, ReadView } from './view.js';
