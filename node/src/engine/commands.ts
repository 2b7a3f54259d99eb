/**
 * The semantics of each Raft command, over the state an apply batch shows (prior DB state
 * plus the batch's own earlier writes). Pure with respect to that state and the command:
 * expiry is judged at the command's stamp (header.proposed_at_unix_ms), never the local
 * clock, so every replica reaches the same outcome and the same state.
 *
 * Every command checks all its keys and values before writing anything, so a failing
 * command — including one bad op of a BatchWrite — changes nothing.
 */
import { equalBytes, err, KvError, ok } from '@shoal/common';
import type { KeyRange } from '@shoal/common';
import { command, EMPTY_BYTES, kv } from '@shoal/proto';
import { addInt64, formatInt64, parseInt64 } from './int64.js';
import type { ShardKeyspace } from './keyspace.js';
import { isExpired, VALUE_TYPE_PLAIN } from './stored-value.js';
import type { StoredValue } from './stored-value.js';
import type { ApplyOutcome } from './types.js';

/** What a command may read and write: the apply batch's view of one shard. */
export interface OpContext {
  readonly stampMs: number;
  readonly ks: ShardKeyspace;
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly batchKeysMax: number;
  /** The stored value under a storage key, expired or not. */
  read(storageKey: Uint8Array): StoredValue | undefined;
  /** The bytes of a stored value (reads the value log for pointers; throws CORRUPTION on a bad record). */
  value(storageKey: Uint8Array, v: StoredValue): Uint8Array;
  put(storageKey: Uint8Array, value: Uint8Array, expireAtUnixMs: number): void;
  del(storageKey: Uint8Array): void;
  /** Deletes every key of `range`; the reply reads the count once the batch is committed. */
  deleteRange(range: KeyRange): ApplyOutcome;
}

export function applyCommand(ctx: OpContext, op: command.RaftCommand['op']): ApplyOutcome {
  switch (op?.$case) {
    case 'put': return applyPut(ctx, op.put);
    case 'delete': return applyDelete(ctx, op.delete);
    case 'cas': return applyCas(ctx, op.cas);
    case 'incr': return applyIncr(ctx, op.incr);
    case 'batchWrite': return applyBatchWrite(ctx, op.batchWrite);
    case 'deleteRange': return applyDeleteRange(ctx, op.deleteRange);
    case 'expireDelete': return applyExpireDelete(ctx, op.expireDelete);
    case 'split':
      // Applied by the batch itself (apply-batch.ts applySplit): it changes shards, not keys.
      return err(new KvError('INVALID_ARGUMENT', 'a split is not a key operation'));
    case undefined:
      // A newer proposer's operation this binary does not know, or no operation at all.
      return err(new KvError('INCOMPATIBLE_VERSION', 'command has no operation this node knows'));
    default: {
      const never: never = op;
      return err(new KvError('INCOMPATIBLE_VERSION', `unknown command ${String(never)}`));
    }
  }
}

export function checkKey(ctx: Pick<OpContext, 'ks' | 'keyBytesMax'>, userKey: Uint8Array): KvError | undefined {
  if (userKey.length > ctx.keyBytesMax) {
    return new KvError('KEY_TOO_LARGE', `key of ${userKey.length} bytes exceeds ${ctx.keyBytesMax}`, { details: { option: 'key' } });
  }
  if (!ctx.ks.contains(ctx.ks.dataKey(userKey))) return new KvError('KEY_NOT_IN_SHARD', 'key is outside the shard\'s range');
  return undefined;
}

function checkValue(ctx: OpContext, value: Uint8Array): KvError | undefined {
  if (value.length <= ctx.valueBytesMax) return undefined;
  return new KvError('VALUE_TOO_LARGE', `value of ${value.length} bytes exceeds ${ctx.valueBytesMax}`, { details: { option: 'value' } });
}

/** The stored value if the key exists at the command's stamp. */
function live(ctx: OpContext, sk: Uint8Array): StoredValue | undefined {
  const v = ctx.read(sk);
  return v === undefined || isExpired(v.expireAtUnixMs, ctx.stampMs) ? undefined : v;
}

/**
 * A live Redis collection (hash, list, set, zset: stored type ≠ 0) holds metadata, not a
 * value: KV operations that read or update the value refuse it, as Redis does.
 */
export function wrongType(): KvError {
  return new KvError('WRONG_TYPE', 'Operation against a key holding the wrong kind of value');
}

function isCollection(v: StoredValue | undefined): boolean {
  return v !== undefined && v.type !== VALUE_TYPE_PLAIN;
}

function applyPut(ctx: OpContext, c: command.PutCommand): ApplyOutcome {
  const bad = checkKey(ctx, c.key) ?? checkValue(ctx, c.value);
  if (bad !== undefined) return err(bad);
  const sk = ctx.ks.dataKey(c.key);
  const cur = live(ctx, sk);
  // A plain put overwrites a collection (like SET); reading its previous value cannot.
  if (c.returnPrevious && isCollection(cur)) return err(wrongType());
  let applied: boolean;
  switch (c.condition) {
    case kv.PutCondition.NONE: applied = true; break;
    case kv.PutCondition.IF_ABSENT: applied = cur === undefined; break;
    case kv.PutCondition.IF_PRESENT: applied = cur !== undefined; break;
    default: return err(new KvError('INVALID_ARGUMENT', `unknown put condition ${String(c.condition)}`, { details: { option: 'condition' } }));
  }
  const previousFound = c.returnPrevious && cur !== undefined;
  const previousValue = previousFound ? ctx.value(sk, cur) : EMPTY_BYTES;
  if (applied) ctx.put(sk, c.value, c.expireAtUnixMs);
  return ok({ op: 'put', response: { error: undefined, applied, previousFound, previousValue } });
}

