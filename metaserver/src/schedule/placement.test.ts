// Goal: placement puts a shard's replicas on distinct up nodes of the pool, over distinct zones when there are enough, least loaded first (replicas, then bytes) with a deterministic tie-break, and fails with UNAVAILABLE when the pool is too small.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { commands as cmd } from '../state/index.js';
import { clusterOf, createTable, registerNodes, run } from '../state/testing/fixtures.js';
import { buildLoadView } from './load-view.js';
import { chooseNodes, placeShards, replacementFor } from './placement.js';
import { createSoftState } from './soft-state.js';

const soft = () => createSoftState(0);

function zonesOfNodes(state: ReturnType<typeof clusterOf>['state'], ids: readonly NodeId[]): string[] {
  return ids.map((id) => state.nodes.get(id)!.zone);
}

describe('chooseNodes', () => {
  it('spreads over distinct zones when there are enough, even if a zone has emptier nodes', () => {
    const { state, nodes } = clusterOf(['z1', 'z1', 'z1', 'z2', 'z3']);
    createTable(state, nodes, { name: 't', partition: 'hash', shardCount: 1, placement: [[nodes[3]!, nodes[4]!, nodes[0]!]] });
    const r = chooseNodes(buildLoadView(state, soft()), { pool: 'default', count: 3 });
    assert.ok(r.ok);
    assert.deepEqual(zonesOfNodes(state, r.value).sort(), ['z1', 'z2', 'z3']);
  });

  it('with fewer zones than replicas, uses every zone, then doubles up evenly', () => {
    const { state } = clusterOf(['z1', 'z1', 'z2', 'z2']);
    const r = chooseNodes(buildLoadView(state, soft()), { pool: 'default', count: 4 });
    assert.ok(r.ok);
    assert.deepEqual(zonesOfNodes(state, r.value.slice(0, 2)).sort(), ['z1', 'z2']);
    assert.equal(new Set(r.value).size, 4);
  });

  it('prefers fewer replicas, then fewer used bytes, then the lower node id', () => {
    const { state, nodes } = clusterOf(['z1', 'z1', 'z1', 'z1']);
    createTable(state, nodes, { name: 't', partition: 'hash', shardCount: 1, replicaCount: 1, placement: [[nodes[0]!]] });
    const s = soft();
    s.nodes.set(nodes[1]!, { lastHeartbeatMs: 0, capacityBytes: 100, usedBytes: 50, availableBytes: 50, busy: false, receivingSnapshotCount: 0, stats: {} as never });
    s.nodes.set(nodes[2]!, { lastHeartbeatMs: 0, capacityBytes: 100, usedBytes: 10, availableBytes: 90, busy: false, receivingSnapshotCount: 0, stats: {} as never });
    const r = chooseNodes(buildLoadView(state, s), { pool: 'default', count: 4 });
    assert.ok(r.ok);
    assert.deepEqual(r.value, [nodes[3], nodes[2], nodes[1], nodes[0]]);
    const again = chooseNodes(buildLoadView(state, s), { pool: 'default', count: 4 });
    assert.deepEqual(again, r, 'deterministic');
  });

  it('only up, non-busy nodes of the pool; UNAVAILABLE when too few', () => {
    const { state, nodes } = clusterOf(['z1', 'z2', 'z3']);
    registerNodes(state, [{ zone: 'z9', pool: 'other' }]);
    run(state, cmd.setNodeState(nodes[2]!, 'up', 'suspect'));
    const r = chooseNodes(buildLoadView(state, soft()), { pool: 'default', count: 3 });
    assert.ok(!r.ok && r.error.code === 'UNAVAILABLE');
    const two = chooseNodes(buildLoadView(state, soft()), { pool: 'default', count: 2 });
    assert.ok(two.ok);
    assert.deepEqual([...two.value].sort(), [nodes[0], nodes[1]]);
    const s = soft();
    s.nodes.set(nodes[0]!, { lastHeartbeatMs: 0, capacityBytes: 1, usedBytes: 0, availableBytes: 1, busy: true, receivingSnapshotCount: 0, stats: {} as never });
    assert.equal(chooseNodes(buildLoadView(state, s), { pool: 'default', count: 2 }).ok, false, 'busy nodes take nothing new');
  });
});

describe('placeShards and replacements', () => {
  it('a table of many shards spreads replicas evenly over the pool', () => {
    const { state } = clusterOf(['z1', 'z2', 'z3', 'z1', 'z2', 'z3']);
    const r = placeShards(buildLoadView(state, soft()), 'default', 16, 3);
    assert.ok(r.ok);
    const counts = new Map<number, number>();
    for (const shard of r.value) {
      assert.deepEqual(zonesOfNodes(state, shard).sort(), ['z1', 'z2', 'z3']);
      for (const n of shard) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()].sort(), [8, 8, 8, 8, 8, 8]);
  });

  it('a replacement goes to a zone the surviving replicas do not use', () => {
    const { state, nodes } = clusterOf(['z1', 'z2', 'z3', 'z1', 'z2', 'z3']);
    createTable(state, nodes, { name: 't', partition: 'hash', shardCount: 1, placement: [[nodes[0]!, nodes[1]!, nodes[2]!]] });
    const shard = [...state.shards.values()][0]!;
    run(state, cmd.setNodeState(nodes[1]!, 'up', 'down'));
    assert.equal(replacementFor(buildLoadView(state, soft()), shard, 'default', nodes[1]!), nodes[4], 'z2 again, on its other node');
  });
});
