// Goal: the read views give the wire shapes the services return — routes sorted by start key with leaders, addresses and the route version; route changes since a version (with removals and resync); nodes, operators and cluster counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareBytes } from '@shoal/common';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import * as cmd from './commands.js';
import {
  clusterCounts, nodeInfos, operatorInfos, poolInfos, routeChangesSince, routesOf, tableInfos,
} from './queries.js';
import { clusterOf, createTable, descriptor, electFirstVoters, report, run, shard, utf8 } from './testing/fixtures.js';
import { shardsOfTable } from './topology-state.js';

const ZONES = ['z1', 'z2', 'z3', 'z1'];

describe('routes', () => {
  it('GetRoutes: shards by start key covering the table, leader addresses, node addresses, partition', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'r', partition: 'range', splitKeys: ['k', 'c', 'x'].sort().map(utf8) });
    electFirstVoters(s, t);
    const r = routesOf(s, 'r');
    assert.ok(r.ok);
    const routes = r.value;
    assert.equal(routes.routeVersion, s.routeVersion);
    assert.equal(routes.shards.length, 4);
    for (let i = 1; i < routes.shards.length; i++) {
      assert.equal(compareBytes(routes.shards[i - 1]!.shard!.endKey, routes.shards[i]!.shard!.startKey), 0);
    }
    for (const route of routes.shards) {
      const leaderNode = route.shard!.replicas.find((x) => x.peerId === route.shard!.leaderPeerId)!.nodeId;
      assert.equal(route.leaderAddress, s.nodes.get(leaderNode as NodeId)!.address);
      assert.equal(route.shard!.partition, meta.PartitionKind.RANGE);
    }
    assert.deepEqual([...routes.nodeAddresses.keys()], nodes);
    assert.equal(routes.table?.name, 'r');
    assert.ok(routesOf(s, '', t).ok, 'by id');
    assert.equal(routesOf(s, 'nope').ok, false);
  });

  it('route changes since a version: updates per table, removals, resync below the floor', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const a = createTable(s, nodes, { name: 'a', partition: 'hash', shardCount: 2 });
    const b = createTable(s, nodes, { name: 'b', partition: 'hash', shardCount: 1 });
    const v0 = s.routeVersion;
    const sa = shardsOfTable(s, a)[1]!;
    report(s, descriptor(sa, { leaderPeerId: sa.replicas[1]!.peerId }));
    const c1 = routeChangesSince(s, v0);
    assert.equal(c1.resync, false);
    assert.equal(c1.events.length, 1);
    assert.equal(c1.events[0]!.tableId, a);
    assert.deepEqual(c1.events[0]!.updated.map((u) => u.shard!.id), [sa.id]);
    assert.deepEqual(routeChangesSince(s, v0, [b]).events, []);
    const v1 = s.routeVersion;
    run(s, cmd.dropTable('b'));
    const c2 = routeChangesSince(s, v1);
    assert.deepEqual(c2.events.map((e) => [e.tableId, e.removedShardIds]), [[b, shardsOfTable(s, b).map((x) => x.id)]]);
    assert.deepEqual(routeChangesSince(s, s.routeVersion).events, []);
    s.routeHistoryFloor = v1 + 1;
    assert.equal(routeChangesSince(s, v1).resync, true);
  });
});

describe('listings', () => {
  it('tables, pools, nodes (filtered, with live info), operators, cluster counts', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 2 });
    electFirstVoters(s, t);
    run(s, cmd.setNodeState(nodes[3]!, 'up', 'down'));
    assert.deepEqual(tableInfos(s).map((x) => x.name), ['h']);
    assert.deepEqual(poolInfos(s).pools.map((p) => [p.name, p.zones]), [['default', ['z1', 'z2', 'z3']]]);
    assert.deepEqual(nodeInfos(s, { zone: 'z1' }).map((n) => n.id), [nodes[0], nodes[3]]);
    const live = nodeInfos(s, { ids: [nodes[0]!] }, () => ({ lastHeartbeatMs: 77 }));
    assert.equal(live[0]!.lastHeartbeatUnixMs, 77);
    assert.equal(nodeInfos(s, { ids: [nodes[3]!] })[0]!.state, meta.NodeState.DOWN);
    const sh = shardsOfTable(s, t)[0]!;
    const op = run(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: 'why', timeoutMs: 5_000, spec: { kind: 'transfer-leader', toPeerId: sh.replicas[1]!.peerId } }));
    assert.equal(op.kind, 'operator-added');
    const infos = operatorInfos(s);
    assert.equal(infos.length, 1);
    assert.equal(infos[0]!.operator?.kind?.$case, 'transferLeader');
    assert.equal(infos[0]!.status?.state, meta.OperatorState.RUNNING);
    report(s, descriptor(shard(s, sh.id), { leaderPeerId: sh.replicas[1]!.peerId }));
    assert.equal(operatorInfos(s).length, 0);
    assert.equal(operatorInfos(s, 0, true)[0]!.status?.state, meta.OperatorState.SUCCEEDED);
    assert.equal(operatorInfos(s, 999, true).length, 0);
    const counts = clusterCounts(s);
    assert.equal(counts.shardCount, 2);
    assert.equal(counts.tableCount, 1);
    assert.equal(counts.nodesByState.get(meta.NodeState.UP), 3);
    assert.equal(counts.nodesByState.get(meta.NodeState.DOWN), 1);
    assert.equal(counts.leaderlessShardCount, 0);
  });
});
