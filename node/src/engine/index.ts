/**
 * The storage node's state machine: classic-level (data + applied state in one batch) with
 * Bitcask-style value separation (../vlog). The module's public entry; see README.md.
 */
export { Engine } from './engine.js';
export { decodeChunk } from './snapshot-chunk.js';
export type { DecodedChunk, ChunkEntry } from './snapshot-chunk.js';
export { ShardKeyspace } from './keyspace.js';
export { EngineSpace } from './local-keys.js';
export { decodeStoredValue, encodeInline, encodePointerValue, isExpired, STORED_HEADER_BYTES } from './stored-value.js';
export type { InlineValue, PointerValue, StoredValue } from './stored-value.js';
export { INT64_MAX, INT64_MIN, parseInt64 } from './int64.js';
export { resolveExpireAt, validateCommand } from './validate.js';
export type { CommandLimits } from './validate.js';
export type {
  ApplyBatch, ApplyOutcome, ApplyReply, EngineFailpoints, EngineLogger, EngineOptions, EngineSnapshot, EngineStats,
  ExpireDeleteResponse, GetResult, ScanRequest, ScanResult, ShardLocalState, SnapshotInstaller, SnapshotMeta, TableInfo,
} from './types.js';
