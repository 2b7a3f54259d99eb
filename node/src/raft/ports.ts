/**
 * What the multi-raft scheduler needs from the WAL, the engine and the transport: small
 * structural interfaces, so the scheduler runs over the real modules (wal/, engine/,
 * raft/transport.ts) in the node and over in-memory fakes (raft/testing/) in unit tests.
 * The real classes satisfy them without adapters; see /work/notes/node-contracts.md.
 */
import type { KvError } from '@shoal/common';
import type { common } from '@shoal/proto';
import type {
  ConfState, Entry, HardState, LogIndex, Message, Snapshot, SnapshotMetadata, Storage,
} from '@shoal/raft-ts';

/** raft-ts Storage of one group, as the WAL exposes it. */
export interface GroupStoragePort extends Storage {
  hardState(): HardState;
  snapshotMetadata(): SnapshotMetadata;
  setSnapshotProvider(p: () => Snapshot | 'temporarily-unavailable'): void;
}

/** The node's shared Raft log. Staged records are readable at once, durable after flush(). */
export interface WalPort {
  groupIds(): readonly number[];
  group(shardId: number): GroupStoragePort | undefined;
  createGroup(shardId: number, confState: ConfState): GroupStoragePort;
  stageEntries(shardId: number, entries: readonly Entry[]): void;
  stageHardState(shardId: number, hs: HardState): void;
  stageSnapshot(shardId: number, meta: SnapshotMetadata): void;
  stageCompact(shardId: number, index: LogIndex): void;
  stageRemoveGroup(shardId: number): void;
  /** Rejects with KvError DISK_FAILURE on any I/O failure; the node must then stop. */
  flush(): Promise<void>;
  maybeGc(): Promise<{ deletedSegments: number; rewrittenBytes: number }>;
  stats(): { segments: number; bytes: number; fsyncs: number; flushes: number; groups: number };
}

/** The outcome of applying one command, for the proposer waiting on it. */
export type ApplyResult = unknown;

/** One scheduler turn's apply batch across shards (engine/ ApplyBatch). */
export interface ApplyBatchPort {
  apply(shardId: number, index: number, term: number, command: Uint8Array): ApplyResult;
  setApplied(shardId: number, index: number, term: number, confState?: ConfState): void;
  /** Records the shard's descriptor after a membership change, in the same batch. */
  setDescriptor?(shardId: number, descriptor: common.ShardDescriptor): void;
  commit(): Promise<void>;
}

/** A consistent image of one shard at its applied index (engine/ EngineSnapshot). */
export interface EngineSnapshotPort {
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  readonly descriptor: common.ShardDescriptor;
  chunks(chunkBytes: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export interface SnapshotInstallerPort {
  write(chunk: Uint8Array): Promise<void>;
  finish(meta: { index: number; term: number; confState: ConfState; descriptor: common.ShardDescriptor }): Promise<void>;
  abort(): Promise<void>;
}

/** Persistent per-replica state kept by the engine (engine/ ShardLocalState). */
export interface ShardStatePort {
  readonly descriptor: common.ShardDescriptor;
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  readonly peerId: number;
  readonly tombstone: boolean;
}

/** The part of the engine the scheduler drives (writes, snapshots, durability). */
export interface EnginePort {
  beginApply(): ApplyBatchPort;
  makeDurable(): Promise<void>;
  openSnapshot(shardId: number): EngineSnapshotPort;
  beginInstall(shardId: number): SnapshotInstallerPort;
}

export interface TransportEnvelope {
  readonly shardId: number;
  readonly fromPeer: number;
  readonly toPeer: number;
  readonly message: Message;
  /** The sending node, when the transport knows it (replies for a shard with no replica here). */
  readonly fromNodeId?: number;
}

export interface SnapshotHeader {
  readonly shardId: number;
  readonly fromPeer: number;
  readonly toPeer: number;
  readonly message: Message;
}

/** Sending side of the Raft transport (raft/transport.ts). */
export interface TransportPort {
  send(toNodeId: number, shardId: number, fromPeer: number, toPeer: number, message: Message): void;
  sendSnapshot(toNodeId: number, header: SnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<{ ok: boolean; error?: KvError }>;
}
