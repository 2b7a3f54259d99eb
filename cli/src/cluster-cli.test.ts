// Runs the `shoal` admin commands against a real local cluster (3 metaservers, 3 storage
// nodes as separate processes on loopback, started by LocalCluster): status through a
// follower (leader hints), table create/describe/drop, an admin split and leader transfer
// followed to completion, a node killed behind the cluster's back (reported with its log)
// and restarted with its identity, commands failing over when the metaserver leader is
// killed, and a clean stop.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clusterPorts, LocalCluster } from './local-cluster.js';
import type { UnexpectedExit } from './local-cluster.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const WAIT_MS = 60_000;

/** True if every port can be bound on loopback right now. */
async function portsFree(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * A base port whose whole layout (clusterPorts) is free: random below the kernel's ephemeral
 * range (32768+) so outgoing connections do not take them, checked by binding each.
 */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 1100);
    const p = clusterPorts(base);
    const ports = [0, 1, 2].flatMap((i) => [p.metaGrpc + i, p.nodeGrpc + i, p.metaHttp + i, p.nodeHttp + i]);
    if (await portsFree(ports)) return base;
  }
  throw new Error('no free port range found in 50 attempts');
}

const dataDir = mkdtempSync(join(tmpdir(), 'shoal-cli-cluster-'));
const unexpected: UnexpectedExit[] = [];
const cluster = new LocalCluster({
  dataDir, basePort: await freeBasePort(), metaservers: 3, nodes: 3, proxy: false, readyTimeoutMs: 120_000,
  onUnexpectedExit: (e) => unexpected.push(e),
});

interface Run { readonly status: number; readonly stdout: string; readonly stderr: string }

/** Runs the `shoal` binary asynchronously (the cluster's exit handlers keep running meanwhile). */
function shoal(...args: string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SHOAL_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ status, stdout, stderr });
    });
  });
}

