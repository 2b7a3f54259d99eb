/**
 * The receiving side of `RaftTransport.SendSnapshot`: one client-streaming call per
 * snapshot — a header, data chunks, a trailer (CRC32C over all data, chunk count).
 *
 * Order of events for one transfer:
 *  1. At most `snapshotReceiveConcurrencyMax` transfers run at once; one more is refused at
 *     once with RESOURCE_EXHAUSTED (trailer code SERVER_BUSY).
 *  2. The header is validated (cluster, target node, a MsgSnap with a snapshot) and
 *     `onSnapshot(header, chunks)` starts; chunks flow to it through a bounded
 *     `SnapshotChunkChannel` (the call is paused while it is full).
 *  3. The trailer is verified; only then does the iterable end — else it throws
 *     `KvError('CORRUPTION')` and the installer aborts.
 *  4. When `onSnapshot` settles, the sender gets its `SnapshotAck`: no error only if it
 *     resolved AND the trailer verified. Replying only after the installer settled means a
 *     sender that retries never overlaps a still-running install of the same transfer.
 * A transfer that receives nothing for `snapshotIdleTimeoutMs` (while not paused by us)
 * fails with TIMEOUT; a sender that cancels or ends early fails it with CANCELLED or
 * PROTOCOL_ERROR.
 */
import type { sendUnaryData, ServerReadableStream } from '@grpc/grpc-js';
import { assertNever, isKvError, KvError } from '@shoal/common';
import { raft } from '@shoal/proto';
import { MessageType } from '@shoal/raft-ts';
import { fromProtoMessage } from './raft-codec.js';
import { SnapshotChunkChannel } from './snapshot-transfer-channel.js';
import type { ChannelOutcome } from './snapshot-transfer-channel.js';
import { asKvError, errorDetailOf, statusFromKvError } from './transport-grpc.js';
import type { Decoded } from './transport-grpc.js';
import type { TransportMetrics } from './transport-metrics.js';
import type { IncomingSnapshotHeader, ResolvedTransportOptions } from './transport-options.js';

export type SnapshotServerCall = ServerReadableStream<Decoded<raft.SnapshotChunk>, raft.SnapshotAck>;

export class SnapshotReceiver {
  readonly opts: ResolvedTransportOptions;
  readonly metrics: TransportMetrics;
  private readonly transfers = new Set<InboundTransfer>();
  private closed = false;

  constructor(opts: ResolvedTransportOptions, metrics: TransportMetrics) {
    this.opts = opts;
    this.metrics = metrics;
  }

  /** Transfers being received or installed now. */
  get active(): number {
    return this.transfers.size;
  }

  handle(call: SnapshotServerCall, callback: sendUnaryData<raft.SnapshotAck>): void {
    if (this.closed) {
      callback(statusFromKvError(new KvError('UNAVAILABLE', 'raft transport is closed')));
      return;
    }
    if (this.transfers.size >= this.opts.snapshotReceiveConcurrencyMax) {
      const limit = this.opts.snapshotReceiveConcurrencyMax;
      this.opts.logger.warn({ peer: call.getPeer(), snapshotReceiveConcurrencyMax: limit }, 'incoming snapshot refused: too many at once');
      // The sender is not known before its header; 0 stands for "unknown peer".
      this.metrics.snapshotFinished(0, 'receive', 'SERVER_BUSY');
      callback(statusFromKvError(new KvError('SERVER_BUSY',
        `already receiving ${limit} snapshots (snapshotReceiveConcurrencyMax)`, { details: { option: 'snapshotReceiveConcurrencyMax' } })));
      return;
    }
    const transfer = new InboundTransfer(this, call, callback, () => this.transfers.delete(transfer));
    this.transfers.add(transfer);
  }

  /** Fails every transfer in progress; installs already running finish on their own. */
  close(): void {
    this.closed = true;
    for (const t of [...this.transfers]) t.abort(new KvError('CANCELLED', 'raft transport is closed'));
  }
}

