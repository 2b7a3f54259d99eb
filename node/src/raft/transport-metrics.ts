/**
 * Counters of the Raft transport, per peer node. Every event goes to three places: the
 * in-memory `PeerTransportStats` (always kept; `RaftTransport.stats()` returns them), the
 * optional prom-client registry, and the optional plain callbacks.
 *
 * Prometheus series (with `shoal_` prefix, label `peer_node`):
 *   raft_transport_messages_sent_total, raft_transport_bytes_sent_total,
 *   raft_transport_batches_sent_total, raft_transport_messages_received_total,
 *   raft_transport_bytes_received_total, raft_transport_messages_dropped_total{reason},
 *   raft_transport_batches_rejected_total{reason}, raft_transport_stream_failures_total,
 *   raft_snapshot_bytes_sent_total, raft_snapshot_bytes_received_total,
 *   raft_snapshots_total{direction, outcome}.
 */
import { counter } from '@shoal/common';
import type { Counter, Registry } from '@shoal/common';

/** Why an outgoing message never left this node. Raft retransmits all of them. */
export type DropReason =
  /** The peer's send queue was at `sendQueueBytesMax`. */
  | 'queue-full'
  /** The peer was disconnected (backing off after a failed stream), or the stream failed with it queued. */
  | 'unreachable'
  /** `resolve()` knew no address for the peer. */
  | 'no-address'
  /** One message alone exceeds `grpcMessageBytesMax`. */
  | 'too-large'
  /** The transport was closed. */
  | 'closed';

export const DROP_REASONS: readonly DropReason[] = ['queue-full', 'unreachable', 'no-address', 'too-large', 'closed'];

/** Why a received batch was not delivered. */
export type RejectReason = 'malformed' | 'wrong-cluster' | 'wrong-node';

export type SnapshotDirection = 'send' | 'receive';

export interface TransportMetricsHooks {
  messagesSent(nodeId: number, messages: number, bytes: number): void;
  messagesReceived(nodeId: number, messages: number, bytes: number): void;
  messagesDropped(nodeId: number, messages: number, reason: DropReason): void;
  batchRejected(nodeId: number, reason: RejectReason): void;
  streamFailed(nodeId: number): void;
  snapshotBytes(nodeId: number, direction: SnapshotDirection, bytes: number): void;
  /** `outcome` is 'ok' or the KvError code of the failure. */
  snapshotFinished(nodeId: number, direction: SnapshotDirection, outcome: string): void;
}

export interface PeerTransportStats {
  messagesSent: number;
  bytesSent: number;
  batchesSent: number;
  /** Highest seq written on the current or last stream to the peer. */
  lastSeqSent: number;
  /** Highest seq the peer acknowledged on the current or last stream. */
  lastSeqAcked: number;
  messagesReceived: number;
  bytesReceived: number;
  batchesReceived: number;
  messagesDropped: Record<DropReason, number>;
  batchesRejected: Record<RejectReason, number>;
  streamFailures: number;
  snapshotBytesSent: number;
  snapshotBytesReceived: number;
  snapshotsSent: number;
  snapshotsSendFailed: number;
  snapshotsReceived: number;
  snapshotsReceiveFailed: number;
}

function emptyStats(): PeerTransportStats {
  return {
    messagesSent: 0, bytesSent: 0, batchesSent: 0, lastSeqSent: 0, lastSeqAcked: 0,
    messagesReceived: 0, bytesReceived: 0, batchesReceived: 0,
    messagesDropped: { 'queue-full': 0, 'unreachable': 0, 'no-address': 0, 'too-large': 0, 'closed': 0 },
    batchesRejected: { 'malformed': 0, 'wrong-cluster': 0, 'wrong-node': 0 },
    streamFailures: 0,
    snapshotBytesSent: 0, snapshotBytesReceived: 0,
    snapshotsSent: 0, snapshotsSendFailed: 0, snapshotsReceived: 0, snapshotsReceiveFailed: 0,
  };
}

interface PromCounters {
  readonly messagesSent: Counter<'peer_node'>;
  readonly bytesSent: Counter<'peer_node'>;
  readonly batchesSent: Counter<'peer_node'>;
  readonly messagesReceived: Counter<'peer_node'>;
  readonly bytesReceived: Counter<'peer_node'>;
  readonly messagesDropped: Counter<'peer_node' | 'reason'>;
  readonly batchesRejected: Counter<'peer_node' | 'reason'>;
  readonly streamFailures: Counter<'peer_node'>;
  readonly snapshotBytesSent: Counter<'peer_node'>;
  readonly snapshotBytesReceived: Counter<'peer_node'>;
  readonly snapshots: Counter<'peer_node' | 'direction' | 'outcome'>;
}

