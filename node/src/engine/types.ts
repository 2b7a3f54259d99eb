/**
 * The engine's public types (the contract in /work/notes/node-contracts.md §2, plus a few
 * additions marked as such).
 */
import type { KvError, Result } from '@shoal/common';
import type { common, kv } from '@shoal/proto';
import type { ConfState } from '@shoal/raft-ts';
import type { VlogLogger } from '../vlog/index.js';

export type EngineLogger = VlogLogger;

export interface EngineOptions {
  /** classic-level DB at dir/db, value log at dir/vlog. */
  readonly dir: string;
  readonly valueLogFileBytes: number;
  /** Rewrite a sealed value-log file once garbage / size exceeds this (default 0.5). */
  readonly valueLogGcGarbageRatio: number;
  readonly valueLogGcRateBytesPerSec: number;
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly logger?: EngineLogger | undefined;
  // Additions (all optional, defaults in options.ts).
  /** Ops of a BatchWrite, keys of a BatchGet or ExpireDelete. */
  readonly batchKeysMax?: number;
  /** Scan page size when the request says 0, and the cap on what it may ask for. */
  readonly scanPageKeysDefault?: number;
  readonly scanPageKeysMax?: number;
  /** A scan page stops once its values reach this many bytes (at least one pair is returned). */
  readonly scanPageBytesMax?: number;
  /** Entries a scan page or an expiredKeys call may step over (expired keys, sub-keys) before returning. */
  readonly scanExaminedKeysMax?: number;
  /** Bytes per internal write while deleting a removed shard or moving a snapshot into place. */
  readonly internalWriteBytesMax?: number;
  /**
   * fdatasync value-log appends before the apply batch that references them is written
   * (default true). Without it, a power loss can keep a DB batch whose value-log records
   * were lost: LevelDB may persist unsynced writes the page cache never wrote for the vlog.
   */
  readonly valueLogSyncOnCommit?: boolean;
  /** Tests and chaos. */
  readonly failpoints?: EngineFailpoints | undefined;
}

export interface EngineFailpoints {
  /** finish() throws right after persisting its install marker (a crash mid-swap). */
  readonly installStopAfterMarker?: () => boolean;
  readonly vlogWriteError?: () => boolean;
  readonly vlogFsyncError?: () => boolean;
}

export interface TableInfo {
  readonly tableId: number;
  readonly partition: 'hash' | 'range';
  /** Values of at least this many bytes go to the value log; 0 = never. */
  readonly valueSeparationThresholdBytes: number;
  /** The proposer resolves it into expire_at (see resolveExpireAt); apply never reads it. */
  readonly defaultTtlMs: number;
}

export interface ShardLocalState {
  readonly descriptor: common.ShardDescriptor;
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  /** Membership as of appliedIndex. */
  readonly confState: ConfState;
  /** This node's replica id in the group. */
  readonly peerId: number;
  /** Replica removed: never recreate it from stale messages. */
  readonly tombstone: boolean;
}

/** Reply to the sweeper's ExpireDelete (no kv message exists for it). */
export interface ExpireDeleteResponse {
  readonly deletedCount: number;
}

/** What a proposer gets back: the kv response of its operation, tagged by operation. */
export type ApplyReply =
  | { readonly op: 'put'; readonly response: kv.PutResponse }
  | { readonly op: 'delete'; readonly response: kv.DeleteResponse }
  | { readonly op: 'cas'; readonly response: kv.CompareAndSwapResponse }
  | { readonly op: 'incr'; readonly response: kv.IncrResponse }
  | { readonly op: 'batchWrite'; readonly response: kv.BatchWriteResponse }
  /** `response` may be read only after the batch's commit() resolved (the count is taken then). */
  | { readonly op: 'deleteRange'; readonly response: kv.DeleteRangeResponse }
  | { readonly op: 'expireDelete'; readonly response: ExpireDeleteResponse }
  /** A Redis raw batch (RaftCommand.raw_batch): the Redis reply was computed by the proposer. */
  | { readonly op: 'rawBatch'; readonly response: { readonly writes: number } }
  /** A split (engine/split.ts): the two halves as applied. */
  | { readonly op: 'split'; readonly response: SplitResponse };

/** The halves of an applied split: left keeps the shard id, right is the new shard. */
export interface SplitResponse {
  readonly left: common.ShardDescriptor;
  readonly right: common.ShardDescriptor;
}

/**
 * The outcome of one command. An error is deterministic (every replica gets the same one)
 * and means the command changed nothing; the applied index still moves past it.
 */
export type ApplyOutcome = Result<ApplyReply, KvError>;

/**
 * One scheduler turn's writes, across shards. Obligations: at most one batch is open at a
 * time; call apply/setApplied for consecutive entries of each shard; then `await commit()`
 * before replying to proposers and before the next beginApply(). apply() throws (rather
 * than returning an outcome) only when local storage fails (DISK_FAILURE, CORRUPTION of a
 * value-log record it must read): the batch is then poisoned — commit() rejects with the
 * same error and writes nothing — and the node can no longer apply: it must stop.
 */
export interface ApplyBatch {
  apply(shardId: number, index: number, term: number, command: Uint8Array): ApplyOutcome;
  /** Empty entries and conf changes: only the applied index moves (and the conf state, if given). */
  setApplied(shardId: number, index: number, term: number, confState?: ConfState): void;
  /** Addition: persists the shard's descriptor (after a conf change) with the entry applied just before. */
  setDescriptor(shardId: number, descriptor: common.ShardDescriptor): void;
  /** One classic-level batch write, without sync. */
  commit(): Promise<void>;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly descriptor: common.ShardDescriptor;
}

export interface EngineSnapshot {
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  readonly descriptor: common.ShardDescriptor;
  /**
   * The shard's range as self-describing frames (snapshot-chunk.ts) of about chunkBytes
   * (≤ 64 MiB; a frame may exceed it by one entry), values resolved from the vlog.
   */
  chunks(chunkBytes: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export interface SnapshotInstaller {
  /**
   * The next bytes of the exported stream, in order, cut or joined anywhere (a transport
   * may re-frame it): complete frames are verified and staged. A bad frame → CORRUPTION.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Replaces the shard's range with the staged data and records applied state = meta,
   * atomically for readers (they get NOT_READY meanwhile). Crash-safe: a restart resumes.
   */
  finish(meta: SnapshotMeta): Promise<void>;
  abort(): Promise<void>;
}

export interface GetResult {
  readonly found: boolean;
  readonly value: Uint8Array;
  readonly expireAtUnixMs: number;
}

export interface ScanRequest {
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
  readonly limit: number;
  readonly reverse: boolean;
  readonly keysOnly: boolean;
}

export interface ScanResult {
  readonly pairs: kv.KeyValue[];
  readonly more: boolean;
  readonly nextKey: Uint8Array;
}

export interface EngineStats {
  readonly shards: number;
  readonly tombstones: number;
  readonly installing: number;
  readonly valueLogFiles: number;
  readonly valueLogBytes: number;
  readonly valueLogLiveBytes: number;
  readonly gcRuns: number;
  readonly gcFilesRewritten: number;
  readonly gcBytesReclaimed: number;
  readonly gcBytesCopied: number;
  readonly openReaders: number;
  readonly filesAwaitingDelete: number;
}
