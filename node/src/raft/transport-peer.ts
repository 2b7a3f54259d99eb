/**
 * The sending side of the Raft stream to ONE peer node: a bounded queue, a long-lived
 * bidirectional gRPC stream this node dials, batching, backpressure and reconnection.
 *
 * States:
 *   idle ──enqueue──▶ streaming ──stream fails or ends──▶ backoff ──timer──▶ idle
 *     (any) ──close()──▶ closed
 * In `streaming` the stream is "accepted" once the peer acknowledged the first batch (an
 * empty hello written at once): only then is the backoff reset. A stream not accepted
 * within `connectTimeoutMs` is cancelled. In `backoff` every message is dropped (counted)
 * and the host is told the peer is unreachable; the next message after the timer dials
 * again (lazily: a peer no group talks to is never dialled). Each dial uses a fresh gRPC
 * channel, so grpc's own channel backoff never stacks on ours.
 *
 * Memory bound (invariant): `queuedBytes + inflightBytes <= sendQueueBytesMax`, where
 * in-flight bytes were written to the stream but grpc has not yet handed them to HTTP/2
 * (the write callback is pending). Messages beyond it are dropped: raft retransmits, and
 * the scheduler never blocks on a slow peer.
 */
import { Client } from '@grpc/grpc-js';
import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import { assert, assertNever } from '@shoal/common';
import { raft } from '@shoal/proto';
import { Backoff } from './backoff.js';
import { BATCH_HEADER_BYTES_MAX } from './raft-codec.js';
import { decodeBatchAck, identitySerializer, RAFT_METHOD_PATH } from './transport-grpc.js';
import type { DropReason, TransportMetrics } from './transport-metrics.js';
import { clientChannelOptions } from './transport-options.js';
import type { ResolvedTransportOptions } from './transport-options.js';

/** A message waiting to leave, with the upper bound of its encoded size. */
export interface QueuedEnvelope {
  readonly envelope: raft.RaftEnvelope;
  readonly bytes: number;
}

interface Idle { readonly kind: 'idle' }
interface Closed { readonly kind: 'closed' }
interface BackingOff { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout }
interface Streaming {
  readonly kind: 'streaming';
  readonly client: Client;
  readonly stream: ClientDuplexStream<Uint8Array, raft.RaftBatchAck>;
  /** Identifies this stream in callbacks that may fire after it was replaced. */
  readonly generation: number;
  accepted: boolean;
  connectTimer: NodeJS.Timeout | undefined;
}
type PeerState = Idle | Streaming | BackingOff | Closed;

const IDLE: Idle = { kind: 'idle' };

export interface PeerSenderContext {
  readonly opts: ResolvedTransportOptions;
  readonly metrics: TransportMetrics;
  /** Tells the host (at most once per event-loop turn per peer). */
  readonly reportUnreachable: (nodeId: number) => void;
}

export class PeerSender {
  readonly nodeId: number;
  private readonly ctx: PeerSenderContext;
  private readonly backoff: Backoff;
  /** Largest envelope total in one batch, so the encoded batch fits one gRPC message. */
  private readonly batchBytesMax: number;
  private state: PeerState = IDLE;
  private queue: QueuedEnvelope[] = [];
  private queuedBytes = 0;
  private inflightBytes = 0;
  private waitingDrain = false;
  private seq = 0;
  private generation = 0;
  private flushImmediate: NodeJS.Immediate | undefined;
  private unreachableImmediate: NodeJS.Immediate | undefined;
  private failuresSinceAccepted = 0;

  constructor(nodeId: number, ctx: PeerSenderContext) {
    this.nodeId = nodeId;
    this.ctx = ctx;
    const { initial, max } = ctx.opts.reconnectBackoffMs;
    this.backoff = new Backoff({ initialMs: initial, maxMs: max, random: ctx.opts.random });
    this.batchBytesMax = ctx.opts.grpcMessageBytesMax - BATCH_HEADER_BYTES_MAX;
  }

  /** For tests and stats: the current state's name. */
  get stateName(): PeerState['kind'] {
    return this.state.kind;
  }

