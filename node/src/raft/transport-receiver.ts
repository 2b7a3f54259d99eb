/**
 * The receiving side of the Raft stream: the server handler of `RaftTransport.Raft`, one
 * call per peer node that dialled us.
 *
 * Every batch is checked before anything reaches raft:
 * - its cluster id must be ours and its `toNodeId` must be this node, else the stream is
 *   failed with INVALID_ARGUMENT (trailer `shoal-error-code`), so a misconfigured or
 *   misrouted peer sees why and re-resolves our address when it redials;
 * - its `fromNodeId` must stay the same for the whole stream;
 * - a batch that does not decode, or holds a message raft-ts cannot take (unknown type,
 *   missing message, envelope peers that disagree with the message), is dropped whole
 *   and logged; the stream stays up (raft retransmits).
 * Delivered batches are acknowledged cumulatively, at most one ack per event-loop turn.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { isKvError, KvError } from '@shoal/common';
import type { raft } from '@shoal/proto';
import { fromProtoMessage } from './raft-codec.js';
import type { Decoded } from './transport-grpc.js';
import { statusFromKvError } from './transport-grpc.js';
import type { RejectReason, TransportMetrics } from './transport-metrics.js';
import { envelopeMatches } from './transport-options.js';
import type { IncomingRaftMessage, ResolvedTransportOptions } from './transport-options.js';

export type RaftServerCall = ServerDuplexStream<Decoded<raft.RaftMessageBatch>, raft.RaftBatchAck>;

/** State of one inbound stream. */
interface Inbound {
  readonly call: RaftServerCall;
  fromNodeId: number | undefined;
  done: boolean;
  ackedSeq: number;
  pendingAckSeq: number;
  ackImmediate: NodeJS.Immediate | undefined;
  /** The last ack write returned false: wait for 'drain' before the next. */
  ackBlocked: boolean;
}

export class RaftStreamReceiver {
  private readonly opts: ResolvedTransportOptions;
  private readonly metrics: TransportMetrics;
  private readonly inbound = new Set<Inbound>();
  private closed = false;

  constructor(opts: ResolvedTransportOptions, metrics: TransportMetrics) {
    this.opts = opts;
    this.metrics = metrics;
  }

  /** Number of open inbound streams. */
  get streams(): number {
    return this.inbound.size;
  }

  handle(call: RaftServerCall): void {
    if (this.closed) {
      call.emit('error', statusFromKvError(new KvError('UNAVAILABLE', 'raft transport is closed')));
      return;
    }
    const s: Inbound = { call, fromNodeId: undefined, done: false, ackedSeq: 0, pendingAckSeq: 0, ackImmediate: undefined, ackBlocked: false };
    this.inbound.add(s);
    call.on('data', (d: Decoded<raft.RaftMessageBatch>) => this.onBatch(s, d));
    call.on('drain', () => {
      s.ackBlocked = false;
      this.scheduleAck(s);
    });
    call.on('end', () => this.finish(s));
    call.on('cancelled', () => this.finish(s, true));
    // A peer that vanished surfaces here; the stream is finished by 'cancelled'/'end'.
    call.on('error', () => {});
  }

  /** Ends every inbound stream (OK status: the peers will redial after their backoff). */
  close(): void {
    this.closed = true;
    for (const s of [...this.inbound]) this.finish(s);
  }

  private finish(s: Inbound, cancelled = false): void {
    if (s.done) return;
    s.done = true;
    if (s.ackImmediate !== undefined) clearImmediate(s.ackImmediate);
    this.inbound.delete(s);
    if (!cancelled) s.call.end();
  }

  private reject(s: Inbound, reason: RejectReason, error: KvError): void {
    this.metrics.batchRejected(s.fromNodeId ?? 0, reason);
    this.opts.logger.warn({ peerNode: s.fromNodeId, peer: s.call.getPeer(), code: error.code, err: error.message },
      'raft stream rejected');
    s.done = true;
    if (s.ackImmediate !== undefined) clearImmediate(s.ackImmediate);
    this.inbound.delete(s);
    s.call.emit('error', statusFromKvError(error));
  }

