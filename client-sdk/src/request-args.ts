/**
 * Validation and resolution of per-call arguments shared by the operations: read
 * consistency (call > client > table), TTLs, incr deltas, and single-key routing.
 */
import { KvError } from '@shoal/common';
import type { common } from '@shoal/proto';
import type { RouteChoice } from './executor.js';
import { checkConsistency, checkStalenessMs, checkTimeoutMs } from './options.js';
import type { ResolvedOptions } from './options.js';
import { consistencyToProto } from './table-routes.js';
import type { TableRoutes } from './table-routes.js';

/** The consistency fields of a read request. */
export interface ReadSpec {
  readonly consistency: common.ReadConsistency;
  readonly maxStalenessMs: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function invalid(option: string, why: string): KvError {
  return new KvError('INVALID_ARGUMENT', `${option} ${why}`, { details: { option } });
}

/** Checks the options object itself and its `timeoutMs`; returns the timeout. */
export function checkCall(options: unknown): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object');
  return checkTimeoutMs((options as { timeoutMs?: unknown }).timeoutMs);
}

/** Resolves a read's consistency: the call's, else the client's, else the table's policy. */
export function resolveRead(
  o: { readonly consistency?: unknown; readonly maxStalenessMs?: unknown }, t: TableRoutes, client: ResolvedOptions,
): ReadSpec {
  const explicit = checkConsistency(o.consistency);
  const staleness = checkStalenessMs(o.maxStalenessMs);
  const c = explicit ?? client.readConsistency ?? t.info.readPolicy;
  if (staleness !== undefined && c !== 'stale') {
    throw invalid('maxStalenessMs', `applies to consistency 'stale' only, not '${c}'`);
  }
  const maxStalenessMs = c === 'stale' ? staleness ?? client.maxStalenessMs ?? t.info.maxStalenessMs : 0;
  return { consistency: consistencyToProto(c), maxStalenessMs };
}

/** Checks a TTL option: a non-negative safe integer of ms, or undefined (the table default). */
export function checkTtl(ttlMs: unknown, option = 'ttlMs'): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
    throw invalid(option, `must be a non-negative integer of ms, got ${String(ttlMs)}`);
  }
  return ttlMs;
}

/** An incr delta as the wire's sint64: a bigint in the int64 range, or a safe-integer number. */
export function checkDelta(delta: unknown): bigint {
  if (typeof delta === 'number') {
    if (!Number.isSafeInteger(delta)) throw invalid('delta', `must be a safe integer (or a bigint), got ${delta}`);
    return BigInt(delta);
  }
  if (typeof delta !== 'bigint') throw invalid('delta', `must be a bigint or a number, got ${typeof delta}`);
  if (delta < INT64_MIN || delta > INT64_MAX) throw invalid('delta', `must fit in int64, got ${delta}`);
  return delta;
}

/** Checks a boolean option. */
export function checkBool(value: unknown, option: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalid(option, `must be a boolean, got ${typeof value}`);
}

/** The route of a single-key request: the shard holding the key's data key. */
export function keyRoute(key: Uint8Array): (t: TableRoutes) => RouteChoice {
  return (t) => t.routes.locate(t.ks.dataKey(key));
}
