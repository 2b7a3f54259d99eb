/**
 * The shape of a command definition and of what its handler can see.
 *
 * Each file under commands/ declares one command or family as `CommandDef`s, with the
 * metadata Redis 7 publishes through COMMAND INFO / COMMAND DOCS (arity, flags, key
 * positions, ACL categories, arguments) and how it runs:
 * - `local`: a handler in the proxy (connection, server and admin commands);
 * - `backend`: a data command, forwarded as is to `Backend.exec` for the client's table
 *   (batched with the client's neighbouring data commands, replies kept in order);
 * - `container`: a command with subcommands (CLIENT, CONFIG …), optionally with a handler
 *   for its bare form (COMMAND with no arguments).
 */
import type { Backend, ExecOptions, WatchStamp } from '../backend.js';
import type { ProxyConfig } from '../config.js';
import type { Acl, AclUser } from '../acl.js';
import type { RespVersion } from '../resp/encoder.js';
import type { ErrorReply, Reply } from '../resp/reply.js';
import type { RuntimeSettings } from '../settings.js';
import type { Slowlog } from '../slowlog.js';
import type { CommandSpec, CommandTable } from './table.js';

/** Redis 7's command flags, in the order COMMAND INFO lists them. */
export const COMMAND_FLAGS = [
  'write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale', 'skip_monitor',
  'skip_slowlog', 'fast', 'no_auth', 'no_mandatory_keys', 'no_multi', 'movablekeys', 'allow_busy',
] as const;
export type CommandFlag = typeof COMMAND_FLAGS[number];

/** Redis 7's ACL categories, in Redis' order (the order COMMAND INFO and ACL CAT use). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
] as const;
export type AclCategory = typeof ACL_CATEGORIES[number];

export type ArgType = 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';

/** One argument as COMMAND DOCS describes it (redis-cli builds its hints from these). */
export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  readonly token?: string;
  readonly optional?: boolean;
  readonly multiple?: boolean;
  readonly arguments?: readonly ArgSpec[];
}

export interface CommandDoc {
  readonly summary: string;
  /** The Redis version that introduced the command. */
  readonly since: string;
  /** Redis' command group: `string`, `generic`, `connection`, `server`, `transactions`, `scripting`. */
  readonly group: string;
  readonly complexity?: string;
  readonly args?: readonly ArgSpec[];
  /** How Shoal differs from Redis here, for docs/redis-commands.md. */
  readonly shoalNotes?: string;
}

export interface KeyPositions {
  readonly first: number;
  readonly last: number;
  readonly step: number;
}

export type Handler = (ctx: CommandContext) => Reply | Promise<Reply>;

export type CommandRun =
  | { readonly kind: 'local'; readonly handler: Handler }
  | { readonly kind: 'backend' }
  | { readonly kind: 'container'; readonly handler?: Handler };

export interface CommandDef {
  /** Lower case; a subcommand's own name (`setname`), its full name being `client|setname`. */
  readonly name: string;
  /** Redis arity: N means exactly N arguments (name included), -N at least N. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly keys?: KeyPositions;
  /** Explicit categories; the implicit ones (from flags, and @slow when not @fast) are added. */
  readonly categories: readonly AclCategory[];
  readonly doc: CommandDoc;
  readonly run: CommandRun;
  readonly subcommands?: readonly CommandDef[];
  /**
   * Shoal: the command reads or changes data outside `Backend.exec` (DBSIZE, FLUSHDB, SCAN),
   * so it cannot be part of a backend transaction and is refused inside MULTI.
   */
  readonly notInTransaction?: boolean;
}

export interface ClockMs {
  /** Wall-clock time in milliseconds since the epoch, with a fraction (microseconds matter to TIME and SLOWLOG). */
  (): number;
}

/** One queued command of a MULTI. */
export interface QueuedCommand {
  readonly spec: CommandSpec;
  readonly argv: readonly Buffer[];
}

/** Keys one WATCH took stamps of; the stamps arrive in order with the client's backend work. */
export interface WatchedKeys {
  readonly table: string;
  readonly keys: readonly Buffer[];
  /** The stamps, or null if taking them failed (EXEC then fails as if a key had changed). */
  readonly stamps: Promise<readonly WatchStamp[] | null>;
}

