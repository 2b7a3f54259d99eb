// Goal: a storage node in dynamic mode against a fake metaserver (real gRPC on loopback,
// the node in-process): it registers through a non-leader member (leader following),
// persists the allocated identity and re-registers with it after a restart, refuses a
// configured node id that contradicts it (or data without its identity file), sends node
// heartbeats with stats, reports the shards it leads promptly, loads an unknown table's
// options from Meta.GetTable on CreateReplica, runs an operator exactly once (a repeated
// id is reported, not re-run), reports its outcome, obeys DESTROY_REPLICA, and reports an
// idle shard at once when a node heartbeat reply asks for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { tableEnd, tableId, tableStart } from '@shoal/common';
import { admin, common, meta } from '@shoal/proto';
import { nodeConfigSchema } from '../config.js';
import { silentLogger } from '../raft/testing/mem-cluster.js';
import { NodeServer } from '../server.js';
import { IDENTITY_FILE } from './identity.js';
import { FakeMeta } from './testing/fake-meta.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | false): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function configFor(dir: string, port: number, metaservers: string[], extra: Record<string, unknown> = {}) {
  return nodeConfigSchema.parse({
    dataDir: dir, listen: `127.0.0.1:${port}`, httpListen: '127.0.0.1:0', raftTickIntervalMs: 20, metaservers,
    metaRetryBackoffInitialMs: 20, metaRetryBackoffMaxMs: 200, zone: 'z1', ...extra,
  });
}

function unaryAdmin<Req, Res>(fn: (req: Req, md: Metadata, o: { deadline: number }, cb: (e: Error | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, new Metadata(), { deadline: Date.now() + 10_000 }, (e, r) => (e === null ? resolve(r) : reject(e))));
}

