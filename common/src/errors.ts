/**
 * The one error model of Shoal (STYLE.md rule 4).
 *
 * Operating errors — what a correct program still meets: a moved leader, a stale route, a
 * full disk, a bad request — are one class, `KvError`, with a stable `code` from the single
 * table `KV_ERRORS`. The table and its two mappings (`KV_ERROR_GRPC_STATUS`,
 * `KV_ERROR_RESP_PREFIX`) are typed `Record<KvErrorCode, …>`: adding a code without
 * mapping it everywhere does not compile. Programmer errors are assertions (assert.ts).
 *
 * Codes are part of the public contract (SDK callers switch on them, tests assert them);
 * never rename or reuse one. Messages are for people and may change.
 *
 * `retryable` means: the request certainly had no effect, and the same request may succeed
 * if re-sent — possibly after refreshing routes (NOT_LEADER, EPOCH_NOT_MATCH, …) or backing
 * off (SERVER_BUSY). An SDK may therefore retry it without knowing anything else. Whoever
 * produces a retryable code promises the "no effect" half: e.g. a write that timed out after
 * it was sent is UNKNOWN_OUTCOME, never TIMEOUT.
 */
import type { NodeId, PeerId } from './ids.js';
import { GrpcStatus } from './grpc-status.js';

export interface KvErrorInfo {
  readonly description: string;
  readonly retryable: boolean;
}

/** Every error code with its meaning. Insertion order is the documentation order. */
export const KV_ERRORS = {
  // Routing and availability: the request was rejected before it had any effect.
  NOT_LEADER: { description: 'this replica is not the shard leader; retry at details.leaderHint if given', retryable: true },
  EPOCH_NOT_MATCH: { description: 'the request routed with a stale shard epoch (split, merge or membership change); details.shard holds the current descriptor', retryable: true },
  KEY_NOT_IN_SHARD: { description: 'the key lies outside the key range of the addressed shard; refresh routes', retryable: true },
  SHARD_NOT_FOUND: { description: 'the addressed shard has no replica on this node, or no shard serves the key', retryable: true },
  SERVER_BUSY: { description: 'the node is overloaded or flow-controlled; back off (details.retryAfterMs) and retry', retryable: true },
  NOT_READY: { description: 'the replica cannot serve yet (starting up, applying a snapshot, or too far behind for this read)', retryable: true },
  PROPOSAL_DROPPED: { description: 'the Raft group dropped the proposal before appending it (no leader, leadership transfer); nothing was written', retryable: true },
  TIMEOUT: { description: 'the deadline expired before the request was sent, or a read timed out; nothing was written', retryable: true },
  UNAVAILABLE: { description: 'the node cannot be reached or the shard has no quorum; nothing was written', retryable: true },
  UNKNOWN_OUTCOME: { description: 'a write was sent but its outcome is unknown (deadline or connection lost after sending); it may have been applied', retryable: false },
  CANCELLED: { description: 'the caller cancelled the request', retryable: false },

  // The request itself is at fault.
  INVALID_ARGUMENT: { description: 'an argument is malformed or out of range; details.option names it when known', retryable: false },
  KEY_TOO_LARGE: { description: 'the key exceeds the maximum key size', retryable: false },
  VALUE_TOO_LARGE: { description: 'the value exceeds the maximum value size', retryable: false },
  REQUEST_TOO_LARGE: { description: 'the request or batch exceeds the maximum request size or entry count', retryable: false },
  CROSSSLOT: { description: 'a multi-key command touches keys of different slots or shards and cannot be split safely', retryable: false },
  PROTOCOL_ERROR: { description: 'the client sent bytes that are not valid protocol (RESP or gRPC message)', retryable: false },
  UNKNOWN_COMMAND: { description: 'the command is not known', retryable: false },
  NOT_SUPPORTED: { description: 'the operation is known but not supported here (e.g. by this table\'s partition scheme)', retryable: false },

  // The data or the cluster state does not allow the operation.
  WRONG_TYPE: { description: 'operation against a key holding the wrong kind of value', retryable: false },
  NOT_FOUND: { description: 'the key or object does not exist', retryable: false },
  ALREADY_EXISTS: { description: 'the key or object already exists', retryable: false },
  CONDITION_FAILED: { description: 'a condition of the request did not hold (compare-and-swap mismatch, ifAbsent on an existing key)', retryable: false },
  OVERFLOW: { description: 'the result of an arithmetic operation (INCR, INCRBY) would overflow', retryable: false },
  EXEC_ABORTED: { description: 'a transaction was discarded because one of its commands was rejected', retryable: false },
  TABLE_NOT_FOUND: { description: 'the table does not exist', retryable: false },
  READ_ONLY: { description: 'the table or cluster accepts no writes (read-only mode or read-only replica)', retryable: false },
  NO_SPACE: { description: 'the node is out of disk space or over quota; writes are refused', retryable: false },
  INCOMPATIBLE_VERSION: { description: 'a peer, a client or data on disk uses a version this process cannot handle', retryable: false },

  // Access control.
  UNAUTHENTICATED: { description: 'the connection is not authenticated', retryable: false },
  AUTH_FAILED: { description: 'authentication failed: unknown user or wrong password', retryable: false },
  PERMISSION_DENIED: { description: 'the authenticated user may not perform this operation', retryable: false },

  // The process or its storage.
  CONFIG_INVALID: { description: 'the configuration is invalid; details.option names the option', retryable: false },
  DISK_FAILURE: { description: 'an I/O error from the disk (write, fsync or read failed)', retryable: false },
  CORRUPTION: { description: 'stored or received data failed a checksum or could not be decoded', retryable: false },
  INTERNAL: { description: 'an unexpected internal error', retryable: false },
} as const satisfies Record<string, KvErrorInfo>;

