/**
 * Test support (not part of the public API): build topologies through real commands, so
 * tests exercise apply instead of poking records. Every command goes through the wire
 * encoding (encodeCommand → applyEntry), which also checks the codec on the way.
 */
import { assert, isKvError } from '@shoal/common';
import type { KvErrorCode, NodeId, PeerId, ShardId, TableId } from '@shoal/common';
import { common, meta } from '@shoal/proto';
import type { metacmd } from '@shoal/proto';
import { applyEntry, encodeCommand } from '../apply.js';
import * as cmd from '../commands.js';
import type { CommandKind } from '../commands.js';
import { shardToDescriptor } from '../convert.js';
import type { ApplyOutcome, ApplyResult } from '../apply-result.js';
import { createTopologyState, shardsOfTable } from '../topology-state.js';
import type { Epoch, ReplicaRecord, ShardRecord, TopologyState } from '../types.js';

export function applyAt(state: TopologyState, kind: CommandKind, stampMs = 1_000): ApplyResult {
  return applyEntry(state, encodeCommand(kind, stampMs));
}

/** Applies and asserts success. */
export function run(state: TopologyState, kind: CommandKind, stampMs = 1_000): ApplyOutcome {
  const r = applyAt(state, kind, stampMs);
  assert(r.ok, () => `${kind.$case} refused: ${r.ok ? '' : `${r.error.code} ${r.error.message}`}`);
  return r.value;
}

/** Applies and returns the refusal's code (asserting it was refused). */
export function refusal(state: TopologyState, kind: CommandKind, stampMs = 1_000): KvErrorCode {
  const r = applyAt(state, kind, stampMs);
  assert(!r.ok && isKvError(r.error), () => `${kind.$case} was not refused`);
  return r.error.code;
}

export interface NodeSpec {
  readonly zone: string;
  readonly pool?: string;
  readonly capacityBytes?: number;
}

export function registerNodes(state: TopologyState, specs: readonly NodeSpec[], stampMs = 1_000): NodeId[] {
  return specs.map((s, i) => {
    const out = run(state, cmd.registerNode({
      address: `10.0.0.${i + 1}:7200`, pool: s.pool ?? 'default', zone: s.zone, capacityBytes: s.capacityBytes ?? 1e12,
    }), stampMs);
    assert(out.kind === 'node-registered', 'expected a registration');
    return out.nodeId;
  });
}

/** A state with `zones.length` nodes, node i in zone zones[i]. */
export function clusterOf(zones: readonly string[]): { state: TopologyState; nodes: NodeId[] } {
  const state = createTopologyState();
  run(state, cmd.bootstrap(42));
  return { state, nodes: registerNodes(state, zones.map((zone) => ({ zone }))) };
}

export interface TableArgs {
  readonly name: string;
  readonly partition: 'hash' | 'range';
  readonly shardCount?: number;
  readonly replicaCount?: number;
  readonly splitKeys?: readonly Uint8Array[];
  /** Default: shard i on nodes i, i+1, … (round robin over `nodes`). */
  readonly placement?: readonly (readonly NodeId[])[];
  readonly pool?: string;
}

export function createTable(state: TopologyState, nodes: readonly NodeId[], a: TableArgs, stampMs = 1_000): TableId {
  const replicaCount = a.replicaCount ?? 3;
  const shardCount = a.partition === 'hash' ? a.shardCount ?? 4 : (a.splitKeys?.length ?? 0) + 1;
  const placement = a.placement ?? Array.from({ length: shardCount }, (_, i) =>
    Array.from({ length: replicaCount }, (_, j) => nodes[(i + j) % nodes.length]!));
  const options = meta.TableOptions.create({
    partition: a.partition === 'hash' ? meta.PartitionKind.HASH : meta.PartitionKind.RANGE,
    shardCount: a.partition === 'hash' ? shardCount : 0, replicaCount,
  });
  const out = run(state, cmd.createTable({
    name: a.name, pool: a.pool ?? 'default', options, splitKeys: [...(a.splitKeys ?? [])],
    placement: placement.map((ns) => ({ nodeIds: [...ns] })),
  }), stampMs);
  assert(out.kind === 'table-created', 'expected table-created');
  return out.tableId;
}

export interface DescriptorChange {
  readonly epoch?: Epoch;
  readonly replicas?: readonly ReplicaRecord[];
  readonly leaderPeerId?: number;
  readonly startKey?: Uint8Array;
  readonly endKey?: Uint8Array;
  readonly id?: number;
}

/** The shard's descriptor with changes, as a leader would report it. */
export function descriptor(shard: ShardRecord, change: DescriptorChange = {}): common.ShardDescriptor {
  const base = shardToDescriptor({
    ...shard,
    ...(change.epoch === undefined ? {} : { epoch: change.epoch }),
    ...(change.replicas === undefined ? {} : { replicas: change.replicas }),
    ...(change.startKey === undefined ? {} : { startKey: change.startKey }),
    ...(change.endKey === undefined ? {} : { endKey: change.endKey }),
  });
  return common.ShardDescriptor.create({
    ...base, id: change.id ?? shard.id, leaderPeerId: change.leaderPeerId ?? shard.leaderPeerId,
  });
}

export function report(state: TopologyState, d: metacmd.ReportShard['shard'], stampMs = 1_000): ApplyResult {
  return applyAt(state, cmd.reportShard(d), stampMs);
}

/** Every shard of the table reports its first voter as leader (the table becomes active). */
export function electFirstVoters(state: TopologyState, table: TableId, stampMs = 1_000): void {
  for (const s of shardsOfTable(state, table)) {
    const leader = s.replicas.find((r) => r.role === 'voter')!.peerId;
    const r = report(state, descriptor(s, { leaderPeerId: leader }), stampMs);
    assert(r.ok, 'leader report refused');
  }
}

export function shard(state: TopologyState, id: ShardId | number): ShardRecord {
  const s = state.shards.get(id as ShardId);
  assert(s !== undefined, () => `no shard ${id}`);
  return s;
}

export function peerOn(s: ShardRecord, node: NodeId): PeerId {
  const r = s.replicas.find((x) => x.nodeId === node);
  assert(r !== undefined, () => `shard ${s.id} has no replica on node ${node}`);
  return r.peerId;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