type Phase = 'header' | 'data' | 'trailer' | 'replied';

/** One incoming transfer, from its first message to its reply. */
class InboundTransfer {
  private readonly owner: SnapshotReceiver;
  private readonly call: SnapshotServerCall;
  private readonly callback: sendUnaryData<raft.SnapshotAck>;
  private readonly onDone: () => void;
  private phase: Phase = 'header';
  private channel: SnapshotChunkChannel | undefined;
  private fromNodeId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(owner: SnapshotReceiver, call: SnapshotServerCall, callback: sendUnaryData<raft.SnapshotAck>, onDone: () => void) {
    this.owner = owner;
    this.call = call;
    this.callback = callback;
    this.onDone = onDone;
    call.on('data', (d: Decoded<raft.SnapshotChunk>) => this.onChunk(d));
    call.on('end', () => {
      if (this.phase === 'header' || this.phase === 'data') this.abort(new KvError('PROTOCOL_ERROR', 'snapshot stream ended before its trailer'));
    });
    call.on('cancelled', () => this.abort(new KvError('CANCELLED', 'the sender cancelled the snapshot transfer')));
    call.on('error', () => this.abort(new KvError('UNAVAILABLE', 'snapshot stream failed')));
    this.armIdleTimer();
  }

  /** Fails the transfer: at once if no install started, else through the installer's iterable. */
  abort(error: KvError): void {
    if (this.phase === 'replied') return;
    this.disarmIdleTimer();
    if (this.channel === undefined) this.replyError(error, true);
    else this.channel.fail(error);
  }

  private onChunk(d: Decoded<raft.SnapshotChunk>): void {
    if (this.phase === 'replied') return;
    this.armIdleTimer();
    if (!d.ok) {
      this.abort(new KvError('PROTOCOL_ERROR', `snapshot chunk does not decode: ${d.error.message}`));
      return;
    }
    const payload = d.value.payload;
    switch (payload?.$case) {
      case 'header':
        if (this.phase !== 'header') this.abort(new KvError('PROTOCOL_ERROR', 'second snapshot header'));
        else this.start(payload.header);
        return;
      case 'data':
        if (this.phase !== 'data') {
          this.abort(new KvError('PROTOCOL_ERROR', `snapshot data in phase ${this.phase}`));
          return;
        }
        this.channel?.push(payload.data);
        this.owner.metrics.snapshotBytes(this.fromNodeId, 'receive', payload.data.length);
        return;
      case 'trailer':
        if (this.phase !== 'data') {
          this.abort(new KvError('PROTOCOL_ERROR', `snapshot trailer in phase ${this.phase}`));
          return;
        }
        this.phase = 'trailer';
        // From here on only the installer works; the sender's deadline bounds it.
        this.disarmIdleTimer();
        this.channel?.finishWithTrailer(payload.trailer);
        return;
      case undefined:
        this.abort(new KvError('PROTOCOL_ERROR', 'empty snapshot chunk'));
        return;
      default:
        assertNever(payload, 'snapshot chunk');
    }
  }

  /** Validates the header and starts the installer. */
  private start(h: raft.SnapshotHeader): void {
    const opts = this.owner.opts;
    let header: IncomingSnapshotHeader;
    try {
      header = this.validate(h);
    } catch (e) {
      if (!isKvError(e)) throw e;
      this.abort(e);
      return;
    }
    this.fromNodeId = h.fromNodeId;
    this.phase = 'data';
    const call = this.call;
    const channel = new SnapshotChunkChannel({
      bufferBytesMax: opts.snapshotReceiveBufferBytesMax,
      declaredTotalBytes: h.totalBytes,
      flow: {
        pause: () => {
          call.pause();
          this.disarmIdleTimer();
        },
        resume: () => {
          call.resume();
          if (this.phase === 'data') this.armIdleTimer();
        },
      },
    });
    this.channel = channel;
    opts.logger.info({ peerNode: h.fromNodeId, shardId: h.shardId, totalBytes: h.totalBytes,
      index: header.message.snapshot?.metadata.index }, 'receiving snapshot');
    let installing: Promise<void>;
    try {
      installing = opts.onSnapshot(header, channel);
    } catch (e) {
      installing = Promise.reject(e);
    }
    installing.then(
      () => this.installed(channel),
      (e: unknown) => this.replyError(asKvError(e, 'INTERNAL'), false),
    );
  }

