// Goal: three real metaserver processes elect a leader, replicate an Admin write to every member, survive kill -9 of the leader and let the restarted member catch up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { admin, meta } from '@shoal/proto';
import { CLI, freePorts, ROOT, waitUntil } from './harness.js';

interface Member {
  readonly id: number;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | null;
  meta: meta.MetaClient;
  admin: admin.AdminClient;
}

const dir = mkdtempSync(join(tmpdir(), 'shoal-meta-'));
const members = new Map<number, Member>();

function call<Req, Res>(client: Client, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: Req, m: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => void>)[method]!;
    fn.call(client, req, new Metadata(), { deadline: Date.now() + 3000 }, (e, r) => (e === null ? resolve(r) : reject(e)));
  });
}

function tail(m: Member): string {
  try {
    return readFileSync(join(m.dataDir, 'stdout.log'), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

async function start(m: Member): Promise<void> {
  const out = openSync(join(m.dataDir, 'stdout.log'), 'a');
  const child = spawn(process.execPath, [CLI, 'metaserver', '--config', m.configFile], { cwd: ROOT, stdio: ['ignore', out, out] });
  closeSync(out);
  m.child = child;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  await waitUntil(`member ${m.id} serving HTTP`, 20_000, async () => {
    if (exited !== null) throw new Error(`member ${m.id} exited with ${exited}:\n${tail(m)}`);
    const res = await fetch(`http://127.0.0.1:${m.httpPort}/healthz`).catch(() => undefined);
    return res !== undefined;
  });
}

async function kill9(m: Member): Promise<void> {
  const child = m.child;
  if (child === null || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  m.child = null;
}

function clusterInfo(m: Member): Promise<meta.GetClusterInfoResponse> {
  return call(m.meta, 'getClusterInfo', meta.GetClusterInfoRequest.create({}));
}

/** The leader all running members agree on. */
async function agreedLeader(timeoutMs: number): Promise<Member> {
  return waitUntil('one leader agreed by the running members', timeoutMs, async () => {
    const running = [...members.values()].filter((m) => m.child !== null);
    const infos = await Promise.all(running.map(clusterInfo));
    const ids = new Set(infos.map((i) => i.leaderId));
    if (ids.size !== 1) return undefined;
    const id = infos[0]!.leaderId;
    const leader = members.get(id);
    return leader !== undefined && leader.child !== null ? leader : undefined;
  });
}

async function health(m: Member): Promise<{ commit: number; applied: number }> {
  const body = await (await fetch(`http://127.0.0.1:${m.httpPort}/healthz`)).text();
  const match = /commit (\d+) applied (\d+)/.exec(body);
  assert.ok(match !== null, body);
  return { commit: Number(match[1]), applied: Number(match[2]) };
}

before(async () => {
  const ports = await freePorts(6);
  const list = [1, 2, 3].map((id) => `${id}=127.0.0.1:${ports[id - 1]!}`);
  for (const id of [1, 2, 3]) {
    const dataDir = join(dir, `m${id}`);
    mkdirSync(dataDir, { recursive: true });
    const grpcPort = ports[id - 1]!;
    const httpPort = ports[id + 2]!;
    const configFile = join(dir, `m${id}.json`);
    writeFileSync(configFile, JSON.stringify({
      id, dataDir, listen: `127.0.0.1:${grpcPort}`, httpListen: `127.0.0.1:${httpPort}`, members: list,
      raftTickIntervalMs: 50, raftElectionTimeoutTicks: 10, raftHeartbeatIntervalTicks: 2, snapshotIntervalEntries: 4, logLevel: 'info',
    }, null, 2));
    const address = `127.0.0.1:${grpcPort}`;
    members.set(id, {
      id, grpcPort, httpPort, dataDir, configFile, child: null,
      meta: new meta.MetaClient(address, credentials.createInsecure()),
      admin: new admin.AdminClient(address, credentials.createInsecure()),
    });
  }
  await Promise.all([...members.values()].map(start));
});

after(async () => {
  for (const m of members.values()) {
    m.meta.close();
    m.admin.close();
    const child = m.child;
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('metaserver group: election, replicated admin writes, leader kill -9, catch-up after restart', async () => {
  const leader = await agreedLeader(15_000);
  // The first leader bootstraps the cluster id; every member applies it.
  const clusterId = await waitUntil('cluster id on every member', 10_000, async () => {
    const infos = await Promise.all([...members.values()].map(clusterInfo));
    const ids = new Set(infos.map((i) => i.clusterId));
    return ids.size === 1 && infos[0]!.clusterId !== 0 ? infos[0]!.clusterId : undefined;
  });

  // A follower refuses reads and writes with NOT_LEADER and the leader's address.
  const follower = [...members.values()].find((m) => m.id !== leader.id)!;
  const refused = await call<admin.CreatePoolRequest, admin.CreatePoolResponse>(follower.admin, 'createPool', admin.CreatePoolRequest.create({ name: 'nope' }));
  assert.equal(refused.error?.code, 'NOT_LEADER');
  assert.equal(refused.error?.leaderHint?.address, `127.0.0.1:${leader.grpcPort}`);
  const refusedRead = await call<meta.ListTablesRequest, meta.ListTablesResponse>(follower.meta, 'listTables', meta.ListTablesRequest.create({}));
  assert.equal(refusedRead.error?.code, 'NOT_LEADER');

  // Writes through the leader (more than snapshotIntervalEntries, so snapshots and compaction run).
  for (const name of ['pool-a', 'pool-b', 'pool-c']) {
    const res = await call<admin.CreatePoolRequest, admin.CreatePoolResponse>(leader.admin, 'createPool', admin.CreatePoolRequest.create({ name, description: `the ${name}` }));
    assert.equal(res.error, undefined, JSON.stringify(res.error));
  }
  const zone = await call<admin.CreateZoneRequest, admin.CreateZoneResponse>(leader.admin, 'createZone', admin.CreateZoneRequest.create({ pool: 'pool-a', name: 'z1' }));
  assert.equal(zone.error, undefined);
  const dup = await call<admin.CreatePoolRequest, admin.CreatePoolResponse>(leader.admin, 'createPool', admin.CreatePoolRequest.create({ name: 'pool-a' }));
  assert.equal(dup.error?.code, 'ALREADY_EXISTS');
  const pools = await call<admin.ListPoolsRequest, admin.ListPoolsResponse>(leader.admin, 'listPools', admin.ListPoolsRequest.create({}));
  assert.deepEqual(pools.pools.map((p) => p.name), ['pool-a', 'pool-b', 'pool-c']);
  const tables = await call<meta.ListTablesRequest, meta.ListTablesResponse>(leader.meta, 'listTables', meta.ListTablesRequest.create({}));
  assert.equal(tables.error, undefined);
  assert.deepEqual(tables.tables, []);
  const routes = await call<meta.GetRoutesRequest, meta.GetRoutesResponse>(leader.meta, 'getRoutes', meta.GetRoutesRequest.create({ tableName: 'missing' }));
  assert.equal(routes.error?.code, 'TABLE_NOT_FOUND');
  // Every member applied everything the leader committed.
  const { commit } = await health(leader);
  await waitUntil('every member applied the writes', 10_000, async () => {
    const hs = await Promise.all([...members.values()].map(health));
    return hs.every((h) => h.applied >= commit);
  });

  // kill -9 the leader: a new one is elected and still has the data.
  await kill9(leader);
  const next = await agreedLeader(10_000);
  assert.notEqual(next.id, leader.id);
  const after = await waitUntil('pools on the new leader', 10_000, async () => {
    const r = await call<admin.ListPoolsRequest, admin.ListPoolsResponse>(next.admin, 'listPools', admin.ListPoolsRequest.create({}));
    return r.error === undefined ? r : undefined;
  });
  assert.deepEqual(after.pools.map((p) => p.name), ['pool-a', 'pool-b', 'pool-c']);
  assert.deepEqual(after.zones.map((z) => `${z.pool}/${z.name}`), ['pool-a/z1']);
  const more = await call<admin.CreatePoolRequest, admin.CreatePoolResponse>(next.admin, 'createPool', admin.CreatePoolRequest.create({ name: 'pool-d' }));
  assert.equal(more.error, undefined);

  // Restart the killed member: it recovers from its WAL + snapshot and catches up.
  await start(leader);
  const target = (await health(next)).commit;
  await waitUntil('the restarted member caught up', 15_000, async () => (await health(leader)).applied >= target);
  const info = await clusterInfo(leader);
  assert.equal(info.clusterId, clusterId);
  assert.equal(info.leaderId, next.id);
});
