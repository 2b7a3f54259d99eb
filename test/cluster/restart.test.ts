// Goal: issue 6's "running it again finds the data still there": a LocalCluster (metaserver,
// 3 storage nodes, RESP proxy, table `default`) written through the SDK and through the
// proxy keeps every acknowledged key, its node ids and its `default` table (not recreated)
// across (1) a clean stop() and a NEW LocalCluster on the same data dir, and (2) SIGKILL of
// every process at once and a new LocalCluster again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalCluster } from '@shoal/cli';
import type { UnexpectedExit } from '@shoal/cli';
import { Shoal } from '@shoal/client-sdk';
import { admin, meta } from '@shoal/proto';
import { Redis } from 'ioredis';
import { FAST_RAFT } from './harness.js';

const BASE_PORT_MIN = 11_000;
const BASE_PORT_MAX = 30_000;
const KEYS = 60;

const dir = mkdtempSync(join(tmpdir(), 'shoal-restart-'));
const dataDir = join(dir, 'data');
const basePort = BASE_PORT_MIN + Math.floor(Math.random() * (BASE_PORT_MAX - BASE_PORT_MIN));
const unexpected: UnexpectedExit[] = [];
let current: LocalCluster | undefined;
let failed = false;

/** A LocalCluster over the one data dir and port layout of this file (a restart must reuse both). */
async function startCluster(): Promise<LocalCluster> {
  const lc = new LocalCluster({
    dataDir, nodes: 3, metaservers: 1, zones: 3, basePort, proxy: true, defaultTable: true,
    readyTimeoutMs: 60_000, stopTimeoutMs: 10_000, requestTimeoutMs: 10_000,
    metaserverConfig: { nodeHeartbeatIntervalMs: 300, raftTickIntervalMs: 50, logLevel: 'info' },
    nodeConfig: { ...FAST_RAFT }, onUnexpectedExit: (e) => unexpected.push(e),
  });
  current = lc;
  await lc.start();
  return lc;
}

after(async () => {
  await current?.stop().catch(() => undefined);
  if (failed || process.env.SHOAL_KEEP_DATA === '1') console.log(`# cluster data and logs kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

interface Snapshot {
  readonly nodes: Map<string, number>;
  readonly defaultTableId: number;
}

async function snapshot(lc: LocalCluster): Promise<Snapshot> {
  const nodes = (await lc.adminClient().admin('listNodes', admin.ListNodesRequest.create())).nodes;
  const table = await lc.adminClient().meta('getTable', meta.GetTableRequest.create({ name: 'default' }));
  return { nodes: new Map(nodes.map((n) => [n.address, n.id])), defaultTableId: table.table!.id };
}

function redisOn(lc: LocalCluster): Redis {
  const [host, port] = lc.process('proxy').address.split(':');
  return new Redis({ host, port: Number(port), maxRetriesPerRequest: 3, lazyConnect: true });
}

/** Writes KEYS keys through the SDK and KEYS through the proxy, all under `tag`. */
async function write(lc: LocalCluster, tag: string): Promise<void> {
  const db = await Shoal.connect({ metaservers: lc.metaAddresses(), timeoutMs: 10_000 });
  const r = redisOn(lc);
  try {
    const t = db.table('default');
    for (let i = 0; i < KEYS; i++) await t.put(`sdk-${tag}-${i}`, `v${i}`);
    await r.connect();
    for (let i = 0; i < KEYS; i++) assert.equal(await r.set(`redis-${tag}-${i}`, `w${i}`), 'OK');
  } finally {
    r.disconnect();
    await db.close();
  }
}

/** Every key of every tag is readable through both the SDK and the proxy. */
async function assertData(lc: LocalCluster, tags: readonly string[]): Promise<void> {
  const db = await Shoal.connect({ metaservers: lc.metaAddresses(), timeoutMs: 10_000 });
  const r = redisOn(lc);
  try {
    await r.connect();
    for (const tag of tags) {
      const sdkKeys = Array.from({ length: KEYS }, (_, i) => `sdk-${tag}-${i}`);
      const redisKeys = Array.from({ length: KEYS }, (_, i) => `redis-${tag}-${i}`);
      assert.deepEqual(await db.table('default').getMany(sdkKeys, { valueEncoding: 'utf8' }), sdkKeys.map((_, i) => `v${i}`), `SDK keys of ${tag} via SDK`);
      assert.deepEqual(await db.table('default').getMany(redisKeys, { valueEncoding: 'utf8' }), redisKeys.map((_, i) => `w${i}`), `proxy keys of ${tag} via SDK`);
      assert.deepEqual(await r.mget(...sdkKeys), sdkKeys.map((_, i) => `v${i}`), `SDK keys of ${tag} via the proxy`);
      assert.deepEqual(await r.mget(...redisKeys), redisKeys.map((_, i) => `w${i}`), `proxy keys of ${tag} via the proxy`);
    }
  } finally {
    r.disconnect();
    await db.close();
  }
}

function assertSame(a: Snapshot, b: Snapshot): void {
  assert.deepEqual([...b.nodes.entries()].sort(), [...a.nodes.entries()].sort(), 'node ids by address after restart');
  assert.equal(b.defaultTableId, a.defaultTableId, 'table default was recreated');
}

test('data, node ids and table default survive a clean stop and a kill -9 of every process', { timeout: 150_000 }, async () => {
  try {
    const first = await startCluster();
    assert.equal(first.proxySkipped, undefined, 'the proxy must run for this test');
    const snap = await snapshot(first);
    assert.equal(snap.nodes.size, 3);
    await write(first, 'a');
    await first.stop();

    const second = await startCluster();
    assertSame(snap, await snapshot(second));
    await assertData(second, ['a']);
    await write(second, 'b');
    // Not clean: every process at once, no flush or goodbye.
    await Promise.all(second.processes().filter((p) => p.child !== undefined).map((p) => second.kill(p.name, 'SIGKILL')));
    await second.stop(); // nothing left to stop: closes its admin client

    const third = await startCluster();
    assertSame(snap, await snapshot(third));
    await assertData(third, ['a', 'b']);
    assert.deepEqual(unexpected.map((u) => `${u.process.name}: ${u.signal ?? u.code}\n${u.logTail}`), []);
  } catch (e) {
    failed = true;
    throw e;
  }
});
