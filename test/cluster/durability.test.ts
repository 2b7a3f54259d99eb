// Goal: acknowledged writes survive node failures — kill -9 of a leader's node gives a new
// leader that serves within a few seconds with no acknowledged write lost, and kill -9 of
// all three nodes right after acknowledged writes loses none of them after a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dec, TestClient } from './client.js';
import { Cluster } from './harness.js';

let cluster: Cluster;
let client: TestClient;

before(async () => {
  cluster = await Cluster.start({
    nodes: 3,
    tables: [{ id: 1, partition: 'hash' }],
    shards: [
      { id: 1, tableId: 1, slots: [0, 5461], nodes: [1, 2, 3] },
      { id: 2, tableId: 1, slots: [5461, 10922], nodes: [1, 2, 3] },
      { id: 3, tableId: 1, slots: [10922, 16384], nodes: [1, 2, 3] },
    ],
  });
  client = new TestClient(cluster);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

/** Writes `keys` with bounded concurrency; returns the acknowledged ones. */
async function writeAll(keys: readonly string[], value: (k: string) => string, concurrency = 32): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < keys.length) {
      const k = keys[next++]!;
      try {
        await client.put(1, k, value(k));
        acked.push(k);
      } catch {
        // Not acknowledged (e.g. UNKNOWN_OUTCOME across the failure): no promise made.
      }
    }
  }));
  return acked;
}

async function checkAll(keys: readonly string[], value: (k: string) => string): Promise<void> {
  for (const k of keys) {
    const r = await client.get(1, k);
    assert.equal(r.found, true, `acknowledged key ${k} lost`);
    assert.equal(dec(r.value), value(k));
  }
}

test('kill -9 of the leader node: a new leader serves within seconds, no acknowledged write lost', async (t) => {
  const shard = client.shardOf(1, 'probe');
  await client.put(1, 'probe', 'x');
  const victim = (await client.leaderNode(shard))!;
  const keys = Array.from({ length: 600 }, (_, i) => `fo:${i}`);
  const value = (k: string) => `v-${k}`;
  const writing = writeAll(keys, value, 16);
  await new Promise((r) => setTimeout(r, 300)); // let writes flow, then kill mid-stream
  const killedAt = Date.now();
  await cluster.kill9(victim);
  // Every shard (also those whose groups were hibernating) gets a serving leader.
  const serving: number[] = [];
  for (const s of cluster.shards) {
    const key = ['probe', 'a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => `${k}`).find((k) => client.shardOf(1, k).id === s.id) ?? `s${s.id}`;
    await client.put(1, key, 'after-kill');
    serving.push(Date.now() - killedAt);
  }
  t.diagnostic(`leader node ${victim} killed; shards served writes again after ${serving.join(', ')} ms`);
  assert.ok(Math.max(...serving) < 8000, `failover took ${Math.max(...serving)} ms`);
  const acked = await writing;
  assert.ok(acked.length > 500, `only ${acked.length} writes acknowledged`);
  await checkAll(acked, value);
  await cluster.startNode(victim);
  await checkAll(acked.slice(0, 50), value);
});

test('kill -9 of all three nodes right after acknowledged writes loses none of them', async () => {
  const keys = Array.from({ length: 500 }, (_, i) => `all:${i}`);
  const value = (k: string) => `w-${k}`;
  const acked = await writeAll(keys, value, 32);
  assert.equal(acked.length, keys.length);
  await Promise.all([1, 2, 3].map((n) => cluster.kill9(n)));
  await Promise.all([1, 2, 3].map((n) => cluster.startNode(n)));
  await checkAll(acked, value);
});

test('SIGTERM stops a node gracefully (exit 0); it restarts with its data', async () => {
  const keys = Array.from({ length: 50 }, (_, i) => `term:${i}`);
  const value = (k: string) => `t-${k}`;
  assert.equal((await writeAll(keys, value)).length, keys.length);
  assert.equal(await cluster.stopNode(1), 0);
  await cluster.startNode(1);
  await checkAll(keys, value);
});
