/**
 * `Shoal.connect` options: their documentation, defaults and validation. Every option is
 * checked once, up front, and a bad one fails `connect` with `INVALID_ARGUMENT` naming it
 * (`details.option`), so nothing fails later for a reason the caller could have seen.
 */
import { KvError, tryParseHostPort } from '@shoal/common';
import type { ShoalHooks } from './hooks.js';

/**
 * How fresh a read must be.
 * - `'linearizable'`: served by the shard leader; sees every acknowledged write.
 * - `'follower'`: served by any replica after a ReadIndex round with the leader; also
 *   linearizable, and spreads load over the replicas.
 * - `'stale'`: served from any replica's local state, at most `maxStalenessMs` behind its
 *   leader (0 = any staleness); cheapest, may miss recent writes.
 */
export type ReadConsistency = 'linearizable' | 'follower' | 'stale';

/** Options of `Shoal.connect`. Only `metaservers` is required. */
export interface ConnectOptions {
  /** gRPC addresses (`host:port`) of metaserver members; any subset works, the leader is found. */
  readonly metaservers: readonly string[];
  /** Default per-call deadline, retries included. Default 5000. */
  readonly timeoutMs?: number;
  /** Default read consistency; when absent each table's own read policy applies. */
  readonly readConsistency?: ReadConsistency;
  /** Default staleness bound of `'stale'` reads; when absent the table's (0 = any). */
  readonly maxStalenessMs?: number;
  /** First back-off step of retries; each retry waits a random time up to base·2^n. Default 10. */
  readonly backoffBaseMs?: number;
  /** Largest back-off step. Default 1000. */
  readonly backoffMaxMs?: number;
  /**
   * How long a write waits for a connection to its node before counting the node as
   * unreachable (and the write as not sent). Default 1000.
   */
  readonly connectTimeoutMs?: number;
  /** How long `close()` waits for in-flight calls before cancelling them. Default 5000. */
  readonly closeTimeoutMs?: number;
  /** Keep route caches fresh with the metaserver's WatchRoutes stream. Default true. */
  readonly watchRoutes?: boolean;
  /** Most shard requests one multi-shard call (getMany, batchWrite) runs at once. Default 16. */
  readonly fanoutConcurrencyMax?: number;
  /** Most keys per BatchGet request; getMany splits larger groups. Default 256. */
  readonly batchGetKeysMax?: number;
  /** Keys per scan page requested from a node. Default 256. */
  readonly scanPageKeys?: number;
  /** Observation hooks for metrics and logs. */
  readonly hooks?: ShoalHooks;
  /** Source of randomness in [0, 1) for back-off jitter and replica choice. Default Math.random. */
  readonly random?: () => number;
  /** Extra grpc-js channel options for every channel (e.g. keepalive settings). */
  readonly channelOptions?: Readonly<Record<string, string | number>>;
}

/** `ConnectOptions` with every default filled in. */
export interface ResolvedOptions {
  readonly metaservers: readonly string[];
  readonly timeoutMs: number;
  readonly readConsistency: ReadConsistency | undefined;
  readonly maxStalenessMs: number | undefined;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly connectTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly watchRoutes: boolean;
  readonly fanoutConcurrencyMax: number;
  readonly batchGetKeysMax: number;
  readonly scanPageKeys: number;
  readonly hooks: ShoalHooks;
  readonly random: () => number;
  readonly channelOptions: Readonly<Record<string, string | number>>;
}

/** Upper limits of the numeric options: beyond them a value is surely a mistake. */
const TIMEOUT_MS_MAX = 24 * 3600 * 1000;
const COUNT_MAX = 1_000_000;
/** uint32 on the wire (RequestHeader.max_staleness_ms). */
const STALENESS_MS_MAX = 0xffffffff;

const CONSISTENCIES: readonly ReadConsistency[] = ['linearizable', 'follower', 'stale'];