  get queueBytes(): number {
    return this.queuedBytes + this.inflightBytes;
  }

  /** Queues one message; it leaves with the next flush (this event-loop turn) or is dropped. */
  enqueue(item: QueuedEnvelope): void {
    if (item.bytes > this.batchBytesMax) {
      this.ctx.opts.logger.warn({ peerNode: this.nodeId, bytes: item.bytes, grpcMessageBytesMax: this.ctx.opts.grpcMessageBytesMax },
        'raft message larger than grpcMessageBytesMax dropped');
      this.drop(1, 'too-large');
      return;
    }
    switch (this.state.kind) {
      case 'closed':
        this.drop(1, 'closed');
        return;
      case 'backoff':
        this.drop(1, 'unreachable');
        this.scheduleUnreachable();
        return;
      case 'idle':
        if (!this.dial()) {
          this.drop(1, 'no-address');
          return;
        }
        break;
      case 'streaming':
        break;
      default:
        assertNever(this.state, 'peer state');
    }
    if (this.queuedBytes + this.inflightBytes + item.bytes > this.ctx.opts.sendQueueBytesMax) {
      this.drop(1, 'queue-full');
      return;
    }
    this.queue.push(item);
    this.queuedBytes += item.bytes;
    this.scheduleFlush();
  }

  close(): void {
    const state = this.state;
    this.state = { kind: 'closed' };
    if (this.flushImmediate !== undefined) clearImmediate(this.flushImmediate);
    if (this.unreachableImmediate !== undefined) clearImmediate(this.unreachableImmediate);
    this.dropQueue('closed');
    if (state.kind === 'backoff') clearTimeout(state.timer);
    if (state.kind === 'streaming') {
      clearTimeout(state.connectTimer);
      state.stream.cancel();
      state.client.close();
    }
  }

  private drop(messages: number, reason: DropReason): void {
    this.ctx.metrics.messagesDropped(this.nodeId, messages, reason);
  }

  private dropQueue(reason: DropReason): void {
    this.drop(this.queue.length, reason);
    this.queue = [];
    this.queuedBytes = 0;
    this.inflightBytes = 0;
    this.waitingDrain = false;
  }

  private scheduleFlush(): void {
    this.flushImmediate ??= setImmediate(() => {
      this.flushImmediate = undefined;
      this.flush();
    });
  }

  private scheduleUnreachable(): void {
    this.unreachableImmediate ??= setImmediate(() => {
      this.unreachableImmediate = undefined;
      if (this.state.kind !== 'closed') this.ctx.reportUnreachable(this.nodeId);
    });
  }

  /** Opens a new stream and writes the hello. False if the peer has no known address. */
  private dial(): boolean {
    const address = this.ctx.opts.resolve(this.nodeId);
    if (address === undefined) {
      this.scheduleUnreachable();
      return false;
    }
    const client = new Client(address, this.ctx.opts.credentials, clientChannelOptions(this.ctx.opts));
    const stream = client.makeBidiStreamRequest(RAFT_METHOD_PATH, identitySerializer, decodeBatchAck);
    const generation = ++this.generation;
    const state: Streaming = { kind: 'streaming', client, stream, generation, accepted: false, connectTimer: undefined };
    this.state = state;
    this.seq = 0;
    this.inflightBytes = 0;
    this.waitingDrain = false;
    this.ctx.metrics.streamOpened(this.nodeId);
    stream.on('data', (ack: raft.RaftBatchAck) => this.onAck(generation, ack));
    stream.on('drain', () => this.onDrain(generation));
    // 'status' always follows; the listener only keeps an 'error' from being unhandled.
    stream.on('error', () => {});
    stream.on('status', (status: StatusObject) => this.onStreamEnd(generation, status));
    state.connectTimer = setTimeout(() => {
      this.ctx.opts.logger.debug?.({ peerNode: this.nodeId, address }, 'raft stream not accepted in time');
      stream.cancel();
    }, this.ctx.opts.connectTimeoutMs);
    this.writeBatch(state, []);
    return true;
  }

