/**
 * What the executor reads and what it produces.
 *
 * A `ReadView` is the shard leader's applied local state, by storage key. The caller
 * supplies it after the consistency check it owes (for write commands: after taking the
 * latches, so the view includes every earlier command on those keys). Data keys' values
 * come back as inline stored values — a view resolves value-log pointers — and every other
 * key's value as stored. A view should be one point in time (a DB snapshot): a command that
 * reads several keys then sees one state.
 *
 * A `RawWrite` is one storage-key write of the batch the leader proposes (RawBatchCommand,
 * apply-raw.ts). Writes apply in order.
 */
import type { KeyRange } from '@shoal/common';
import type { ShardInfo } from './encoding.js';

export interface IterateOptions {
  /** Descending key order. */
  readonly reverse?: boolean;
  /** At most this many entries. */
  readonly limit?: number;
}

export interface ReadView {
  get(storageKey: Uint8Array): Promise<Uint8Array | undefined>;
  /** Entries of `[range.start, range.end)` in key order (or reverse). */
  iterate(range: KeyRange, options?: IterateOptions): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
}

export type RawWrite =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: Uint8Array }
  | { readonly type: 'deleteRange'; readonly range: KeyRange };

/** What a command runs against besides its arguments. */
export interface ExecContext {
  readonly shard: ShardInfo;
  /**
   * The leader's clock for this command (Unix ms), also the proposal's
   * header.proposed_at_unix_ms: expiry decisions, new versions and TTL arithmetic use it.
   */
  readonly nowMs: number;
  /**
   * The table's default TTL for keys a command creates without an expiry of its own
   * (SET without EX/PX/KEEPTTL, a new collection); 0 or absent = none.
   */
  readonly defaultTtlMs?: number;
  /**
   * RESP version of the client (kv.ExecRequest.resp_version), for the replies whose
   * structure differs beyond what toProtoReply flattens (nested pairs of ZRANGE WITHSCORES,
   * ZPOPMIN with a count, HRANDFIELD/ZRANDMEMBER with values). Default 2.
   */
  readonly respVersion?: number;
}

export interface ExecResult<R> {
  readonly reply: R;
  /** Empty for read-only commands and for writes that changed nothing. */
  readonly writes: readonly RawWrite[];
}
