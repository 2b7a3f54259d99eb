// Goal: NodeAdmin.SplitShard and ForceReduceReplicas on real node processes — a hash and a range shard split while writes are in flight; both halves serve with the new epochs (the metaserver's rules), every acknowledged write stays readable, old epochs get EPOCH_NOT_MATCH with the current descriptor, a repeated split succeeds, kill -9 of all nodes keeps both halves; with 2 of 3 nodes dead, force-reduce lets the survivor elect itself and serve writes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dataKey, inRange, keySlot, slotRangeStart, tableEnd, tableStart, toHex } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { admin, common, kv } from '@shoal/proto';
import { dec, enc, KvCallError, TestClient } from './client.js';
import { Cluster, waitUntil } from './harness.js';

const HASH = 1;
const RANGE = 2;
let cluster: Cluster;
let client: TestClient;
/** Current routes: shard id → descriptor (what a metaserver would serve). */
const routes = new Map<number, common.ShardDescriptor>();
const leaders = new Map<number, number>();

before(async () => {
  cluster = await Cluster.start({
    nodes: 3,
    tables: [{ id: HASH, partition: 'hash' }, { id: RANGE, partition: 'range' }],
    shards: [{ id: 1, tableId: HASH, nodes: [1, 2, 3] }, { id: 2, tableId: RANGE, nodes: [1, 2, 3] }],
  });
  client = new TestClient(cluster);
  for (const id of [1, 2]) {
    const st = await waitUntil(`shard ${id} leader`, 20_000, async () => {
      for (const n of [1, 2, 3]) {
        const s = await client.shardStatus(n, id).catch(() => undefined);
        if (s !== undefined && s.leaderPeerId === s.peerId) return s;
      }
      return undefined;
    });
    routes.set(id, st.shard!);
  }
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

function shardFor(tableId: number, key: string): common.ShardDescriptor | undefined {
  const t = tableId as TableId;
  const sk = dataKey(t, tableId === HASH ? keySlot(enc(key)) : null, enc(key));
  for (const d of routes.values()) {
    if (d.tableId !== tableId) continue;
    const range = { start: d.startKey.length === 0 ? tableStart(t) : d.startKey, end: d.endKey.length === 0 ? tableEnd(t) : d.endKey };
    if (inRange(sk, range)) return d;
  }
  return undefined;
}

const newer = (a: common.Epoch | undefined, b: common.Epoch | undefined): boolean =>
  (a?.version ?? 0) > (b?.version ?? 0) || ((a?.version ?? 0) === (b?.version ?? 0) && (a?.confVer ?? 0) > (b?.confVer ?? 0));

/** A call routed by `routes`: follows leader hints, adopts newer descriptors from errors, retries retryable codes. */
async function routed<Res extends { error?: common.ErrorDetail }>(
  tableId: number, key: string, method: 'put' | 'get', build: (h: kv.RequestHeader) => unknown, timeoutMs = 20_000,
): Promise<Res> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    const d = shardFor(tableId, key);
    if (d !== undefined) {
      const nodes = leaders.has(d.id) ? [leaders.get(d.id)!] : d.replicas.map((r) => r.nodeId);
      for (const node of nodes) {
        try {
          const res = await client.call<unknown, Res>(node, method, build(kv.RequestHeader.create({ tableId, shardId: d.id, epoch: d.epoch })), 3000);
          leaders.set(d.id, node);
          return res;
        } catch (e) {
          last = e;
          leaders.delete(d.id);
          if (!(e instanceof KvCallError)) continue;
          if (e.code === 'UNKNOWN_OUTCOME') throw e;
          const shard = e.detail.currentShard;
          if (shard !== undefined && newer(shard.epoch, routes.get(shard.id)?.epoch)) routes.set(shard.id, shard);
          const hint = e.detail.leaderHint;
          if (e.code === 'NOT_LEADER' && hint !== undefined && hint.nodeId !== 0) leaders.set(d.id, hint.nodeId);
        }
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`routed ${method} of ${key} failed until the deadline: ${String(last)}`);
}

const put = (tableId: number, key: string, value: string): Promise<kv.PutResponse> =>
  routed(tableId, key, 'put', (header) => kv.PutRequest.create({ header, key: enc(key), value: enc(value) }));
const get = (tableId: number, key: string): Promise<kv.GetResponse> =>
  routed(tableId, key, 'get', (header) => kv.GetRequest.create({ header, key: enc(key) }));

async function leaderOf(shardId: number): Promise<number> {
  return waitUntil(`a leader of shard ${shardId}`, 20_000, async () => {
    for (const n of [1, 2, 3]) {
      if (cluster.node(n).child === null) continue;
      const s = await client.shardStatus(n, shardId).catch(() => undefined);
      if (s !== undefined && s.leaderPeerId !== 0 && s.leaderPeerId === s.peerId) return n;
    }
    return undefined;
  });
}

async function split(shardId: number, newShardId: number, newPeerIds: number[], version = 1): Promise<readonly common.ShardDescriptor[]> {
  const node = await leaderOf(shardId);
  const res = await client.adminCall<admin.NodeSplitShardRequest, admin.NodeSplitShardResponse>(node, 'splitShard', admin.NodeSplitShardRequest.create({
    shardId, epoch: { confVer: 1, version }, newShardId, newPeerIds,
  }), 30_000);
  return res.shards;
}

const acked = new Map<string, { tableId: number; value: string }>();

test('hash and range shards split under in-flight writes; both halves serve with the new epochs', async () => {
  for (let i = 0; i < 100; i++) {
    for (const t of [HASH, RANGE]) {
      await put(t, `pre-${String(i).padStart(3, '0')}`, `v${i}`);
      acked.set(`${t}/pre-${String(i).padStart(3, '0')}`, { tableId: t, value: `v${i}` });
    }
  }
  let stop = false;
  let afterSplit = 0;
  let splitDone = false;
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const t = i % 2 === 0 ? HASH : RANGE;
      const key = `w${w}-${String(i).padStart(5, '0')}`;
      try {
        await put(t, key, `x${i}`);
        acked.set(`${t}/${key}`, { tableId: t, value: `x${i}` });
        if (splitDone) afterSplit++;
      } catch {
        // Not acknowledged (UNKNOWN_OUTCOME or deadline): not checked.
      }
    }
  });
  try {
    await splitUnderWrites(() => afterSplit, () => {
      splitDone = true;
    });
  } finally {
    stop = true;
    await Promise.all(writers);
  }

  // Both halves of both tables received writes, and every acknowledged write reads back.
  const hosts = new Set([...acked.entries()].map(([k, v]) => shardFor(v.tableId, k.slice(k.indexOf('/') + 1))!.id));
  assert.deepEqual([...hosts].sort(), [1, 2, 3, 4]);
  await checkAcked();
});

