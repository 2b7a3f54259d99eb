// Disk fault: a storage node whose WAL fdatasync fails (failpoint wal-fsync-error, set over
// its HTTP port) stops with exit code 1 and DISK_FAILURE in its log, since after a failed
// fsync nothing written since the last good one can be trusted (node/src/wal/log-writer.ts).
// Restarted without the failpoint it recovers, and no acknowledged write is lost: with
// another node killed, the restarted one is needed for every quorum; it then leads every
// shard, and every write acknowledged before, during and after its failure reads back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Shoal } from '@shoal/client-sdk';
import { LocalCluster } from '@shoal/cli';
import { admin as adminpb, meta } from '@shoal/proto';
import type { UnexpectedExit } from '@shoal/cli';
import { freeBasePort } from './ports.js';
import { CHAOS_NODE_CONFIG } from './runner.js';

const WAIT_MS = 60_000;
const dataDir = mkdtempSync(join(tmpdir(), 'shoal-disk-fault-'));
const unexpected: UnexpectedExit[] = [];
const cluster = new LocalCluster({
  dataDir, basePort: await freeBasePort(), metaservers: 1, nodes: 3, proxy: false, readyTimeoutMs: 120_000,
  nodeConfig: CHAOS_NODE_CONFIG, onUnexpectedExit: (e) => unexpected.push(e),
});
let db: Shoal | undefined;

after(async () => {
  await db?.close();
  await cluster.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a failing WAL fsync stops the node (exit 1, DISK_FAILURE); after a restart no acknowledged write is lost', { timeout: 300_000 }, async () => {
  await cluster.start();
  db = await Shoal.connect({ metaservers: cluster.metaAddresses(), timeoutMs: 5000 });
  const t = db.table('default');
  const acked = new Map<string, string>();
  let n = 0;
  const write = async (): Promise<void> => {
    const key = `disk-${n % 40}`;
    const value = `v${n++}`;
    try {
      await t.put(key, value);
      acked.set(key, value);
    } catch {
      // Not acknowledged (e.g. UNKNOWN_OUTCOME while the node dies): the read-back may see either value.
      acked.delete(key);
    }
  };
  for (let i = 0; i < 40; i++) await write();

  const victim = cluster.process('node1');
  const res = await fetch(`http://${victim.httpAddress}/failpoints?set=wal-fsync-error`);
  assert.equal(res.status, 200, await res.text());
  const deadline = Date.now() + WAIT_MS;
  while (victim.exit === undefined) {
    assert.ok(Date.now() < deadline, 'node1 did not stop after its fsync failed');
    await write();
  }
  assert.equal(victim.exit.code, 1, `node1 exit: ${JSON.stringify(victim.exit)}`);
  assert.match(readFileSync(victim.logFile, 'utf8'), /DISK_FAILURE/);
  assert.ok(unexpected.some((e) => e.process.name === 'node1'), 'the death was reported as unexpected');

  // Two of three replicas still make progress (node1 misses these writes and must catch up).
  for (let i = 0; i < 40; i++) await write();
  await cluster.restart('node1');
  await cluster.kill('node2', 'SIGKILL');
  // Every shard's leader moves to node1, so the reads below come from its recovered state
  // (a leader serves reads from its own state machine once it commits in its term).
  const admin = cluster.adminClient();
  const node1Id = await until('node1 registered', async () => {
    const nodes = await admin.admin('listNodes', adminpb.ListNodesRequest.create());
    const n = nodes.nodes.find((x) => x.address === victim.address);
    return n === undefined ? undefined : Number(n.id);
  });
  await until('every shard led by node1', async () => {
    const routes = await admin.meta('getRoutes', meta.GetRoutesRequest.create({ tableName: 'default' }));
    let all = true;
    for (const r of routes.shards) {
      const peer = r.shard?.replicas.find((x) => Number(x.nodeId) === node1Id);
      assert.ok(peer !== undefined, `shard ${r.shard?.id} has no replica on node1`);
      if (Number(r.shard!.leaderPeerId) === Number(peer.peerId)) continue;
      all = false;
      await admin.admin('transferLeader', adminpb.TransferLeaderRequest.create({ shardId: r.shard!.id, toPeerId: peer.peerId })).catch(() => undefined);
    }
    return all ? true : undefined;
  });
  for (const [key, value] of acked) {
    const got = await until(`read of ${key} with node2 down`, async () => {
      try {
        return { v: await t.get(key, { valueEncoding: 'utf8' }) };
      } catch {
        return undefined;
      }
    });
    assert.equal(got.v, value, `acknowledged write of ${key} lost`);
  }
});

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
