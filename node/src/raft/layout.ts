/**
 * The static shard layout of a node's config (until the metaserver drives the node):
 * tables become engine tables, shards become descriptors at epoch {confVer 1, version 1}.
 * Every node of the layout computes the same descriptors from the same config.
 */
import { rangeShardBound, slotRangeEnd, slotRangeStart, SLOT_COUNT, tableEnd, tableStart } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { common } from '@shoal/proto';
import type { NodeConfig, ShardConfig, TableConfig } from '../config.js';
import type { ShardDescriptor } from './descriptor.js';
import type { TableInfoLike } from './replica-manager.js';

export function tableInfoOf(t: TableConfig, valueSeparationThresholdBytes: number): TableInfoLike {
  return {
    tableId: t.id, partition: t.partition, defaultTtlMs: t.defaultTtlMs,
    valueSeparationThresholdBytes: t.valueSeparationThresholdBytes ?? valueSeparationThresholdBytes,
  };
}

export function descriptorOf(s: ShardConfig, table: TableConfig): ShardDescriptor {
  const t = table.id as TableId;
  let startKey: Uint8Array;
  let endKey: Uint8Array;
  if (table.partition === 'hash') {
    const [lo, hi] = s.slots ?? [0, SLOT_COUNT];
    startKey = slotRangeStart(t, lo);
    endKey = slotRangeEnd(t, hi);
  } else {
    const enc = new TextEncoder();
    startKey = s.startKey === undefined || s.startKey === '' ? tableStart(t) : rangeShardBound(t, enc.encode(s.startKey));
    endKey = s.endKey === undefined || s.endKey === '' ? tableEnd(t) : rangeShardBound(t, enc.encode(s.endKey));
  }
  return common.ShardDescriptor.create({
    id: s.id, tableId: table.id, startKey, endKey,
    epoch: common.Epoch.create({ confVer: 1, version: 1 }),
    replicas: s.replicas.map((r) => common.Replica.create({
      nodeId: r.nodeId, peerId: r.peerId, role: r.role === 'learner' ? common.ReplicaRole.LEARNER : common.ReplicaRole.VOTER,
    })),
    partition: table.partition === 'hash' ? common.Partition.HASH : common.Partition.RANGE,
  });
}

/** The layout's replicas hosted by `config.nodeId`. */
export function localLayout(config: NodeConfig): { descriptor: ShardDescriptor; peerId: number }[] {
  const tables = new Map(config.tables.map((t) => [t.id, t]));
  const out: { descriptor: ShardDescriptor; peerId: number }[] = [];
  for (const s of config.shards) {
    const mine = s.replicas.find((r) => r.nodeId === config.nodeId);
    if (mine === undefined) continue;
    out.push({ descriptor: descriptorOf(s, tables.get(s.tableId)!), peerId: mine.peerId });
  }
  return out;
}
