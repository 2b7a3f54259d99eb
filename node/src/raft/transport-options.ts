/**
 * Options of the Raft transport, their defaults and their validation (STYLE.md rule 9:
 * every queue and size has a named limit, checked at start-up with a message naming the
 * option). `resolveTransportOptions` turns what the caller passed into the fully defaulted,
 * validated form the rest of the transport reads.
 */
import { credentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { KvError } from '@shoal/common';
import type { Registry } from '@shoal/common';
import { MessageType } from '@shoal/raft-ts';
import type { Message } from '@shoal/raft-ts';
import type { TransportMetricsHooks } from './transport-metrics.js';

/** pino-compatible: structured fields first, then the message. */
export interface TransportLogger {
  debug?(o: object, m?: string): void;
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** One Raft message as the receiving side hands it to the host. */
export interface IncomingRaftMessage {
  readonly shardId: number;
  readonly fromPeer: number;
  readonly toPeer: number;
  readonly message: Message;
  /** The sending node (its batch's from_node_id): where a reply for an unknown shard goes. */
  readonly fromNodeId?: number;
}

/** What the receiver of a snapshot learns from its header. */
export interface IncomingSnapshotHeader {
  readonly shardId: number;
  /** The leader's MsgSnap; `message.snapshot` carries index, term and conf state. */
  readonly message: Message;
  readonly fromNodeId: number;
  readonly fromPeer: number;
  readonly toPeer: number;
  /** Sum of the data chunk lengths as declared by the sender; 0 = not declared. */
  readonly totalBytes: number;
}

/** What the sender of a snapshot passes besides the data. */
export interface OutgoingSnapshotHeader {
  readonly shardId: number;
  readonly fromPeer: number;
  readonly toPeer: number;
  /** The MsgSnap raft produced; it travels in the header. */
  readonly message: Message;
  /** If known, the exact sum of the chunk lengths: sets the gRPC deadline and is verified. */
  readonly totalBytes?: number;
}

/**
 * Messages a follower forwards to its leader keep their originator in `from`, as in etcd
 * (raft-ts raft-step-follower.ts): a proposal, a ReadIndex and a leader transfer (`from` =
 * the transferee). A replica that was leader when a peer forwarded one of these to it and
 * is a follower by the time it steps it forwards it again, so its `from` names a third
 * peer (chaos seed 12: "envelope peers 10→11 disagree with message 12→11").
 */
const FORWARDED_TYPES: ReadonlySet<MessageType> = new Set([MessageType.Prop, MessageType.ReadIndex, MessageType.TransferLeader]);

/** Whether a message agrees with its envelope's peers (`to` always; `from` unless it may have been forwarded). */
export function envelopeMatches(fromPeer: number, toPeer: number, message: Message): boolean {
  return message.to === toPeer && (message.from === fromPeer || FORWARDED_TYPES.has(message.type));
}

/** Test and chaos hooks. Never set in production. */
export interface TransportFailpoints {
  /**
   * Called for each outgoing snapshot data chunk after the checksum took it into account;
   * whatever it returns is what goes on the wire (return a modified copy to corrupt).
   */
  readonly snapshotChunk?: (data: Uint8Array, index: number) => Uint8Array;
  /** True: Raft messages and snapshots to this node are dropped before they are queued (a partition). */
  readonly dropTo?: (toNodeId: number) => boolean;
  /** True: Raft messages received from this node are dropped before delivery (with dropTo: a full cut). */
  readonly dropFrom?: (fromNodeId: number) => boolean;
}

export interface TransportOptions {
  readonly nodeId: number;
  /** The cluster this node belongs to: `uint64` on the wire; a decimal string is accepted. */
  readonly clusterId: number | string;
  /** Address (`host:port`) of a peer node, or undefined if unknown. Called on every dial. */
  resolve(nodeId: number): string | undefined;
  /** Messages of one received batch, in order. Called synchronously; must not throw except on bugs. */
  onMessages(batch: readonly IncomingRaftMessage[]): void;
  /**
   * Installs a received snapshot. `chunks` yields the data as it arrives and ends only
   * after the trailer verified (CRC32C, chunk count, declared size); otherwise it throws
   * `KvError('CORRUPTION')` (or CANCELLED / TIMEOUT / PROTOCOL_ERROR), so the installer
   * aborts. Resolve when installed (the sender then gets ok=true); reject to report failure.
   */
  onSnapshot(header: IncomingSnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** A peer node could not be reached; the host reports Unreachable to raft for its peers. */
  readonly onUnreachable?: (toNodeId: number) => void;

  /** Cap on outgoing snapshot data for the whole node, shared by concurrent transfers. */
  readonly snapshotRateBytesPerSec: number;
  /** Size of one SendSnapshot data message; larger chunks from the source are split. */
  readonly snapshotChunkBytes: number;
  /** Per peer: bytes queued or being written; beyond it messages are dropped and counted. At least grpcMessageBytesMax. */
  readonly sendQueueBytesMax: number;
  readonly reconnectBackoffMs: { readonly initial: number; readonly max: number };
  readonly logger?: TransportLogger;

  /**
   * Largest gRPC message either side sends or accepts (default 4 MiB, grpc's default
   * receive limit). Batches are split below it; a single Raft message that cannot fit is
   * dropped. Must be at least the largest Raft entry plus slack, and the server must be
   * built with `raftTransportServerOptions` (same value).
   */
  readonly grpcMessageBytesMax?: number;
  /** A stream that has not been accepted (first ack) within this time is abandoned. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** HTTP/2 keepalive pings on peer connections find dead peers. Default 10 s, timeout 5 s. */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Incoming snapshots handled at once; more are refused with RESOURCE_EXHAUSTED (SERVER_BUSY). Default 2. */
  readonly snapshotReceiveConcurrencyMax?: number;
  /** Received snapshot bytes buffered before the stream is paused. Default 4 chunks. */
  readonly snapshotReceiveBufferBytesMax?: number;
  /** A snapshot stream that makes no progress for this long fails (TIMEOUT). Default 30 s. */
  readonly snapshotIdleTimeoutMs?: number;
  /** gRPC deadline of a transfer of known size: this plus slack × size / rate. Default 60 s. */
  readonly snapshotDeadlineBaseMs?: number;
  /** Uniform in [0, 1); jitters reconnect delays. Default Math.random. */
  readonly random?: () => number;
  readonly credentials?: ChannelCredentials;
  /** Prometheus counters are registered here (names `shoal_raft_transport_*`). */
  readonly registry?: Registry;
  /** Plain callbacks for the same counters (tests, embedding). */
  readonly metricsHooks?: Partial<TransportMetricsHooks>;
  readonly failpoints?: TransportFailpoints;
}

/** Options after defaults and validation. */
export interface ResolvedTransportOptions extends Required<Omit<TransportOptions,
  'onUnreachable' | 'logger' | 'registry' | 'metricsHooks' | 'failpoints' | 'clusterId'>> {
  readonly clusterId: number;
  readonly logger: TransportLogger;
  readonly failpoints: TransportFailpoints;
}

export const GRPC_MESSAGE_BYTES_MAX_DEFAULT = 4 * 1024 * 1024;
/** A `SnapshotChunk` adds at most this to its data (tag, length prefix, oneof). */
export const SNAPSHOT_CHUNK_OVERHEAD_BYTES_MAX = 16;
/**
 * A transfer of known size gets `base + slack · size / rate` before its gRPC deadline: the
 * bucket is shared, so a transfer may run at a fraction of the node's rate.
 */
export const SNAPSHOT_DEADLINE_RATE_SLACK = 4;

const NOOP_LOGGER: TransportLogger = { info() {}, warn() {}, error() {} };

function invalid(option: string, reason: string): KvError {
  return new KvError('CONFIG_INVALID', `invalid transport option ${option}: ${reason}`, { details: { option } });
}

function checkInt(option: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(option, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function parseClusterId(value: number | string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number') throw invalid('clusterId', `must be a uint64 (decimal), got ${JSON.stringify(value)}`);
  return checkInt('clusterId', n, 0);
}

export function resolveTransportOptions(opts: TransportOptions): ResolvedTransportOptions {
  const grpcMessageBytesMax = checkInt('grpcMessageBytesMax', opts.grpcMessageBytesMax ?? GRPC_MESSAGE_BYTES_MAX_DEFAULT, 64 * 1024);
  const snapshotChunkBytes = checkInt('snapshotChunkBytes', opts.snapshotChunkBytes, 1);
  if (snapshotChunkBytes + SNAPSHOT_CHUNK_OVERHEAD_BYTES_MAX > grpcMessageBytesMax) {
    throw invalid('snapshotChunkBytes', `must leave room in grpcMessageBytesMax (${grpcMessageBytesMax})`);
  }
  const initial = checkInt('reconnectBackoffMs.initial', opts.reconnectBackoffMs.initial, 1);
  const max = checkInt('reconnectBackoffMs.max', opts.reconnectBackoffMs.max, initial);
  const sendQueueBytesMax = checkInt('sendQueueBytesMax', opts.sendQueueBytesMax, 1024);
  // Else a message that fits one gRPC message could never fit an empty queue, and would be
  // dropped forever (raft would retransmit it in vain).
  if (sendQueueBytesMax < grpcMessageBytesMax) {
    throw invalid('sendQueueBytesMax', `must be >= grpcMessageBytesMax (${grpcMessageBytesMax}), got ${sendQueueBytesMax}`);
  }
  const keepaliveTimeMs = checkInt('keepaliveTimeMs', opts.keepaliveTimeMs ?? 10_000, 1);
  return {
    nodeId: checkInt('nodeId', opts.nodeId, 1),
    clusterId: parseClusterId(opts.clusterId),
    resolve: opts.resolve,
    onMessages: opts.onMessages,
    onSnapshot: opts.onSnapshot,
    snapshotRateBytesPerSec: checkInt('snapshotRateBytesPerSec', opts.snapshotRateBytesPerSec, 1),
    snapshotChunkBytes,
    sendQueueBytesMax,
    reconnectBackoffMs: { initial, max },
    logger: opts.logger ?? NOOP_LOGGER,
    grpcMessageBytesMax,
    connectTimeoutMs: checkInt('connectTimeoutMs', opts.connectTimeoutMs ?? 5_000, 1),
    keepaliveTimeMs,
    keepaliveTimeoutMs: checkInt('keepaliveTimeoutMs', opts.keepaliveTimeoutMs ?? 5_000, 1),
    snapshotReceiveConcurrencyMax: checkInt('snapshotReceiveConcurrencyMax', opts.snapshotReceiveConcurrencyMax ?? 2, 1),
    snapshotReceiveBufferBytesMax: checkInt('snapshotReceiveBufferBytesMax',
      opts.snapshotReceiveBufferBytesMax ?? 4 * snapshotChunkBytes, snapshotChunkBytes),
    snapshotIdleTimeoutMs: checkInt('snapshotIdleTimeoutMs', opts.snapshotIdleTimeoutMs ?? 30_000, 1),
    snapshotDeadlineBaseMs: checkInt('snapshotDeadlineBaseMs', opts.snapshotDeadlineBaseMs ?? 60_000, 1),
    random: opts.random ?? Math.random,
    credentials: opts.credentials ?? credentials.createInsecure(),
    failpoints: opts.failpoints ?? {},
  };
}

/** Channel options of every client this transport creates (one channel per peer and purpose). */
export function clientChannelOptions(o: ResolvedTransportOptions): ChannelOptions {
  return {
    'grpc.max_send_message_length': o.grpcMessageBytesMax,
    'grpc.max_receive_message_length': o.grpcMessageBytesMax,
    'grpc.keepalive_time_ms': o.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    // The transport owns reconnection (its own backoff, a fresh channel per attempt): keep
    // grpc's channel-level backoff from adding minutes on top of it.
    'grpc.initial_reconnect_backoff_ms': o.reconnectBackoffMs.initial,
    'grpc.max_reconnect_backoff_ms': o.reconnectBackoffMs.max,
    // A private connection per client: closing it really closes the TCP connection, and
    // snapshot bytes never queue in front of heartbeats on the same connection.
    'grpc.use_local_subchannel_pool': 1,
  };
}

/**
 * Options for the `grpc.Server` the transport is added to: the same message size limit on
 * the receiving side, and keepalive pings from peers accepted.
 */
export function raftTransportServerOptions(opts: { readonly grpcMessageBytesMax?: number } = {}): ChannelOptions {
  const bytesMax = checkInt('grpcMessageBytesMax', opts.grpcMessageBytesMax ?? GRPC_MESSAGE_BYTES_MAX_DEFAULT, 64 * 1024);
  return {
    'grpc.max_receive_message_length': bytesMax,
    'grpc.max_send_message_length': bytesMax,
    'grpc.keepalive_permit_without_calls': 1,
  };
}
