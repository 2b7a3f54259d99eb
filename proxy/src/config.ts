/**
 * Options of a RESP proxy (`shoal proxy --config proxy.yaml`). Every limit on a queue or a
 * size is named here and validated at start-up (STYLE.md rule 9). Options whose Redis name
 * clients ask for through `CONFIG GET` are listed in settings.ts with that name.
 */
import { byteSize, durationMs, hostPort, logLevel } from '@shoal/common';
import { z } from 'zod';

/** One ACL user, like a Redis `ACL SETUSER` line. See acl.ts for the rule language. */
export const proxyUserSchema = z.strictObject({
  /** Printable ASCII, no spaces, like a Redis user name. `default` is the user every connection starts as. */
  name: z.string().regex(/^[!-~]+$/, 'must be printable ASCII without spaces'),
  enabled: z.boolean().default(true),
  /** Accept any password (or none). */
  nopass: z.boolean().default(false),
  /** Plain-text passwords, or SHA-256 hex digests written `#<64 hex digits>` as in Redis ACL. */
  passwords: z.array(z.string()).default([]),
  /**
   * Command rules applied in order, the later winning: `+@all`, `-@dangerous`, `+get`,
   * `-config|set`, `allcommands`, `nocommands`.
   */
  commands: z.array(z.string()).default(['+@all']),
  /** Tables (Redis glob patterns) whose data the user may read and write; `*` is every table. */
  tables: z.array(z.string()).default(['*']),
});

export type ProxyUserConfig = z.output<typeof proxyUserSchema>;

export const proxyConfigSchema = z.strictObject({
  listen: hostPort().default('127.0.0.1:6380'),
  httpListen: hostPort().default('127.0.0.1:8300'),
  metaservers: z.array(hostPort()).min(1),
  logLevel: logLevel().default('info'),
  /** Password of the `default` user for AUTH / HELLO AUTH; empty means no authentication. */
  requirePass: z.string().default(''),
  /** ACL users besides `default`; a `default` entry here replaces `requirePass`. */
  users: z.array(proxyUserSchema).default([]),
  maxClients: z.number().int().min(1).default(10000),
  /** Close a client idle this long; 0 disables, like Redis' `timeout`. */
  idleTimeoutMs: durationMs().prefault('0'),
  /** Largest bulk string a client may send (`proto-max-bulk-len`). */
  bulkBytesMax: byteSize().prefault('512MiB'),
  /** Most arguments in one command (`*<n>` of a multibulk request). */
  multibulkLengthMax: z.number().int().min(1).default(1024 * 1024),
  /** Longest inline command line, and longest `*<n>` / `$<n>` header line. */
  inlineBytesMax: byteSize().prefault('64KiB'),
  /** Request bytes buffered per client, parsed arguments included (`client-query-buffer-limit`). */
  clientBufferBytesMax: byteSize().prefault('1GiB'),
  /** Stop reading from a client while this many reply bytes wait in its socket (backpressure). */
  clientWriteBufferBytesMax: byteSize().prefault('4MiB'),
  /** Stop reading from a client while this many of its commands wait for their replies. */
  clientPendingCommandsMax: z.number().int().min(1).default(4096),
  /** Most commands the proxy sends to the backend in one `exec` call for one client. */
  backendBatchCommandsMax: z.number().int().min(1).default(512),
  /** Most commands queued in one MULTI; more makes EXEC fail with EXECABORT. */
  multiCommandsMax: z.number().int().min(1).default(100_000),
  /** Most keys one client may WATCH at once. */
  watchKeysMax: z.number().int().min(1).default(10_000),
  /** Log commands slower than this (microseconds) to SLOWLOG; negative disables, 0 logs all. */
  slowlogLogSlowerThanUs: z.number().int().min(-1).default(10_000),
  /** Entries SLOWLOG keeps. */
  slowlogMaxLen: z.number().int().min(0).default(128),
  /** On shutdown, how long clients get to receive the replies of commands already read. */
  closeTimeoutMs: durationMs().prefault('5s'),
  /** Deadline of one data command on the storage nodes, SDK retries included. */
  requestTimeoutMs: durationMs().prefault('10s'),
  /**
   * Most commands in one Kv.Exec when a client's pipelined commands for one shard are
   * coalesced (shoal-batch.ts); 1 sends one Kv.Exec per command (no coalescing).
   */
  backendExecBatchCommandsMax: z.number().int().min(1).default(256),
  /**
   * Single commands of DIFFERENT client connections bound for one shard are sent as one
   * Kv.Exec per event-loop turn (shoal-coalesce.ts); false sends each alone. Needs
   * backendExecBatchCommandsMax > 1.
   */
  backendCoalesceAcrossClients: z.boolean().default(true),
  /** Argument bytes above which a coalesced Kv.Exec closes (the next commands go in another). */
  backendExecBatchBytesMax: byteSize().prefault('1MiB'),
  /** Commands of one client's backend batch that run at once (on disjoint keys; see backend-shoal.ts). */
  backendConcurrencyMax: z.number().int().min(1).default(64),
  /** SCAN cursors one proxy remembers; older ones answer `ERR invalid cursor`. */
  scanCursorsMax: z.number().int().min(1).default(100_000),
  /** SELECT n maps to the table named here at index n. */
  databases: z.array(z.string().min(1)).min(1).default(['default']),
});

export type ProxyConfig = z.output<typeof proxyConfigSchema>;
