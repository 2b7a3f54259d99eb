// Goal: the metaserver-driven cluster survives what issue 5 promises, with real processes
// (3 metaservers, 4 storage nodes in 3 zones, short failure-detection timings): tables are
// created and written through the client SDK; kill -9 of the metaserver leader elects a
// new one within seconds and loses nothing, the restarted member catches up; kill -9 of a
// node brings every shard back to 3 healthy voters on the others with every acknowledged
// key intact; a new node (the dead one's machine, wiped) receives replicas and leaders
// within the balance tolerance;
// splits under live writes (a range shard; a hash shard, which doubles its table) lose no
// acknowledged write and surface no error to the writers; a decommissioned node drains to zero replicas and ends decommissioned.
// The tests share one cluster and run in order.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Shoal } from '@shoal/client-sdk';
import type { Table } from '@shoal/client-sdk';
import { admin, common, meta } from '@shoal/proto';
import { DYN_META_CONFIG, DynCluster, metaGauge } from './dyn-harness.js';
import type { ShardView } from './dyn-harness.js';

const HASH = 'h';
const RANGE = 'r';
const KEYS_PER_TABLE = 300;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

let c: DynCluster;
let db: Shoal;
/** Every acknowledged write: table → key → value. */
const acked = new Map<string, Map<string, string>>([[HASH, new Map()], [RANGE, new Map()]]);

function tolerance(mean: number, percent: number): number {
  return Math.max(1, Math.floor((mean * percent) / 100));
}

function rangeKey(i: number, prefix = ''): string {
  return `${String.fromCharCode(97 + (i % 26))}${prefix}-${i}`;
}

async function put(t: Table, table: string, key: string, value: string): Promise<void> {
  await t.put(key, value);
  acked.get(table)!.set(key, value);
}

/** Reads back every acknowledged key of both tables. */
async function assertAllAcked(): Promise<void> {
  for (const [table, keys] of acked) {
    const list = [...keys.keys()];
    const got = await db.table(table).getMany(list, { valueEncoding: 'utf8' });
    const wrong = list.filter((k, i) => got[i] !== keys.get(k));
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${list.length} acknowledged keys of ${table} lost or wrong`);
  }
}

/** Whether shard `a`'s range lies within shard `b`'s (an empty end is the table's end). */
function within(a: common.ShardDescriptor, b: common.ShardDescriptor): boolean {
  const endLe = b.endKey.length === 0 || (a.endKey.length !== 0 && Buffer.compare(a.endKey, b.endKey) <= 0);
  return Buffer.compare(b.startKey, a.startKey) <= 0 && endLe;
}

/** Node ids in the given states. */
async function nodeIds(...states: meta.NodeState[]): Promise<number[]> {
  return (await c.nodes()).filter((n) => states.includes(n.state)).map((n) => n.id).sort((a, b) => a - b);
}

/** Every shard has `replicaCount` voters on distinct `allowed` nodes, a leader, and no operator runs. */
async function healthy(allowed: readonly number[], replicaCount = 3): Promise<ShardView[] | undefined> {
  const shards = await c.shards();
  for (const s of shards) {
    const reps = s.shard.replicas;
    if (reps.length !== replicaCount || reps.some((r) => r.role !== common.ReplicaRole.VOTER || !allowed.includes(r.nodeId))) return undefined;
    if (new Set(reps.map((r) => r.nodeId)).size !== replicaCount || s.leaderNode === 0) return undefined;
  }
  return (await c.runningOperators()).length === 0 ? shards : undefined;
}

/** The leaders' own view agrees with the metaserver's: same voters, no membership change pending. */
async function assertLeadersAgree(shards: readonly ShardView[]): Promise<void> {
  const addressOf = new Map((await c.nodes()).map((n) => [n.id, n.address]));
  for (const s of shards) {
    const [st] = await c.shardStatus(addressOf.get(s.leaderNode)!, [s.shard.id]);
    assert.ok(st !== undefined, `shard ${s.shard.id} on its leader's node ${s.leaderNode}`);
    const peers = (d: common.ShardDescriptor | undefined) => (d?.replicas ?? []).map((r) => `${r.peerId}:${r.role}`).sort().join(',');
    assert.equal(peers(st.shard), peers(s.shard), `shard ${s.shard.id}: the leader's voters are the metaserver's`);
    assert.equal(st.pendingConfChange, false);
  }
}

