// Goal: the multi-raft scheduler elects, replicates with group commit, serves reads,
// hibernates idle groups without breaking leader leases, recovers from leader loss,
// catches a new replica up by snapshot and restarts from its WAL — over in-memory fakes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvError } from '@shoal/common';
import { common } from '@shoal/proto';
import type { PeerId } from '@shoal/raft-ts';
import { ConfChangeTransition, ConfChangeType, MessageType } from '@shoal/raft-ts';
import { encodeDescriptor, withReplica, bumpConfVer } from './descriptor.js';
import { DescriptorStore } from './descriptor-store.js';
import { descriptor, leaderOf, MemNetwork, MemNode, peerOf, waitFor } from './testing/mem-cluster.js';
import { putCommand } from './testing/mem-engine.js';

const NODES = [1, 2, 3];

function cluster(shards: readonly number[], over = {}): { net: MemNetwork; nodes: MemNode[] } {
  const net = new MemNetwork();
  const nodes = NODES.map((n) => new MemNode(n, net, over));
  for (const s of shards) for (const n of nodes) n.host(descriptor(s, NODES), peerOf(s, n.nodeId));
  for (const n of nodes) n.scheduler.start();
  return { net, nodes };
}

async function stop(nodes: MemNode[], fatalExpected = false): Promise<void> {
  for (const n of nodes) await n.scheduler.stop();
  if (!fatalExpected) for (const n of nodes) assert.equal(n.fatal, undefined, `node ${n.nodeId} failed: ${String(n.fatal)}`);
}

async function leader(net: MemNetwork, shard: number): Promise<ReturnType<typeof leaderOf> & object> {
  await waitFor(() => leaderOf(net, shard) !== undefined, 5000, `leader of shard ${shard}`);
  return leaderOf(net, shard)!;
}

test('proposals on several shards commit on every replica; a turn group-commits them with one flush', async () => {
  const { net, nodes } = cluster([1, 2, 3, 4]);
  try {
    const leaders = await Promise.all([1, 2, 3, 4].map((s) => leader(net, s)));
    const before = nodes.map((n) => n.wal.flushes);
    const results = await Promise.all(leaders.map(({ node, replica }, i) =>
      node.scheduler.propose(replica, putCommand(`k${i}`, `v${i}`), Date.now() + 5000)));
    for (const r of results) assert.ok((r as { index: number }).index > 0);
    await waitFor(() => nodes.every((n) => [1, 2, 3, 4].every((s, i) => n.engine.get(s, `k${i}`) === `v${i}`)), 5000, 'apply everywhere');
    // Four shards' appends in the same turns: far fewer flushes than 4 proposals × 3 nodes × 2 phases.
    const flushes = nodes.reduce((sum, n, i) => sum + n.wal.flushes - before[i]!, 0);
    assert.ok(flushes < 24, `expected group commit, got ${flushes} flushes`);
  } finally {
    await stop(nodes);
  }
});

test('idle groups hibernate: no ticks or messages while idle; a proposal wakes the group', async () => {
  const { net, nodes } = cluster([1, 2]);
  try {
    const { node, replica } = await leader(net, 1);
    await node.scheduler.propose(replica, putCommand('a', '1'), Date.now() + 5000);
    await waitFor(() => nodes.every((n) => n.scheduler.awakeCount === 0), 5000, 'all groups asleep');
    const sent = net.messages;
    const ticks = nodes.map((n) => n.scheduler.stats.groupTicks);
    await new Promise((r) => setTimeout(r, 300)); // 30 tick intervals
    assert.equal(net.messages, sent, 'no messages while hibernating');
    assert.deepEqual(nodes.map((n) => n.scheduler.stats.groupTicks), ticks, 'no ticks while hibernating');
    const res = await node.scheduler.propose(replica, putCommand('a', '2'), Date.now() + 5000);
    assert.ok((res as { index: number }).index > 0);
    await waitFor(() => nodes.every((n) => n.engine.get(1, 'a') === '2'), 5000, 'apply after wake');
    await waitFor(() => nodes.every((n) => n.scheduler.awakeCount === 0), 5000, 'asleep again');
    assert.ok(leaderOf(net, 1)!.replica === replica, 'leadership kept across hibernation');
  } finally {
    await stop(nodes);
  }
});