  private onBatch(s: Inbound, d: Decoded<raft.RaftMessageBatch>): void {
    if (s.done) return;
    if (!d.ok) {
      this.dropMalformed(s, d.error.message);
      return;
    }
    const batch = d.value;
    if (batch.clusterId !== this.opts.clusterId) {
      const msg = `cluster id mismatch: this node (${this.opts.nodeId}) is in cluster ${this.opts.clusterId}, `
        + `node ${batch.fromNodeId} sent cluster ${batch.clusterId}`;
      this.reject(s, 'wrong-cluster', new KvError('INVALID_ARGUMENT', msg, { details: { option: 'clusterId' } }));
      return;
    }
    if (batch.toNodeId !== this.opts.nodeId) {
      const msg = `node id mismatch: batch for node ${batch.toNodeId} reached node ${this.opts.nodeId}`;
      this.reject(s, 'wrong-node', new KvError('INVALID_ARGUMENT', msg, { details: { option: 'toNodeId' } }));
      return;
    }
    if (s.fromNodeId === undefined) s.fromNodeId = batch.fromNodeId;
    if (batch.fromNodeId !== s.fromNodeId) {
      const msg = `fromNodeId changed from ${s.fromNodeId} to ${batch.fromNodeId} within one stream`;
      this.reject(s, 'malformed', new KvError('INVALID_ARGUMENT', msg, { details: { option: 'fromNodeId' } }));
      return;
    }
    const messages = this.convert(s, batch);
    if (messages === undefined) return;
    if (messages.length > 0) this.deliver(messages);
    this.metrics.messagesReceived(s.fromNodeId, messages.length, d.bytes);
    s.pendingAckSeq = Math.max(s.pendingAckSeq, batch.seq);
    this.scheduleAck(s);
  }

  /** The batch's messages for the host, or undefined (batch dropped) if any is malformed. */
  private convert(s: Inbound, batch: raft.RaftMessageBatch): IncomingRaftMessage[] | undefined {
    const out: IncomingRaftMessage[] = [];
    try {
      for (const env of batch.messages) {
        if (env.message === undefined) throw new KvError('PROTOCOL_ERROR', `envelope for shard ${env.shardId} has no message`);
        const message = fromProtoMessage(env.message);
        if (!envelopeMatches(env.fromPeer, env.toPeer, message)) {
          throw new KvError('PROTOCOL_ERROR', `envelope peers ${env.fromPeer}→${env.toPeer} disagree with message ${message.from}→${message.to}`);
        }
        out.push({ shardId: env.shardId, fromPeer: env.fromPeer, toPeer: env.toPeer, message, fromNodeId: batch.fromNodeId });
      }
    } catch (e) {
      if (!isKvError(e)) throw e;
      this.dropMalformed(s, e.message);
      return undefined;
    }
    return out;
  }

  private dropMalformed(s: Inbound, reason: string): void {
    this.metrics.batchRejected(s.fromNodeId ?? 0, 'malformed');
    this.opts.logger.warn({ peerNode: s.fromNodeId, peer: s.call.getPeer(), err: reason }, 'malformed raft batch dropped');
  }

  /**
   * Hands messages to the host. An operating error from it is logged (the batch is lost,
   * raft retransmits); anything else is a bug and propagates (crashes the process).
   */
  private deliver(messages: readonly IncomingRaftMessage[]): void {
    const dropFrom = this.opts.failpoints.dropFrom;
    const from = messages[0]?.fromNodeId;
    if (dropFrom !== undefined && from !== undefined && dropFrom(from)) return;
    try {
      this.opts.onMessages(messages);
    } catch (e) {
      if (!isKvError(e)) throw e;
      this.opts.logger.error({ code: e.code, err: e.message, messages: messages.length }, 'onMessages failed; batch dropped');
    }
  }

  private scheduleAck(s: Inbound): void {
    if (s.done || s.ackBlocked || s.pendingAckSeq <= s.ackedSeq) return;
    s.ackImmediate ??= setImmediate(() => {
      s.ackImmediate = undefined;
      if (s.done || s.ackBlocked || s.pendingAckSeq <= s.ackedSeq) return;
      s.ackedSeq = s.pendingAckSeq;
      // Acks are cumulative: one that cannot be written now is folded into the next.
      if (!s.call.write({ ackedSeq: s.ackedSeq })) s.ackBlocked = true;
    });
  }
}