async function splitUnderWrites(afterSplit: () => number, onSplit: () => void): Promise<void> {
  await waitUntil('writes in flight', 20_000, () => acked.size >= 260);
  const parentEnd = routes.get(2)!.endKey;
  const [hl, hr] = await split(1, 3, [31, 32, 33]);
  const [rl, rr] = await split(2, 4, [41, 42, 43]);
  for (const d of [hl!, hr!, rl!, rr!]) routes.set(d.id, d);
  onSplit();

  // The metaserver's rules: both halves {confVer: parent's, version: parent's + 1}; right
  // peers follow the parent's replicas sorted by peer id; a hash split cuts at the middle slot.
  for (const d of [hl!, hr!, rl!, rr!]) assert.deepEqual({ ...d.epoch }, { confVer: 1, version: 2 }, `epoch of shard ${d.id}`);
  assert.deepEqual(hr!.replicas.map((r) => [r.peerId, r.nodeId]), [[31, 1], [32, 2], [33, 3]]);
  assert.deepEqual(rr!.replicas.map((r) => [r.peerId, r.nodeId]), [[41, 1], [42, 2], [43, 3]]);
  assert.equal(toHex(hl!.endKey), toHex(slotRangeStart(HASH as TableId, 8192)));
  assert.equal(toHex(hr!.startKey), toHex(hl!.endKey));
  assert.equal(toHex(rr!.startKey), toHex(rl!.endKey));
  assert.ok(rl!.endKey.length > 0);
  assert.equal(toHex(rr!.endKey), toHex(parentEnd), 'the right half keeps the parent\'s end');

  // A repeated split (same new shard id) answers success with the two descriptors.
  const again = await split(1, 3, [31, 32, 33]);
  assert.deepEqual(again.map((d) => d.id), [1, 3]);

  await waitUntil('writes after the split', 60_000, () => afterSplit() >= 100);

  // An old-epoch request gets EPOCH_NOT_MATCH with the current descriptor.
  const node = await leaderOf(1);
  const err = await client.call(node, 'get', kv.GetRequest.create({
    header: kv.RequestHeader.create({ tableId: HASH, shardId: 1, epoch: { confVer: 1, version: 1 } }), key: enc('pre-000'),
  })).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof KvCallError && err.code === 'EPOCH_NOT_MATCH', String(err));
  assert.deepEqual({ ...err.detail.currentShard?.epoch }, { confVer: 1, version: 2 });
  assert.equal(toHex(err.detail.currentShard!.endKey), toHex(hl!.endKey));
}

