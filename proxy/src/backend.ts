/**
 * What the proxy needs from the storage side: "execute these Redis commands for table T".
 *
 * The proxy owns the protocol, connections, authentication, the command table and the
 * connection-level state (SELECT, MULTI queueing, WATCH bookkeeping). Everything that
 * touches data goes through this interface. The real implementation (client SDK routing +
 * each storage node's Redis executor behind the Kv Exec RPC) is built separately; the
 * in-memory one (backend-memory.ts) exists for tests only.
 *
 * Contract, for every implementation:
 * - Ordering. The proxy sends one client's backend calls one at a time, in the client's
 *   command order, and waits for each to settle before the next. Within one `exec` call the
 *   commands take effect in array order (a later command sees the effect of an earlier one).
 *   Commands of different calls, or of different clients, are independent.
 * - Per-command failures are replies, not rejections: `exec` resolves with one reply per
 *   command, errors included (`-WRONGTYPE …`, `-CROSSSLOT …`, `-TRYAGAIN …` from
 *   `KvError.toResp()`). A rejection means the whole call failed before any command took
 *   effect — or, for `UNKNOWN_OUTCOME`, that it may have — and the proxy answers every
 *   command of the call with that error. Reject with a `KvError`; anything else is a bug.
 * - Arguments are `Buffer` views that may share memory with network buffers; copy any
 *   key or value kept after the returned promise settles.
 * - `options.signal` aborts when the client goes away; an implementation may stop work
 *   that has not been sent yet.
 */
import type { Reply } from './resp/reply.js';

/** One command: its name (any case) followed by its arguments, all binary-safe. */
export type CommandArgs = readonly Buffer[];

export interface ExecOptions {
  /** Aborted when the issuing client disconnects. */
  readonly signal?: AbortSignal;
  /** The issuing client's id, for logs and tracing. */
  readonly clientId?: number;
  /**
   * The client's RESP version when the call runs (HELLO may change it): it shapes some
   * replies beyond the encoding (ZRANGE WITHSCORES pairs, HRANDFIELD WITHVALUES). Default 2.
   */
  readonly respVersion?: () => 2 | 3;
}

/** A key's version as seen by WATCH; EXEC succeeds only if none has changed. Opaque to the proxy. */
export interface WatchStamp {
  readonly table: string;
  readonly key: Buffer;
  /** Backend-defined; compared only by the backend. */
  readonly token: string;
}

export interface TransactionCommand {
  readonly table: string;
  readonly args: CommandArgs;
}

export interface ScanOptions {
  /** SCAN MATCH pattern (Redis glob), applied by the backend. */
  readonly match?: Buffer;
  /** SCAN COUNT: a hint of how much work one call does. */
  readonly count: number;
  /** SCAN TYPE: only keys of this Redis type (`string`, `hash`, …). */
  readonly type?: string;
}

export interface ScanPage {
  /** The cursor to continue with; `"0"` when the scan is complete. */
  readonly cursor: string;
  readonly keys: readonly Buffer[];
}

export interface TableStats {
  readonly keys: number;
  readonly expires: number;
  readonly avgTtlMs: number;
}

export interface BackendStats {
  /** Per table; tables missing here have no keys (or their count is unknown). */
  readonly tables: ReadonlyMap<string, TableStats>;
  /** Extra `INFO cluster` fields (e.g. shards, nodes, leaders); names in snake_case. */
  readonly cluster: Readonly<Record<string, string | number>>;
}

export interface Backend {
  /**
   * Executes data commands on one table, in order; one reply per command (see the
   * contract above). The proxy has already checked the command name, arity, the
   * client's permissions and the table; the backend checks everything else.
   */
  exec(table: string, commands: readonly CommandArgs[], options?: ExecOptions): Promise<readonly Reply[]>;

  /** Takes the current version of each key for a later `transaction`. */
  watch(table: string, keys: readonly Buffer[], options?: ExecOptions): Promise<readonly WatchStamp[]>;

  /**
   * Runs MULTI … EXEC: the commands execute atomically (nothing else interleaves) and only
   * if no watched key changed since its stamp — else resolves null and nothing runs
   * (EXEC answers a null array). Per-command errors are replies, as Redis leaves the rest
   * of a transaction applied. Rejects with `CROSSSLOT` when the keys cannot be updated
   * atomically together (different shards), before anything runs.
   */
  transaction(commands: readonly TransactionCommand[], watched: readonly WatchStamp[], options?: ExecOptions): Promise<readonly Reply[] | null>;

  /** Number of keys in a table (DBSIZE). */
  dbsize(table: string, options?: ExecOptions): Promise<number>;

  /** Deletes every key of a table (FLUSHDB); really removes the data. */
  flush(table: string, options?: ExecOptions): Promise<void>;

  /** One SCAN step. Cursor `"0"` starts; keys may repeat across steps but none present throughout is missed. */
  scan(table: string, cursor: string, options: ScanOptions & ExecOptions): Promise<ScanPage>;

  /** Figures for INFO keyspace and INFO cluster. */
  stats(tables: readonly string[], options?: ExecOptions): Promise<BackendStats>;
}
