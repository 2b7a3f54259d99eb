/**
 * The sending side of `RaftTransport.SendSnapshot`: header, data chunks, trailer.
 *
 * - Data is re-cut into pieces of at most `snapshotChunkBytes` (views, no copies), each
 *   paid for in the node-wide token bucket before it is written, so all concurrent
 *   transfers together stay under `snapshotRateBytesPerSec`.
 * - The trailer carries the CRC32C of all data bytes and the chunk count; the receiver
 *   checks both (and the declared total) before it acknowledges.
 * - Backpressure: a write that grpc refuses (`false`) waits for 'drain'; no progress for
 *   `snapshotIdleTimeoutMs` fails the transfer with TIMEOUT.
 * - Deadline: with a declared `totalBytes`, the gRPC deadline is
 *   `snapshotDeadlineBaseMs + SLACK · totalBytes / rate`; without one, the receiver gets
 *   `snapshotDeadlineBaseMs` after the trailer to acknowledge.
 * The result is a value, never a throw: `{ ok: true }` only when the receiver acknowledged
 * a verified, installed snapshot.
 */
import { Metadata } from '@grpc/grpc-js';
import type { CallOptions, Client, ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import { crc32c, KvError, kvErrorFromCode } from '@shoal/common';
import { raft } from '@shoal/proto';
import { toProtoMessage } from './raft-codec.js';
import type { TokenBucket } from '../rate-limiter.js';
import { asKvError, decodeSnapshotAck, identitySerializer, kvErrorFromServiceError, SEND_SNAPSHOT_METHOD_PATH } from './transport-grpc.js';
import type { TransportMetrics } from './transport-metrics.js';
import { SNAPSHOT_DEADLINE_RATE_SLACK } from './transport-options.js';
import type { OutgoingSnapshotHeader, ResolvedTransportOptions } from './transport-options.js';

export type SnapshotSendResult = { readonly ok: true; readonly error?: undefined } | { readonly ok: false; readonly error: KvError };

export interface SnapshotSendContext {
  readonly opts: ResolvedTransportOptions;
  readonly metrics: TransportMetrics;
  readonly limiter: TokenBucket;
  /** The snapshot client for a peer node, or undefined if its address is unknown. */
  client(nodeId: number): Client | undefined;
  /** Aborted when the transport closes. */
  readonly closeSignal: AbortSignal;
}

interface Response {
  readonly err: ServiceError | null;
  readonly ack: raft.SnapshotAck | undefined;
}

export async function sendSnapshot(ctx: SnapshotSendContext, toNodeId: number, header: OutgoingSnapshotHeader,
  chunks: AsyncIterable<Uint8Array>): Promise<SnapshotSendResult> {
  const result = await transfer(ctx, toNodeId, header, chunks);
  ctx.metrics.snapshotFinished(toNodeId, 'send', result.ok ? 'ok' : result.error.code);
  const log = { peerNode: toNodeId, shardId: header.shardId };
  if (result.ok) ctx.opts.logger.info(log, 'snapshot sent and installed by peer');
  else ctx.opts.logger.warn({ ...log, code: result.error.code, err: result.error.message }, 'snapshot send failed');
  return result;
}

async function transfer(ctx: SnapshotSendContext, toNodeId: number, header: OutgoingSnapshotHeader,
  chunks: AsyncIterable<Uint8Array>): Promise<SnapshotSendResult> {
  if (ctx.closeSignal.aborted) return { ok: false, error: new KvError('CANCELLED', 'raft transport is closed') };
  const client = ctx.client(toNodeId);
  if (client === undefined) return { ok: false, error: new KvError('UNAVAILABLE', `no address for node ${toNodeId}`) };
  const early = new AbortController();
  const signal = AbortSignal.any([ctx.closeSignal, early.signal]);
  let resolveResponse: (r: Response) => void = () => {};
  const responded = new Promise<Response>((resolve) => {
    resolveResponse = resolve;
  });
  const stream = client.makeClientStreamRequest(SEND_SNAPSHOT_METHOD_PATH, identitySerializer, decodeSnapshotAck,
    new Metadata(), callOptions(ctx.opts, header), (err, ack) => {
      // Before the trailer this is an early refusal (busy, wrong cluster): stop sending.
      early.abort(new KvError('CANCELLED', 'the receiver ended the transfer'));
      resolveResponse({ err, ack });
    });
  const onClose = (): void => stream.cancel();
  ctx.closeSignal.addEventListener('abort', onClose, { once: true });
  try {
    try {
      await streamChunks(ctx, stream, signal, toNodeId, header, chunks);
      stream.end();
    } catch (e) {
      stream.cancel();
      // Refused by the receiver: its answer, awaited below, says why.
      if (!early.signal.aborted) {
        const error = ctx.closeSignal.aborted ? new KvError('CANCELLED', 'raft transport is closed') : asKvError(e, 'INTERNAL');
        return { ok: false, error };
      }
    }
    return await awaitAck(ctx.opts, header, responded, stream);
  } finally {
    ctx.closeSignal.removeEventListener('abort', onClose);
  }
}

function callOptions(opts: ResolvedTransportOptions, header: OutgoingSnapshotHeader): CallOptions {
  if (header.totalBytes === undefined) return {};
  const transferMs = (SNAPSHOT_DEADLINE_RATE_SLACK * header.totalBytes * 1000) / opts.snapshotRateBytesPerSec;
  return { deadline: Date.now() + opts.snapshotDeadlineBaseMs + Math.ceil(transferMs) };
}

async function streamChunks(ctx: SnapshotSendContext, stream: ClientWritableStream<Uint8Array>, signal: AbortSignal,
  toNodeId: number, header: OutgoingSnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  const { opts, limiter } = ctx;
  const write = (chunk: raft.SnapshotChunk): Promise<void> =>
    writeOrWait(stream, raft.SnapshotChunk.encode(chunk).finish(), signal, opts.snapshotIdleTimeoutMs);
  await write({ payload: { $case: 'header', header: {
    clusterId: opts.clusterId, fromNodeId: opts.nodeId, toNodeId, shardId: header.shardId, shardEpoch: undefined,
    message: toProtoMessage(header.message), totalBytes: header.totalBytes ?? 0, checksumAlgorithm: raft.ChecksumAlgorithm.CRC32C,
  } } });
  let crc = 0;
  let count = 0;
  let bytes = 0;
  for await (const chunk of abortable(chunks, signal)) {
    for (let offset = 0; offset < chunk.length; offset += opts.snapshotChunkBytes) {
      const piece = chunk.subarray(offset, offset + opts.snapshotChunkBytes);
      await limiter.acquire(piece.length, signal);
      crc = crc32c(piece, crc);
      const wire = opts.failpoints.snapshotChunk?.(piece, count) ?? piece;
      await write({ payload: { $case: 'data', data: wire } });
      count++;
      bytes += piece.length;
      ctx.metrics.snapshotBytes(toNodeId, 'send', piece.length);
    }
  }
  if (header.totalBytes !== undefined && header.totalBytes !== bytes) {
    throw new KvError('INTERNAL', `snapshot source yielded ${bytes} bytes, header declared ${header.totalBytes}`);
  }
  await write({ payload: { $case: 'trailer', trailer: { crc32c: crc, chunkCount: count } } });
}

/**
 * `source`, but a pending `next()` loses to `signal`: a source stuck on its disk read must
 * not keep a refused or closed transfer alive. The source is closed either way.
 */
async function* abortable(source: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {}); // observed below; never an unhandled rejection
  let finished = false;
  try {
    for (;;) {
      signal.throwIfAborted();
      const r = await Promise.race([it.next(), aborted]);
      if (r.done === true) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited: a source stuck in next() may only honour return() after it.
    if (!finished) void it.return?.()?.catch(() => {});
  }
}

/** Writes one message; if grpc pushes back, waits for 'drain' (bounded by the idle timeout). */
function writeOrWait(stream: ClientWritableStream<Uint8Array>, bytes: Uint8Array, signal: AbortSignal, idleTimeoutMs: number): Promise<void> {
  signal.throwIfAborted();
  if (stream.write(bytes)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (error?: unknown): void => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => done();
    const onAbort = (): void => done(signal.reason);
    const timer = setTimeout(() => done(new KvError('TIMEOUT', `snapshot stream made no progress for ${idleTimeoutMs} ms (snapshotIdleTimeoutMs)`)), idleTimeoutMs);
    stream.on('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Without a gRPC deadline, the receiver still gets only `snapshotDeadlineBaseMs` to acknowledge. */
async function awaitAck(opts: ResolvedTransportOptions, header: OutgoingSnapshotHeader, responded: Promise<Response>,
  stream: ClientWritableStream<Uint8Array>): Promise<SnapshotSendResult> {
  let timedOut = false;
  const timer = header.totalBytes !== undefined ? undefined : setTimeout(() => {
    timedOut = true;
    stream.cancel();
  }, opts.snapshotDeadlineBaseMs);
  try {
    const r = await responded;
    if (timedOut) {
      return { ok: false, error: new KvError('TIMEOUT', `no snapshot ack within ${opts.snapshotDeadlineBaseMs} ms (snapshotDeadlineBaseMs)`) };
    }
    return outcomeOf(r);
  } finally {
    clearTimeout(timer);
  }
}

function outcomeOf(r: Response): SnapshotSendResult {
  if (r.err !== null) return { ok: false, error: kvErrorFromServiceError(r.err) };
  const detail = r.ack?.error;
  if (detail === undefined) return { ok: true };
  return {
    ok: false,
    error: kvErrorFromCode(detail.code, detail.message, {
      details: { ...(detail.option === '' ? {} : { option: detail.option }), ...(detail.retryAfterMs === 0 ? {} : { retryAfterMs: detail.retryAfterMs }) },
    }),
  };
}