test('registers via leader hints, persists its identity, heartbeats with stats, re-registers with the same id', async () => {
  const fake = await new FakeMeta({ heartbeatIntervalMs: 100 }).start();
  const follower = await new FakeMeta({ notLeaderOf: fake.address }).start();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-dyn-'));
  const port = await freePort();
  try {
    const config = configFor(dir, port, [follower.address, fake.address], { capacityBytes: '10GiB' });
    let server = await NodeServer.start(config, { logger: silentLogger });
    assert.ok(follower.calls > 0, 'the first member was asked first');
    assert.equal(fake.registrations.length, 1);
    assert.equal(fake.registrations[0]!.nodeId, 0, 'a fresh node asks for an id');
    assert.equal(fake.registrations[0]!.address, `127.0.0.1:${port}`);
    assert.equal(fake.registrations[0]!.zone, 'z1');
    assert.equal(server.nodeId, 1);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, IDENTITY_FILE), 'utf8')), { clusterId: 77, nodeId: 1 });

    const hb = await waitFor('two node heartbeats', 10_000, () => fake.nodeHeartbeats.length >= 2 && fake.nodeHeartbeats[1]!);
    assert.equal(hb.req.nodeId, 1);
    assert.equal(hb.req.clusterId, 77);
    const stats = hb.req.stats!;
    assert.equal(stats.capacityBytes, 10 * 1024 ** 3);
    assert.ok(stats.usedBytes > 0, 'the WAL and engine files count as used');
    assert.ok(stats.availableBytes > 0 && stats.availableBytes <= stats.capacityBytes);
    assert.ok(stats.uptimeMs > 0);
    assert.equal(stats.replicaCount, 0);

    // REREGISTER: the node registers again with its identity.
    fake.pendingCommands = [meta.NodeCommand.create({ type: meta.NodeCommandType.REREGISTER })];
    await waitFor('re-registration', 10_000, () => fake.registrations.length === 2);
    assert.equal(fake.registrations[1]!.nodeId, 1);
    assert.equal(fake.registrations[1]!.clusterId, 77);
    await server.stop();

    // Restart: the saved identity is sent, nothing new is allocated.
    server = await NodeServer.start(config, { logger: silentLogger });
    assert.equal(fake.registrations.at(-1)!.nodeId, 1);
    assert.equal(fake.registrations.at(-1)!.clusterId, 77);
    assert.equal(server.nodeId, 1);
    await server.stop();

    // A configured node id that contradicts the data dir is refused before anything opens.
    await assert.rejects(NodeServer.start(configFor(dir, port, [fake.address], { nodeId: 5 }), { logger: silentLogger }),
      (e: { code?: string; details?: { option?: string } }) => e.code === 'INVALID_ARGUMENT' && e.details?.option === 'nodeId');
    // Data without its identity file: no fresh id is taken over the old node's replicas.
    rmSync(join(dir, IDENTITY_FILE));
    const registrations = fake.registrations.length;
    await assert.rejects(NodeServer.start(config, { logger: silentLogger }),
      (e: { code?: string; details?: { option?: string } }) => e.code === 'INVALID_ARGUMENT' && e.details?.option === 'nodeId');
    assert.equal(fake.registrations.length, registrations, 'refused before registering');
  } finally {
    fake.stop();
    follower.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reports led shards promptly, runs an operator once and reports it, obeys DESTROY_REPLICA', async () => {
  const intervalMs = 2000;
  const fake = await new FakeMeta({ heartbeatIntervalMs: intervalMs }).start();
  fake.tables.set(5, meta.TableInfo.create({
    id: 5, name: 't5', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE, valueSeparationThresholdBytes: 4096, defaultTtlMs: 0 }),
  }));
  fake.tables.set(6, meta.TableInfo.create({ id: 6, name: 't6', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE }) }));
  // Node 9 exists only at the metaserver: its address must be learned from GetNodes.
  fake.nodes.set(9, meta.NodeInfo.create({ id: 9, address: '127.0.0.1:1' }));
  const dir = mkdtempSync(join(tmpdir(), 'shoal-dyn-'));
  const port = await freePort();
  const server = await NodeServer.start(configFor(dir, port, [fake.address]), { logger: silentLogger });
  const client = new admin.NodeAdminClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const me = server.nodeId;
    const desc = common.ShardDescriptor.create({
      id: 40, tableId: 5, startKey: tableStart(tableId(5)), endKey: tableEnd(tableId(5)),
      epoch: common.Epoch.create({ confVer: 1, version: 1 }),
      replicas: [common.Replica.create({ nodeId: me, peerId: 401, role: common.ReplicaRole.VOTER })],
      partition: common.Partition.RANGE,
    });
    const OP_ID = 900;
    let handedOut = 0;
    fake.operatorFor = (req) => {
      const st = req.operatorStatus;
      // Hand the operator out until a final status comes back, then once more (a retry).
      if (st?.operatorId === OP_ID && st.state !== meta.OperatorState.RUNNING && handedOut >= 2) return undefined;
      handedOut++;
      return meta.Operator.create({
        id: OP_ID, shardId: 40, epoch: common.Epoch.create({ confVer: 1, version: 1 }), timeoutMs: 10_000, reason: 'test',
        kind: { $case: 'addLearner', addLearner: meta.AddLearnerOp.create({ replica: common.Replica.create({ nodeId: 9, peerId: 402, role: common.ReplicaRole.LEARNER }) }) },
      });
    };
    const created = await unaryAdmin(client.createReplica.bind(client), admin.CreateReplicaRequest.create({ shard: desc, peerId: 401, bootstrap: true }));
    assert.equal(created.error, undefined, `CreateReplica: ${created.error?.message}`);
    const createdAtMs = Date.now();

    // The new leader reports without waiting for an interval.
    const first = await waitFor('a shard heartbeat from the new leader', 10_000, () => fake.shardHeartbeats.find((h) => h.req.shard?.id === 40));
    assert.equal(first.req.shard!.leaderPeerId, 401);
    assert.equal(first.req.nodeId, me);
    assert.ok(first.req.stats !== undefined && first.req.stats.term > 0);

    const done = await waitFor('the operator outcome', 15_000, () => fake.shardHeartbeats.find(
      (h) => h.req.operatorStatus?.operatorId === OP_ID && h.req.operatorStatus.state === meta.OperatorState.SUCCEEDED));
    assert.ok(done.atMs - createdAtMs < intervalMs + 1500, 'the outcome is reported promptly, not a full interval later');
    assert.equal(done.req.shard!.epoch!.confVer, 2, 'the learner was added (confVer 1 → 2)');
    assert.ok(done.req.shard!.replicas.some((r) => r.peerId === 402 && r.role === common.ReplicaRole.LEARNER));
    assert.ok(done.req.progress.some((p) => p.peerId === 401), 'progress lists the replicas');

    // The operator was handed out again after it ended: reported again, not re-run.
    await waitFor('the repeat to be reported', 3 * intervalMs + 5000, () => handedOut >= 2 && fake.shardHeartbeats.filter(
      (h) => h.req.operatorStatus?.operatorId === OP_ID && h.req.operatorStatus.state === meta.OperatorState.SUCCEEDED).length >= 2);
    const ex = server.dynamic!.executor;
    assert.equal(ex.stats.started, 1);
    assert.ok(ex.stats.repeated >= 1);
    assert.equal(server.replicas.replica(40)!.descriptor.epoch!.confVer, 2);

    // The engine learned the table's options from GetTable.
    assert.deepEqual(server.tableInfo(5), { tableId: 5, partition: 'range', valueSeparationThresholdBytes: 4096, defaultTtlMs: 0 });

    // DESTROY_REPLICA of a replica that leads its group is refused (stale news) …
    fake.pendingCommands = [meta.NodeCommand.create({ type: meta.NodeCommandType.DESTROY_REPLICA, shardId: 40, peerId: 401 })];
    await waitFor('the command to be taken', 10_000, () => fake.pendingCommands.length === 0);
    const beats = fake.nodeHeartbeats.length;
    await waitFor('the next node heartbeat', 10_000, () => fake.nodeHeartbeats.length > beats);
    assert.ok(server.replicas.replica(40) !== undefined, 'a leader is not destroyed');
    assert.equal(server.dynamic!.counts.destroyed, 0);

    // … one that does not lead is destroyed (here an empty joiner the leader never added).
    const joiner = common.ShardDescriptor.create({
      ...desc, id: 41, tableId: 6, startKey: tableStart(tableId(6)), endKey: tableEnd(tableId(6)), replicas: [common.Replica.create({ nodeId: 9, peerId: 410 }), common.Replica.create({ nodeId: me, peerId: 411 })],
    });
    const made = await unaryAdmin(client.createReplica.bind(client), admin.CreateReplicaRequest.create({ shard: joiner, peerId: 411, bootstrap: false }));
    assert.equal(made.error, undefined, `CreateReplica: ${made.error?.message}`);
    assert.ok(server.replicas.replica(41) !== undefined);
    fake.pendingCommands = [meta.NodeCommand.create({ type: meta.NodeCommandType.DESTROY_REPLICA, shardId: 41, peerId: 411 })];
    await waitFor('the joiner to be destroyed', 10_000, () => server.dynamic!.counts.destroyed === 1);
    assert.equal(server.replicas.replica(41), undefined);

    // A joiner that never joined (its add-learner failed) gives way to a later joiner of the
    // same shard the descriptor lists instead; one that the descriptor still lists does not.
    const orphan = common.ShardDescriptor.create({ ...joiner, id: 42, replicas: [common.Replica.create({ nodeId: 9, peerId: 420 }), common.Replica.create({ nodeId: me, peerId: 421 })] });
    assert.equal((await unaryAdmin(client.createReplica.bind(client), admin.CreateReplicaRequest.create({ shard: orphan, peerId: 421, bootstrap: false }))).error, undefined);
    const kept = await unaryAdmin(client.createReplica.bind(client), admin.CreateReplicaRequest.create({
      shard: { ...orphan, replicas: [...orphan.replicas, common.Replica.create({ nodeId: me, peerId: 423 })] }, peerId: 423, bootstrap: false,
    }));
    assert.equal(kept.error?.code, 'ALREADY_EXISTS', 'a joiner the descriptor lists is kept');
    const next = common.ShardDescriptor.create({ ...orphan, replicas: [common.Replica.create({ nodeId: 9, peerId: 420 }), common.Replica.create({ nodeId: me, peerId: 422 })] });
    const replaced = await unaryAdmin(client.createReplica.bind(client), admin.CreateReplicaRequest.create({ shard: next, peerId: 422, bootstrap: false }));
    assert.equal(replaced.error, undefined, `CreateReplica after an orphan: ${replaced.error?.message}`);
    assert.equal(server.replicas.replica(42)?.peerId, 422);
  } finally {
    client.close();
    await server.stop();
    fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an idle hibernating leader reports every shardHeartbeatIdleIntervals intervals unless the metaserver asks, node heartbeats keep the interval', async () => {
  const intervalMs = 100;
  const fake = await new FakeMeta({ heartbeatIntervalMs: intervalMs }).start();
  fake.tables.set(5, meta.TableInfo.create({ id: 5, name: 't5', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE }) }));
  const dir = mkdtempSync(join(tmpdir(), 'shoal-dyn-'));
  const port = await freePort();
  const server = await NodeServer.start(configFor(dir, port, [fake.address], { shardHeartbeatIdleIntervals: 10 }), { logger: silentLogger });
  const client = new admin.NodeAdminClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const desc = common.ShardDescriptor.create({
      id: 50, tableId: 5, startKey: tableStart(tableId(5)), endKey: tableEnd(tableId(5)), epoch: common.Epoch.create({ confVer: 1, version: 1 }),
      replicas: [common.Replica.create({ nodeId: server.nodeId, peerId: 501 })], partition: common.Partition.RANGE,
    });
    const res = await unaryAdmin(client.createReplica.bind(client), admin.CreateReplicaRequest.create({ shard: desc, peerId: 501, bootstrap: true }));
    assert.equal(res.error, undefined);
    const r = await waitFor('the leader to hibernate', 20_000, () => {
      const x = server.replicas.replica(50);
      return x !== undefined && x.isLeader && x.asleep && x;
    });
    // Let one report of the sleeping leader be acknowledged, then count over a window of 20 intervals.
    const acked = fake.shardHeartbeats.length;
    await waitFor('a report after falling asleep', 5000, () => fake.shardHeartbeats.length > acked);
    const shardBefore = fake.shardHeartbeats.length;
    const nodeBefore = fake.nodeHeartbeats.length;
    const windowEndMs = Date.now() + 20 * intervalMs;
    await waitFor('the window to pass', 10_000, () => Date.now() >= windowEndMs);
    assert.ok(r.asleep, 'still idle');
    const shardReports = fake.shardHeartbeats.length - shardBefore;
    const nodeReports = fake.nodeHeartbeats.length - nodeBefore;
    // Awake it would be ~20; thinned it is ~2. Node heartbeats are never thinned.
    assert.ok(shardReports <= 5, `idle shard reported ${shardReports} times in 20 intervals`);
    assert.ok(nodeReports >= 8, `node reported ${nodeReports} times in 20 intervals`);

    // The metaserver asks for the shard in node heartbeat replies (an operator waits on it):
    // it reports with each, though still idle. Shards it does not lead are not reported.
    fake.reportShardIds = [50, 51];
    const askedBefore = fake.shardHeartbeats.length;
    const askedEndMs = Date.now() + 20 * intervalMs;
    await waitFor('the asked window to pass', 10_000, () => Date.now() >= askedEndMs);
    fake.reportShardIds = [];
    const asked = fake.shardHeartbeats.slice(askedBefore);
    assert.ok(asked.length >= 8, `asked-for shard reported ${asked.length} times in 20 intervals`);
    assert.ok(asked.every((h) => h.req.shard?.id === 50));
  } finally {
    client.close();
    await server.stop();
    fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