export interface MultiState {
  readonly queued: QueuedCommand[];
  /** A command was rejected while queueing: EXEC must answer EXECABORT. */
  dirty: boolean;
  queuedBytes: number;
}

/** A connected client as commands see it: its state, and what may be done to it. */
export interface Client {
  readonly id: number;
  /** `ip:port` of the peer, `[ipv6]:port` for IPv6, as CLIENT LIST writes it. */
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  readonly createdMs: number;
  lastInteractionMs: number;
  name: string;
  libName: string;
  libVer: string;
  /** SELECTed database index and the table it maps to. */
  db: number;
  table: string;
  resp: RespVersion;
  user: AclUser;
  authenticated: boolean;
  /** Full name of the last command (`client|list`), for CLIENT LIST `cmd=`. */
  lastCommand: string;
  multi: MultiState | null;
  watched: WatchedKeys[];
  /** Request bytes buffered but not yet parsed into commands. */
  readonly queryBufferBytes: number;
  /** Reply bytes waiting in the socket. */
  readonly outputBufferBytes: number;
  /** Commands read whose replies have not been written yet. */
  readonly pendingCommands: number;
  /** CLIENT LIST `flags=` letters (N when none). */
  readonly flagLetters: string;
  /**
   * Runs `call` after the client's earlier backend calls have settled and before its later
   * ones start, so a client's commands act on data in the order it sent them.
   */
  backendCall<T>(call: (backend: Backend, options: ExecOptions) => Promise<T>): Promise<T>;
  /**
   * Dispatches no further command of this client until `until` settles: for a command whose
   * effect on the connection (EXEC running a queued SELECT or HELLO) must precede the next one.
   */
  holdDispatch(until: Promise<unknown>): void;
  /** Close once the reply of the current command (and those before it) is written. */
  closeAfterReply(): void;
  /** Close as soon as possible, without waiting for pending replies (CLIENT KILL). */
  kill(reason: string): void;
  /** NOPERM if this client's user may not run `spec`, or may not touch `table` with it. */
  permissionError(spec: CommandSpec, table: string): ErrorReply | null;
  /** The reply for what a handler threw: a KvError's own reply, else an internal error (logged). */
  replyForThrown(e: unknown): ErrorReply;
  /** Counts a command run by EXEC in the stats and the slow log, as Redis does. */
  recordQueued(spec: CommandSpec, argv: readonly Buffer[], startedMs: number, reply: Reply): void;
}

export interface CommandStats {
  calls: number;
  usec: number;
  /** Refused before running (unknown to the user, NOAUTH, NOPERM, queued-command errors). */
  rejected: number;
  /** Ran and answered an error. */
  failed: number;
}

export interface ServerStats {
  readonly startedMs: number;
  connectionsReceived: number;
  connectionsRejected: number;
  commandsProcessed: number;
  errorReplies: number;
  netInputBytes: number;
  netOutputBytes: number;
  /** Per command full name: calls, microseconds, rejected and failed calls (INFO commandstats). */
  readonly commands: Map<string, CommandStats>;
  opsPerSec: number;
}

export interface ServerInfo {
  /** Random 40 hex characters, new each start (INFO run_id). */
  readonly runId: string;
  readonly port: number;
  readonly configFile: string;
}

/** The proxy as commands see it. */
export interface ServerContext {
  readonly config: ProxyConfig;
  readonly settings: RuntimeSettings;
  readonly commands: CommandTable;
  readonly acl: Acl;
  readonly backend: Backend;
  readonly slowlog: Slowlog;
  readonly stats: ServerStats;
  readonly clock: ClockMs;
  readonly info: ServerInfo;
  clients(): Iterable<Client>;
  client(id: number): Client | undefined;
  resetStats(): void;
}

export interface CommandContext {
  readonly argv: readonly Buffer[];
  readonly spec: CommandSpec;
  readonly client: Client;
  readonly server: ServerContext;
  /** True while EXEC runs queued commands: the handler already runs inside a backend call. */
  readonly inTransaction: boolean;
}