async function checkAcked(): Promise<void> {
  for (const [k, v] of acked) {
    const key = k.slice(k.indexOf('/') + 1);
    const r = await get(v.tableId, key);
    assert.ok(r.found, `${k} lost`);
    assert.equal(dec(r.value), v.value, k);
  }
}

test('kill -9 of every node, restart: both halves of both tables come back with their data', async () => {
  for (const n of [1, 2, 3]) await cluster.kill9(n);
  for (const n of [1, 2, 3]) await cluster.startNode(n);
  leaders.clear();
  for (const id of [1, 2, 3, 4]) {
    const n = await leaderOf(id);
    const st = await client.shardStatus(n, id);
    assert.deepEqual({ ...st!.shard!.epoch }, { confVer: 1, version: 2 }, `shard ${id} epoch after restart`);
  }
  await checkAcked();
  for (const t of [HASH, RANGE]) {
    for (let i = 0; i < 20; i++) {
      await put(t, `post-${i}`, `p${i}`);
      acked.set(`${t}/post-${i}`, { tableId: t, value: `p${i}` });
    }
  }
  await checkAcked();
});

test('a replica down during a split applies it from the log when it comes back', async () => {
  await cluster.kill9(3);
  const [left, right] = await split(3, 5, [51, 52, 53], 2);
  for (const d of [left!, right!]) routes.set(d.id, d);
  assert.deepEqual({ ...right!.epoch }, { confVer: 1, version: 3 });
  for (let i = 0; i < 20; i++) {
    await put(HASH, `late-${i}`, `l${i}`);
    acked.set(`${HASH}/late-${i}`, { tableId: HASH, value: `l${i}` });
  }
  await cluster.startNode(3);
  await waitUntil('node 3 hosts both halves at the new epoch', 30_000, async () => {
    const [l, r] = await Promise.all([client.shardStatus(3, 3), client.shardStatus(3, 5)]);
    return l?.shard?.epoch?.version === 3 && r?.shard?.epoch?.version === 3 && r.leaderPeerId !== 0 && r.appliedIndex >= r.commitIndex;
  });
  // Node 3 serves both halves: stale reads there see the acknowledged writes of each half.
  for (const [k, v] of acked) {
    const key = k.slice(k.indexOf('/') + 1);
    const d = shardFor(v.tableId, key)!;
    if (d.id !== 3 && d.id !== 5) continue;
    const r = await waitUntil(`${k} on node 3`, 10_000, async () => {
      const res = await client.call<kv.GetRequest, kv.GetResponse>(3, 'get', kv.GetRequest.create({
        header: kv.RequestHeader.create({ tableId: HASH, shardId: d.id, epoch: d.epoch, consistency: common.ReadConsistency.FOLLOWER }), key: enc(key),
      }));
      return res.found ? res : undefined;
    });
    assert.equal(dec(r.value), v.value, `${k} on node 3`);
  }
});

test('force-reduce: with 2 of 3 nodes dead the survivor elects itself and serves writes', async () => {
  await cluster.kill9(2);
  await cluster.kill9(3);
  const call = (keep: number[]) => client.adminCall<admin.NodeForceReduceReplicasRequest, admin.NodeForceReduceReplicasResponse>(1, 'forceReduceReplicas',
    admin.NodeForceReduceReplicasRequest.create({ shardId: 3, keepPeerIds: keep }));
  const refused = await call([32]).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof KvCallError && refused.code === 'INVALID_ARGUMENT', 'the local replica must be kept');

  const res = await call([31]);
  assert.deepEqual(res.shard!.replicas.map((r) => [r.peerId, r.nodeId, r.role]), [[31, 1, common.ReplicaRole.VOTER]]);
  assert.deepEqual({ ...res.shard!.epoch }, { confVer: 2, version: 3 }, 'confVer + 1, as the metaserver expects');
  const repeat = await call([31]);
  assert.deepEqual({ ...repeat.shard!.epoch }, { confVer: 2, version: 3 }, 'idempotent: no second bump');
  routes.set(3, res.shard!);
  leaders.delete(3);

  assert.equal(await leaderOf(3), 1);
  const hashKeysOfShard3 = [...acked.entries()].filter(([k, v]) => v.tableId === HASH && shardFor(HASH, k.slice(2))!.id === 3);
  assert.ok(hashKeysOfShard3.length > 0);
  let wrote = 0;
  for (let i = 0; wrote < 10; i++) {
    const key = `reduced-${i}`;
    if (shardFor(HASH, key)!.id !== 3) continue;
    await put(HASH, key, `r${i}`);
    const r = await get(HASH, key);
    assert.equal(dec(r.value), `r${i}`);
    wrote++;
  }
  for (const [k, v] of hashKeysOfShard3) assert.equal(dec((await get(HASH, k.slice(2))).value), v.value, k);
});
