/**
 * The storage node's Prometheus metrics (names get the `shoal_` prefix from common):
 *
 *   raft_proposals_total                  commands handed to the scheduler
 *   raft_applied_entries_total            committed entries applied to the engine
 *   raft_log_fsyncs_total                 WAL fdatasyncs (group commits)
 *   raft_log_flushes_total                WAL writes
 *   raft_ready_loop_seconds               duration of one scheduler turn
 *   raft_readies_per_turn_items           Readies handled per turn (group commit width)
 *   replicas / replicas_leading / replicas_hibernating
 *   kv_requests_total{method,code}        KV calls by outcome (code "OK" on success)
 *   kv_request_seconds{method}            KV call latency
 *   kv_reads_total{consistency}           reads served, by consistency (proves follower reads
 *                                         are served by followers)
 *   kv_reads_served_total{consistency,role}  reads answered, by consistency and by whether this
 *                                         replica led its shard (role leader|follower) when it
 *                                         read: what tests scrape to see where reads went
 *   snapshots_sent_total / snapshots_send_failed_total
 *   ttl_expired_keys_proposed_total, value_log_gc_bytes_reclaimed_total
 *
 * Transport counters (`raft_transport_*`) are registered by the transport itself.
 */
import { counter, gauge, histogram, LATENCY_BUCKETS_SECONDS } from '@shoal/common';
import type { Counter, Histogram, Registry } from '@shoal/common';

export type ReadConsistencyName = 'linearizable' | 'follower' | 'stale';

/** Role of the replica that served a read, as a label of kv_reads_served_total. */
export type ReadRoleName = 'leader' | 'follower';

export interface NodeMetricSources {
  replicas(): number;
  leaders(): number;
  hibernating(): number;
  walFsyncs(): number;
  walFlushes(): number;
  snapshotsSent(): number;
  snapshotsFailed(): number;
}

export class NodeMetrics {
  readonly proposals: Counter;
  readonly appliedEntries: Counter;
  readonly turnSeconds: Histogram;
  readonly readiesPerTurn: Histogram;
  readonly kvRequests: Counter<'method' | 'code'>;
  readonly kvRequestSeconds: Histogram<'method'>;
  readonly reads: Counter<'consistency'>;
  readonly readsServed: Counter<'consistency' | 'role'>;
  readonly ttlExpiredProposed: Counter;
  readonly vlogGcReclaimedBytes: Counter;

  constructor(registry: Registry, sources: NodeMetricSources) {
    this.proposals = counter(registry, { name: 'raft_proposals_total', help: 'Commands proposed by this node (leader side).' });
    this.appliedEntries = counter(registry, { name: 'raft_applied_entries_total', help: 'Committed raft entries applied to the engine.' });
    this.turnSeconds = histogram(registry, {
      name: 'raft_ready_loop_seconds', help: 'Duration of one scheduler turn (persist, send, apply, advance).', buckets: LATENCY_BUCKETS_SECONDS,
    });
    this.readiesPerTurn = histogram(registry, {
      name: 'raft_readies_per_turn_items', help: 'Raft Readies handled in one scheduler turn.', buckets: [1, 2, 4, 8, 16, 64, 256, 1024, 4096],
    });
    this.kvRequests = counter(registry, { name: 'kv_requests_total', help: 'KV requests by method and outcome code.', labelNames: ['method', 'code'] });
    this.kvRequestSeconds = histogram(registry, {
      name: 'kv_request_seconds', help: 'KV request latency.', labelNames: ['method'], buckets: LATENCY_BUCKETS_SECONDS,
    });
    this.reads = counter(registry, { name: 'kv_reads_total', help: 'Reads served by this node, by consistency.', labelNames: ['consistency'] });
    this.readsServed = counter(registry, {
      name: 'kv_reads_served_total', help: 'Reads answered by this node, by consistency and the replica\'s role (leader or follower).',
      labelNames: ['consistency', 'role'],
    });
    this.ttlExpiredProposed = counter(registry, { name: 'ttl_expired_keys_proposed_total', help: 'Expired keys the TTL sweeper proposed to delete.' });
    this.vlogGcReclaimedBytes = counter(registry, { name: 'value_log_gc_reclaimed_bytes_total', help: 'Bytes returned to the filesystem by value-log GC.' });
    gauge(registry, { name: 'replicas', help: 'Shard replicas hosted by this node.', collect() { this.set(sources.replicas()); } });
    gauge(registry, { name: 'replicas_leading', help: 'Replicas that lead their shard.', collect() { this.set(sources.leaders()); } });
    gauge(registry, { name: 'replicas_hibernating', help: 'Replicas whose group sleeps (no ticks).', collect() { this.set(sources.hibernating()); } });
    mirrorCounter(registry, 'raft_log_fsyncs_total', 'WAL fdatasync calls (one per group commit).', sources.walFsyncs);
    mirrorCounter(registry, 'raft_log_flushes_total', 'WAL writes of staged records.', sources.walFlushes);
    mirrorCounter(registry, 'snapshots_sent_total', 'Snapshots streamed to followers and acknowledged.', sources.snapshotsSent);
    mirrorCounter(registry, 'snapshots_send_failed_total', 'Snapshot streams that failed.', sources.snapshotsFailed);
  }
}

/** A counter whose value is read from a monotonic source at scrape time. */
function mirrorCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  counter(registry, {
    name, help,
    collect() {
      const now = read();
      if (now > last) this.inc(now - last);
      last = now;
    },
  });
}
