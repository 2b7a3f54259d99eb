/**
 * Optional observation hooks: the SDK calls them so an application can export metrics or
 * logs without the SDK depending on a metrics library. A hook that throws is ignored (the
 * call it observes is not affected); hooks run synchronously, so keep them cheap.
 */
import type { KvErrorCode } from '@shoal/common';

/** The public operation a hook event belongs to. */
export type OpName =
  | 'get' | 'getMany' | 'put' | 'delete' | 'compareAndSwap' | 'incr' | 'batchWrite' | 'scan' | 'deleteRange' | 'describe'
  /** Redis commands through Kv.Exec (exec.ts, used by the RESP proxy). */
  | 'exec';

/** One finished logical call (all its attempts), successful or not. */
export interface CallEvent {
  /** The public method called. */
  readonly op: OpName;
  /** The table name the call was made on. */
  readonly table: string;
  /** Wall time of the whole call, retries and back-off included. */
  readonly durationMs: number;
  /** RPC attempts made, summed over shards for multi-shard calls. */
  readonly attempts: number;
  /** Absent on success; the `KvError` code the call failed with otherwise. */
  readonly code?: KvErrorCode;
}

/** A retry about to happen after a failed attempt. */
export interface RetryEvent {
  /** The public method called. */
  readonly op: OpName;
  /** The table name the call was made on. */
  readonly table: string;
  /** The shard the failed attempt addressed; 0 if it never got that far. */
  readonly shardId: number;
  /** The node address the failed attempt went to; empty if none. */
  readonly address: string;
  /** Why the attempt failed. */
  readonly code: KvErrorCode;
  /** 1 for the first retry. */
  readonly attempt: number;
  /** How long the SDK waits before the retry (0: at once, e.g. after a leader hint). */
  readonly delayMs: number;
}

/** Where a change of the route cache came from. */
export type RouteSource = 'meta' | 'watch' | 'node';

/** The cached routes of a table changed. */
export interface RoutesEvent {
  /** The table name. */
  readonly table: string;
  /** The table's id at the metaserver. */
  readonly tableId: number;
  /** Where the change came from: a metaserver load, the watch stream, or a node's rejection. */
  readonly source: RouteSource;
  /** The metaserver's route version the cache now reflects (nodes do not send one). */
  readonly routeVersion: number;
  /** Shards in the cache after the change. */
  readonly shardCount: number;
}

/** Hooks an application may pass in `ConnectOptions.hooks`; every one is optional. */
export interface ShoalHooks {
  /** After every public call, once it succeeded or failed for good. */
  readonly onCall?: (event: CallEvent) => void;
  /** Before every retry of an RPC. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** After a table's cached routes changed (metaserver load, watch event, node hint). */
  readonly onRoutesUpdated?: (event: RoutesEvent) => void;
}

/** Calls a hook, isolating the SDK from its failures. */
export function emit<E>(hook: ((event: E) => void) | undefined, event: E): void {
  if (hook === undefined) return;
  try {
    hook(event);
  } catch {
    // A broken hook must not break the call it observes.
  }
}
