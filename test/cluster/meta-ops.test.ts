// Goal: two metaserver operations of issue 5 end to end, on real processes (1 metaserver,
// 5 storage nodes in 3 zones, short failure-detection timings), sharing one cluster in order:
// 1. forced replica reduction (B-Station's dynamic replica reduction): refused while the
//    quorum lives; after kill -9 of two of a 3-replica shard's nodes the metaserver reports
//    the shard stuck, and `shoal shard force-reduce` (the CLI), superseding a running move, brings the survivor back as a leader that serves the keys it
//    had applied and accepts writes, and the scheduler re-grows the shard to 3 voters;
// 2. automatic split by per-table thresholds: a range table splits at middle keys and a
//    hash table doubles, by the metaserver alone, with epochs bumped and every key readable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Shoal } from '@shoal/client-sdk';
import { admin, common, meta, raft } from '@shoal/proto';
import { DynCluster } from './dyn-harness.js';

const FR = 'fr';
const SPLIT_RANGE = 'sr';
const SPLIT_HASH = 'sh';
/** Far below KEY_SAMPLE_MAX (256) of node/src/meta/shard-stats.ts, so heartbeats report exact key counts. */
const SPLIT_KEY_COUNT = 60;
const SPLIT_KEYS_WRITTEN = 200;
const CLI_MAIN = join(dirname(fileURLToPath(import.meta.resolve('@shoal/cli'))), 'main.js');

let c: DynCluster;
let db: Shoal;
let failed = false;

function step(name: string, timeoutMs: number, fn: () => Promise<void>): void {
  test(name, { timeout: timeoutMs }, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      // The cluster state, for a failure that is not a waitFor timeout (those print it themselves).
      console.log(`# cluster state at failure:\n${await c.describe().catch((x) => String(x))}`);
      throw e;
    }
  });
}

before(async () => {
  c = await DynCluster.start({ nodes: 5, metaservers: 1, zones: 3, tables: [FR] });
  db = await Shoal.connect({ metaservers: c.lc.metaAddresses(), timeoutMs: 10_000 });
});

after(async () => {
  await db?.close();
  await c?.stop(failed || process.env.SHOAL_KEEP_DATA === '1');
});

async function writeAll(table: string, keys: readonly string[], value: (k: string) => string): Promise<void> {
  const t = db.table(table);
  const PARALLEL = 8;
  for (let i = 0; i < keys.length; i += PARALLEL) await Promise.all(keys.slice(i, i + PARALLEL).map((k) => t.put(k, value(k))));
}

