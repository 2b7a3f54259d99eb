// Goal: CreateTable computes shard ranges that tile the table, allocates fresh ids, validates the proposer's placement, activates once every shard has a leader; DropTable hides routes and cancels operators; RemoveTable turns replicas into garbage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SLOT_COUNT } from '@shoal/common';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import * as cmd from './commands.js';
import { tableTiled } from './invariants.js';
import { slotBoundsOf } from './key-ranges.js';
import { findTable, routesOf } from './queries.js';
import {
  clusterOf, createTable, descriptor, electFirstVoters, peerOn, refusal, report, run, shard, utf8,
} from './testing/fixtures.js';
import { garbageOfNode, shardsOfTable } from './topology-state.js';

const ZONES = ['z1', 'z2', 'z3', 'z1', 'z2', 'z3'];

describe('create', () => {
  it('hash table: N contiguous equal slot ranges, epoch {1,1}, 3 voters on distinct nodes, creating', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 8 });
    const shards = shardsOfTable(s, t);
    assert.equal(shards.length, 8);
    assert.ok(tableTiled(s, t));
    shards.forEach((sh, i) => {
      assert.deepEqual(slotBoundsOf(t, sh), { lo: (i * SLOT_COUNT) / 8, hi: ((i + 1) * SLOT_COUNT) / 8 });
      assert.deepEqual(sh.epoch, { confVer: 1, version: 1 });
      assert.equal(new Set(sh.replicas.map((r) => r.nodeId)).size, 3);
      assert.ok(sh.replicas.every((r) => r.role === 'voter'));
    });
    const peers = shards.flatMap((sh) => sh.replicas.map((r) => r.peerId));
    assert.equal(new Set(peers).size, 24, 'peer ids unique');
    assert.equal(s.tables.get(t)?.state, 'creating');
  });

  it('range table: split keys cut N + 1 shards tiling the table', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'r', partition: 'range', splitKeys: ['f', 'p'].map(utf8) });
    assert.equal(shardsOfTable(s, t).length, 3);
    assert.ok(tableTiled(s, t));
    const single = createTable(s, nodes, { name: 'r1', partition: 'range' });
    assert.equal(shardsOfTable(s, single).length, 1);
    assert.ok(tableTiled(s, single));
  });

  it('becomes active once every shard reported a leader', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 2 });
    const [a] = shardsOfTable(s, t);
    report(s, descriptor(a!, { leaderPeerId: a!.replicas[0]!.peerId }));
    assert.equal(s.tables.get(t)?.state, 'creating');
    electFirstVoters(s, t);
    assert.equal(s.tables.get(t)?.state, 'active');
  });

  it('refuses bad options and placements without side effects', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const options = (o: Partial<meta.TableOptions>) => meta.TableOptions.create({
      partition: meta.PartitionKind.HASH, shardCount: 2, replicaCount: 3, ...o,
    });
    const place = (lists: number[][]) => lists.map((nodeIds) => ({ nodeIds }));
    const ok2 = place([[1, 2, 3], [4, 5, 6]]);
    const cases: [Parameters<typeof cmd.createTable>[0], string][] = [
      [{ name: 't', pool: 'default', options: options({ shardCount: 3 }), placement: ok2 }, 'INVALID_ARGUMENT'],
      [{ name: 't', pool: 'default', options: options({ replicaCount: 0 }), placement: ok2 }, 'INVALID_ARGUMENT'],
      [{ name: 't', pool: 'default', options: options({}), placement: place([[1, 1, 2], [4, 5, 6]]) }, 'INVALID_ARGUMENT'],
      [{ name: 't', pool: 'default', options: options({}), placement: place([[1, 2, 3]]) }, 'INVALID_ARGUMENT'],
      [{ name: 't', pool: 'default', options: options({}), placement: place([[1, 2, 99], [4, 5, 6]]) }, 'INVALID_ARGUMENT'],
      [{ name: 't', pool: 'nope', options: options({}), placement: ok2 }, 'NOT_FOUND'],
      [{ name: 't', pool: 'default', options: options({ partition: meta.PartitionKind.RANGE, shardCount: 2 }), placement: ok2 }, 'INVALID_ARGUMENT'],
      [{ name: 't', pool: 'default', options: options({}), placement: ok2, splitKeys: [utf8('a')] }, 'INVALID_ARGUMENT'],
    ];
    for (const [fields, code] of cases) assert.equal(refusal(s, cmd.createTable(fields)), code, JSON.stringify(fields.options));
    run(s, cmd.setNodeState(nodes[0]!, 'up', 'down'));
    assert.equal(refusal(s, cmd.createTable({ name: 't', pool: 'default', options: options({}), placement: ok2 })), 'UNAVAILABLE');
    assert.equal(s.tables.size, 0);
    assert.equal(s.shards.size, 0);
    assert.deepEqual(s.nextIds, { node: 7, shard: 1, peer: 1, table: 1, operator: 1 });
  });

  it('names are unique; if_not_exists answers with the existing table', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 1 });
    const again = cmd.createTable({
      name: 'h', pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 1, replicaCount: 3 }),
      placement: [{ nodeIds: [1, 2, 3] }],
    });
    assert.equal(refusal(s, again), 'ALREADY_EXISTS');
    assert.equal(again.$case, 'createTable');
    if (again.$case === 'createTable') {
      const out = run(s, { $case: 'createTable', createTable: { ...again.createTable, ifNotExists: true } });
      assert.deepEqual(out, { kind: 'table-exists', tableId: t });
    }
  });
});