function invalid(option: string, why: string): KvError {
  return new KvError('INVALID_ARGUMENT', `${option} ${why}`, { details: { option } });
}

/** Checks an integer option in [min, max]; undefined passes. */
export function checkInt(value: unknown, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(option, `must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Checks a per-call `timeoutMs`. */
export function checkTimeoutMs(value: unknown, option = 'timeoutMs'): number | undefined {
  return checkInt(value, option, 1, TIMEOUT_MS_MAX);
}

/** Checks a `maxStalenessMs`. */
export function checkStalenessMs(value: unknown, option = 'maxStalenessMs'): number | undefined {
  return checkInt(value, option, 0, STALENESS_MS_MAX);
}

/** Checks a `consistency` option. */
export function checkConsistency(value: unknown, option = 'consistency'): ReadConsistency | undefined {
  if (value === undefined) return undefined;
  if (!CONSISTENCIES.includes(value as ReadConsistency)) {
    throw invalid(option, `must be one of ${CONSISTENCIES.join(', ')}, got ${String(value)}`);
  }
  return value as ReadConsistency;
}

function checkMetaservers(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('metaservers', 'must be a non-empty array of host:port');
  const out: string[] = [];
  for (const [i, a] of value.entries()) {
    if (typeof a !== 'string' || tryParseHostPort(a) === null) {
      throw invalid(`metaservers[${i}]`, `must be host:port, got ${JSON.stringify(a)}`);
    }
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** Validates `ConnectOptions` and fills in defaults. Throws `INVALID_ARGUMENT` naming the option. */
export function resolveOptions(o: ConnectOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw invalid('options', 'must be an object');
  const backoffBaseMs = checkInt(o.backoffBaseMs, 'backoffBaseMs', 1, TIMEOUT_MS_MAX) ?? 10;
  const backoffMaxMs = checkInt(o.backoffMaxMs, 'backoffMaxMs', 1, TIMEOUT_MS_MAX) ?? 1000;
  if (backoffMaxMs < backoffBaseMs) throw invalid('backoffMaxMs', `must be ≥ backoffBaseMs (${backoffBaseMs}), got ${backoffMaxMs}`);
  if (o.random !== undefined && typeof o.random !== 'function') throw invalid('random', 'must be a function');
  if (o.hooks !== undefined && (typeof o.hooks !== 'object' || o.hooks === null)) throw invalid('hooks', 'must be an object');
  if (o.watchRoutes !== undefined && typeof o.watchRoutes !== 'boolean') throw invalid('watchRoutes', 'must be a boolean');
  return {
    metaservers: checkMetaservers(o.metaservers),
    timeoutMs: checkTimeoutMs(o.timeoutMs) ?? 5000,
    readConsistency: checkConsistency(o.readConsistency, 'readConsistency'),
    maxStalenessMs: checkStalenessMs(o.maxStalenessMs),
    backoffBaseMs,
    backoffMaxMs,
    connectTimeoutMs: checkInt(o.connectTimeoutMs, 'connectTimeoutMs', 1, TIMEOUT_MS_MAX) ?? 1000,
    closeTimeoutMs: checkInt(o.closeTimeoutMs, 'closeTimeoutMs', 0, TIMEOUT_MS_MAX) ?? 5000,
    watchRoutes: o.watchRoutes ?? true,
    fanoutConcurrencyMax: checkInt(o.fanoutConcurrencyMax, 'fanoutConcurrencyMax', 1, COUNT_MAX) ?? 16,
    batchGetKeysMax: checkInt(o.batchGetKeysMax, 'batchGetKeysMax', 1, COUNT_MAX) ?? 256,
    scanPageKeys: checkInt(o.scanPageKeys, 'scanPageKeys', 1, COUNT_MAX) ?? 256,
    hooks: o.hooks ?? {},
    random: o.random ?? Math.random,
    channelOptions: o.channelOptions ?? {},
  };
}