async function assertReadable(table: string, keys: readonly string[], value: (k: string) => string): Promise<void> {
  const got = await db.table(table).getMany([...keys], { valueEncoding: 'utf8' });
  const wrong = keys.filter((k, i) => got[i] !== value(k));
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${keys.length} keys of ${table} lost or wrong`);
}

/** The single shard of table FR with its replicas' node addresses and process names. */
async function frShard() {
  const [s] = await c.shards().then((all) => all.filter((x) => x.table === FR));
  const nodes = await c.nodes();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const procByAddress = new Map(c.lc.processes().filter((p) => p.kind === 'node').map((p) => [p.address, p.name]));
  const replicas = s!.shard.replicas.map((r) => ({ ...r, address: byId.get(r.nodeId)!.address, proc: procByAddress.get(byId.get(r.nodeId)!.address)! }));
  return { view: s!, replicas };
}

const valueOf = (k: string) => `v-${k}`;

step('force-reduce: refused with the quorum alive; after losing 2 of 3 replicas the CLI brings the survivor back; re-grown to 3', 75_000, async () => {
  await c.admin.admin('createTable', admin.CreateTableRequest.create({
    name: FR, pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE, replicaCount: 3 }),
  }));
  const { view, replicas } = await frShard();
  const shardId = view.shard.id;
  assert.equal(replicas.length, 3);

  // The guard: with every replica alive, forcing the shard down to one replica is refused.
  await assert.rejects(
    c.admin.admin('forceReduceReplicas', admin.ForceReduceReplicasRequest.create({ shardId, keepPeerIds: [replicas[0]!.peerId], confirmShardId: shardId })),
    (e: Error) => /quorum/i.test(e.message),
    'force-reduce of a shard whose quorum is alive must be refused, naming the quorum');

  const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(4, '0')}`);
  await writeAll(FR, keys, valueOf);
  const survivor = replicas.find((r) => r.peerId !== view.shard.leaderPeerId)!;
  const leader = replicas.find((r) => r.peerId === view.shard.leaderPeerId)!;
  // With 3 replicas and a quorum of 2, an acknowledged write may be missing on any one
  // follower. Only keys the survivor had applied before the kill are guaranteed to survive
  // a force-reduce to it: wait until it applied everything the leader had committed.
  const [lst] = await c.shardStatus(leader.address, [shardId]);
  await c.waitFor(`the survivor (node ${survivor.nodeId}) applied index ${lst!.commitIndex}`, 10_000, async () =>
    (await c.shardStatus(survivor.address, [shardId]))[0]!.appliedIndex >= lst!.commitIndex);
  // Written after that wait: acknowledged, but may be lost by the force-reduce (not asserted).
  const late = Array.from({ length: 20 }, (_, i) => `late${i}`);
  await writeAll(FR, late, valueOf);

  for (const r of replicas) if (r !== survivor) await c.lc.kill(r.proc, 'SIGKILL');
  const deadIds = replicas.filter((r) => r !== survivor).map((r) => r.nodeId);
  await c.waitFor('both killed nodes down, and the survivor without a leader', 20_000, async () => {
    const down = (await c.nodes()).filter((n) => deadIds.includes(n.id) && n.state === meta.NodeState.DOWN);
    const [st] = await c.shardStatus(survivor.address, [shardId]);
    return down.length === 2 && st!.role !== raft.RaftRole.LEADER;
  });
  // The scheduler cannot repair it on its own, and says so: the leader's last round names
  // the shard in ClusterStatus.stuck_shards, as `shoal cluster status` prints.
  await c.waitFor(`shard ${shardId} reported stuck with its quorum lost`, 20_000, async () => {
    const st = await c.admin.admin('clusterStatus', admin.ClusterStatusRequest.create());
    return st.stuckShards.some((x) => x.shardId === shardId && x.tableId === view.shard.tableId && /force-reduce needed/.test(x.reason));
  });
  // A move that cannot finish without a quorum (before issue 5's fix, the scheduler started
  // one itself while one of the two nodes was still suspect): force-reduce supersedes it
  // rather than being refused until it times out.
  const stale = await c.admin.admin('moveReplica', admin.MoveReplicaRequest.create({ shardId, fromNodeId: deadIds[0]!, toNodeId: 0 }));
  assert.ok(stale.operatorId > 0);
  assert.ok((await c.runningOperators()).some((o) => o.operator?.id === stale.operatorId), 'the move runs when force-reduce is asked for');

  const { stdout } = await promisify(execFile)(process.execPath,
    [CLI_MAIN, 'shard', 'force-reduce', String(shardId), '--keep', String(survivor.peerId), '--yes', '--meta', c.lc.metaAddresses().join(',')],
    { timeout: 20_000 });
  assert.match(stdout, /force-reduce/);
  const history = await c.admin.admin('listOperators', admin.ListOperatorsRequest.create({ shardId, includeFinished: true }));
  const superseded = history.operators.find((o) => o.operator?.id === stale.operatorId)?.status;
  assert.equal(superseded?.state, meta.OperatorState.CANCELLED, 'the running move was cancelled by the force-reduce');
  assert.match(superseded?.message ?? '', /superseded by a force-reduce/);

  await c.waitFor('the survivor leads the shard', 30_000, async () => {
    const [st] = await c.shardStatus(survivor.address, [shardId]);
    return st!.role === raft.RaftRole.LEADER;
  });
  await assertReadable(FR, keys, valueOf);
  const lateKept = (await db.table(FR).getMany(late, { valueEncoding: 'utf8' })).filter((v) => v !== undefined).length;
  console.log(`# ${lateKept} of ${late.length} keys written after the survivor caught up survived the force-reduce`);
  const after = Array.from({ length: 30 }, (_, i) => `after${i}`);
  await writeAll(FR, after, valueOf);
  await assertReadable(FR, after, valueOf);

  const live = (await c.nodes()).filter((n) => n.state === meta.NodeState.UP).map((n) => n.id);
  await c.waitFor('the shard re-grown to 3 voters on live nodes', 45_000, async () => {
    const { view: v } = await frShard();
    const reps = v.shard.replicas;
    return reps.length === 3 && reps.every((r) => r.role === common.ReplicaRole.VOTER && live.includes(r.nodeId)) && v.leaderNode !== 0
      && (await c.runningOperators()).length === 0;
  });
  await assertReadable(FR, [...keys, ...after], valueOf);
});