async function shoalJson<T>(meta: string, ...args: string[]): Promise<T> {
  const r = await shoal(...args, '--json', '--meta', meta, '--timeout', '20s');
  assert.equal(r.status, 0, `shoal ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface JsonShards { shards: { shard: { id: number; epoch: { version: number }; replicas: { nodeId: number; peerId: number }[]; leaderPeerId: number } }[] }
interface JsonOperator { operator: { id: number }; status?: { state: number } }
interface JsonNode { id: number; address: string; state: number }
const SUCCEEDED = 2;
const UP = 1;

let meta = '';

before(async () => {
  await cluster.start();
  const leader = await cluster.metaLeader();
  // Followers first: every command must follow NOT_LEADER hints to reach the leader.
  meta = [...cluster.metaAddresses().filter((a) => a !== leader.address), leader.address].join(',');
});

after(async () => {
  await cluster.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('cluster status through a follower shows the leader, three nodes up and the default table', async () => {
  const v = await shoalJson<{ status: { metaservers: { leaderId: number }; nodesByState: Record<string, number> }; tables: { id: number; name: string }[]; shardCounts: Record<string, number> }>(meta, 'cluster', 'status');
  assert.equal(v.status.metaservers.leaderId, (await cluster.metaLeader()).id);
  assert.equal(v.status.nodesByState[String(UP)], 3);
  const table = v.tables.find((t) => t.name === 'default');
  assert.ok(table !== undefined, 'table default was created by start()');
  assert.ok((v.shardCounts[String(table.id)] ?? 0) > 0);
  const text = await shoal('cluster', 'status', '--meta', meta);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^cluster \d+: (healthy|degraded); term \d+, leader metaserver \d/);
});

test('table create, split and leader transfer run to completion; drop removes the table', async () => {
  const created = await shoalJson<{ name: string }>(meta, 'table', 'create', 't1', '--shards', '2', '--replicas', '3');
  assert.equal(created.name, 't1');
  const before = await shoalJson<JsonShards>(meta, 'table', 'describe', 't1');
  assert.equal(before.shards.length, 2);
  const shard = before.shards[0]!.shard;

  const split = await shoalJson<{ operatorId: number }>(meta, 'shard', 'split', String(shard.id));
  await until(`split operator ${split.operatorId}`, async () => {
    const ops = await shoalJson<JsonOperator[]>(meta, 'operator', 'list', '--all', '--shard', String(shard.id));
    return ops.find((o) => o.operator.id === split.operatorId)?.status?.state === SUCCEEDED ? true : undefined;
  });
  // The split bumps the shard's epoch version and adds a shard; the scheduler may then split
  // the table's other hash shard too (hash tables double), so at least three.
  const afterSplit = await until('the split visible in the routes', async () => {
    const r = (await shoalJson<JsonShards[]>(meta, 'shard', 'list', 't1'))[0]!;
    const left = r.shards.find((x) => x.shard.id === shard.id)?.shard;
    return left !== undefined && left.epoch.version > shard.epoch.version && r.shards.length >= 3 ? r : undefined;
  });

  const s = afterSplit.shards.find((x) => x.shard.id === shard.id)!.shard;
  const target = s.replicas.find((r) => r.peerId !== s.leaderPeerId)!;
  await until(`leader of shard ${s.id} on node ${target.nodeId}`, async () => {
    // Balancing may also move leaders, so the transfer is retried until it sticks.
    const now = (await shoalJson<JsonShards>(meta, 'table', 'describe', 't1')).shards.find((x) => x.shard.id === s.id)!.shard;
    if (now.leaderPeerId === target.peerId) return true;
    const r = await shoal('shard', 'transfer-leader', String(s.id), '--node', String(target.nodeId), '--meta', meta);
    assert.ok(r.status === 0 || /CONDITION_FAILED/.test(r.stderr), r.stderr);
    return undefined;
  });

  const refused = await shoal('table', 'drop', 't1', '--meta', meta);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /--yes/);
  await shoalJson(meta, 'table', 'drop', 't1', '--yes');
  const tables = await shoalJson<{ name: string }[]>(meta, 'table', 'list');
  assert.deepEqual(tables.map((t) => t.name).filter((n) => n === 't1'), []);
});

test('a node killed behind the cluster\'s back is reported with its log and comes back with its id', async () => {
  const nodesBefore = await shoalJson<JsonNode[]>(meta, 'node', 'list');
  const p = cluster.process('node3');
  const idBefore = nodesBefore.find((n) => n.address === p.address)!.id;
  process.kill(p.child!.pid!, 'SIGKILL');
  const report = await until('the unexpected exit report', async () => unexpected.find((e) => e.process.name === 'node3'));
  assert.equal(report.signal, 'SIGKILL');
  assert.match(report.logTail, /"process":"node"/);
  await cluster.restart('node3');
  await until('node3 up again', async () => {
    const nodes = await shoalJson<JsonNode[]>(meta, 'node', 'list');
    const n = nodes.find((x) => x.address === p.address);
    return n?.state === UP && n.id === idBefore && nodes.length === nodesBefore.length ? true : undefined;
  });
});

test('with the metaserver leader killed, commands fail over to the new leader', async () => {
  const leader = await cluster.metaLeader();
  await cluster.kill(`meta${leader.id}`, 'SIGKILL');
  // The dead leader is listed first: the command must skip it and find the new leader.
  const order = [leader.address, ...cluster.metaAddresses().filter((a) => a !== leader.address)].join(',');
  const nodes = await shoalJson<JsonNode[]>(order, 'node', 'list');
  assert.equal(nodes.length, 3);
  assert.notEqual((await cluster.metaLeader()).id, leader.id);
  await cluster.restart(`meta${leader.id}`);
});

test('stop ends every process by SIGTERM with exit code 0', async () => {
  await cluster.stop();
  for (const p of cluster.processes()) {
    assert.deepEqual(p.exit, { code: 0, signal: null }, `${p.name} did not stop cleanly; see ${p.logFile}`);
  }
  assert.deepEqual(unexpected.map((e) => e.process.name), ['node3']);
});
