// Goal: real storage-node processes in dynamic mode, driven over loopback gRPC by a fake
// metaserver in the test process (the real one's RegisterNode/heartbeat handlers are
// being written at the same time): three nodes with no nodeId register and get ids,
// learn each other's addresses from GetNodes and a table's options from GetTable when
// the "metaserver" creates a shard's replicas, report the shard's leader, carry out a
// transfer_leader operator (the new leader reports promptly), and after kill -9 a node
// re-registers with its saved id and recovers its replica with the data intact. Then the
// same against a real metaserver process: CreateTable, kill -9 and restart, a split.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, Metadata } from '@grpc/grpc-js';
import { descriptorOf, FakeMeta, IDENTITY_FILE } from '@shoal/node';
import { admin, kv, meta } from '@shoal/proto';
import { CLI, FAST_RAFT, freePorts, ROOT, waitUntil } from './harness.js';

const INTERVAL_MS = 3000;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Proc {
  readonly index: number;
  readonly address: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | null;
}

function tail(p: Proc): string {
  try {
    return readFileSync(join(p.dataDir, 'stdout.log'), 'utf8').trimEnd().split('\n').slice(-30).join('\n');
  } catch {
    return '(no output)';
  }
}

async function startProc(p: Proc): Promise<void> {
  const out = openSync(join(p.dataDir, 'stdout.log'), 'a');
  const child = spawn(process.execPath, [CLI, 'node', '--config', p.configFile], { cwd: ROOT, stdio: ['ignore', out, out] });
  closeSync(out);
  p.child = child;
  await waitUntil(`node ${p.index} healthy`, 30_000, async () => {
    if (child.exitCode !== null) throw new Error(`node ${p.index} exited with ${child.exitCode}:\n${tail(p)}`);
    const res = await fetch(`http://127.0.0.1:${p.httpPort}/healthz`).catch(() => undefined);
    return res?.ok === true;
  });
}

async function kill9(p: Proc): Promise<void> {
  const child = p.child;
  if (child === null || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  p.child = null;
}

function call<Req, Res>(
  fn: (req: Req, md: Metadata, o: { deadline: number }, cb: (e: Error | null, r: Res) => void) => unknown, req: Req, timeoutMs = 10_000,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e === null ? resolve(r) : reject(e))));
}

/** Config files and data dirs of `n` dynamic-mode nodes under `dir`. */
function nodeProcs(dir: string, ports: readonly number[], metaservers: readonly string[], extra: Record<string, unknown>): Proc[] {
  return ports.slice(0, ports.length / 2).map((_, i) => {
    const dataDir = join(dir, `node${i}`);
    mkdirSync(dataDir, { recursive: true });
    const p: Proc = { index: i, address: `127.0.0.1:${ports[i * 2]!}`, httpPort: ports[i * 2 + 1]!, dataDir, configFile: join(dir, `node${i}.json`), child: null };
    writeFileSync(p.configFile, JSON.stringify({
      dataDir, listen: p.address, httpListen: `127.0.0.1:${p.httpPort}`, metaservers, zone: `z${i}`, ...FAST_RAFT, ...extra,
    }));
    return p;
  });
}

