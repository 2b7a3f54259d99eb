// Goal: a node process's wiring — gRPC and HTTP come up from a config, /healthz and
// /metrics answer, a WAL fsync failure is fatal (health goes 503, `fatal` resolves with
// DISK_FAILURE), and stop() shuts everything down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { isKvError } from '@shoal/common';
import { kv } from '@shoal/proto';
import { nodeConfigSchema } from './config.js';
import { silentLogger } from './raft/testing/mem-cluster.js';
import { NodeServer } from './server.js';

function put(client: kv.KvClient, key: string): Promise<kv.PutResponse> {
  const req = kv.PutRequest.create({
    header: kv.RequestHeader.create({ tableId: 1, shardId: 1, epoch: { confVer: 1, version: 1 }, timeoutMs: 2000 }),
    key: new TextEncoder().encode(key), value: new TextEncoder().encode('v'),
  });
  return new Promise((resolve, reject) => client.put(req, new Metadata(), { deadline: Date.now() + 5000 }, (e, r) => (e === null ? resolve(r) : reject(e))));
}

test('serves a single-replica shard, reports health and metrics, and stops on a WAL fsync failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-server-'));
  let failFsync = false;
  const config = nodeConfigSchema.parse({
    nodeId: 1, dataDir: dir, listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', raftTickIntervalMs: 20,
    nodes: [{ nodeId: 1, address: '127.0.0.1:1' }],
    tables: [{ id: 1, name: 't' }],
    shards: [{ id: 1, tableId: 1, replicas: [{ nodeId: 1, peerId: 11 }] }],
  });
  const server = await NodeServer.start(config, { logger: silentLogger, failpoints: { wal: { fsyncError: () => failFsync } } });
  const client = new kv.KvClient(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  try {
    const base = `http://127.0.0.1:${server.httpPort}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    let res: kv.PutResponse | undefined;
    for (let i = 0; i < 100 && (res === undefined || res.error !== undefined); i++) {
      res = await put(client, 'a');
      if (res.error !== undefined) await new Promise((r) => setTimeout(r, 20)); // the single voter elects itself
    }
    assert.equal(res?.error, undefined);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^shoal_raft_log_fsyncs_total\{process="node"\} [1-9]/m);
    assert.match(metrics, /^shoal_replicas_leading\{process="node"\} 1$/m);

    failFsync = true;
    const failed = await put(client, 'b');
    assert.ok(failed.error !== undefined, 'the write is not acknowledged');
    const fatal = await server.fatal;
    assert.ok(isKvError(fatal, 'DISK_FAILURE'), String(fatal));
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