  private current(generation: number): Streaming | undefined {
    const s = this.state;
    return s.kind === 'streaming' && s.generation === generation ? s : undefined;
  }

  private onAck(generation: number, ack: raft.RaftBatchAck): void {
    const state = this.current(generation);
    if (state === undefined) return;
    this.ctx.metrics.acked(this.nodeId, ack.ackedSeq);
    if (state.accepted) return;
    state.accepted = true;
    clearTimeout(state.connectTimer);
    state.connectTimer = undefined;
    this.backoff.reset();
    if (this.failuresSinceAccepted > 0) {
      this.ctx.opts.logger.info({ peerNode: this.nodeId, failures: this.failuresSinceAccepted }, 'raft stream to peer re-established');
    }
    this.failuresSinceAccepted = 0;
  }

  private onDrain(generation: number): void {
    if (this.current(generation) === undefined) return;
    this.waitingDrain = false;
    if (this.queue.length > 0) this.scheduleFlush();
  }

  private onStreamEnd(generation: number, status: StatusObject): void {
    const state = this.current(generation);
    if (state === undefined) return;
    clearTimeout(state.connectTimer);
    state.client.close();
    this.dropQueue('unreachable');
    this.ctx.metrics.streamFailed(this.nodeId);
    const delayMs = this.backoff.nextDelayMs();
    const log = { peerNode: this.nodeId, code: status.code, details: status.details, retryInMs: delayMs };
    // The first failure is news; repeats while the peer stays down are not.
    if (this.failuresSinceAccepted++ === 0) this.ctx.opts.logger.warn(log, 'raft stream to peer ended');
    else this.ctx.opts.logger.debug?.(log, 'raft stream to peer ended again');
    this.state = { kind: 'backoff', timer: setTimeout(() => this.onBackoffEnd(), delayMs) };
    this.scheduleUnreachable();
  }

  private onBackoffEnd(): void {
    if (this.state.kind === 'backoff') this.state = IDLE;
  }

  /** Writes everything queued, in batches under the message limit, until the stream pushes back. */
  private flush(): void {
    const state = this.state;
    if (state.kind !== 'streaming') return;
    let taken = 0;
    while (taken < this.queue.length && !this.waitingDrain) {
      const batch: raft.RaftEnvelope[] = [];
      let bytes = 0;
      for (let item = this.queue[taken]; item !== undefined; item = this.queue[taken]) {
        if (batch.length > 0 && bytes + item.bytes > this.batchBytesMax) break;
        batch.push(item.envelope);
        bytes += item.bytes;
        taken++;
      }
      this.queuedBytes -= bytes;
      this.writeBatch(state, batch, bytes);
      // Defensive: should the stream end inside write(), dropQueue has already reset the queue.
      if (this.state !== state) return;
    }
    this.queue = taken === this.queue.length ? [] : this.queue.slice(taken);
    assert(this.queuedBytes >= 0 && (this.queue.length > 0 || this.queuedBytes === 0), 'send queue accounting');
  }

  private writeBatch(state: Streaming, messages: raft.RaftEnvelope[], boundBytes = 0): void {
    const opts = this.ctx.opts;
    const seq = ++this.seq;
    const batch: raft.RaftMessageBatch = { clusterId: opts.clusterId, fromNodeId: opts.nodeId, toNodeId: this.nodeId, seq, messages };
    const encoded = raft.RaftMessageBatch.encode(batch).finish();
    // The other end of the size bound the queue used: a batch always fits one gRPC message.
    assert(encoded.length <= opts.grpcMessageBytesMax, () => `raft batch of ${encoded.length} bytes exceeds grpcMessageBytesMax`);
    this.inflightBytes += boundBytes;
    const generation = state.generation;
    const writable = state.stream.write(encoded, () => {
      if (this.current(generation) !== undefined) this.inflightBytes -= boundBytes;
    });
    if (!writable) this.waitingDrain = true;
    if (messages.length > 0) this.ctx.metrics.messagesSent(this.nodeId, messages.length, encoded.length, seq);
  }
}
