// Goal: failure detection turns heartbeat silence into up → suspect → down (and back to up when heard again) at the configured times, as compare-and-set commands, counting silence from the leader's own start so a metaserver leader change never condemns the cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { commands as cmd, nodeStateFromProto } from '../state/index.js';
import type { CommandKind } from '../state/index.js';
import { clusterOf, run } from '../state/testing/fixtures.js';
import { detectFailures, livenessTarget, nodeServes } from './failure-detector.js';
import { createSoftState } from './soft-state.js';

const O = { nodeSuspectAfterMs: 10_000, nodeDownAfterMs: 30_000 };

function moves(kinds: readonly CommandKind[]): string[] {
  return kinds.map((k) => {
    assert.ok(k.$case === 'setNodeState');
    return `${k.setNodeState.nodeId}:${nodeStateFromProto(k.setNodeState.fromState)}>${nodeStateFromProto(k.setNodeState.toState)}`;
  });
}

describe('livenessTarget', () => {
  it('follows the timeline', () => {
    assert.equal(livenessTarget('up', 9_999, O), undefined);
    assert.equal(livenessTarget('up', 10_000, O), 'suspect');
    assert.equal(livenessTarget('up', 30_000, O), 'down', 'a long gap goes straight to down');
    assert.equal(livenessTarget('suspect', 20_000, O), undefined);
    assert.equal(livenessTarget('suspect', 30_000, O), 'down');
    assert.equal(livenessTarget('suspect', 1_000, O), 'up');
    assert.equal(livenessTarget('down', 1_000, O), 'up');
    assert.equal(livenessTarget('down', 60_000, O), undefined);
    assert.equal(livenessTarget('decommissioning', 60_000, O), undefined);
    assert.equal(livenessTarget('removed', 60_000, O), undefined);
  });
});

describe('detectFailures with a fake clock', () => {
  it('suspect at 10 s, down at 30 s, up again when heard; the leader start is a grace point', () => {
    const { state, nodes } = clusterOf(['z1', 'z2']);
    const [a, b] = nodes as [NodeId, NodeId];
    const soft = createSoftState(100_000);
    const heard = (n: NodeId, t: number) => soft.nodes.set(n, { lastHeartbeatMs: t, capacityBytes: 0, usedBytes: 0, availableBytes: 0, busy: false, receivingSnapshotCount: 0, stats: {} as never });
    heard(a, 50_000);
    assert.deepEqual(moves(detectFailures(state, soft, 105_000, O)), [], 'old silence before this leader does not count');
    heard(b, 105_000);
    assert.deepEqual(moves(detectFailures(state, soft, 110_000, O)), [`${a}:up>suspect`]);
    run(state, cmd.setNodeState(a, 'up', 'suspect'));
    heard(b, 129_000);
    assert.deepEqual(moves(detectFailures(state, soft, 129_999, O)), []);
    assert.deepEqual(moves(detectFailures(state, soft, 130_000, O)), [`${a}:suspect>down`]);
    run(state, cmd.setNodeState(a, 'suspect', 'down'));
    heard(a, 131_000);
    heard(b, 131_000);
    assert.deepEqual(moves(detectFailures(state, soft, 132_000, O)), [`${a}:down>up`]);
  });

  it('a new leader does not revive down or suspect nodes it has not heard from', () => {
    const { state, nodes } = clusterOf(['z1', 'z2']);
    const [a, b] = nodes as [NodeId, NodeId];
    run(state, cmd.setNodeState(a, 'up', 'suspect'));
    run(state, cmd.setNodeState(a, 'suspect', 'down'));
    run(state, cmd.setNodeState(b, 'up', 'suspect'));
    const soft = createSoftState(100_000);
    assert.deepEqual(moves(detectFailures(state, soft, 101_000, O)), [], 'the takeover grace is no heartbeat');
    assert.deepEqual(moves(detectFailures(state, soft, 130_000, O)), [`${b}:suspect>down`]);
  });

  it('a decommissioning node serves while it heartbeats, not after the down time', () => {
    const { state, nodes } = clusterOf(['z1']);
    const n = nodes[0]!;
    run(state, cmd.decommissionNode(n));
    const soft = createSoftState(0);
    assert.equal(nodeServes(state.nodes.get(n), soft, 29_999, O), true);
    assert.equal(nodeServes(state.nodes.get(n), soft, 30_000, O), false);
    assert.deepEqual(detectFailures(state, soft, 90_000, O), []);
  });
});
