/**
 * The metaserver's Prometheus metrics (served on `/metrics`). Topology gauges are read
 * from the applied state when scraped, so every member reports the same replicated
 * picture; the scheduler's round duration and NodeAdmin call counts are the leader's own.
 * Finished operators are counted over the replicated history window (the last 1024), so
 * the numbers agree across members and survive a leader change.
 */
import { counter, gauge, histogram } from '@shoal/common';
import type { Counter, Histogram, Registry } from '@shoal/common';
import type { MetaRaft } from './meta-raft.js';

export interface MetaMetrics {
  readonly scheduleRoundSeconds: Histogram;
  readonly nodeAdminCalls: Counter<'kind' | 'result'>;
}

export function createMetaMetrics(registry: Registry, raft: MetaRaft): MetaMetrics {
  gauge(registry, {
    name: 'metaserver_is_leader', help: '1 if this member leads the metaserver group',
    collect() {
      this.set(raft.isLeader ? 1 : 0);
    },
  });
  gauge<'state'>(registry, {
    name: 'metaserver_nodes', help: 'Storage nodes by state', labelNames: ['state'],
    collect() {
      this.reset();
      for (const n of raft.state.nodes.values()) this.inc({ state: n.state });
    },
  });
  gauge(registry, {
    name: 'metaserver_shards', help: 'Shards of tables that are not being dropped',
    collect() {
      let n = 0;
      for (const s of raft.state.shards.values()) if (raft.state.tables.get(s.tableId)?.state !== 'dropping') n++;
      this.set(n);
    },
  });
  gauge(registry, {
    name: 'metaserver_route_version', help: 'The applied route version',
    collect() {
      this.set(raft.state.routeVersion);
    },
  });
  gauge<'kind' | 'state'>(registry, {
    name: 'metaserver_operators', help: 'Running operators, and finished ones in the replicated history window, by kind and state',
    labelNames: ['kind', 'state'],
    collect() {
      this.reset();
      for (const op of raft.state.operators.values()) this.inc({ kind: op.kind, state: op.state });
      for (const op of raft.state.operatorHistory) this.inc({ kind: op.kind, state: op.state });
    },
  });
  return {
    scheduleRoundSeconds: histogram(registry, { name: 'metaserver_schedule_round_duration_seconds', help: 'One scheduling round: plan, propose and apply its commands' }),
    nodeAdminCalls: counter<'kind' | 'result'>(registry, {
      name: 'metaserver_node_admin_calls_total', help: 'NodeAdmin calls the leader made on storage nodes', labelNames: ['kind', 'result'],
    }),
  };
}