step('automatic split by per-table thresholds: the range table splits, the hash table doubles', 75_000, async () => {
  await c.admin.admin('createTable', admin.CreateTableRequest.create({
    name: SPLIT_RANGE, pool: 'default', splitKeyCount: SPLIT_KEY_COUNT,
    options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE, replicaCount: 3 }),
  }));
  await c.admin.admin('createTable', admin.CreateTableRequest.create({
    name: SPLIT_HASH, pool: 'default', splitKeyCount: SPLIT_KEY_COUNT,
    options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 2, replicaCount: 3 }),
  }));
  c.tables.push(SPLIT_RANGE, SPLIT_HASH);
  const before = await c.shards();
  const versionBefore = Math.max(...before.filter((s) => s.table !== FR).map((s) => s.shard.epoch!.version));
  assert.equal(before.filter((s) => s.table === SPLIT_RANGE).length, 1);
  assert.equal(before.filter((s) => s.table === SPLIT_HASH).length, 2);

  const keys = Array.from({ length: SPLIT_KEYS_WRITTEN }, (_, i) => `s${String(i).padStart(4, '0')}`);
  await writeAll(SPLIT_RANGE, keys, valueOf);
  await writeAll(SPLIT_HASH, keys, valueOf);

  const shards = await c.waitFor('the range table split and the hash table doubled, no operator running', 50_000, async () => {
    const all = (await c.shards()).filter((s) => s.table !== FR);
    const range = all.filter((s) => s.table === SPLIT_RANGE);
    const hash = all.filter((s) => s.table === SPLIT_HASH);
    if (range.length < 2 || hash.length < 4 || all.some((s) => s.leaderNode === 0)) return undefined;
    return (await c.runningOperators()).length === 0 ? all : undefined;
  });
  // Every new shard carries a bumped epoch version; the hash table's shards have equal slot widths (a doubling completed).
  for (const s of shards) assert.ok(s.shard.epoch!.version > versionBefore, `shard ${s.table}/${s.shard.id} epoch ${s.shard.epoch!.version} not bumped`);
  const routes = await c.routes(SPLIT_RANGE);
  const bounds = routes.shards.map((r) => [Buffer.from(r.shard!.startKey).toString(), Buffer.from(r.shard!.endKey).toString()]);
  console.log(`# range shards after split: ${JSON.stringify(bounds)}; hash shards: ${shards.filter((s) => s.table === SPLIT_HASH).length}`);

  await assertReadable(SPLIT_RANGE, keys, valueOf);
  await assertReadable(SPLIT_HASH, keys, valueOf);
  // The SDK keeps working over the new routes: writes and reads of fresh keys.
  const more = Array.from({ length: 40 }, (_, i) => `m${i}`);
  await writeAll(SPLIT_RANGE, more, valueOf);
  await writeAll(SPLIT_HASH, more, valueOf);
  await assertReadable(SPLIT_RANGE, more, valueOf);
  await assertReadable(SPLIT_HASH, more, valueOf);
  splitShards = shards;
});

let splitShards: Awaited<ReturnType<DynCluster['shards']>> = [];

// A split at a middle key leaves each half with about half of a shard over the threshold,
// so no range shard should end with fewer than SPLIT_KEY_COUNT / 4 of the written keys, and
// 200 keys over 2 hash shards should double at most twice (to 8). Regression: a node's
// ShardStatsSource cached figures per shard id only, so after a split the shard that kept
// its id reported its pre-split key count under the new epoch, and the metaserver split it
// again and again (seen: 14 range shards, one holding 1 key; the hash table doubled to 64).
test('automatic split does not over-split on stale shard stats', () => {
  const range = splitShards.filter((s) => s.table === SPLIT_RANGE);
  const hash = splitShards.filter((s) => s.table === SPLIT_HASH);
  assert.ok(range.length > 0 && hash.length > 0, 'the split step did not run');
  const keys = Array.from({ length: SPLIT_KEYS_WRITTEN }, (_, i) => `s${String(i).padStart(4, '0')}`);
  const prefixOf = (b: Uint8Array) => Buffer.from(b).subarray(4).toString('latin1');
  for (const s of range) {
    const lo = prefixOf(s.shard.startKey);
    // Storage keys are a 4-byte table prefix then the user key; the last shard ends at the next table's prefix.
    const hi = s.shard.endKey.length <= 4 ? undefined : prefixOf(s.shard.endKey);
    const n = keys.filter((k) => k >= lo && (hi === undefined || k < hi)).length;
    assert.ok(n >= SPLIT_KEY_COUNT / 4, `range shard ${s.shard.id} [${lo}, ${hi ?? 'end'}) holds ${n} of the written keys`);
  }
  assert.ok(hash.length <= 8, `the hash table doubled to ${hash.length} shards`);
});
