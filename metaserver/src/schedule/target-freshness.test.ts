// Goal: a node that missed two heartbeats is never chosen as a new replica's or leader's target while it is still `up` (suspicion comes much later), and is chosen again once it heartbeats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import { leaderNode } from '../state/index.js';
import type { CommandKind, TopologyState } from '../state/index.js';
import { schedule } from './scheduler.js';
import type { SoftState } from './soft-state.js';
import { ModelCluster } from './testing/model-cluster.js';

const SLOW_FAILURE = { nodeSuspectAfterMs: 20_000, nodeDownAfterMs: 60_000, nodeHeartbeatIntervalMs: 1_000 };

/** The nodes the planned commands would make a replica's or a leader's home. */
function targets(state: TopologyState, commands: readonly CommandKind[]): NodeId[] {
  const out: NodeId[] = [];
  for (const c of commands) {
    if (c.$case !== 'addOperator') continue;
    const spec = c.addOperator.spec;
    if (spec?.$case === 'moveReplica') out.push(spec.moveReplica.toNodeId as NodeId);
    if (spec?.$case === 'transferLeader') {
      const shard = state.shards.get(c.addOperator.shardId as never);
      const r = shard?.replicas.find((x) => x.peerId === spec.transferLeader.toPeerId);
      if (r !== undefined) out.push(r.nodeId);
    }
  }
  return out;
}

/** The soft state with `node`'s last heartbeat moved `ageMs` into the past. */
function silenced(soft: SoftState, node: NodeId, nowMs: number, ageMs: number): SoftState {
  const nodes = new Map(soft.nodes);
  nodes.set(node, { ...nodes.get(node)!, lastHeartbeatMs: nowMs - ageMs });
  return { ...soft, leaderSinceMs: 0, nodes };
}

describe('stale heartbeat targets', () => {
  it('replica balancing skips a silent new node until it heartbeats again', () => {
    const m = new ModelCluster({ config: SLOW_FAILURE });
    ['z1', 'z2', 'z3'].forEach((z) => m.addNode(z));
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8 }) });
    m.settle();
    const fresh = m.addNode('z1');
    m.kill(fresh); // registered and up, but silent from now on
    for (let i = 0; i < 8; i++) {
      m.step();
      assert.equal(m.state.nodes.get(fresh)?.state, 'up', 'not suspect yet');
      const planned = [...m.state.operators.values()].flatMap((op) => op.steps)
        .filter((st) => st.kind === 'add-learner' && st.nodeId === fresh);
      if (i >= 2) assert.deepEqual(planned, [], `step ${i}: nothing placed on the silent node`);
    }
    m.revive(fresh);
    m.runUntil(() => m.shards().some((s) => s.replicas.some((r) => r.nodeId === fresh)), 50);
  });

  it('leader balancing skips a node whose heartbeat is older than two intervals', () => {
    const m = new ModelCluster({ config: { ...SLOW_FAILURE, leaderBalanceEnabled: false } });
    const nodes = ['z1', 'z2', 'z3'].map((z) => m.addNode(z));
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8 }) });
    m.settle();
    const leaders = nodes.map((n) => m.shards().filter((s) => leaderNode(s) === n).length);
    const poorest = nodes[leaders.indexOf(Math.min(...leaders))]!;
    assert.ok(Math.max(...leaders) - Math.min(...leaders) >= 2, `imbalanced to start with: ${leaders}`);
    const config = { ...m.config, leaderBalanceEnabled: true };
    const control = targets(m.state, schedule(m.state, m.soft, m.nowMs, config).commands);
    assert.ok(control.includes(poorest), `a heard-from node takes leaders: ${control}`);
    const recent = schedule(m.state, silenced(m.soft, poorest, m.nowMs, 1_500), m.nowMs, config).commands;
    assert.ok(targets(m.state, recent).includes(poorest), 'one missed heartbeat is tolerated');
    const stale = schedule(m.state, silenced(m.soft, poorest, m.nowMs, 2_500), m.nowMs, config).commands;
    assert.ok(!targets(m.state, stale).includes(poorest), `no leader moves to the silent node: ${targets(m.state, stale)}`);
  });
});