  private validate(h: raft.SnapshotHeader): IncomingSnapshotHeader {
    const opts = this.owner.opts;
    if (h.clusterId !== opts.clusterId) {
      throw new KvError('INVALID_ARGUMENT', `cluster id mismatch: this node is in cluster ${opts.clusterId}, snapshot from cluster ${h.clusterId}`,
        { details: { option: 'clusterId' } });
    }
    if (h.toNodeId !== opts.nodeId) {
      throw new KvError('INVALID_ARGUMENT', `snapshot for node ${h.toNodeId} reached node ${opts.nodeId}`, { details: { option: 'toNodeId' } });
    }
    if (h.checksumAlgorithm !== raft.ChecksumAlgorithm.CRC32C) {
      throw new KvError('NOT_SUPPORTED', `snapshot checksum algorithm ${h.checksumAlgorithm} is not supported`);
    }
    if (h.message === undefined) throw new KvError('PROTOCOL_ERROR', 'snapshot header without a raft message');
    const message = fromProtoMessage(h.message);
    if (message.type !== MessageType.Snap || message.snapshot === null) {
      throw new KvError('PROTOCOL_ERROR', `snapshot header carries raft message type ${message.type} without a snapshot`);
    }
    return { shardId: h.shardId, message, fromNodeId: h.fromNodeId, fromPeer: message.from, toPeer: message.to, totalBytes: h.totalBytes };
  }

  /** The installer resolved: success if the trailer verified (reading on to it if needed). */
  private installed(channel: SnapshotChunkChannel): void {
    const outcome = channel.outcome;
    if (outcome === undefined) {
      // Resolved without reading to the end (e.g. it found the snapshot stale): verify the
      // rest anyway, so the ack still means "all data arrived intact".
      channel.discard();
      void channel.settled().then((o) => this.replyOutcome(o, channel));
      return;
    }
    this.replyOutcome(outcome, channel);
  }

  private replyOutcome(outcome: ChannelOutcome, channel: SnapshotChunkChannel): void {
    if (!outcome.ok) {
      this.replyError(outcome.error, false);
      return;
    }
    if (this.phase === 'replied') return;
    this.finish('ok');
    this.owner.opts.logger.info({ peerNode: this.fromNodeId, bytes: channel.receivedBytes }, 'snapshot received and installed');
    this.callback(null, { error: undefined, receivedBytes: channel.receivedBytes });
  }

  /** Replies with a failure: as a gRPC status before the installer started, in the ack after. */
  private replyError(error: KvError, asStatus: boolean): void {
    if (this.phase === 'replied') return;
    this.finish(error.code);
    this.owner.opts.logger.warn({ peerNode: this.fromNodeId, code: error.code, err: error.message }, 'snapshot transfer failed');
    if (asStatus) this.callback(statusFromKvError(error));
    else this.callback(null, { error: errorDetailOf(error), receivedBytes: this.channel?.receivedBytes ?? 0 });
  }

  private finish(outcome: string): void {
    this.phase = 'replied';
    this.disarmIdleTimer();
    this.onDone();
    this.owner.metrics.snapshotFinished(this.fromNodeId, 'receive', outcome);
  }

  private armIdleTimer(): void {
    this.disarmIdleTimer();
    const ms = this.owner.opts.snapshotIdleTimeoutMs;
    this.idleTimer = setTimeout(() => this.abort(new KvError('TIMEOUT', `no snapshot data for ${ms} ms (snapshotIdleTimeoutMs)`)), ms);
  }

  private disarmIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
