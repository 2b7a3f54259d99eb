/**
 * Options and results of the `Table` operations. Keys and values are given as
 * `Uint8Array | string`; results are bytes unless an encoding option asks for strings.
 */
import type { ReadConsistency } from './options.js';
import type { Decoded, Encoding, Key, Value } from './values.js';

/** Options every call accepts. */
export interface CallOptions {
  /**
   * Deadline of the call in ms, retries and back-off included (default: the client's
   * `timeoutMs`). A call ends within a few ms of it: with TIMEOUT if nothing was
   * applied, UNKNOWN_OUTCOME if a write was sent but not answered.
   */
  readonly timeoutMs?: number;
}

/**
 * Options of reads. `maxStalenessMs` belongs to stale reads only, so it is refused
 * (at compile time and at run time) together with another explicit consistency.
 */
export type ReadOptions = CallOptions & (
  | {
    /** How fresh the read must be (default: the client's, else the table's read policy). */
    readonly consistency?: 'linearizable' | 'follower';
    readonly maxStalenessMs?: undefined;
  }
  | {
    /** How fresh the read must be (default: the client's, else the table's read policy). */
    readonly consistency?: 'stale';
    /** How far behind its leader the serving replica may be; 0 = any. */
    readonly maxStalenessMs?: number;
  }
);

/** Options of `get` and `getMany`. */
export type GetOptions<V extends Encoding = 'bytes'> = ReadOptions & {
  /** Return values as `'bytes'` (default) or `'utf8'` strings. */
  readonly valueEncoding?: V;
};

/** The existence condition of a put: at most one of `ifAbsent` and `ifPresent`. */
export type PutCondition =
  | { readonly ifAbsent?: false; readonly ifPresent?: false }
  /** Write only if the key does not exist (Redis SET NX). */
  | { readonly ifAbsent: true; readonly ifPresent?: false }
  /** Write only if the key exists (Redis SET XX). */
  | { readonly ifPresent: true; readonly ifAbsent?: false };

/** Options of `put`. */
export type PutOptions<V extends Encoding = 'bytes'> = CallOptions & PutCondition & {
  /** Time to live in ms; 0 = never expires; absent = the table's default TTL. */
  readonly ttlMs?: number;
  /** Also return the value the key had before (Redis SET … GET). */
  readonly returnPrevious?: boolean;
  /** Encoding of `previous`. */
  readonly valueEncoding?: V;
};

/** The result of `put`. */
export interface PutResult {
  /** False when the condition (`ifAbsent` / `ifPresent`) did not hold; nothing was written. */
  readonly applied: boolean;
}

/**
 * The result of `put` with `returnPrevious: true`.
 *
 * @typeParam V - how values come back: `'bytes'` (Uint8Array) or `'utf8'` (string).
 */
export interface PutResultWithPrevious<V extends Encoding = 'bytes'> extends PutResult {
  /** The value before the call; undefined if the key did not exist. */
  readonly previous: Decoded<V> | undefined;
}

/**
 * Options of `compareAndSwap`.
 *
 * @typeParam V - how values come back: `'bytes'` (Uint8Array) or `'utf8'` (string).
 */
export interface CasOptions<V extends Encoding = 'bytes'> extends CallOptions {
  /** TTL of the new value in ms, as in `put`. */
  readonly ttlMs?: number;
  /** Encoding of `current`. */
  readonly valueEncoding?: V;
}

/**
 * The result of `compareAndSwap`.
 *
 * @typeParam V - how values come back: `'bytes'` (Uint8Array) or `'utf8'` (string).
 */
export interface CasResult<V extends Encoding = 'bytes'> {
  /** True if the expectation held and the new value (or deletion) was applied. */
  readonly swapped: boolean;
  /**
   * The key's value after the call as far as it is known: the new value when swapped
   * (undefined if the swap deleted it), the value found when not (undefined: absent).
   */
  readonly current: Decoded<V> | undefined;
}