export type KvErrorCode = keyof typeof KV_ERRORS;

export const KV_ERROR_CODES: readonly KvErrorCode[] = Object.freeze(Object.keys(KV_ERRORS) as KvErrorCode[]);

export function isKvErrorCode(code: unknown): code is KvErrorCode {
  return typeof code === 'string' && Object.hasOwn(KV_ERRORS, code);
}

/**
 * The gRPC status a node or metaserver returns for each code. The exact `KvErrorCode` must
 * travel too (in the response or trailers) because several codes share a status; the
 * status is what generic gRPC tooling sees.
 *
 * Choices: routing rejections that need a route refresh are ABORTED ("retry at a higher
 * level"); leader/quorum trouble is UNAVAILABLE (as etcd maps its not-leader error); a
 * conflict with the data's state is FAILED_PRECONDITION; UNKNOWN_OUTCOME is UNKNOWN so it
 * can never be confused with DEADLINE_EXCEEDED (TIMEOUT, which had no effect).
 */
export const KV_ERROR_GRPC_STATUS: Readonly<Record<KvErrorCode, GrpcStatus>> = {
  NOT_LEADER: GrpcStatus.UNAVAILABLE,
  EPOCH_NOT_MATCH: GrpcStatus.ABORTED,
  KEY_NOT_IN_SHARD: GrpcStatus.ABORTED,
  SHARD_NOT_FOUND: GrpcStatus.NOT_FOUND,
  SERVER_BUSY: GrpcStatus.RESOURCE_EXHAUSTED,
  NOT_READY: GrpcStatus.UNAVAILABLE,
  PROPOSAL_DROPPED: GrpcStatus.UNAVAILABLE,
  TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  UNKNOWN_OUTCOME: GrpcStatus.UNKNOWN,
  CANCELLED: GrpcStatus.CANCELLED,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  KEY_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  VALUE_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  REQUEST_TOO_LARGE: GrpcStatus.INVALID_ARGUMENT,
  CROSSSLOT: GrpcStatus.INVALID_ARGUMENT,
  PROTOCOL_ERROR: GrpcStatus.INVALID_ARGUMENT,
  UNKNOWN_COMMAND: GrpcStatus.UNIMPLEMENTED,
  NOT_SUPPORTED: GrpcStatus.UNIMPLEMENTED,
  WRONG_TYPE: GrpcStatus.FAILED_PRECONDITION,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  CONDITION_FAILED: GrpcStatus.FAILED_PRECONDITION,
  OVERFLOW: GrpcStatus.OUT_OF_RANGE,
  EXEC_ABORTED: GrpcStatus.ABORTED,
  TABLE_NOT_FOUND: GrpcStatus.NOT_FOUND,
  READ_ONLY: GrpcStatus.FAILED_PRECONDITION,
  NO_SPACE: GrpcStatus.RESOURCE_EXHAUSTED,
  INCOMPATIBLE_VERSION: GrpcStatus.FAILED_PRECONDITION,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  AUTH_FAILED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  CONFIG_INVALID: GrpcStatus.INVALID_ARGUMENT,
  DISK_FAILURE: GrpcStatus.INTERNAL,
  CORRUPTION: GrpcStatus.DATA_LOSS,
  INTERNAL: GrpcStatus.INTERNAL,
};