before(async () => {
  c = await DynCluster.start({ nodes: 4, metaservers: 3, zones: 3, tables: [HASH, RANGE] });
  db = await Shoal.connect({ metaservers: c.lc.metaAddresses(), timeoutMs: 10_000 });
});

/** Set by a failed step: the cluster's logs are kept for the report. */
let failed = false;
/** A test of the shared cluster, in order. */
function step(name: string, timeoutMs: number, fn: () => Promise<void>): void {
  test(name, { timeout: timeoutMs }, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

after(async () => {
  await db?.close();
  await c?.stop(failed || process.env.SHOAL_KEEP_DATA === '1');
});

step('create a hash and a range table, write, read back', 60_000, async () => {
  const hash = await c.admin.admin('createTable', admin.CreateTableRequest.create({
    name: HASH, pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 4, replicaCount: 3 }),
  }));
  assert.equal(hash.table?.name, HASH);
  await c.admin.admin('createTable', admin.CreateTableRequest.create({
    name: RANGE, pool: 'default', splitKeys: [enc('h'), enc('q')],
    options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE, replicaCount: 3 }),
  }));
  const shards = await c.shards();
  assert.equal(shards.filter((s) => s.table === HASH).length, 4);
  assert.equal(shards.filter((s) => s.table === RANGE).length, 3);
  const zoneOf = new Map((await c.nodes()).map((n) => [n.id, n.zone]));
  for (const s of shards) {
    assert.equal(new Set(s.shard.replicas.map((r) => zoneOf.get(r.nodeId))).size, 3, `shard ${s.shard.id} spans the 3 zones`);
  }
  const h = db.table(HASH);
  const r = db.table(RANGE);
  for (let i = 0; i < KEYS_PER_TABLE; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => Promise.all([
      put(h, HASH, `k-${i + j}`, `v${i + j}`), put(r, RANGE, rangeKey(i + j), `v${i + j}`),
    ])));
  }
  await assertAllAcked();
});

step('kill -9 the metaserver leader: a new leader within seconds, nothing lost, the old one catches up', 60_000, async () => {
  const before = await c.lc.metaLeader();
  const shardsBefore = (await c.shards()).map((s) => s.shard.id).sort();
  const name = `meta${before.id}`;
  const killedAt = Date.now();
  await c.lc.kill(name, 'SIGKILL');
  const survivors = c.lc.processes().filter((p) => p.kind === 'metaserver' && p.name !== name);
  const leader = await c.waitFor('a new metaserver leader', 15_000, async () => {
    for (const p of survivors) {
      const info = await c.admin.ask(p.address, meta.MetaService.getClusterInfo, meta.GetClusterInfoRequest.create(), 1000).catch(() => undefined);
      const m = info?.members.find((x) => x.id === info.leaderId && x.isLeader);
      if (m !== undefined && m.id !== before.id) return m;
    }
    return undefined;
  });
  const electedMs = Date.now() - killedAt;
  console.log(`# new metaserver leader ${leader.id} after ${electedMs} ms`);
  assert.ok(electedMs < 5000, `a new leader took ${electedMs} ms`);

  const tables = (await c.admin.admin('listTables', meta.ListTablesRequest.create())).tables.map((t) => t.name).sort();
  assert.deepEqual(tables, [HASH, RANGE]);
  assert.deepEqual((await c.shards()).map((s) => s.shard.id).sort(), shardsBefore);
  await c.waitFor('4 nodes up under the new leader', 10_000, async () => (await nodeIds(meta.NodeState.UP)).length === 4);
  await put(db.table(HASH), HASH, 'after-meta-failover', 'x');
  await assertAllAcked();

  await c.lc.restart(name);
  const restarted = c.lc.process(name);
  const leaderHttp = c.lc.processes().find((p) => p.name === `meta${leader.id}`)!.httpAddress;
  await c.waitFor(`${name} caught up (route version and shard count)`, 20_000, async () => {
    const [mine, theirs] = await Promise.all([metaGauge(restarted.httpAddress, 'route_version'), metaGauge(leaderHttp, 'route_version')]);
    const [myShards, theirShards] = await Promise.all([metaGauge(restarted.httpAddress, 'shards'), metaGauge(leaderHttp, 'shards')]);
    return mine !== undefined && mine > 0 && mine === theirs && myShards === theirShards && myShards === shardsBefore.length;
  });
});

