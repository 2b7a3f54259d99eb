// Goal: the product path end to end — `shoal proxy` over a REAL metaserver (routes, table
// `default` created through CreateTable: hash, 8 shards × 3 replicas) and three storage
// nodes, driven by ioredis: keys on every shard, MGET gathered across shards, a full SCAN,
// and after kill -9 of one node (the leader of some shards) every acknowledged write is
// still read back and new writes succeed once leaders moved.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '@shoal/cli';
import { Redis } from 'ioredis';
import { waitUntil } from './harness.js';

let cluster: LocalCluster;
let r: Redis;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-proxy-real-'));
  // A random port block: LocalCluster refuses (and we retry) if any port of it is taken.
  for (let attempt = 0; ; attempt++) {
    const basePort = 12_000 + Math.floor(Math.random() * 36) * 1000 + 100;
    cluster = new LocalCluster({
      dataDir: join(dir, String(attempt)), nodes: 3, metaservers: 1, basePort, readyTimeoutMs: 90_000,
      nodeConfig: { raftTickIntervalMs: 50, raftElectionTimeoutTicks: 10, raftHeartbeatIntervalTicks: 2 },
      onUnexpectedExit: () => undefined,
    });
    try {
      await cluster.start();
      break;
    } catch (e) {
      await cluster.stop().catch(() => undefined);
      if (attempt >= 2 || !/port|in use|EADDRINUSE/i.test(String(e))) throw e;
    }
  }
  assert.equal(cluster.proxySkipped, undefined, 'the proxy runs');
  r = new Redis({ port: cluster.ports.proxyResp, host: '127.0.0.1', maxRetriesPerRequest: 0 });
});

after(async () => {
  r?.disconnect();
  await cluster?.stop();
  if (process.env['KEEP_CLUSTER'] === undefined) rmSync(dir, { recursive: true, force: true });
});

const KEYS = Array.from({ length: 200 }, (_, i) => `real:${i}`);

test('writes over every shard; MGET gathers across shards; SCAN sees every key', async () => {
  await waitUntil('the proxy serves the default table', 30_000, async () => (await r.set('probe', '1')) === 'OK');
  const p = r.pipeline();
  for (const k of KEYS) p.set(k, `v:${k}`);
  const res = await p.exec();
  assert.ok(res !== null && res.every(([e, v]) => e === null && v === 'OK'));
  assert.deepEqual(await r.mget(...KEYS), KEYS.map((k) => `v:${k}`));
  const seen = new Set<string>();
  let cursor = '0';
  do {
    const [next, page] = await r.scan(cursor, 'MATCH', 'real:*', 'COUNT', 50);
    for (const k of page) seen.add(k);
    cursor = next;
  } while (cursor !== '0');
  assert.equal(seen.size, KEYS.length);
  const info = await r.info('cluster');
  assert.match(info, /^shoal_shards:8\r?$/m);
});

test('kill -9 of a node: acknowledged writes are read back, new writes succeed', async () => {
  await cluster.kill('node1', 'SIGKILL');
  const got = await waitUntil('reads after the kill', 60_000, async () => {
    try {
      return await r.mget(...KEYS);
    } catch {
      return undefined;
    }
  });
  assert.deepEqual(got, KEYS.map((k) => `v:${k}`));
  await waitUntil('writes on every shard after the kill', 60_000, async () => {
    try {
      const p = r.pipeline();
      for (const k of KEYS) p.incr(`${k}:n`);
      const res = await p.exec();
      return res !== null && res.every(([e]) => e === null);
    } catch {
      return false;
    }
  });
  assert.equal(await r.dbsize(), 1 + KEYS.length * 2);
});
