/**
 * Apply of the Redis model's Raft command, `RaftCommand.raw_batch` (command.proto
 * RawBatchCommand): the storage-key writes a shard leader decided (executor.ts). The
 * engine's apply path calls `applyRawBatch` for a command that carries `raw_batch`
 * (README "Engine hooks").
 *
 * Deterministic by construction: the command holds every decision, so apply reads
 * nothing. It validates the whole batch first — every key inside the shard, no internal or
 * partition-area key, ranges non-empty and inside the shard, every data-key value an inline
 * stored value — and writes nothing if any check fails (the error is the reply; the
 * applied index moves on, as for every deterministic apply error). Then it applies the
 * writes in order.
 */
import { compareBytes, decodeStorageKey, err, inRange, KvError, ok } from '@shoal/common';
import type { KeyRange, PartitionScheme, Result } from '@shoal/common';
import { command } from '@shoal/proto';
import { decodeStoredValue } from '../engine/index.js';
import type { RawWrite } from './view.js';

/** A data key's stored value, decoded: the engine re-encodes it (inline, or a value-log pointer for a large plain body). */
export interface StoredDataValue {
  /** High nibble of the stored header: 0 plain string, 1‥4 Redis collections (encoding.ts). */
  readonly type: number;
  readonly expireAtUnixMs: number;
  readonly body: Uint8Array;
}

/** Where the writes go: the engine's apply batch (overlay), or MemoryView in tests. */
export interface RawApplyTarget {
  putData(storageKey: Uint8Array, value: StoredDataValue): void;
  /** A subkey or sub-index entry: stored as given, never a stored value. */
  putRaw(storageKey: Uint8Array, value: Uint8Array): void;
  del(storageKey: Uint8Array): void;
  deleteRange(range: KeyRange): void;
}

/** The shard the batch is applied to. */
export interface RawApplyShard {
  readonly scheme: PartitionScheme;
  readonly range: KeyRange;
  readonly keyBytesMax?: number;
  readonly valueBytesMax?: number;
  /** Writes of one batch (default 1,000,000). */
  readonly writesMax?: number;
}

const WRITES_MAX_DEFAULT = 1_000_000;

export interface RawApplyResult {
  readonly writes: number;
}

type Checked =
  | { readonly type: 'data'; readonly key: Uint8Array; readonly value: StoredDataValue }
  | { readonly type: 'raw'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: Uint8Array }
  | { readonly type: 'deleteRange'; readonly range: KeyRange };

export function applyRawBatch(shard: RawApplyShard, target: RawApplyTarget, cmd: command.RawBatchCommand): Result<RawApplyResult, KvError> {
  const checked = checkRawBatch(shard, cmd);
  if (!checked.ok) return checked;
  for (const w of checked.value) {
    switch (w.type) {
      case 'data': target.putData(w.key, w.value); break;
      case 'raw': target.putRaw(w.key, w.value); break;
      case 'delete': target.del(w.key); break;
      case 'deleteRange': target.deleteRange(w.range); break;
    }
  }
  return ok({ writes: checked.value.length });
}

/** The batch's writes, validated (see the file comment); nothing is written. Also the proposer's pre-check. */
export function checkRawBatch(shard: RawApplyShard, cmd: command.RawBatchCommand): Result<Checked[], KvError> {
  const writesMax = shard.writesMax ?? WRITES_MAX_DEFAULT;
  if (cmd.writes.length > writesMax) {
    return err(new KvError('REQUEST_TOO_LARGE', `${cmd.writes.length} writes exceed ${writesMax}`, { details: { option: 'writes' } }));
  }
  const out: Checked[] = [];
  for (const w of cmd.writes) {
    const c = checkWrite(shard, w);
    if (!c.ok) return c;
    out.push(c.value);
  }
  return ok(out);
}