/** The first word of a Redis error reply: the prefixes real Redis servers send. */
export type RespErrorPrefix =
  | 'ERR' | 'WRONGTYPE' | 'CROSSSLOT' | 'TRYAGAIN' | 'CLUSTERDOWN' | 'BUSYKEY' | 'EXECABORT'
  | 'READONLY' | 'OOM' | 'NOAUTH' | 'WRONGPASS' | 'NOPERM';

/**
 * The Redis error prefix the proxy sends for each code, chosen to make Redis clients do
 * what they do against Redis itself:
 * - every retryable code is TRYAGAIN, which cluster-aware clients (ioredis, redis-py,
 *   go-redis) back off and retry — except UNAVAILABLE and SHARD_NOT_FOUND, which are
 *   CLUSTERDOWN ("hash slot not served"), also retried by those clients;
 * - UNKNOWN_OUTCOME is ERR, never TRYAGAIN: an automatic retry of a non-idempotent write
 *   (INCR, LPUSH) whose first attempt may have been applied would apply it twice;
 * - Redis' own prefixes where Redis has the same error: WRONGTYPE, CROSSSLOT, BUSYKEY
 *   (target key exists), EXECABORT, READONLY, OOM (resource limit refuses writes), NOAUTH,
 *   WRONGPASS, NOPERM;
 * - ERR for everything else, as Redis does ("ERR unknown command", "ERR Protocol error",
 *   "ERR increment or decrement would overflow").
 */
export const KV_ERROR_RESP_PREFIX: Readonly<Record<KvErrorCode, RespErrorPrefix>> = {
  NOT_LEADER: 'TRYAGAIN',
  EPOCH_NOT_MATCH: 'TRYAGAIN',
  KEY_NOT_IN_SHARD: 'TRYAGAIN',
  SHARD_NOT_FOUND: 'CLUSTERDOWN',
  SERVER_BUSY: 'TRYAGAIN',
  NOT_READY: 'TRYAGAIN',
  PROPOSAL_DROPPED: 'TRYAGAIN',
  TIMEOUT: 'TRYAGAIN',
  UNAVAILABLE: 'CLUSTERDOWN',
  UNKNOWN_OUTCOME: 'ERR',
  CANCELLED: 'ERR',
  INVALID_ARGUMENT: 'ERR',
  KEY_TOO_LARGE: 'ERR',
  VALUE_TOO_LARGE: 'ERR',
  REQUEST_TOO_LARGE: 'ERR',
  CROSSSLOT: 'CROSSSLOT',
  PROTOCOL_ERROR: 'ERR',
  UNKNOWN_COMMAND: 'ERR',
  NOT_SUPPORTED: 'ERR',
  WRONG_TYPE: 'WRONGTYPE',
  NOT_FOUND: 'ERR',
  ALREADY_EXISTS: 'BUSYKEY',
  CONDITION_FAILED: 'ERR',
  OVERFLOW: 'ERR',
  EXEC_ABORTED: 'EXECABORT',
  TABLE_NOT_FOUND: 'ERR',
  READ_ONLY: 'READONLY',
  NO_SPACE: 'OOM',
  INCOMPATIBLE_VERSION: 'ERR',
  UNAUTHENTICATED: 'NOAUTH',
  AUTH_FAILED: 'WRONGPASS',
  PERMISSION_DENIED: 'NOPERM',
  CONFIG_INVALID: 'ERR',
  DISK_FAILURE: 'ERR',
  CORRUPTION: 'ERR',
  INTERNAL: 'ERR',
};

