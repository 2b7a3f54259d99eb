/**
 * The Raft transport between storage nodes, over @grpc/grpc-js.
 *
 * - Raft messages: one long-lived bidirectional `RaftTransport.Raft` stream per peer node,
 *   dialled by the sending node, carrying batches for all groups. Everything `send()` queues
 *   in one event-loop turn leaves as one `RaftMessageBatch` per peer (split only to stay
 *   under `grpcMessageBytesMax`). Per-peer send queues are bounded (`sendQueueBytesMax`);
 *   overflow, a disconnected peer or an unknown address drop messages (counted) — raft
 *   retransmits — and a peer that cannot be reached is reported through `onUnreachable`
 *   so the host can call `reportUnreachable` on its groups. See transport-peer.ts.
 * - Incoming batches are validated (cluster id, target node, well-formed messages) before
 *   `onMessages`. See transport-receiver.ts.
 * - Snapshots: one `RaftTransport.SendSnapshot` call per snapshot on a separate channel, data
 *   rate-limited node-wide, CRC32C-checked by the receiver before it acknowledges. See
 *   snapshot-transfer-send.ts and snapshot-transfer-receive.ts.
 *
 * The host's obligations, in order:
 *  1. `new RaftTransport(opts)` (options are validated; a bad one throws CONFIG_INVALID
 *     naming it), then `addToServer(server)` on a grpc.Server built with
 *     `raftTransportServerOptions({ grpcMessageBytesMax })`, then start the server.
 *  2. `send()` only messages of a Ready whose state was persisted; never to this node.
 *  3. In `onSnapshot`, consume `chunks` to the end before committing the installed data.
 *  4. `close()` before shutting the server down.
 */
import type { Client, Server } from '@grpc/grpc-js';
import { Client as GrpcClient } from '@grpc/grpc-js';
import { assert, KvError } from '@shoal/common';
import type { Message } from '@shoal/raft-ts';
import { envelopeEncodedBytesMax, toProtoMessage } from './raft-codec.js';
import { TokenBucket } from '../rate-limiter.js';
import { sendSnapshot } from './snapshot-transfer-send.js';
import type { SnapshotSendResult } from './snapshot-transfer-send.js';
import { SnapshotReceiver } from './snapshot-transfer-receive.js';
import type { SnapshotServerCall } from './snapshot-transfer-receive.js';
import { RAFT_TRANSPORT_SERVER_DEFINITION } from './transport-grpc.js';
import { TransportMetrics } from './transport-metrics.js';
import type { PeerTransportStats } from './transport-metrics.js';
import { PeerSender } from './transport-peer.js';
import { clientChannelOptions, envelopeMatches, resolveTransportOptions } from './transport-options.js';
import type { OutgoingSnapshotHeader, ResolvedTransportOptions, TransportOptions } from './transport-options.js';
import { RaftStreamReceiver } from './transport-receiver.js';
import type { RaftServerCall } from './transport-receiver.js';

export class RaftTransport {
  /** Also settable after construction; `opts.onUnreachable` is the initial value. */
  onUnreachable: ((toNodeId: number) => void) | undefined;
  private readonly opts: ResolvedTransportOptions;
  private readonly metrics: TransportMetrics;
  private readonly peers = new Map<number, PeerSender>();
  private readonly receiver: RaftStreamReceiver;
  private readonly snapshotReceiver: SnapshotReceiver;
  private readonly snapshotLimiter: TokenBucket;
  private readonly snapshotClients = new Map<number, { readonly address: string; readonly client: Client }>();
  private readonly closing = new AbortController();
  private readonly outgoingSnapshots = new Set<Promise<SnapshotSendResult>>();

  constructor(options: TransportOptions) {
    this.opts = resolveTransportOptions(options);
    this.onUnreachable = options.onUnreachable;
    this.metrics = new TransportMetrics(options.registry, options.metricsHooks);
    this.receiver = new RaftStreamReceiver(this.opts, this.metrics);
    this.snapshotReceiver = new SnapshotReceiver(this.opts, this.metrics);
    this.snapshotLimiter = new TokenBucket({ rateBytesPerSec: this.opts.snapshotRateBytesPerSec, burstBytes: this.opts.snapshotChunkBytes });
  }

  get nodeId(): number {
    return this.opts.nodeId;
  }