test('a woken leader does not answer a linearizable read from its old lease when cut off', async () => {
  const { net, nodes } = cluster([1]);
  try {
    const { node, replica } = await leader(net, 1);
    await node.scheduler.readIndex(replica, Date.now() + 2000, true); // establishes a lease
    await waitFor(() => nodes.every((n) => n.scheduler.awakeCount === 0), 5000, 'asleep');
    // Cut the sleeping leader off; the others elect a new leader and commit a write.
    for (const other of NODES.filter((n) => n !== node.nodeId)) {
      net.cut.add(`${node.nodeId}>${other}`);
      net.cut.add(`${other}>${node.nodeId}`);
    }
    const others = nodes.filter((n) => n !== node);
    for (const o of others) o.scheduler.onUnreachable(node.nodeId);
    await waitFor(() => others.some((o) => o.scheduler.replica(1)!.isLeader), 5000, 'new leader');
    const nl = others.find((o) => o.scheduler.replica(1)!.isLeader)!;
    await nl.scheduler.propose(nl.scheduler.replica(1)!, putCommand('x', 'new'), Date.now() + 5000);
    // The old leader still believes it leads; its read must not succeed.
    assert.ok(replica.isLeader);
    await assert.rejects(node.scheduler.readIndex(replica, Date.now() + 400, true),
      (e: unknown) => e instanceof KvError && (e.code === 'TIMEOUT' || e.code === 'NOT_LEADER'));
    net.cut.clear();
    await waitFor(() => !replica.isLeader, 5000, 'old leader steps down');
  } finally {
    await stop(nodes);
  }
});

test('leader node loss: sleeping followers wake on the unreachable report and elect a new leader', async () => {
  const { net, nodes } = cluster([1]);
  try {
    const { node } = await leader(net, 1);
    await waitFor(() => nodes.every((n) => n.scheduler.awakeCount === 0), 5000, 'asleep');
    net.down.add(node.nodeId);
    await node.scheduler.stop();
    const started = Date.now();
    for (const o of nodes) if (o !== node) o.scheduler.onUnreachable(node.nodeId);
    const nl = await leader(net, 1);
    assert.notEqual(nl.node, node);
    assert.ok(Date.now() - started < 3000);
    await nl.node.scheduler.propose(nl.replica, putCommand('after', 'loss'), Date.now() + 5000);
  } finally {
    await stop(nodes);
  }
});

test('a NOT_LEADER-style wake of a sleeping follower does not disturb a healthy leader', async () => {
  const { net, nodes } = cluster([1]);
  try {
    const { replica } = await leader(net, 1);
    const term = replica.term;
    await waitFor(() => nodes.every((n) => n.scheduler.awakeCount === 0), 5000, 'asleep');
    const follower = nodes.map((n) => n.scheduler.replica(1)!).find((r) => !r.isLeader)!;
    const fnode = nodes.find((n) => n.scheduler.replica(1) === follower)!;
    fnode.scheduler.wake(follower, true);
    await new Promise((r) => setTimeout(r, 500)); // several election timeouts
    assert.ok(replica.isLeader);
    assert.equal(replica.term, term, 'no election');
    await waitFor(() => nodes.every((n) => n.scheduler.awakeCount === 0), 5000, 'asleep again');
  } finally {
    await stop(nodes);
  }
});

