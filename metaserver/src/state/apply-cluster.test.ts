// Goal: cluster commands (bootstrap, pools, zones, node registration, node state transitions, decommission, id allocation) change the state exactly as specified, refuse invalid input without side effects, and never reuse an id.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import * as cmd from './commands.js';
import { encodeSnapshot } from './snapshot.js';
import { clusterOf, createTable, electFirstVoters, refusal, registerNodes, run } from './testing/fixtures.js';
import { createTopologyState } from './topology-state.js';

describe('bootstrap, pools and zones', () => {
  it('bootstrap sets the cluster id once', () => {
    const s = createTopologyState();
    assert.deepEqual(run(s, cmd.bootstrap(7)), { kind: 'bootstrapped', clusterId: 7 });
    assert.equal(run(s, cmd.bootstrap(7)).kind, 'unchanged');
    assert.equal(refusal(s, cmd.bootstrap(8)), 'CONDITION_FAILED');
    assert.equal(refusal(s, cmd.bootstrap(0)), 'INVALID_ARGUMENT');
    assert.equal(s.clusterId, 7);
  });

  it('pools and zones: create, duplicates, unknown pool, bad names', () => {
    const s = createTopologyState();
    run(s, cmd.createPool('hot', 'SSD nodes'));
    assert.equal(refusal(s, cmd.createPool('hot')), 'ALREADY_EXISTS');
    assert.equal(refusal(s, cmd.createPool('bad name')), 'INVALID_ARGUMENT');
    run(s, cmd.createZone('hot', 'z2'));
    run(s, cmd.createZone('hot', 'z1'));
    assert.equal(refusal(s, cmd.createZone('hot', 'z1')), 'ALREADY_EXISTS');
    assert.equal(refusal(s, cmd.createZone('cold', 'z1')), 'NOT_FOUND');
    assert.deepEqual(s.pools.get('hot')?.zones, ['z1', 'z2']);
  });
});

describe('node registration', () => {
  it('allocates ids, creates pool and zone, starts up', () => {
    const s = createTopologyState();
    const [a, b] = registerNodes(s, [{ zone: 'z1', pool: 'p' }, { zone: 'z2', pool: 'p' }]);
    assert.deepEqual([a, b], [1, 2]);
    assert.deepEqual(s.pools.get('p')?.zones, ['z1', 'z2']);
    assert.equal(s.nodes.get(a!)?.state, 'up');
  });

  it('re-registration updates fields, revives a down node, keeps pool and zone fixed', () => {
    const { state: s, nodes } = clusterOf(['z1']);
    const id = nodes[0]!;
    run(s, cmd.setNodeState(id, 'up', 'down'));
    const before = s.routeVersion;
    run(s, cmd.registerNode({ nodeId: id, address: '10.9.9.9:7200', pool: 'default', zone: 'z1', capacityBytes: 5 }));
    const n = s.nodes.get(id)!;
    assert.equal(n.state, 'up');
    assert.equal(n.address, '10.9.9.9:7200');
    assert.equal(s.routeVersion, before + 1, 'an address change is a routing change');
    assert.equal(refusal(s, cmd.registerNode({ nodeId: id, address: 'x:1', pool: 'default', zone: 'z2' })), 'CONDITION_FAILED');
    assert.equal(refusal(s, cmd.registerNode({ nodeId: 99, address: 'x:1', pool: 'default', zone: 'z1' })), 'NOT_FOUND');
    assert.equal(refusal(s, cmd.registerNode({ address: '', pool: 'default', zone: 'z1' })), 'INVALID_ARGUMENT');
  });

  it('labels must be sorted and unique', () => {
    const s = createTopologyState();
    const labels = [{ key: 'b', value: '1' }, { key: 'a', value: '2' }];
    assert.equal(refusal(s, cmd.registerNode({ address: 'x:1', pool: 'p', zone: 'z', labels })), 'INVALID_ARGUMENT');
    assert.equal(s.nodes.size, 0);
  });
});

describe('node states', () => {
  it('liveness moves are compare-and-set', () => {
    const { state: s, nodes } = clusterOf(['z1']);
    const id = nodes[0]!;
    run(s, cmd.setNodeState(id, 'up', 'suspect'), 2_000);
    assert.equal(refusal(s, cmd.setNodeState(id, 'up', 'down')), 'CONDITION_FAILED', 'stale decision dropped');
    run(s, cmd.setNodeState(id, 'suspect', 'down'), 3_000);
    run(s, cmd.setNodeState(id, 'down', 'up'), 4_000);
    assert.equal(s.nodes.get(id)?.stateChangedMs, 4_000);
    assert.equal(refusal(s, cmd.setNodeState(id, 'up', 'removed')), 'INVALID_ARGUMENT');
    assert.equal(refusal(s, cmd.setNodeState(99 as NodeId, 'up', 'down')), 'NOT_FOUND');
  });

  it('decommission: start, idempotent, cancel, remove only once empty', () => {
    const { state: s, nodes } = clusterOf(['z1', 'z2', 'z3', 'z1']);
    createTable(s, nodes, { name: 't', partition: 'hash', shardCount: 1, placement: [[nodes[0]!, nodes[1]!, nodes[2]!]] });
    const n0 = nodes[0]!;
    run(s, cmd.decommissionNode(n0));
    assert.equal(run(s, cmd.decommissionNode(n0)).kind, 'unchanged');
    assert.equal(s.nodes.get(n0)?.state, 'decommissioning');
    assert.equal(refusal(s, cmd.setNodeState(n0, 'decommissioning', 'removed')), 'CONDITION_FAILED', 'still hosts a replica');
    run(s, cmd.decommissionNode(n0, true));
    assert.equal(s.nodes.get(n0)?.state, 'up');
    const n3 = nodes[3]!;
    run(s, cmd.decommissionNode(n3));
    run(s, cmd.setNodeState(n3, 'decommissioning', 'removed'));
    assert.equal(refusal(s, cmd.decommissionNode(n3)), 'CONDITION_FAILED');
    assert.equal(refusal(s, cmd.registerNode({ nodeId: n3, address: 'x:1', pool: 'default', zone: 'z1' })), 'CONDITION_FAILED');
  });
});

describe('ids', () => {
  it('AllocateIds hands out disjoint ranges that table creation never reuses', () => {
    const { state: s, nodes } = clusterOf(['z1', 'z2', 'z3']);
    const a = run(s, cmd.allocateIds(meta.IdKind.SHARD, 10));
    assert.deepEqual(a, { kind: 'ids-allocated', firstId: 1, count: 10 });
    const t = createTable(s, nodes, { name: 't', partition: 'hash', shardCount: 2 });
    electFirstVoters(s, t);
    assert.deepEqual([...s.shards.keys()].sort((x, y) => x - y), [11, 12]);
    assert.equal(refusal(s, cmd.allocateIds(meta.IdKind.UNSPECIFIED, 1)), 'INVALID_ARGUMENT');
    assert.equal(refusal(s, cmd.allocateIds(meta.IdKind.PEER, 0)), 'INVALID_ARGUMENT');
  });

  it('refused commands leave the state byte-identical', () => {
    const { state: s } = clusterOf(['z1', 'z2']);
    const before = encodeSnapshot(s);
    refusal(s, cmd.createZone('nope', 'z'));
    refusal(s, cmd.setNodeState(1 as NodeId, 'down', 'up'));
    refusal(s, cmd.createTable({ name: 't', pool: 'default' }));
    assert.deepEqual(encodeSnapshot(s), before);
  });
});
