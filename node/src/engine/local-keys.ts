/**
 * Node-local keys the engine writes (tableId 0, see common/README.md "Storage-key layout")
 * and the encodings of their values.
 *
 * Common's spaces:
 *   0x01 Node      `engine-durable` → u64 counter (the synced write of makeDurable)
 *   0x02 Shard     shardId u64 | 0x01 applied state  → index u64 | term u64
 *                               | 0x02 descriptor     → shoal.common.ShardDescriptor
 *                               | 0x03 replica state  → see encodeReplicaMeta
 *   0x03 ValueLog  fileId u32 → live bytes u64 (bytes of that file referenced by DB keys)
 *
 * Spaces reserved by the engine here (common uses 0x01–0x03; these must never be reused
 * there — a test asserts they are not among common's InternalSpace values):
 *   0x10 Install   shardId u64 | 0x01                → install marker (a swap is in progress)
 *                  shardId u64 | 0x02 | storageKey   → a staged snapshot entry (stored value)
 *   0x11 Table     tableId u32 → table info
 *
 * All of tableId 0 sorts before every user table, so none of these can fall inside a
 * shard's range (what snapshots stream and splits divide).
 */
import { INTERNAL_TABLE_ID, InternalSpace, internalKey, prefixRange, shardLocalKey, ShardLocalField, toBytes } from '@shoal/common';
import type { KeyRange, ShardId } from '@shoal/common';
import { raft } from '@shoal/proto';
import type { ConfState, PeerId } from '@shoal/raft-ts';
import { KvError } from '@shoal/common';
import { readU32, readU64, u32Bytes, u64Bytes, writeU32, writeU64 } from '../vlog/index.js';
import type { TableInfo } from './types.js';

/** Internal spaces owned by the engine (not in common's InternalSpace). */
export const EngineSpace = {
  Install: 0x10,
  Table: 0x11,
} as const;

const INSTALL_MARKER = 0x01;
const INSTALL_STAGED = 0x02;