  /** Registers the RaftTransport gRPC service handlers on a grpc.Server. */
  addToServer(server: Server): void {
    server.addService(RAFT_TRANSPORT_SERVER_DEFINITION, {
      raft: (call: RaftServerCall) => this.receiver.handle(call),
      sendSnapshot: (call: SnapshotServerCall, callback: Parameters<SnapshotReceiver['handle']>[1]) => this.snapshotReceiver.handle(call, callback),
    });
  }

  /**
   * Queues a message; it leaves in one batch per peer node on that peer's long-lived stream
   * (coalesced per event-loop turn). Never blocks and never throws for network reasons:
   * undeliverable messages are dropped and counted, unreachable peers are reported via
   * `onUnreachable`.
   */
  send(toNodeId: number, shardId: number, fromPeer: number, toPeer: number, message: Message): void {
    assert(toNodeId !== this.opts.nodeId, () => `send to self (node ${toNodeId}, shard ${shardId})`);
    assert(envelopeMatches(fromPeer, toPeer, message), () => `envelope peers ${fromPeer}→${toPeer} disagree with message ${message.from}→${message.to}`);
    if (this.opts.failpoints.dropTo?.(toNodeId) === true) return;
    const envelope = { shardId, fromPeer, toPeer, shardEpoch: undefined, message: toProtoMessage(message) };
    this.peer(toNodeId).enqueue({ envelope, bytes: envelopeEncodedBytesMax(message) });
  }

  /**
   * Streams a snapshot (SendSnapshot client stream): header, chunks rate-limited, trailer
   * with CRC32C; resolves ok=true when the receiver acked installation. Never rejects.
   */
  sendSnapshot(toNodeId: number, header: OutgoingSnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<SnapshotSendResult> {
    assert(toNodeId !== this.opts.nodeId, 'snapshot to self');
    if (this.opts.failpoints.dropTo?.(toNodeId) === true) {
      return Promise.resolve({ ok: false, error: new KvError('UNAVAILABLE', `failpoint drop-to=${toNodeId}: snapshot not sent`) });
    }
    const ctx = {
      opts: this.opts,
      metrics: this.metrics,
      limiter: this.snapshotLimiter,
      closeSignal: this.closing.signal,
      client: (nodeId: number) => this.snapshotClient(nodeId),
    };
    const p = sendSnapshot(ctx, toNodeId, header, chunks);
    this.outgoingSnapshots.add(p);
    void p.finally(() => this.outgoingSnapshots.delete(p));
    return p;
  }

  /** Counters per peer node (a copy). Node 0 collects what arrived before its sender was known. */
  stats(): Map<number, PeerTransportStats> {
    return this.metrics.snapshot();
  }

  /** For tests and diagnostics: the connection state towards a peer node. */
  peerState(nodeId: number): 'idle' | 'streaming' | 'backoff' | 'closed' | 'none' {
    return this.peers.get(nodeId)?.stateName ?? 'none';
  }

  /**
   * Ends every stream (outgoing cancelled, incoming ended), cancels timers, fails transfers
   * in progress (their `sendSnapshot` resolves ok=false CANCELLED) and closes all clients.
   * Resolves once outgoing snapshot calls have settled; installs running in `onSnapshot`
   * are not waited for. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.closing.signal.aborted) {
      this.closing.abort();
      for (const p of this.peers.values()) p.close();
      this.receiver.close();
      this.snapshotReceiver.close();
    }
    await Promise.allSettled([...this.outgoingSnapshots]);
    for (const { client } of this.snapshotClients.values()) client.close();
    this.snapshotClients.clear();
  }

  private peer(nodeId: number): PeerSender {
    let p = this.peers.get(nodeId);
    if (p === undefined) {
      p = new PeerSender(nodeId, {
        opts: this.opts,
        metrics: this.metrics,
        reportUnreachable: (id) => this.onUnreachable?.(id),
      });
      if (this.closing.signal.aborted) p.close();
      this.peers.set(nodeId, p);
    }
    return p;
  }

  /** One channel per peer for snapshots, apart from the Raft stream's (see clientChannelOptions). */
  private snapshotClient(nodeId: number): Client | undefined {
    const address = this.opts.resolve(nodeId);
    if (address === undefined) return undefined;
    const cached = this.snapshotClients.get(nodeId);
    if (cached !== undefined && cached.address === address) return cached.client;
    cached?.client.close();
    const client = new GrpcClient(address, this.opts.credentials, clientChannelOptions(this.opts));
    this.snapshotClients.set(nodeId, { address, client });
    return client;
  }
}