/** Options of `incr`. */
export interface IncrOptions extends CallOptions {
  /** TTL in ms if this call creates the key, as in `put`; an existing key keeps its expiry. */
  readonly ttlMs?: number;
}

/** One write of a `batchWrite`. */
export type WriteOp =
  | { readonly type: 'put'; readonly key: Key; readonly value: Value; readonly ttlMs?: number }
  | { readonly type: 'delete'; readonly key: Key };

/** Options of `batchWrite`. */
export interface BatchWriteOptions extends CallOptions {
  /**
   * Require the whole batch to be atomic: if its keys span several shards, fail with
   * CROSSSLOT before sending anything. Without it, a multi-shard batch is split into one
   * atomic part per shard, and the result (or PartialWriteError) says so.
   */
  readonly atomic?: boolean;
}

/** The result of a `batchWrite` that was applied in full. */
export interface BatchWriteResult {
  /** True if the batch was applied as one atomic unit (it touched one shard). */
  readonly atomic: boolean;
  /** Number of shards (= atomic parts) the batch was split into. */
  readonly shardCount: number;
}

/** The result of a `batchWrite` with `atomic: true`. */
export interface AtomicBatchWriteResult extends BatchWriteResult {
  readonly atomic: true;
  readonly shardCount: 0 | 1;
}

/** Options of `scan`. `start`, `end` and `reverse` are for range tables only. */
export type ScanOptions<K extends Encoding = 'bytes', V extends Encoding = 'bytes'> = ReadOptions & {
  /** Inclusive lower bound (range tables); absent = the table's first key. */
  readonly start?: Key;
  /** Exclusive upper bound (range tables); absent = past the table's last key. */
  readonly end?: Key;
  /** Most entries to return in total; the cursor then resumes after the last one. */
  readonly limit?: number;
  /** Descending key order (range tables). */
  readonly reverse?: boolean;
  /** Return keys only; values are then empty. */
  readonly keysOnly?: boolean;
  /** Entries per page requested from a node (default: the client's `scanPageKeys`). */
  readonly pageSize?: number;
  /** Resume a scan where the cursor was taken; it carries the bounds and direction. */
  readonly cursor?: string;
  /** Return keys as `'bytes'` (default) or `'utf8'`. */
  readonly keyEncoding?: K;
  /** Return values as `'bytes'` (default) or `'utf8'`. */
  readonly valueEncoding?: V;
};

/**
 * One entry returned by a scan.
 *
 * @typeParam K - how keys come back: `'bytes'` (Uint8Array) or `'utf8'` (string).
 * @typeParam V - how values come back: `'bytes'` or `'utf8'`.
 */
export interface ScanEntry<K extends Encoding = 'bytes', V extends Encoding = 'bytes'> {
  /** The user key (without the table/slot prefix of the storage key). */
  readonly key: Decoded<K>;
  /** Empty with `keysOnly`. */
  readonly value: Decoded<V>;
  /** Absolute expiry (Unix ms, leader clock); 0 = never expires. */
  readonly expireAtUnixMs: number;
}

/** The result of `deleteRange`. */
export interface DeleteRangeResult {
  /** Keys deleted, summed over shards. */
  readonly deletedCount: number;
  /** True if the range lay in one shard and was deleted as one atomic proposal. */
  readonly atomic: boolean;
  /** Shards the range was deleted from, one atomic proposal each. */
  readonly shardCount: number;
}

/** What `Table.describe` reports. */
export interface TableDescription {
  /** The table's id at the metaserver (cursors name it). */
  readonly id: number;
  /** The table's name. */
  readonly name: string;
  /** Hash tables: keys spread over CRC16 slots; range tables: keys in byte order. */
  readonly partition: 'hash' | 'range';
  /** The table's default read consistency. */
  readonly readPolicy: ReadConsistency;
  /** The table's default staleness bound for stale reads; 0 = any. */
  readonly maxStalenessMs: number;
  /** Shards in the route cache. */
  readonly shardCount: number;
}