function engineKey(space: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 5;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  writeU32(out, 0, INTERNAL_TABLE_ID);
  out[4] = space;
  let o = 5;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const DURABLE_KEY = internalKey(InternalSpace.Node, toBytes('engine-durable'));

export function appliedStateKey(shardId: number): Uint8Array {
  return shardLocalKey(shardId as ShardId, ShardLocalField.AppliedState);
}
export function descriptorKey(shardId: number): Uint8Array {
  return shardLocalKey(shardId as ShardId, ShardLocalField.Descriptor);
}
export function replicaMetaKey(shardId: number): Uint8Array {
  return shardLocalKey(shardId as ShardId, ShardLocalField.RaftState);
}
export const SHARD_SPACE_RANGE: KeyRange = prefixRange(internalKey(InternalSpace.Shard));

export function vlogLiveKey(fileId: number): Uint8Array {
  return internalKey(InternalSpace.ValueLog, u32Bytes(fileId));
}
export const VLOG_LIVE_RANGE: KeyRange = prefixRange(internalKey(InternalSpace.ValueLog));

export function installMarkerKey(shardId: number): Uint8Array {
  return engineKey(EngineSpace.Install, u64Bytes(shardId), Uint8Array.of(INSTALL_MARKER));
}
const STAGED_PREFIX_BYTES = 5 + 8 + 1;
export function stagedKey(shardId: number, storageKey: Uint8Array): Uint8Array {
  return engineKey(EngineSpace.Install, u64Bytes(shardId), Uint8Array.of(INSTALL_STAGED), storageKey);
}
export function stagedRange(shardId: number): KeyRange {
  return prefixRange(engineKey(EngineSpace.Install, u64Bytes(shardId), Uint8Array.of(INSTALL_STAGED)));
}
export function storageKeyOfStaged(key: Uint8Array): Uint8Array {
  return key.subarray(STAGED_PREFIX_BYTES);
}
export const INSTALL_SPACE_RANGE: KeyRange = prefixRange(engineKey(EngineSpace.Install));
/** The shard id of any key in the Install space, and whether it is a marker. */
export function decodeInstallKey(key: Uint8Array): { shardId: number; marker: boolean } {
  if (key.length < STAGED_PREFIX_BYTES) throw new KvError('CORRUPTION', 'malformed install key');
  return { shardId: readU64(key, 5), marker: key[13] === INSTALL_MARKER };
}

export function tableKey(tableId: number): Uint8Array {
  return engineKey(EngineSpace.Table, u32Bytes(tableId));
}
export const TABLE_SPACE_RANGE: KeyRange = prefixRange(engineKey(EngineSpace.Table));

// ---------------------------------------------------------------------------------------
// Value encodings.

export function encodeAppliedState(index: number, term: number): Uint8Array {
  const out = new Uint8Array(16);
  writeU64(out, 0, index);
  writeU64(out, 8, term);
  return out;
}

export function decodeAppliedState(buf: Uint8Array): { index: number; term: number } {
  if (buf.length !== 16) throw new KvError('CORRUPTION', 'applied state has the wrong length');
  return { index: readU64(buf, 0), term: readU64(buf, 8) };
}

/** Replica identity and membership: not data, so not part of a shard's range. */
export interface ReplicaMeta {
  readonly peerId: number;
  readonly tombstone: boolean;
  /** removeShard started deleting the data range and has not finished. */
  readonly removing: boolean;
  readonly confState: ConfState;
}

const META_VERSION = 1;
const FLAG_TOMBSTONE = 0x01;
const FLAG_REMOVING = 0x02;

/** `version u8 | peerId u64 | flags u8 | shoal.raft.ConfState`. */
export function encodeReplicaMeta(m: ReplicaMeta): Uint8Array {
  const cs = raft.ConfState.encode(raft.ConfState.create(m.confState)).finish();
  const out = new Uint8Array(10 + cs.length);
  out[0] = META_VERSION;
  writeU64(out, 1, m.peerId);
  out[9] = (m.tombstone ? FLAG_TOMBSTONE : 0) | (m.removing ? FLAG_REMOVING : 0);
  out.set(cs, 10);
  return out;
}

export function decodeReplicaMeta(buf: Uint8Array): ReplicaMeta {
  if (buf.length < 10 || buf[0] !== META_VERSION) throw new KvError('CORRUPTION', 'malformed replica state');
  return {
    peerId: readU64(buf, 1),
    tombstone: (buf[9]! & FLAG_TOMBSTONE) !== 0,
    removing: (buf[9]! & FLAG_REMOVING) !== 0,
    confState: confStateFromProto(raft.ConfState.decode(buf.subarray(10))),
  };
}

export function confStateFromProto(p: raft.ConfState): ConfState {
  const ids = (xs: readonly number[]): PeerId[] => xs.map((x) => x as PeerId);
  return {
    voters: ids(p.voters), learners: ids(p.learners), votersOutgoing: ids(p.votersOutgoing),
    learnersNext: ids(p.learnersNext), autoLeave: p.autoLeave,
  };
}

const TABLE_VERSION = 1;
const PARTITION_BYTE = { range: 1, hash: 2 } as const;

/** `version u8 | partition u8 (1 range, 2 hash) | valueSeparationThresholdBytes u64 | defaultTtlMs u64`. */
export function encodeTableInfo(t: TableInfo): Uint8Array {
  const out = new Uint8Array(18);
  out[0] = TABLE_VERSION;
  out[1] = PARTITION_BYTE[t.partition];
  writeU64(out, 2, t.valueSeparationThresholdBytes);
  writeU64(out, 10, t.defaultTtlMs);
  return out;
}

export function decodeTableInfo(tableId: number, buf: Uint8Array): TableInfo {
  if (buf.length !== 18 || buf[0] !== TABLE_VERSION) throw new KvError('CORRUPTION', `malformed table info of table ${tableId}`);
  const p = buf[1];
  if (p !== PARTITION_BYTE.range && p !== PARTITION_BYTE.hash) throw new KvError('CORRUPTION', `table ${tableId}: bad partition byte`);
  return {
    tableId, partition: p === PARTITION_BYTE.hash ? 'hash' : 'range',
    valueSeparationThresholdBytes: readU64(buf, 2), defaultTtlMs: readU64(buf, 10),
  };
}

export function tableIdOfKey(key: Uint8Array): number {
  return readU32(key, 5);
}

/** Shard id and field of a key in common's Shard space. */
export function decodeShardLocalKey(key: Uint8Array): { shardId: number; field: number } {
  if (key.length < 14) throw new KvError('CORRUPTION', 'malformed shard-local key');
  return { shardId: readU64(key, 5), field: key[13]! };
}

export function encodeU64Value(n: number): Uint8Array {
  return u64Bytes(n);
}

export function decodeU64Value(buf: Uint8Array, what: string): number {
  if (buf.length !== 8) throw new KvError('CORRUPTION', `${what}: expected 8 bytes, found ${buf.length}`);
  return readU64(buf, 0);
}
