/**
 * Replica placement: choose nodes for N replicas of a shard.
 *
 * Rules, in priority order: only placeable (`up`, not busy) nodes of the table's pool;
 * distinct nodes; distinct zones while there are unused zones (a zone already holding k
 * of the shard's replicas is chosen only when every zone holds ≥ k); then the least
 * loaded node — fewest (projected) replicas, then fewest used bytes; ties by node id, so
 * the same state always gives the same answer.
 */
import { err, KvError, ok } from '@shoal/common';
import type { NodeId, Result } from '@shoal/common';
import type { ShardRecord } from '../state/index.js';
import type { LoadView, NodeView } from './load-view.js';

export interface PlacementRequest {
  readonly pool: string;
  readonly count: number;
  /** Nodes that must not be chosen (e.g. already hosting the shard). */
  readonly exclude?: ReadonlySet<NodeId>;
  /** Zones already used by the shard's surviving replicas, with their replica counts. */
  readonly zonesInUse?: ReadonlyMap<string, number>;
}

function compareCandidates(zoneUse: ReadonlyMap<string, number>) {
  return (a: NodeView, b: NodeView): number =>
    (zoneUse.get(a.node.zone) ?? 0) - (zoneUse.get(b.node.zone) ?? 0)
    || a.replicaCount - b.replicaCount
    || a.usedBytes - b.usedBytes
    || a.node.id - b.node.id;
}

/** The chosen nodes, best first; UNAVAILABLE if fewer than `count` candidates exist. */
export function chooseNodes(view: LoadView, req: PlacementRequest): Result<NodeId[]> {
  const candidates = [...view.nodes.values()]
    .filter((v) => v.placeable && v.node.pool === req.pool && req.exclude?.has(v.node.id) !== true);
  if (candidates.length < req.count) {
    return err(new KvError('UNAVAILABLE',
      `pool ${req.pool} has ${candidates.length} placeable node(s), ${req.count} needed`, { details: { option: 'replicaCount' } }));
  }
  const zoneUse = new Map(req.zonesInUse ?? []);
  const chosen: NodeId[] = [];
  for (let i = 0; i < req.count; i++) {
    const best = candidates.filter((c) => !chosen.includes(c.node.id)).sort(compareCandidates(zoneUse))[0]!;
    chosen.push(best.node.id);
    zoneUse.set(best.node.zone, (zoneUse.get(best.node.zone) ?? 0) + 1);
  }
  return ok(chosen);
}

/**
 * Places every shard of a new table, one after another, counting each placement in the
 * view so the shards spread over the pool instead of piling onto the same least-loaded
 * nodes. Mutates `view` (pass a fresh one).
 */
export function placeShards(view: LoadView, pool: string, shardCount: number, replicaCount: number): Result<NodeId[][]> {
  const out: NodeId[][] = [];
  for (let i = 0; i < shardCount; i++) {
    const r = chooseNodes(view, { pool, count: replicaCount });
    if (!r.ok) return r;
    for (const n of r.value) view.nodes.get(n)!.replicaCount++;
    out.push(r.value);
  }
  return ok(out);
}

/** Zones of the shard's replicas that stay (those not on `leaving` nodes), with counts. */
export function zonesOf(view: LoadView, shard: ShardRecord, leaving: ReadonlySet<NodeId>): Map<string, number> {
  const zones = new Map<string, number>();
  for (const r of shard.replicas) {
    if (leaving.has(r.nodeId)) continue;
    const zone = view.nodes.get(r.nodeId)?.node.zone;
    if (zone !== undefined) zones.set(zone, (zones.get(zone) ?? 0) + 1);
  }
  return zones;
}

/** A replacement node for one replica of `shard` leaving `from` (undefined: none fits). */
export function replacementFor(view: LoadView, shard: ShardRecord, pool: string, from: NodeId | undefined): NodeId | undefined {
  const exclude = new Set(shard.replicas.map((r) => r.nodeId));
  const r = chooseNodes(view, {
    pool, count: 1, exclude, zonesInUse: zonesOf(view, shard, new Set(from === undefined ? [] : [from])),
  });
  return r.ok ? r.value[0] : undefined;
}