test('follower reads wait for the read index; stale staleness is measured from leader contact', async () => {
  const { net, nodes } = cluster([1]);
  try {
    const { node, replica } = await leader(net, 1);
    await node.scheduler.propose(replica, putCommand('f', '1'), Date.now() + 5000);
    const fnode = nodes.find((n) => n !== node)!;
    const fr = fnode.scheduler.replica(1)!;
    await fnode.scheduler.readIndex(fr, Date.now() + 5000, false);
    assert.equal(fnode.engine.get(1, 'f'), '1');
    assert.ok(fr.staleness(Date.now()) < 1000);
    assert.equal(net.byType.get(MessageType.ReadIndex) !== undefined, true, 'the follower asked the leader');
  } finally {
    await stop(nodes);
  }
});

test('limits: SERVER_BUSY beyond pendingProposalsPerShardMax; deadlines give TIMEOUT or UNKNOWN_OUTCOME', async () => {
  const { net, nodes } = cluster([1], { pendingProposalsPerShardMax: 2 });
  try {
    const { node, replica } = await leader(net, 1);
    for (const o of NODES) if (o !== node.nodeId) net.cut.add(`${node.nodeId}>${o}`);
    const p1 = node.scheduler.propose(replica, putCommand('a', '1'), Date.now() + 300);
    const p2 = node.scheduler.propose(replica, putCommand('b', '1'), Date.now() + 300);
    await assert.rejects(node.scheduler.propose(replica, putCommand('c', '1'), Date.now() + 300),
      (e: unknown) => e instanceof KvError && e.code === 'SERVER_BUSY');
    await assert.rejects(p1, (e: unknown) => e instanceof KvError && e.code === 'UNKNOWN_OUTCOME');
    await assert.rejects(p2, (e: unknown) => e instanceof KvError && e.code === 'UNKNOWN_OUTCOME');
    net.cut.clear();
  } finally {
    await stop(nodes);
  }
});

test('a WAL flush failure is fatal', async () => {
  const { net, nodes } = cluster([1]);
  try {
    const { node, replica } = await leader(net, 1);
    node.wal.failNextFlush = true;
    void node.scheduler.propose(replica, putCommand('a', '1'), Date.now() + 1000).catch(() => undefined);
    await waitFor(() => node.fatal !== undefined, 2000, 'fatal');
  } finally {
    await stop(nodes, true);
  }
});

test('a replica added to a compacted shard catches up through a snapshot, then serves follower reads', async () => {
  const { net, nodes } = cluster([1]);
  const n4 = new MemNode(4, net);
  try {
    const { node, replica } = await leader(net, 1);
    for (let i = 0; i < 200; i++) await node.scheduler.propose(replica, putCommand(`k${i}`, `v${i}`), Date.now() + 5000);
    await waitFor(() => nodes.every((n) => n.engine.get(1, 'k199') === 'v199'), 5000, 'applied');
    for (const n of nodes) await n.scheduler.compactLogs(50, 10);
    assert.ok(replica.storage.firstIndex() > 100, `compacted (first ${replica.storage.firstIndex()})`);
    // The new replica: created empty on node 4, then added as a learner by the leader.
    const next = bumpConfVer(withReplica(replica.descriptor, common.Replica.create({ nodeId: 4, peerId: peerOf(1, 4), role: common.ReplicaRole.LEARNER })));
    const r4 = n4.host(next, peerOf(1, 4), false);
    n4.scheduler.start();
    const desc = await node.scheduler.proposeConfChange(replica, {
      transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearnerNode, peerId: peerOf(1, 4) as PeerId }],
      context: encodeDescriptor(next),
    }, Date.now() + 5000);
    assert.equal(desc.replicas.length, 4);
    await waitFor(() => n4.engine.get(1, 'k199') === 'v199' && r4.appliedIndex >= 200, 5000, 'snapshot installed');
    assert.ok(r4.appliedIndex >= 200);
    await node.scheduler.propose(replica, putCommand('late', 'x'), Date.now() + 5000);
    await n4.scheduler.readIndex(r4, Date.now() + 5000, false);
    assert.equal(n4.engine.get(1, 'late'), 'x');
  } finally {
    await stop([...nodes, n4]);
  }
});

