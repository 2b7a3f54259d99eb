// Goal: after a storage node was unreachable for a while (a restart), the metaserver's NodeAdmin calls reach it again within the capped reconnect backoff — not after grpc-js's default backoff that grows towards 120 s.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createLogger, nodeId } from '@shoal/common';
import { admin } from '@shoal/proto';
import type { MetaRaft } from './meta-raft.js';
import { NODE_RECONNECT_BACKOFF_MAX_MS, NodeDriver } from './node-driver.js';
import type { NodeAction } from './schedule/index.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function startNode(port: number): Promise<Server> {
  const server = new Server();
  server.addService(admin.NodeAdminService, {
    createReplica: (_call: unknown, cb: (e: null, r: admin.CreateReplicaResponse) => void) => cb(null, admin.CreateReplicaResponse.create({})),
  } as never);
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) => (e === null ? resolve(server) : reject(e)));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('NodeDriver channels', () => {
  it('reach a node that comes back within the capped reconnect backoff', async () => {
    const port = await freePort();
    const driver = new NodeDriver({} as MetaRaft, { timeoutMs: 300, concurrencyMax: 4, logger: createLogger({ name: 'node-driver-test', level: 'silent' }) });
    const action: NodeAction = {
      kind: 'create-replica', nodeId: nodeId(1), address: `127.0.0.1:${port}`,
      request: admin.CreateReplicaRequest.create({ peerId: 1, bootstrap: false }),
    };
    let server: Server | undefined;
    try {
      // Down for ~6 s of calls: grpc-js's default backoff (1 s × 1.6ⁿ) would next dial ~9 s in.
      const downUntil = Date.now() + 6_000;
      while (Date.now() < downUntil) {
        await assert.rejects(driver.run(action), /NodeAdmin: gRPC/);
        await sleep(200);
      }
      server = await startNode(port);
      const upAt = Date.now();
      const deadline = upAt + NODE_RECONNECT_BACKOFF_MAX_MS * 1.2 + 800;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        ok = await driver.run(action).then(() => true, () => false);
        if (!ok) await sleep(50);
      }
      assert.ok(ok, `node unreachable ${Date.now() - upAt} ms after it came back`);
    } finally {
      driver.close();
      server?.forceShutdown();
    }
  });
});
