/**
 * The gRPC plumbing of the Raft transport: the RaftTransport service as this node serves
 * and calls it, and the mapping between gRPC statuses and `KvError`.
 *
 * Same paths and wire format as the generated `raft.RaftTransportService`, with two
 * differences that need the raw bytes:
 * - the server's request deserializers never throw: a message that does not decode arrives
 *   as `{ ok: false }` (with its size), so the handler drops that one batch and logs it
 *   instead of grpc-js failing the whole long-lived stream with INTERNAL;
 * - the client sends bytes it encoded itself (identity serializer): the sender knows the
 *   exact size of every batch, asserts it is under the message limit and counts it.
 */
import { Metadata } from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition, ServiceError, StatusObject } from '@grpc/grpc-js';
import { GrpcStatus, isKvErrorCode, KvError, kvErrorFromCode } from '@shoal/common';
import type { KvErrorCode } from '@shoal/common';
import { common, raft } from '@shoal/proto';
import type { MessageCodec } from '@shoal/proto';

/** A received message: decoded, or the decode error. `bytes` is its size on the wire. */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T; readonly bytes: number }
  | { readonly ok: false; readonly error: Error; readonly bytes: number };

export const RAFT_METHOD_PATH = raft.RaftTransportService.raft.path;
export const SEND_SNAPSHOT_METHOD_PATH = raft.RaftTransportService.sendSnapshot.path;

/** Trailing metadata key carrying the exact KvError code next to the gRPC status. */
export const ERROR_CODE_METADATA_KEY = 'shoal-error-code';

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function tolerantDecoder<T>(codec: MessageCodec<T>): (bytes: Buffer) => Decoded<T> {
  return (bytes) => {
    try {
      return { ok: true, value: codec.decode(bytes), bytes: bytes.length };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e : new Error(String(e)), bytes: bytes.length };
    }
  };
}

function serverMethod<Req, Res>(generated: MethodDefinition<Req, Res>, request: MessageCodec<Req>,
  response: MessageCodec<Res>): MethodDefinition<Decoded<Req>, Res> {
  return {
    path: generated.path,
    originalName: generated.originalName,
    requestStream: generated.requestStream,
    responseStream: generated.responseStream,
    // Only used by clients; kept total so the definition is a valid one.
    requestSerialize: (d: Decoded<Req>): Buffer => {
      if (!d.ok) throw d.error;
      return toBuffer(request.encode(d.value).finish());
    },
    requestDeserialize: tolerantDecoder(request),
    responseSerialize: (value: Res): Buffer => toBuffer(response.encode(value).finish()),
    responseDeserialize: (bytes: Buffer): Res => response.decode(bytes),
  };
}

/** What `addToServer` registers: the RaftTransport service with tolerant request decoding. */
export const RAFT_TRANSPORT_SERVER_DEFINITION: ServiceDefinition = {
  raft: serverMethod(raft.RaftTransportService.raft, raft.RaftMessageBatch, raft.RaftBatchAck),
  sendSnapshot: serverMethod(raft.RaftTransportService.sendSnapshot, raft.SnapshotChunk, raft.SnapshotAck),
};

export const identitySerializer = (bytes: Uint8Array): Buffer => toBuffer(bytes);
export const decodeBatchAck = (bytes: Buffer): raft.RaftBatchAck => raft.RaftBatchAck.decode(bytes);
export const decodeSnapshotAck = (bytes: Buffer): raft.SnapshotAck => raft.SnapshotAck.decode(bytes);

/** A gRPC status for a server to fail a call with; the exact code travels in the trailers. */
export function statusFromKvError(e: KvError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, e.code);
  return { code: e.grpcStatus, details: `${e.code}: ${e.message}`, metadata };
}

/** The ErrorDetail of a SnapshotAck for a failure (any thrown value). */
export function errorDetailOf(e: unknown): common.ErrorDetail {
  const kv = asKvError(e, 'INTERNAL');
  return common.ErrorDetail.create({
    code: kv.code,
    message: kv.message,
    option: kv.details?.option ?? '',
    retryAfterMs: kv.details?.retryAfterMs ?? 0,
  });
}

/** `e` itself if it is a KvError, else a KvError with `fallback` and `e` as its cause. */
export function asKvError(e: unknown, fallback: KvErrorCode): KvError {
  if (e instanceof KvError) return e;
  return new KvError(fallback, e instanceof Error ? e.message : String(e), { cause: e });
}

/** What the gRPC status of a failed call means to a caller of this transport. */
const STATUS_TO_CODE: Readonly<Record<number, KvErrorCode>> = {
  [GrpcStatus.CANCELLED]: 'CANCELLED',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'SERVER_BUSY',
  [GrpcStatus.DATA_LOSS]: 'CORRUPTION',
  [GrpcStatus.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [GrpcStatus.UNIMPLEMENTED]: 'NOT_SUPPORTED',
  [GrpcStatus.INTERNAL]: 'INTERNAL',
};

/** A KvError for a failed client call: the code from the trailers if the server sent one. */
export function kvErrorFromServiceError(e: ServiceError): KvError {
  const sent = e.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  if (typeof sent === 'string' && isKvErrorCode(sent)) return new KvError(sent, e.details, { cause: e });
  if (typeof sent === 'string') return kvErrorFromCode(sent, e.details, { cause: e });
  return new KvError(STATUS_TO_CODE[e.code] ?? 'UNAVAILABLE', `gRPC status ${e.code}: ${e.details}`, { cause: e });
}