test('restart replays from the WAL snapshot point and keeps membership changes made after it', async () => {
  const { net, nodes } = cluster([1]);
  const n4 = new MemNode(4, net);
  try {
    const { node, replica } = await leader(net, 1);
    const next = bumpConfVer(withReplica(replica.descriptor, common.Replica.create({ nodeId: 4, peerId: peerOf(1, 4), role: common.ReplicaRole.LEARNER })));
    n4.host(next, peerOf(1, 4), false);
    n4.scheduler.start();
    await node.scheduler.proposeConfChange(replica, {
      transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearnerNode, peerId: peerOf(1, 4) as PeerId }],
      context: encodeDescriptor(next),
    }, Date.now() + 5000);
    for (let i = 0; i < 30; i++) await node.scheduler.propose(replica, putCommand(`k${i}`, `v${i}`), Date.now() + 5000);
    await waitFor(() => [...nodes, n4].every((n) => n.engine.get(1, 'k29') === 'v29'), 5000, 'applied');
    for (const n of nodes) await n.restart();
    const nl = await leader(net, 1);
    assert.deepEqual([...nl.replica.confState.learners], [peerOf(1, 4)]);
    assert.equal(nl.replica.descriptor.replicas.length, 4);
    await nl.node.scheduler.propose(nl.replica, putCommand('post', 'restart'), Date.now() + 5000);
    await waitFor(() => n4.engine.get(1, 'post') === 'restart', 5000, 'learner still replicated');
  } finally {
    await stop([...nodes, n4]);
  }
});

test('an engine that cannot record descriptors: the descriptor store keeps them across compaction and restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-desc-'));
  const net = new MemNetwork();
  const stores = new Map(NODES.map((n) => [n, new DescriptorStore(join(dir, `n${n}`))]));
  const nodes = NODES.map((n) => new MemNode(n, net, { engineRecordsDescriptors: false, descriptorStore: stores.get(n)! }));
  for (const n of nodes) n.engine.recordsDescriptors = false;
  for (const n of nodes) n.host(descriptor(1, NODES), peerOf(1, n.nodeId));
  for (const n of nodes) n.scheduler.start();
  const n4 = new MemNode(4, net);
  try {
    const { node, replica } = await leader(net, 1);
    const next = bumpConfVer(withReplica(replica.descriptor, common.Replica.create({ nodeId: 4, peerId: peerOf(1, 4), role: common.ReplicaRole.LEARNER })));
    n4.host(next, peerOf(1, 4), false);
    n4.scheduler.start();
    await node.scheduler.proposeConfChange(replica, {
      transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearnerNode, peerId: peerOf(1, 4) as PeerId }],
      context: encodeDescriptor(next),
    }, Date.now() + 5000);
    for (let i = 0; i < 100; i++) await node.scheduler.propose(replica, putCommand(`k${i}`, `v${i}`), Date.now() + 5000);
    await waitFor(() => nodes.every((n) => n.engine.get(1, 'k99') === 'v99'), 5000, 'applied');
    for (const n of nodes) await n.scheduler.compactLogs(20, 5);
    assert.ok(replica.storage.firstIndex() > 50, 'compacted past the conf change');
    for (const n of nodes) assert.equal(n.engine.shards.get(1)!.descriptor.replicas.length, 3, 'the engine kept the old descriptor');
    for (const n of nodes) await n.restart();
    const nl = await leader(net, 1);
    assert.equal(nl.replica.descriptor.replicas.length, 4, 'the restarted leader knows the learner\'s node');
    await nl.node.scheduler.propose(nl.replica, putCommand('after', 'restart'), Date.now() + 5000);
    await waitFor(() => n4.engine.get(1, 'after') === 'restart', 5000, 'learner still replicated');
  } finally {
    await stop([...nodes, n4]);
    rmSync(dir, { recursive: true, force: true });
  }
});