test('nodes driven by a metaserver: register, create, report, transfer, restart', { timeout: 180_000 }, async () => {
  const fake = await new FakeMeta({ heartbeatIntervalMs: INTERVAL_MS }).start();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-dyn-cluster-'));
  const ports = await freePorts(6);
  // Idle (hibernating) leaders report every 2 intervals instead of 10: the operator below is handed out sooner.
  const procs = nodeProcs(dir, ports, [fake.address], { shardHeartbeatIdleIntervals: 2 });
  const clients = new Map<string, { kv: kv.KvClient; admin: admin.NodeAdminClient }>();
  const clientOf = (address: string) => {
    let c = clients.get(address);
    if (c === undefined) {
      c = { kv: new kv.KvClient(address, credentials.createInsecure()), admin: new admin.NodeAdminClient(address, credentials.createInsecure()) };
      clients.set(address, c);
    }
    return c;
  };
  try {
    await Promise.all(procs.map(startProc));
    // Each registered with node id 0 and got its own id, saved in its data dir.
    assert.equal(fake.registrations.length, 3);
    const idOf = new Map(fake.registrations.map((r) => [r.address, [...fake.nodes.values()].find((n) => n.address === r.address)!.id]));
    assert.deepEqual([...idOf.values()].sort(), [1, 2, 3]);
    for (const p of procs) {
      assert.deepEqual(JSON.parse(readFileSync(join(p.dataDir, IDENTITY_FILE), 'utf8')), { clusterId: 77, nodeId: idOf.get(p.address) });
    }

    // Play the metaserver: a hash table known only to it, one shard on all three nodes.
    fake.tables.set(1, meta.TableInfo.create({ id: 1, name: 't1', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, replicaCount: 3 }) }));
    const nodeIds = procs.map((p) => idOf.get(p.address)!);
    const shard = descriptorOf({ id: 10, tableId: 1, replicas: nodeIds.map((n) => ({ nodeId: n, peerId: 100 + n, role: 'voter' as const })) },
      { id: 1, name: 't1', partition: 'hash', defaultTtlMs: 0 });
    for (const p of procs) {
      const res = await call(clientOf(p.address).admin.createReplica.bind(clientOf(p.address).admin),
        admin.CreateReplicaRequest.create({ shard, peerId: 100 + idOf.get(p.address)!, bootstrap: true }));
      assert.equal(res.error, undefined, `CreateReplica on ${p.address}: ${res.error?.message}`);
    }
    const first = await waitUntil('a leader of shard 10 to report', 30_000, () => fake.shardHeartbeats.find((h) => h.req.shard?.id === 10)?.req);
    const leaderNode = first.nodeId;
    assert.equal(first.shard!.leaderPeerId, 100 + leaderNode);
    assert.equal(first.progress.length, 3, 'progress of all three replicas');
    const leaderAddr = fake.nodes.get(leaderNode)!.address;

    // A write through the leader.
    const header = kv.RequestHeader.create({ tableId: 1, shardId: 10, epoch: shard.epoch, timeoutMs: 5000 });
    const put = await call(clientOf(leaderAddr).kv.put.bind(clientOf(leaderAddr).kv), kv.PutRequest.create({ header, key: enc('k1'), value: enc('v1') }));
    assert.equal(put.error, undefined, `put: ${put.error?.message}`);

    // Node heartbeats count the replicas.
    await waitUntil('node heartbeats with one replica each', 20_000, () => nodeIds.every((n) =>
      fake.nodeHeartbeats.some((h) => h.req.nodeId === n && h.req.stats?.replicaCount === 1)));

    // transfer_leader, handed out in the reply to the leader's next report.
    const target = nodeIds.find((n) => n !== leaderNode)!;
    let handedAtMs = 0;
    fake.operatorFor = (req) => {
      if (req.shard?.id !== 10 || req.nodeId !== leaderNode || handedAtMs !== 0) return undefined;
      handedAtMs = Date.now();
      return meta.Operator.create({
        id: 5001, shardId: 10, epoch: shard.epoch, timeoutMs: 10_000, reason: 'test',
        kind: { $case: 'transferLeader', transferLeader: meta.TransferLeaderOp.create({ toPeerId: 100 + target }) },
      });
    };
    const moved = await waitUntil('the new leader to report', 3 * INTERVAL_MS + 20_000, () => fake.shardHeartbeats.find(
      (h) => h.req.shard?.id === 10 && h.req.nodeId === target && handedAtMs !== 0 && h.atMs >= handedAtMs));
    assert.equal(moved.req.shard!.leaderPeerId, 100 + target);
    assert.ok(moved.atMs - handedAtMs < INTERVAL_MS, `the new leader reported ${moved.atMs - handedAtMs} ms after the transfer, not an interval later`);

    // kill -9 the old leader's node and restart it: same identity, replica recovered.
    const old = procs.find((p) => idOf.get(p.address) === leaderNode)!;
    await kill9(old);
    const before = fake.registrations.length;
    await startProc(old);
    const again = fake.registrations.slice(before).find((r) => r.address === old.address);
    assert.ok(again !== undefined, 'the restarted node registered again');
    assert.equal(again.nodeId, leaderNode);
    assert.equal(again.clusterId, 77);
    assert.ok(existsSync(join(old.dataDir, IDENTITY_FILE)));
    const st = await call(clientOf(old.address).admin.getShardStatus.bind(clientOf(old.address).admin), admin.GetShardStatusRequest.create({ shardIds: [10] }));
    assert.equal(st.shards.length, 1, 'the replica came back from its data dir');

    // The data is intact, read through the current leader.
    const targetAddr = fake.nodes.get(target)!.address;
    const got = await waitUntil('k1 readable at the new leader', 20_000, async () => {
      const r = await call(clientOf(targetAddr).kv.get.bind(clientOf(targetAddr).kv), kv.GetRequest.create({ header, key: enc('k1') }));
      return r.error === undefined ? r : undefined;
    });
    assert.deepEqual(got.value, enc('v1'));
    assert.equal(got.found, true);
  } finally {
    for (const c of clients.values()) {
      c.kv.close();
      c.admin.close();
    }
    await Promise.all(procs.map(kill9));
    fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with a real metaserver: nodes register, CreateTable places and elects, kill -9 and restart keeps the node id, a split runs', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-dyn-real-'));
  const ports = await freePorts(8);
  const msDir = join(dir, 'meta1');
  mkdirSync(msDir, { recursive: true });
  const msAddress = `127.0.0.1:${ports[6]!}`;
  const ms: Proc = { index: 9, address: msAddress, httpPort: ports[7]!, dataDir: msDir, configFile: join(dir, 'meta1.json'), child: null };
  writeFileSync(ms.configFile, JSON.stringify({
    id: 1, dataDir: msDir, listen: msAddress, httpListen: `127.0.0.1:${ms.httpPort}`, members: [`1=${msAddress}`],
    nodeHeartbeatIntervalMs: '300ms', nodeSuspectAfterMs: '10s', nodeDownAfterMs: '60s', raftTickIntervalMs: 50,
  }));
  const procs = nodeProcs(dir, ports.slice(0, 6), [msAddress], {});
  const adminClient = new admin.AdminClient(msAddress, credentials.createInsecure());
  const metaClient = new meta.MetaClient(msAddress, credentials.createInsecure());
  const kvClients = new Map<string, kv.KvClient>();
  const kvOf = (a: string): kv.KvClient => {
    let c = kvClients.get(a);
    if (c === undefined) kvClients.set(a, c = new kv.KvClient(a, credentials.createInsecure()));
    return c;
  };
  try {
    // The metaserver's /healthz may say unhealthy until it elected itself; the nodes retry registering meanwhile.
    const msOut = openSync(join(msDir, 'stdout.log'), 'a');
    ms.child = spawn(process.execPath, [CLI, 'metaserver', '--config', ms.configFile], { cwd: ROOT, stdio: ['ignore', msOut, msOut] });
    closeSync(msOut);
    await Promise.all(procs.map(startProc));
    const listNodes = () => call(adminClient.listNodes.bind(adminClient), admin.ListNodesRequest.create());
    const registered = await waitUntil('three nodes up', 30_000, async () => {
      const r = await listNodes();
      return r.nodes.length === 3 && r.nodes.every((n) => n.state === meta.NodeState.UP) ? r.nodes : undefined;
    });
    const idByAddress = new Map(registered.map((n) => [n.address, n.id]));
    for (const p of procs) {
      assert.equal(JSON.parse(readFileSync(join(p.dataDir, IDENTITY_FILE), 'utf8')).nodeId, idByAddress.get(p.address));
    }

    const created = await call(adminClient.createTable.bind(adminClient), admin.CreateTableRequest.create({
      name: 'dyn', pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 2, replicaCount: 3 }),
    }), 60_000);
    assert.equal(created.error, undefined, `CreateTable: ${created.error?.message}`);
    const routes = await call(metaClient.getRoutes.bind(metaClient), meta.GetRoutesRequest.create({ tableName: 'dyn' }));
    assert.equal(routes.shards.length, 2);
    for (const r of routes.shards) {
      assert.notEqual(r.leaderAddress, '', `shard ${r.shard?.id} has a leader`);
      assert.equal(new Set(r.shard!.replicas.map((x) => x.nodeId)).size, 3, 'three replicas on three nodes');
    }

    // Write one key through whichever shard owns it (the other answers KEY_NOT_IN_SHARD).
    const tableId = routes.table!.id;
    const put = async (): Promise<{ header: kv.RequestHeader; leader: string } | undefined> => {
      for (const r of routes.shards) {
        const header = kv.RequestHeader.create({ tableId, shardId: r.shard!.id, epoch: r.shard!.epoch, timeoutMs: 5000 });
        const res = await call(kvOf(r.leaderAddress).put.bind(kvOf(r.leaderAddress)), kv.PutRequest.create({ header, key: enc('k1'), value: enc('v1') }));
        if (res.error === undefined) return { header, leader: r.leaderAddress };
      }
      return undefined;
    };
    const owner = await waitUntil('k1 written', 20_000, put);

    await waitUntil('node heartbeats count two replicas per node', 20_000, async () => (await listNodes()).nodes.every((n) => n.stats?.replicaCount === 2));

    // kill -9 a node that is not the key's leader, restart it: same id, no fourth node.
    const victim = procs.find((p) => p.address !== owner.leader)!;
    await kill9(victim);
    await startProc(victim);
    await waitUntil('the restarted node up again with its id', 30_000, async () => {
      const r = await listNodes();
      const n = r.nodes.find((x) => x.address === victim.address);
      return r.nodes.length === 3 && n !== undefined && n.id === idByAddress.get(victim.address) && n.state === meta.NodeState.UP;
    });
    // A split operator runs on the owner's leader: three shards, the key still readable.
    const split = await call(adminClient.splitShard.bind(adminClient), admin.SplitShardRequest.create({ shardId: owner.header.shardId }));
    assert.equal(split.error, undefined, `SplitShard: ${split.error?.message}`);
    await waitUntil('three shards', 30_000, async () =>
      (await call(metaClient.getRoutes.bind(metaClient), meta.GetRoutesRequest.create({ tableName: 'dyn' }))).shards.length >= 3);
    const got = await waitUntil('k1 readable', 30_000, async () => {
      const fresh = await call(metaClient.getRoutes.bind(metaClient), meta.GetRoutesRequest.create({ tableName: 'dyn' }));
      for (const r of fresh.shards) {
        if (r.leaderAddress === '') continue;
        const header = kv.RequestHeader.create({ tableId, shardId: r.shard!.id, epoch: r.shard!.epoch, timeoutMs: 5000 });
        const res = await call(kvOf(r.leaderAddress).get.bind(kvOf(r.leaderAddress)), kv.GetRequest.create({ header, key: enc('k1') }));
        if (res.error === undefined) return res;
      }
      return undefined;
    });
    assert.deepEqual(got.value, enc('v1'));
  } catch (e) {
    throw new Error(`${String(e)}\n--- metaserver ---\n${tail(ms)}\n--- node0 ---\n${tail(procs[0]!)}`, { cause: e });
  } finally {
    adminClient.close();
    metaClient.close();
    for (const c of kvClients.values()) c.close();
    await Promise.all([...procs, ms].map(kill9));
    rmSync(dir, { recursive: true, force: true });
  }
});