/*
 * Zones: node1 z1, node2 z2, node3 z3, node4 z1. Every shard keeps one replica per zone, so
 * node2 and node3 hold every shard and node1 / node4 share z1's: the node killed, replaced
 * and balanced onto is a z1 node (replica balancing never lowers a shard's zone spread, so
 * it happens between zone-mates), and the one decommissioned is the other z1 node.
 */
step('kill -9 a node: after the grace period every shard is back to 3 voters on the others, data intact', 90_000, async () => {
  const victim = c.nodeProcess('node4');
  const nodes = await c.nodes();
  const victimId = nodes.find((n) => n.address === victim.address)!.id;
  const others = nodes.filter((n) => n.id !== victimId).map((n) => n.id);
  const killedAt = Date.now();
  await c.lc.kill(victim.name, 'SIGKILL');
  await c.waitFor(`node ${victimId} down`, DYN_META_CONFIG.nodeDownAfterMs + 10_000, async () =>
    (await nodeIds(meta.NodeState.DOWN)).includes(victimId));
  const downMs = Date.now() - killedAt;
  const shards = await c.waitFor('every shard back to 3 healthy voters', 60_000, () => healthy(others));
  console.log(`# node ${victimId} down after ${downMs} ms; recovered after ${Date.now() - killedAt} ms`);
  await assertLeadersAgree(shards);
  await assertAllAcked();
});

step('a new node (the dead one wiped and started afresh) receives replicas and leaders within the balance tolerance', 90_000, async () => {
  // A replacement machine at the dead one's address: empty data dir, so it registers as a
  // new node (a new id) while the old id stays down.
  const p = c.nodeProcess('node4');
  const oldIds = (await c.nodes()).map((n) => n.id);
  rmSync(join(p.dir, 'data'), { recursive: true, force: true });
  await c.lc.restart(p.name);
  const added = await c.waitFor('the fresh node registered and up', 20_000, async () =>
    (await c.nodes()).find((n) => !oldIds.includes(n.id) && n.address === p.address && n.state === meta.NodeState.UP));
  const startedAt = Date.now();
  const { replicaBalanceTolerancePercent, leaderBalanceTolerancePercent } = DYN_META_CONFIG.schedule;
  await c.waitFor(`replicas and leaders spread onto node ${added.id}`, 75_000, async () => {
    const upNodes = (await c.nodes()).filter((n) => n.state === meta.NodeState.UP);
    const per = await c.perNode();
    const reps = (ids: readonly number[]) => ids.map((n) => per.get(n)?.replicas ?? 0);
    const spread = (xs: readonly number[]) => Math.max(...xs) - Math.min(...xs);
    const leaders = upNodes.map((n) => per.get(n.id)?.leaders ?? 0);
    const shardCount = (await c.shards()).length;
    const repTol = tolerance(reps(upNodes.map((n) => n.id)).reduce((x, y) => x + y, 0) / upNodes.length, replicaBalanceTolerancePercent);
    const zoneMates = upNodes.filter((n) => n.zone === added.zone).map((n) => n.id);
    return upNodes.some((n) => n.id === added.id) && (per.get(added.id)?.replicas ?? 0) > 0 && (per.get(added.id)?.leaders ?? 0) > 0 &&
      zoneMates.length === 2 && spread(reps(zoneMates)) <= repTol &&
      spread(leaders) <= tolerance(shardCount / upNodes.length, leaderBalanceTolerancePercent) &&
      leaders.reduce((x, y) => x + y, 0) === shardCount && (await c.runningOperators()).length === 0;
  });
  console.log(`# balanced onto node ${added.id} in ${Date.now() - startedAt} ms`);
  await assertAllAcked();
});