function applyDelete(ctx: OpContext, c: command.DeleteCommand): ApplyOutcome {
  const bad = checkKey(ctx, c.key);
  if (bad !== undefined) return err(bad);
  const sk = ctx.ks.dataKey(c.key);
  const stored = ctx.read(sk);
  const deleted = stored !== undefined && !isExpired(stored.expireAtUnixMs, ctx.stampMs);
  // An expired key is removed too: it is gone for readers already, and this frees its space.
  if (stored !== undefined) ctx.del(sk);
  return ok({ op: 'delete', response: { error: undefined, deleted } });
}

function applyCas(ctx: OpContext, c: command.CompareAndSwapCommand): ApplyOutcome {
  const bad = checkKey(ctx, c.key) ?? (c.delete ? undefined : checkValue(ctx, c.newValue));
  if (bad !== undefined) return err(bad);
  const sk = ctx.ks.dataKey(c.key);
  const cur = live(ctx, sk);
  if (isCollection(cur)) return err(wrongType());
  const curValue = cur === undefined ? undefined : ctx.value(sk, cur);
  const swapped = c.expectAbsent ? cur === undefined : curValue !== undefined && equalBytes(curValue, c.expectedValue);
  if (swapped) {
    if (!c.delete) ctx.put(sk, c.newValue, c.expireAtUnixMs);
    else if (ctx.read(sk) !== undefined) ctx.del(sk);
  }
  return ok({
    op: 'cas',
    response: {
      error: undefined, swapped,
      currentFound: !swapped && cur !== undefined,
      currentValue: !swapped && curValue !== undefined ? curValue : EMPTY_BYTES,
    },
  });
}

function applyIncr(ctx: OpContext, c: command.IncrCommand): ApplyOutcome {
  const bad = checkKey(ctx, c.key);
  if (bad !== undefined) return err(bad);
  const sk = ctx.ks.dataKey(c.key);
  const cur = live(ctx, sk);
  if (isCollection(cur)) return err(wrongType());
  let base = 0n;
  let expireAt = c.expireAtUnixMs;
  if (cur !== undefined) {
    const parsed = parseInt64(ctx.value(sk, cur));
    if (parsed === undefined) return err(new KvError('INVALID_ARGUMENT', 'value is not an integer or out of range'));
    base = parsed;
    expireAt = cur.expireAtUnixMs;
  }
  const next = addInt64(base, c.delta);
  if (next === undefined) return err(new KvError('OVERFLOW', 'increment or decrement would overflow'));
  ctx.put(sk, formatInt64(next), expireAt);
  return ok({ op: 'incr', response: { error: undefined, value: next } });
}

function applyBatchWrite(ctx: OpContext, c: command.BatchWriteCommand): ApplyOutcome {
  if (c.ops.length > ctx.batchKeysMax) {
    return err(new KvError('REQUEST_TOO_LARGE', `batch of ${c.ops.length} ops exceeds ${ctx.batchKeysMax}`, { details: { option: 'ops' } }));
  }
  for (const o of c.ops) {
    const bad = checkKey(ctx, o.key) ?? checkWriteOp(ctx, o);
    if (bad !== undefined) return err(bad);
  }
  for (const o of c.ops) {
    const sk = ctx.ks.dataKey(o.key);
    if (o.type === kv.WriteOpType.PUT) ctx.put(sk, o.value, o.expireAtUnixMs);
    else if (ctx.read(sk) !== undefined) ctx.del(sk);
  }
  return ok({ op: 'batchWrite', response: { error: undefined } });
}

function checkWriteOp(ctx: OpContext, o: command.WriteOp): KvError | undefined {
  switch (o.type) {
    case kv.WriteOpType.PUT: return checkValue(ctx, o.value);
    case kv.WriteOpType.DELETE: return undefined;
    default: return new KvError('INVALID_ARGUMENT', `unknown write op type ${String(o.type)}`, { details: { option: 'type' } });
  }
}

function applyDeleteRange(ctx: OpContext, c: command.DeleteRangeCommand): ApplyOutcome {
  for (const k of [c.startKey, c.endKey]) {
    if (k.length > ctx.keyBytesMax) return err(new KvError('KEY_TOO_LARGE', `range bound of ${k.length} bytes exceeds ${ctx.keyBytesMax}`));
  }
  const range = ctx.ks.clamp(c.startKey, c.endKey);
  if (range === undefined) return ok({ op: 'deleteRange', response: { error: undefined, deletedCount: 0 } });
  return ctx.deleteRange(range);
}

function applyExpireDelete(ctx: OpContext, c: command.ExpireDeleteCommand): ApplyOutcome {
  if (c.keys.length > ctx.batchKeysMax) {
    return err(new KvError('REQUEST_TOO_LARGE', `${c.keys.length} keys exceed ${ctx.batchKeysMax}`, { details: { option: 'keys' } }));
  }
  let deletedCount = 0;
  for (const key of c.keys) {
    // Keys that left the shard (a split since the sweep) or are malformed are not ours to judge.
    if (checkKey(ctx, key) !== undefined) continue;
    const sk = ctx.ks.dataKey(key);
    const v = ctx.read(sk);
    if (v === undefined || !isExpired(v.expireAtUnixMs, ctx.stampMs)) continue;
    ctx.del(sk);
    deletedCount++;
  }
  return ok({ op: 'expireDelete', response: { deletedCount } });
}
