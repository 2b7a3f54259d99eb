// Goal: balancing converges — adding nodes moves replicas and leaders onto them gradually (within the balance rate limits) until per-node counts are within tolerance, never breaking zone spread — and decommission drains a node then marks it removed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import { commands as cmd, leaderNode } from '../state/index.js';
import { tolerance } from './balancer.js';
import { ModelCluster } from './testing/model-cluster.js';

function counts(m: ModelCluster, nodes: readonly NodeId[]): { replicas: number[]; leaders: number[] } {
  const replicas = nodes.map((n) => m.shards().filter((s) => s.replicas.some((r) => r.nodeId === n)).length);
  const leaders = nodes.map((n) => m.shards().filter((s) => leaderNode(s) === n).length);
  return { replicas, leaders };
}

function spread(xs: number[]): number {
  return Math.max(...xs) - Math.min(...xs);
}

/** Shards at rest (no operator moving a replica) use distinct zones. */
function zonesSpread(m: ModelCluster): boolean {
  return m.shards().every((s) => m.state.operatorByShard.has(s.id)
    || new Set(s.replicas.map((r) => m.state.nodes.get(r.nodeId)!.zone)).size === s.replicas.length);
}

describe('adding nodes', () => {
  it('replicas and leaders spread onto new nodes within tolerance, gradually, keeping zones', () => {
    const m = new ModelCluster({ config: { balanceOperatorsMax: 3, balanceOperatorsPerNodeMax: 1 } });
    const first = ['z1', 'z2', 'z3'].map((z) => m.addNode(z));
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 16 }) });
    m.createTable({ name: 'r', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE }) }, { splitKeys: ['b', 'd', 'f', 'h', 'j', 'l', 'n'].map((k) => new TextEncoder().encode(k)) });
    m.settle();
    assert.deepEqual(counts(m, first).replicas, [24, 24, 24]);
    const added = ['z1', 'z2', 'z3'].map((z) => m.addNode(z));
    const all = [...first, ...added];
    let peakRunning = 0;
    m.runUntil(() => {
      const balance = [...m.state.operators.values()].filter((o) => o.cause === 'balance-replica');
      peakRunning = Math.max(peakRunning, balance.length);
      assert.ok(balance.length <= 3, 'cluster balance limit');
      const perNode = new Map<number, number>();
      for (const op of balance) for (const st of op.steps) if (st.kind === 'add-learner') perNode.set(st.nodeId, (perNode.get(st.nodeId) ?? 0) + 1);
      assert.ok([...perNode.values()].every((c) => c <= 1), 'per-node balance limit');
      assert.ok(zonesSpread(m), 'zone spread kept at every step');
      return m.state.operators.size === 0 && m.quiet();
    }, 400);
    const c = counts(m, all);
    const mean = 72 / 6;
    assert.ok(spread(c.replicas) <= tolerance(mean, m.config.replicaBalanceTolerancePercent), `replicas ${c.replicas}`);
    assert.ok(spread(c.leaders) <= tolerance(24 / 6, m.config.leaderBalanceTolerancePercent), `leaders ${c.leaders}`);
    assert.ok(added.every((n) => c.replicas[all.indexOf(n)]! >= 10), 'the new nodes took their share');
    assert.equal(peakRunning, 3, 'moved gradually, at the limit');
    assert.equal(m.refusals.get('INVALID_ARGUMENT') ?? 0, 0, 'the planner never proposes an invalid operator');
  });

  it('a balanced cluster plans nothing', () => {
    const m = new ModelCluster();
    ['z1', 'z2', 'z3', 'z1', 'z2', 'z3'].map((z) => m.addNode(z));
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8 }) });
    m.settle();
    const before = m.state.nextIds.operator;
    m.runFor(20_000);
    assert.equal(m.state.nextIds.operator, before, 'no operator in 20 s of a settled cluster');
  });
});

describe('bytes', () => {
  it('with counts balanced, a big replica moves to the emptier disk and a small one comes back; no ping-pong', () => {
    const GB = 1e9;
    const m = new ModelCluster({ config: { splitEnabled: false, leaderBalanceEnabled: false } });
    const [a, b] = ['z1', 'z1'].map((z) => m.addNode(z)) as [NodeId, NodeId];
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8, replicaCount: 1 }) });
    m.settle();
    const on = (n: NodeId) => m.shards().filter((s) => s.replicas[0]!.nodeId === n).map((s) => s.id);
    assert.deepEqual([on(a).length, on(b).length], [4, 4]);
    [500, 200, 10, 10].forEach((gb, i) => { m.truth.get(on(a)[i]!)!.sizeBytes = gb * GB; });
    for (const id of on(b)) m.truth.get(id)!.sizeBytes = 10 * GB;
    m.settle();
    assert.deepEqual([on(a).length, on(b).length], [4, 4], 'counts back within tolerance');
    const sizes = (n: NodeId) => on(n).map((id) => m.truth.get(id)!.sizeBytes / GB).sort((x, y) => x - y);
    assert.deepEqual(sizes(a), [10, 10, 10, 500]);
    assert.deepEqual(sizes(b), [10, 10, 10, 200]);
    const moves = m.state.operatorHistory.filter((o) => o.cause === 'balance-replica').length;
    m.runFor(20_000);
    assert.equal(m.state.operatorHistory.filter((o) => o.cause === 'balance-replica').length, moves, 'settled for good');
  });
});

describe('decommission', () => {
  it('drains every replica off the node, then marks it removed', () => {
    const m = new ModelCluster({ config: { leaderBalanceEnabled: false } });
    const nodes = ['z1', 'z2', 'z3', 'z1', 'z2', 'z3'].map((z) => m.addNode(z));
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8 }) });
    m.settle();
    const victim = nodes[0]!;
    assert.ok(m.shards().some((s) => s.replicas.some((r) => r.nodeId === victim)));
    m.propose(cmd.decommissionNode(victim));
    m.runUntil(() => m.state.nodes.get(victim)?.state === 'removed');
    assert.ok(!m.shards().some((s) => s.replicas.some((r) => r.nodeId === victim)));
    assert.ok(m.shards().every((s) => s.replicas.length === 3), 'replica counts kept while draining');
    assert.ok(zonesSpread(m));
    assert.ok(m.state.operatorHistory.some((o) => o.cause === 'drain' && o.state === 'succeeded'));
    m.runFor(10_000);
    assert.ok(!m.shards().some((s) => s.replicas.some((r) => r.nodeId === victim)), 'a removed node gets nothing back');
  });

  it('cancel returns the node to service', () => {
    const m = new ModelCluster();
    const nodes = ['z1', 'z2', 'z3', 'z1'].map((z) => m.addNode(z));
    m.propose(cmd.decommissionNode(nodes[3]!));
    m.propose(cmd.decommissionNode(nodes[3]!, true));
    m.runFor(5_000);
    assert.equal(m.state.nodes.get(nodes[3]!)?.state, 'up');
  });
});