step('split a hash shard and a range shard under live writes: nothing lost, writers see no error', 90_000, async () => {
  const WRITERS = 4;
  const errors: string[] = [];
  let stop = false;
  const writes = Array.from({ length: WRITERS }, () => 0);
  const writer = async (w: number): Promise<void> => {
    const h = db.table(HASH);
    const r = db.table(RANGE);
    for (let i = 0; !stop; i++) {
      try {
        await put(h, HASH, `w${w}-${i}`, `x${i}`);
        await put(r, RANGE, rangeKey(i, `w${w}`), `x${i}`);
        writes[w]!++;
      } catch (e) {
        errors.push(`writer ${w}: ${String(e)}`);
      }
    }
  };
  const running = Array.from({ length: WRITERS }, (_, w) => writer(w));
  try {
    const atLeast = async (n: number) => c.waitFor(`every writer past ${n} writes`, 30_000, async () => writes.every((x) => x >= n));
    await atLeast(10);
    const before = await c.shards();
    const hashShard = before.find((s) => s.table === HASH)!;
    // The middle range shard, [h, q): every writer's keys cycle through it.
    const rangeShard = before.filter((s) => s.table === RANGE)[1]!;
    for (const s of [hashShard, rangeShard]) {
      await c.waitFor(`SplitShard ${s.shard.id} accepted`, 20_000, async () =>
        (await c.admin.admin('splitShard', admin.SplitShardRequest.create({ shardId: s.shard.id }))).operatorId > 0);
    }
    // A hash table doubles (B-Station): splitting one shard splits every shard of the table.
    const hashBefore = before.filter((s) => s.table === HASH).length;
    const rangeBefore = before.filter((s) => s.table === RANGE).length;
    const after = await c.waitFor('the hash table doubled and the range shard split', 45_000, async () => {
      const shards = await c.shards();
      return shards.filter((s) => s.table === HASH).length === 2 * hashBefore && shards.filter((s) => s.table === RANGE).length === rangeBefore + 1 &&
        (await c.runningOperators()).every((o) => o.operator?.kind?.$case !== 'split') && shards;
    });
    const versionOf = (s: ShardView) => s.shard.epoch!.version;
    for (const s of after.filter((x) => x.table === HASH)) {
      const parent = before.find((b) => b.table === HASH && within(s.shard, b.shard));
      assert.ok(parent !== undefined && versionOf(s) > versionOf(parent), `hash shard ${s.shard.id} carries a bumped version`);
    }
    assert.ok(after.some((s) => s.shard.id === hashShard.shard.id), `hash shard ${hashShard.shard.id} kept its id`);
    const halves = after.filter((s) => s.table === RANGE && versionOf(s) > versionOf(rangeShard));
    assert.deepEqual(halves.map((s) => s.shard.id).includes(rangeShard.shard.id), true, `range shard ${rangeShard.shard.id} kept its id with a bumped version`);
    assert.equal(halves.length, 2, `range shard ${rangeShard.shard.id} and its new half carry the bumped version`);
    const reached = Math.max(...writes);
    await atLeast(reached + 20);
  } finally {
    stop = true;
    await Promise.all(running);
  }
  assert.deepEqual(errors, [], 'the SDK absorbed every error during the splits');
  console.log(`# ${writes.reduce((a, b) => a + b, 0)} write pairs during the splits`);
  await assertAllAcked();
});

step('decommission a node: it drains to zero replicas and ends decommissioned', 90_000, async () => {
  const victim = c.nodeProcess('node1');
  const id = (await c.nodes()).find((n) => n.address === victim.address)!.id;
  const res = await c.admin.admin('decommissionNode', admin.DecommissionNodeRequest.create({ nodeId: id }));
  assert.equal(res.node?.state, meta.NodeState.DECOMMISSIONING);
  const startedAt = Date.now();
  const rest = (await nodeIds(meta.NodeState.UP)).filter((n) => n !== id);
  const shards = await c.waitFor(`node ${id} drained and decommissioned`, 75_000, async () => {
    if (!(await nodeIds(meta.NodeState.DECOMMISSIONED)).includes(id)) return undefined;
    const ok = await healthy(rest);
    return ok !== undefined && (await c.shardStatus(victim.address)).length === 0 && ok;
  });
  console.log(`# node ${id} drained in ${Date.now() - startedAt} ms`);
  await assertLeadersAgree(shards);
  await assertAllAcked();
});
