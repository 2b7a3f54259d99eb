// Goal: when a node dies, the cluster walks the timeline suspect → down → replacement operators (learner on a healthy node in a zone the shard does not use, caught up, promoted) → dead replica removed, within the recovery rate limits, ending with every shard fully replicated on live nodes across zones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import { shardsOfTable } from '../state/index.js';
import { ModelCluster } from './testing/model-cluster.js';

const ZONES = ['z1', 'z2', 'z3', 'z1', 'z2', 'z3'];

function cluster(config = {}) {
  const m = new ModelCluster({ config: { leaderBalanceEnabled: false, ...config } });
  const nodes = ZONES.map((z) => m.addNode(z));
  const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8 }) });
  m.settle();
  return { m, nodes, t };
}

function healthy(m: ModelCluster, t: number): boolean {
  return shardsOfTable(m.state, t as never).every((s) =>
    s.replicas.length === 3 && s.replicas.every((r) => r.role === 'voter' && m.alive.has(r.nodeId))
    && new Set(s.replicas.map((r) => m.state.nodes.get(r.nodeId)!.zone)).size === 3);
}

describe('recovery timeline', () => {
  it('suspect → down → replace in the same zone → dead replica removed', () => {
    const { m, nodes, t } = cluster();
    const dead = nodes[0]!;
    const hosted = shardsOfTable(m.state, t).filter((s) => s.replicas.some((r) => r.nodeId === dead)).map((s) => s.id);
    assert.ok(hosted.length > 0);
    const start = m.nowMs;
    m.kill(dead);
    m.runUntil(() => m.state.nodes.get(dead)?.state === 'suspect');
    assert.ok(m.nowMs - start >= m.config.nodeSuspectAfterMs);
    assert.equal(m.state.operators.size, 0, 'nothing moves while only suspect');
    m.runUntil(() => m.state.nodes.get(dead)?.state === 'down');
    assert.ok(m.nowMs - start >= m.config.nodeDownAfterMs);
    m.runUntil(() => m.state.operators.size > 0, 3);
    for (const op of m.state.operators.values()) {
      assert.equal(op.cause, 'recovery');
      assert.deepEqual(op.steps.map((s) => s.kind), ['add-learner', 'promote-learner', 'transfer-leader', 'remove-replica']);
      const add = op.steps[0]!;
      assert.ok(add.kind === 'add-learner');
      assert.equal(m.state.nodes.get(add.nodeId)?.zone, 'z1', 'the only zone the shard no longer uses');
    }
    m.runUntil(() => healthy(m, t));
    for (const id of hosted) {
      const s = m.state.shards.get(id)!;
      assert.ok(!s.replicas.some((r) => r.nodeId === dead), `shard ${id} dropped the dead replica`);
      assert.ok(m.state.garbage.some((g) => g.shardId === id && g.nodeId === dead), 'the dead replica is garbage for when the node returns');
    }
    assert.equal(m.state.operatorHistory.filter((o) => o.cause === 'recovery' && o.state === 'succeeded').length, hosted.length);
  });

  it('no recovery operator on a shard whose up voters are no majority (one dead, one suspect)', () => {
    const { m, nodes, t } = cluster();
    const [a, b] = [nodes[0]!, nodes[1]!];
    const both = new Set(shardsOfTable(m.state, t).filter((s) => [a, b].every((n) => s.replicas.some((r) => r.nodeId === n))).map((s) => s.id));
    assert.ok(both.size > 0, 'some shard has replicas on both nodes');
    m.kill(a);
    m.step();
    m.kill(b);
    let sawWindow = false;
    m.runUntil(() => {
      const [sa, sb] = [m.state.nodes.get(a)?.state, m.state.nodes.get(b)?.state];
      if (sa === 'down' && sb === 'suspect') sawWindow = true;
      if (sb !== 'down') {
        const bad = [...m.state.operators.values()].filter((o) => both.has(o.shardId));
        assert.deepEqual(bad.map((o) => o.id), [], 'no operator on a shard without an up quorum');
      }
      return sb === 'down';
    });
    assert.ok(sawWindow, 'the test went through the window where one node is down and one suspect');
    m.step();
    const stuck = new Set(m.lastStuck.map((x) => x.shardId));
    for (const id of both) assert.ok(stuck.has(id), `shard ${id} is reported stuck once both are down`);
  });

  it('recovery respects the per-node and cluster limits', () => {
    const { m, nodes, t } = cluster({ recoveryOperatorsPerNodeMax: 1, recoveryOperatorsMax: 2 });
    m.kill(nodes[0]!);
    let peak = 0;
    m.runUntil(() => {
      const running = [...m.state.operators.values()].filter((o) => o.cause === 'recovery');
      peak = Math.max(peak, running.length);
      assert.ok(running.length <= 2, 'cluster limit');
      const perTarget = new Map<number, number>();
      for (const op of running) {
        const add = op.steps[0]!;
        if (add.kind === 'add-learner') perTarget.set(add.nodeId, (perTarget.get(add.nodeId) ?? 0) + 1);
      }
      assert.ok([...perTarget.values()].every((c) => c <= 1), 'per-node limit');
      return healthy(m, t);
    });
    assert.equal(peak, 1, 'one target node in z1, one recovery at a time on it');
  });

  it('a returning node is revived and its stale replicas are destroyed and acknowledged', () => {
    const { m, nodes, t } = cluster();
    const dead = nodes[0]!;
    m.kill(dead);
    m.runUntil(() => healthy(m, t));
    assert.ok(m.state.garbage.some((g) => g.nodeId === dead));
    m.revive(dead);
    m.runUntil(() => m.state.nodes.get(dead)?.state === 'up' && !m.state.garbage.some((g) => g.nodeId === dead), 20);
  });

  it('with no spare node in the zone, the replacement still lands on a live node', () => {
    const m = new ModelCluster({ config: { leaderBalanceEnabled: false } });
    const nodes = ['z1', 'z2', 'z3', 'z3'].map((z) => m.addNode(z));
    const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 2 }) });
    m.settle();
    m.kill(nodes[0]! as NodeId);
    m.runUntil(() => shardsOfTable(m.state, t).every((s) => s.replicas.length === 3 && s.replicas.every((r) => m.alive.has(r.nodeId))));
  });
});
