/**
 * Checks the service layer runs before proposing, so a command that cannot succeed never
 * takes a log slot: limits (KEY_TOO_LARGE, VALUE_TOO_LARGE, REQUEST_TOO_LARGE) and shape
 * (INVALID_ARGUMENT). Apply repeats the limit and range checks as a defence.
 */
import { KvError } from '@shoal/common';
import { command, kv } from '@shoal/proto';

export interface CommandLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  /** Ops of a BatchWrite, keys of an ExpireDelete. */
  readonly batchKeysMax: number;
}

function key(k: Uint8Array, l: CommandLimits, option = 'key'): KvError | undefined {
  if (k.length <= l.keyBytesMax) return undefined;
  return new KvError('KEY_TOO_LARGE', `${option} of ${k.length} bytes exceeds ${l.keyBytesMax}`, { details: { option } });
}

function value(v: Uint8Array, l: CommandLimits, option = 'value'): KvError | undefined {
  if (v.length <= l.valueBytesMax) return undefined;
  return new KvError('VALUE_TOO_LARGE', `${option} of ${v.length} bytes exceeds ${l.valueBytesMax}`, { details: { option } });
}

function count(n: number, l: CommandLimits, option: string): KvError | undefined {
  if (n <= l.batchKeysMax) return undefined;
  return new KvError('REQUEST_TOO_LARGE', `${n} ${option} exceed ${l.batchKeysMax}`, { details: { option } });
}

/** The first reason `cmd` must not be proposed, or undefined. Shard-independent. */
export function validateCommand(cmd: command.RaftCommand, l: CommandLimits): KvError | undefined {
  if (cmd.header === undefined) {
    // Apply judges expiry at header.proposed_at_unix_ms; a command without it could not.
    return new KvError('INVALID_ARGUMENT', 'command has no header', { details: { option: 'header' } });
  }
  if (cmd.rawBatch !== undefined) return validateRawBatch(cmd, l);
  const op = cmd.op;
  switch (op?.$case) {
    case 'put':
      if (!Object.values(kv.PutCondition).includes(op.put.condition)) {
        return new KvError('INVALID_ARGUMENT', 'unknown put condition', { details: { option: 'condition' } });
      }
      return key(op.put.key, l) ?? value(op.put.value, l);
    case 'delete': return key(op.delete.key, l);
    case 'cas': return key(op.cas.key, l) ?? value(op.cas.newValue, l, 'new_value') ?? value(op.cas.expectedValue, l, 'expected_value');
    case 'incr': return key(op.incr.key, l);
    case 'batchWrite': {
      const tooMany = count(op.batchWrite.ops.length, l, 'ops');
      if (tooMany !== undefined) return tooMany;
      for (const o of op.batchWrite.ops) {
        if (o.type !== kv.WriteOpType.PUT && o.type !== kv.WriteOpType.DELETE) {
          return new KvError('INVALID_ARGUMENT', 'unknown write op type', { details: { option: 'type' } });
        }
        const bad = key(o.key, l) ?? value(o.value, l);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    case 'deleteRange': return key(op.deleteRange.startKey, l, 'start_key') ?? key(op.deleteRange.endKey, l, 'end_key');
    case 'expireDelete': {
      const tooMany = count(op.expireDelete.keys.length, l, 'keys');
      if (tooMany !== undefined) return tooMany;
      for (const k of op.expireDelete.keys) {
        const bad = key(k, l);
        if (bad !== undefined) return bad;
      }
      return undefined;
    }
    case 'split': {
      const s = op.split;
      if (s.newShardId === 0) return new KvError('INVALID_ARGUMENT', 'split needs new_shard_id', { details: { option: 'newShardId' } });
      if (s.newPeerIds.length === 0) return new KvError('INVALID_ARGUMENT', 'split needs new_peer_ids', { details: { option: 'newPeerIds' } });
      return s.splitKey.length === 0 ? new KvError('INVALID_ARGUMENT', 'split needs a split key', { details: { option: 'splitKey' } }) : undefined;
    }
    case undefined: return new KvError('INVALID_ARGUMENT', 'command has no operation', { details: { option: 'op' } });
    default: {
      const never: never = op;
      return new KvError('INVALID_ARGUMENT', `unknown operation ${String(never)}`);
    }
  }
}

/**
 * A Redis raw batch (RaftCommand.raw_batch): its keys are storage keys, so only the sizes
 * are checked here (a storage key or stored value may exceed the user-key / value limit by
 * its framing); Engine.validateCommand checks the keys against the shard (checkRawBatch).
 */
function validateRawBatch(cmd: command.RaftCommand, l: CommandLimits): KvError | undefined {
  if (cmd.op !== undefined) return new KvError('INVALID_ARGUMENT', 'command carries both an operation and a raw batch', { details: { option: 'op' } });
  const writes = cmd.rawBatch!.writes;
  const tooMany = count(writes.length, l, 'writes');
  if (tooMany !== undefined) return tooMany;
  for (const w of writes) {
    if (w.key.length > l.keyBytesMax + RAW_FRAMING_BYTES || w.endKey.length > l.keyBytesMax + RAW_FRAMING_BYTES) {
      return new KvError('KEY_TOO_LARGE', `raw write key of ${Math.max(w.key.length, w.endKey.length)} bytes`, { details: { option: 'key' } });
    }
    if (w.value.length > l.valueBytesMax + RAW_FRAMING_BYTES) {
      return new KvError('VALUE_TOO_LARGE', `raw write value of ${w.value.length} bytes exceeds ${l.valueBytesMax}`, { details: { option: 'value' } });
    }
  }
  return undefined;
}

/** Storage-key / stored-value framing allowed on top of the user limits (as redis/apply-raw.ts). */
const RAW_FRAMING_BYTES = 64;

/**
 * The absolute expiry a proposer puts in a command: `ttlMs` as in kv requests (absent: the
 * table's default, 0 = never) from the leader's stamp. 0 = never expires.
 */
export function resolveExpireAt(ttlMs: number | undefined, defaultTtlMs: number, stampMs: number): number {
  const ttl = ttlMs ?? defaultTtlMs;
  return ttl === 0 ? 0 : stampMs + ttl;
}