function checkWrite(shard: RawApplyShard, w: command.RawWrite): Result<Checked, KvError> {
  switch (w.type) {
    case command.RawWriteType.PUT: {
      const kind = checkKey(shard, w.key);
      if (!kind.ok) return kind;
      if (shard.valueBytesMax !== undefined && w.value.length > shard.valueBytesMax + 64) {
        return err(new KvError('VALUE_TOO_LARGE', `value of ${w.value.length} bytes exceeds ${shard.valueBytesMax}`));
      }
      if (kind.value === 'raw') return ok({ type: 'raw', key: w.key, value: w.value });
      let v;
      try {
        v = decodeStoredValue(w.value);
      } catch {
        return err(new KvError('INVALID_ARGUMENT', 'a data-key value is not a stored value'));
      }
      if (v.storage !== 'inline') return err(new KvError('INVALID_ARGUMENT', 'a data-key value must be inline'));
      return ok({ type: 'data', key: w.key, value: { type: v.type, expireAtUnixMs: v.expireAtUnixMs, body: v.value } });
    }
    case command.RawWriteType.DELETE: {
      const kind = checkKey(shard, w.key);
      return kind.ok ? ok({ type: 'delete', key: w.key }) : kind;
    }
    case command.RawWriteType.DELETE_RANGE: {
      const range = { start: w.key, end: w.endKey };
      if (compareBytes(range.start, range.end) >= 0) return err(new KvError('INVALID_ARGUMENT', 'empty raw delete range'));
      if (compareBytes(range.start, shard.range.start) < 0 || compareBytes(range.end, shard.range.end) > 0) {
        return err(new KvError('KEY_NOT_IN_SHARD', 'raw delete range leaves the shard'));
      }
      return ok({ type: 'deleteRange', range });
    }
    default:
      return err(new KvError('INVALID_ARGUMENT', `unknown raw write type ${String(w.type)}`, { details: { option: 'type' } }));
  }
}

/** 'data' for a data key, 'raw' for a subkey or sub-index key; anything else is refused. */
function checkKey(shard: RawApplyShard, key: Uint8Array): Result<'data' | 'raw', KvError> {
  if (!inRange(key, shard.range)) return err(new KvError('KEY_NOT_IN_SHARD', 'raw write key outside the shard'));
  if (shard.keyBytesMax !== undefined && key.length > shard.keyBytesMax + 64) {
    return err(new KvError('KEY_TOO_LARGE', `storage key of ${key.length} bytes`));
  }
  let d;
  try {
    d = decodeStorageKey(key, shard.scheme);
  } catch {
    return err(new KvError('INVALID_ARGUMENT', 'raw write key is not a storage key'));
  }
  switch (d.type) {
    case 'data': return ok('data');
    case 'subkey':
    case 'subindex': return ok('raw');
    case 'internal':
    case 'ttl': return err(new KvError('INVALID_ARGUMENT', `raw write to a ${d.type} key`));
  }
}

// ------------------------------------------------------------------------- proto mapping

export function toRawBatchCommand(writes: readonly RawWrite[]): command.RawBatchCommand {
  return command.RawBatchCommand.create({ writes: writes.map(toProtoWrite) });
}

function toProtoWrite(w: RawWrite): command.RawWrite {
  switch (w.type) {
    case 'put': return command.RawWrite.create({ type: command.RawWriteType.PUT, key: w.key, value: w.value });
    case 'delete': return command.RawWrite.create({ type: command.RawWriteType.DELETE, key: w.key });
    case 'deleteRange': return command.RawWrite.create({ type: command.RawWriteType.DELETE_RANGE, key: w.range.start, endKey: w.range.end });
  }
}

export function fromRawBatchCommand(cmd: command.RawBatchCommand): RawWrite[] {
  return cmd.writes.map((w): RawWrite => {
    switch (w.type) {
      case command.RawWriteType.PUT: return { type: 'put', key: w.key, value: w.value };
      case command.RawWriteType.DELETE: return { type: 'delete', key: w.key };
      case command.RawWriteType.DELETE_RANGE: return { type: 'deleteRange', range: { start: w.key, end: w.endKey } };
      default: throw new KvError('INVALID_ARGUMENT', `unknown raw write type ${String(w.type)}`);
    }
  });
}

/** A Raft command carrying the writes, with the header the proposer fills (shard, epoch, stamp). */
export function rawBatchRaftCommand(header: command.CommandHeader, writes: readonly RawWrite[]): command.RaftCommand {
  return command.RaftCommand.create({ header, rawBatch: toRawBatchCommand(writes) });
}