describe('drop and remove', () => {
  it('drop hides routes, cancels operators, tombstones shards; remove makes garbage; the name is reusable', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 2 });
    electFirstVoters(s, t);
    const sh = shardsOfTable(s, t)[0]!;
    run(s, cmd.addOperator({
      shardId: sh.id, epoch: sh.epoch, cause: 'admin', reason: '', timeoutMs: 1000,
      spec: { kind: 'transfer-leader', toPeerId: sh.replicas[1]!.peerId },
    }));
    assert.equal(s.operators.size, 1);
    run(s, cmd.dropTable('h'));
    assert.equal(s.operators.size, 0);
    assert.equal(s.operatorHistory.at(-1)?.state, 'cancelled');
    assert.equal(findTable(s, 'h').ok, false);
    assert.equal(routesOf(s, 'h').ok, false);
    assert.equal(s.removedShards.length, 2);
    assert.equal(run(s, cmd.dropTable('h')).kind, 'unchanged');
    assert.equal(refusal(s, cmd.dropTable('nope')), 'TABLE_NOT_FOUND');
    assert.equal(run(s, cmd.dropTable('nope', true)).kind, 'unchanged');
    assert.equal(report(s, descriptor(shard(s, sh.id), { leaderPeerId: sh.replicas[2]!.peerId })).ok, false, 'no updates while dropping');
    run(s, cmd.removeTable(t));
    assert.equal(s.shards.size, 0);
    assert.equal(s.tables.size, 0);
    assert.equal(garbageOfNode(s, sh.replicas[0]!.nodeId).some((g) => g.peerId === peerOn(sh, sh.replicas[0]!.nodeId)), true);
    assert.equal(s.garbage.length, 6);
    const t2 = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 1 });
    assert.notEqual(t2, t);
  });

  it('remove refuses a table that is not dropping', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 1 });
    assert.equal(refusal(s, cmd.removeTable(t)), 'CONDITION_FAILED');
  });

  it('garbage is acknowledged per node and skipped for removed nodes', () => {
    const { state: s, nodes } = clusterOf(ZONES);
    const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 1, placement: [[1, 2, 3] as NodeId[]] });
    const sh = shardsOfTable(s, t)[0]!;
    run(s, cmd.dropTable('h'));
    run(s, cmd.removeTable(t));
    assert.equal(s.garbage.length, 3);
    const out = run(s, cmd.ackDestroyedReplicas(1 as NodeId, [{ shardId: sh.id, peerId: peerOn(sh, 1 as NodeId) }]));
    assert.deepEqual(out, { kind: 'garbage-acked', count: 1 });
    assert.equal(garbageOfNode(s, 1 as NodeId).length, 0);
    run(s, cmd.decommissionNode(2 as NodeId));
    run(s, cmd.setNodeState(2 as NodeId, 'decommissioning', 'removed'));
    assert.equal(garbageOfNode(s, 2 as NodeId).length, 0, 'a removed node has nothing left to destroy');
  });
});