/** Where the leader of a shard probably is, as known by the replica that rejected a request. */
export interface LeaderHint {
  readonly nodeId: NodeId;
  readonly peerId: PeerId;
  /** The leader node's gRPC address, `host:port`. */
  readonly address: string;
}

export interface KvErrorDetails {
  /** NOT_LEADER: the leader as far as the rejecting replica knows. */
  readonly leaderHint?: LeaderHint;
  /**
   * EPOCH_NOT_MATCH, KEY_NOT_IN_SHARD: the current shard descriptor. Opaque here: its type
   * belongs to the protocol package; the receiver validates it before use.
   */
  readonly shard?: unknown;
  /** INVALID_ARGUMENT, CONFIG_INVALID, *_TOO_LARGE: the option, argument or field at fault. */
  readonly option?: string;
  /** SERVER_BUSY: how long the server suggests waiting before a retry. */
  readonly retryAfterMs?: number;
}

export interface KvErrorOptions {
  readonly details?: KvErrorDetails;
  readonly cause?: unknown;
}

export class KvError extends Error {
  override readonly name = 'KvError';
  readonly code: KvErrorCode;
  readonly details: KvErrorDetails | undefined;

  constructor(code: KvErrorCode, message: string, options: KvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Codes arriving from the wire must go through kvErrorFromCode; a bad one here is a bug.
    if (!isKvErrorCode(code)) throw new TypeError(`KvError: unknown code ${String(code)}`);
    this.code = code;
    this.details = options.details;
  }

  /** The request had no effect and may succeed if re-sent (see the file comment). */
  get retryable(): boolean {
    return KV_ERRORS[this.code].retryable;
  }

  get grpcStatus(): GrpcStatus {
    return KV_ERROR_GRPC_STATUS[this.code];
  }

  get respPrefix(): RespErrorPrefix {
    return KV_ERROR_RESP_PREFIX[this.code];
  }

  /**
   * The text of a RESP error reply, without the leading '-' and the trailing CRLF, e.g.
   * `WRONGTYPE Operation against a key holding the wrong kind of value`. CR and LF in the
   * message become spaces: a RESP simple error must stay on one line.
   */
  toResp(): string {
    const text = this.message.replace(/[\r\n]+/g, ' ').trim();
    return text === '' ? this.respPrefix : `${this.respPrefix} ${text}`;
  }
}

/**
 * True for a `KvError` (optionally with the given code). Also recognises one made by
 * another loaded copy of this package, where `instanceof` fails.
 */
export function isKvError(x: unknown, code?: KvErrorCode): x is KvError {
  const isOne = x instanceof KvError
    || (x instanceof Error && x.name === 'KvError' && isKvErrorCode((x as { code?: unknown }).code));
  return isOne && (code === undefined || (x as KvError).code === code);
}

/**
 * Rebuilds a `KvError` from a code received as a string (wire, logs). An unknown code —
 * a newer peer's — becomes INTERNAL, keeping the original code in the message.
 */
export function kvErrorFromCode(code: string, message: string, options: KvErrorOptions = {}): KvError {
  if (isKvErrorCode(code)) return new KvError(code, message, options);
  return new KvError('INTERNAL', `unknown error code ${JSON.stringify(code)}: ${message}`, options);
}