function registerCounters(registry: Registry): PromCounters {
  const peer = ['peer_node'] as const;
  return {
    messagesSent: counter(registry, { name: 'raft_transport_messages_sent_total', help: 'Raft messages written to peer streams', labelNames: peer }),
    bytesSent: counter(registry, { name: 'raft_transport_bytes_sent_total', help: 'Encoded bytes of Raft batches written to peer streams', labelNames: peer }),
    batchesSent: counter(registry, { name: 'raft_transport_batches_sent_total', help: 'Raft batches written to peer streams', labelNames: peer }),
    messagesReceived: counter(registry, { name: 'raft_transport_messages_received_total', help: 'Raft messages received and delivered', labelNames: peer }),
    bytesReceived: counter(registry, { name: 'raft_transport_bytes_received_total', help: 'Encoded bytes of Raft batches received', labelNames: peer }),
    messagesDropped: counter(registry, { name: 'raft_transport_messages_dropped_total', help: 'Outgoing Raft messages dropped (raft retransmits)', labelNames: ['peer_node', 'reason'] }),
    batchesRejected: counter(registry, { name: 'raft_transport_batches_rejected_total', help: 'Received Raft batches not delivered', labelNames: ['peer_node', 'reason'] }),
    streamFailures: counter(registry, { name: 'raft_transport_stream_failures_total', help: 'Raft streams to peers that failed or ended', labelNames: peer }),
    snapshotBytesSent: counter(registry, { name: 'raft_snapshot_bytes_sent_total', help: 'Snapshot data bytes sent', labelNames: peer }),
    snapshotBytesReceived: counter(registry, { name: 'raft_snapshot_bytes_received_total', help: 'Snapshot data bytes received', labelNames: peer }),
    snapshots: counter(registry, { name: 'raft_snapshots_total', help: 'Snapshot transfers by direction and outcome (ok or error code)', labelNames: ['peer_node', 'direction', 'outcome'] }),
  };
}

/** The one object the sender and receiver report to. */
export class TransportMetrics {
  private readonly peers = new Map<number, PeerTransportStats>();
  private readonly prom: PromCounters | undefined;
  private readonly hooks: Partial<TransportMetricsHooks>;

  constructor(registry: Registry | undefined, hooks: Partial<TransportMetricsHooks> | undefined) {
    this.prom = registry === undefined ? undefined : registerCounters(registry);
    this.hooks = hooks ?? {};
  }

  /** The live counters of one peer node (created on first use). */
  peer(nodeId: number): PeerTransportStats {
    let s = this.peers.get(nodeId);
    if (s === undefined) {
      s = emptyStats();
      this.peers.set(nodeId, s);
    }
    return s;
  }

  /** A deep copy of every peer's counters. */
  snapshot(): Map<number, PeerTransportStats> {
    return new Map([...this.peers].map(([id, s]) => [id, structuredClone(s)]));
  }

  messagesSent(nodeId: number, messages: number, bytes: number, seq: number): void {
    const s = this.peer(nodeId);
    s.messagesSent += messages;
    s.bytesSent += bytes;
    s.batchesSent++;
    s.lastSeqSent = seq;
    const peer = String(nodeId);
    this.prom?.messagesSent.inc({ peer_node: peer }, messages);
    this.prom?.bytesSent.inc({ peer_node: peer }, bytes);
    this.prom?.batchesSent.inc({ peer_node: peer });
    this.hooks.messagesSent?.(nodeId, messages, bytes);
  }

  acked(nodeId: number, seq: number): void {
    const s = this.peer(nodeId);
    s.lastSeqAcked = Math.max(s.lastSeqAcked, seq);
  }

  streamOpened(nodeId: number): void {
    const s = this.peer(nodeId);
    s.lastSeqSent = 0;
    s.lastSeqAcked = 0;
  }

  messagesReceived(nodeId: number, messages: number, bytes: number): void {
    const s = this.peer(nodeId);
    s.messagesReceived += messages;
    s.bytesReceived += bytes;
    s.batchesReceived++;
    const peer = String(nodeId);
    this.prom?.messagesReceived.inc({ peer_node: peer }, messages);
    this.prom?.bytesReceived.inc({ peer_node: peer }, bytes);
    this.hooks.messagesReceived?.(nodeId, messages, bytes);
  }

  messagesDropped(nodeId: number, messages: number, reason: DropReason): void {
    if (messages === 0) return;
    this.peer(nodeId).messagesDropped[reason] += messages;
    this.prom?.messagesDropped.inc({ peer_node: String(nodeId), reason }, messages);
    this.hooks.messagesDropped?.(nodeId, messages, reason);
  }

  batchRejected(nodeId: number, reason: RejectReason): void {
    this.peer(nodeId).batchesRejected[reason]++;
    this.prom?.batchesRejected.inc({ peer_node: String(nodeId), reason });
    this.hooks.batchRejected?.(nodeId, reason);
  }

  streamFailed(nodeId: number): void {
    this.peer(nodeId).streamFailures++;
    this.prom?.streamFailures.inc({ peer_node: String(nodeId) });
    this.hooks.streamFailed?.(nodeId);
  }

  snapshotBytes(nodeId: number, direction: SnapshotDirection, bytes: number): void {
    const s = this.peer(nodeId);
    if (direction === 'send') {
      s.snapshotBytesSent += bytes;
      this.prom?.snapshotBytesSent.inc({ peer_node: String(nodeId) }, bytes);
    } else {
      s.snapshotBytesReceived += bytes;
      this.prom?.snapshotBytesReceived.inc({ peer_node: String(nodeId) }, bytes);
    }
    this.hooks.snapshotBytes?.(nodeId, direction, bytes);
  }

  snapshotFinished(nodeId: number, direction: SnapshotDirection, outcome: string): void {
    const s = this.peer(nodeId);
    const ok = outcome === 'ok';
    if (direction === 'send') {
      if (ok) s.snapshotsSent++; else s.snapshotsSendFailed++;
    } else if (ok) {
      s.snapshotsReceived++;
    } else {
      s.snapshotsReceiveFailed++;
    }
    this.prom?.snapshots.inc({ peer_node: String(nodeId), direction, outcome });
    this.hooks.snapshotFinished?.(nodeId, direction, outcome);
  }
}
