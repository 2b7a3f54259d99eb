/**
 * Operating errors on the wire: every KV and NodeAdmin response carries
 * `shoal.common.ErrorDetail error = 1` (absent = success). Handlers throw or reject with a
 * `KvError`; `errorDetail` maps it, including the leader hint (NOT_LEADER), the current
 * descriptor (EPOCH_NOT_MATCH, KEY_NOT_IN_SHARD), the back-off (SERVER_BUSY) and the option
 * at fault (*_TOO_LARGE, INVALID_ARGUMENT). Anything that is not a KvError is a bug or an
 * unexpected failure and becomes INTERNAL.
 */
import { isKvError, KvError } from '@shoal/common';
import { common } from '@shoal/proto';

export function asKvError(e: unknown): KvError {
  if (isKvError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new KvError('INTERNAL', message, { cause: e });
}

export function errorDetail(e: KvError): common.ErrorDetail {
  const d = e.details;
  const hint = d?.leaderHint;
  return common.ErrorDetail.create({
    code: e.code,
    message: e.message,
    leaderHint: hint === undefined ? undefined : common.LeaderHint.create({ nodeId: hint.nodeId, peerId: hint.peerId, address: hint.address }),
    currentShard: isDescriptor(d?.shard) ? d.shard : undefined,
    retryAfterMs: d?.retryAfterMs ?? 0,
    option: d?.option ?? '',
  });
}

function isDescriptor(x: unknown): x is common.ShardDescriptor {
  return typeof x === 'object' && x !== null && 'replicas' in x && 'id' in x;
}

/** A copy of `e` that carries the shard descriptor (for EPOCH_NOT_MATCH / KEY_NOT_IN_SHARD). */
export function withShard(e: KvError, shard: common.ShardDescriptor): KvError {
  if (e.details?.shard !== undefined) return e;
  return new KvError(e.code, e.message, { details: { ...e.details, shard }, cause: e.cause });
}
