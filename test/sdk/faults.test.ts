// The SDK against a real cluster under faults (3 metaservers, 3 storage nodes as processes):
// follower and stale reads are served by followers (node metrics), a kill -9 of a shard
// leader's node and an Admin SplitShard during a stream of SDK calls cost only latency,
// deadlines hold against a shard without quorum, and a write whose leader lost its quorum
// is reported UNKNOWN_OUTCOME — never success for a write that is absent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isKvError } from '@shoal/client-sdk';
import type { CallEvent, RoutesEvent, Shoal, Table } from '@shoal/client-sdk';
import { admin, meta } from '@shoal/proto';
import type { DynCluster } from '../cluster/dyn-harness.js';
import { connect, grown, nodeAddresses, nodeName, scrapeAll, startCluster, until, waitLeaders } from './sdk-harness.js';
import { CallStream } from './stream.js';

/** The deadline bound the tests assert: a loose correctness bound on a shared 2-core machine. */
const DEADLINE_SLACK_MS = 1500;
/** How much before its deadline a failing call may end (the last attempt's budget, timers). */
const EARLY_MS = 200;
const WRITERS = 4;
const READERS = 2;

let c: DynCluster;
let db: Shoal;
let s: Table;
let q: Table;
const calls: CallEvent[] = [];
const routeEvents: RoutesEvent[] = [];

before(async () => {
  c = await startCluster([
    { name: 's', partition: 'hash', shards: 2 },
    // One shard: the quorum tests kill the two nodes that do not lead it.
    { name: 'q', partition: 'range' },
  ]);
  // Long enough for an election plus a route refresh; the calls must not fail meanwhile.
  db = await connect(c, 20_000, {
    onCall: (e) => {
      if (e.code !== undefined) calls.push(e);
    },
    onRoutesUpdated: (e) => routeEvents.push(e),
  });
  s = db.table('s');
  q = db.table('q');
});

after(async () => {
  await db?.close();
  await c?.stop();
});

test('follower and stale reads are served by followers, linearizable reads only by leaders', async () => {
  const keys = Array.from({ length: 30 }, (_, i) => `fr:${i}`);
  await s.batchWrite(keys.map((k) => ({ type: 'put', key: k, value: k })));
  const reads = async (n: number, options: Parameters<Table['get']>[1]) => {
    for (let i = 0; i < n; i++) assert.deepEqual(await s.get(keys[i % keys.length]!, options), new TextEncoder().encode(keys[i % keys.length]!));
  };

  let before = await scrapeAll(c);
  await reads(300, { consistency: 'follower' });
  let now = await scrapeAll(c);
  const followerTotal = grown(before, now, 'follower/follower') + grown(before, now, 'follower/leader');
  assert.equal(followerTotal, 300, 'every follower read is counted once');
  // Round-robin over 3 replicas: about 200 of 300 land on followers.
  assert.ok(grown(before, now, 'follower/follower') >= 100, `followers served ${grown(before, now, 'follower/follower')} of 300 follower reads`);

  before = now;
  await reads(150, { consistency: 'stale', maxStalenessMs: 0 });
  now = await scrapeAll(c);
  assert.ok(grown(before, now, 'stale/follower') >= 50, `followers served ${grown(before, now, 'stale/follower')} of 150 stale reads`);

  before = now;
  await reads(150, { consistency: 'linearizable' });
  now = await scrapeAll(c);
  assert.equal(grown(before, now, 'linearizable/follower'), 0, 'no linearizable read on a follower');
  assert.equal(grown(before, now, 'linearizable/leader'), 150);
});

/** Waits until the stream made `n` more acknowledged writes (and some reads) than now. */
async function progress(stream: CallStream, n: number, what: string): Promise<void> {
  const writes = stream.writes + n;
  const reads = stream.reads + 10;
  await until(`${n} more writes ${what}`, () => stream.writes >= writes && stream.reads >= reads);
}

test('kill -9 of a shard leader\'s node and its restart during a stream of calls: only latency', async () => {
  const stream = new CallStream(s, 'kill', WRITERS, READERS);
  let killedAt = 0;
  try {
    await progress(stream, 50, 'before the kill');
    const shard = (await c.shards()).find((x) => x.table === 's')!;
    const address = (await nodeAddresses(c)).get(shard.leaderNode)!;
    const name = nodeName(c, address);
    await c.lc.kill(name, 'SIGKILL');
    killedAt = Date.now();
    await progress(stream, 100, `with ${name} (leader of shard ${shard.shard.id}) dead`);
    await c.lc.restart(name);
    await waitLeaders(c);
    await progress(stream, 100, `after ${name} restarted`);
  } finally {
    await stream.stop();
  }
  // Only a write in flight on the killed node's connection may have an unknown outcome
  // (the SDK never re-sends one): at most one per writer, and none started after the kill.
  const unknown = stream.failures.filter((f) => f.code === 'UNKNOWN_OUTCOME' && f.op === 'put' && f.startedAt <= killedAt);
  const others = stream.failures.filter((f) => !unknown.includes(f));
  assert.deepEqual(others, [], 'no other error reaches the caller');
  assert.ok(unknown.length <= WRITERS, `${unknown.length} unknown outcomes`);
  await stream.verify();
  console.log(`kill: ${stream.writes} writes, ${stream.reads} reads, ${unknown.length} unknown, max latency ${stream.maxLatencyMs} ms`);
});

test('an Admin SplitShard of a shard in use during a stream of calls: no error, routes follow', async () => {
  const shardsBefore = (await s.describe()).shardCount;
  const eventsBefore = routeEvents.length;
  const stream = new CallStream(s, 'split', WRITERS, READERS);
  try {
    await progress(stream, 50, 'before the split');
    const shard = (await c.shards()).find((x) => x.table === 's')!;
    const { operatorId } = await c.admin.admin('splitShard', admin.SplitShardRequest.create({ shardId: shard.shard.id }));
    await c.waitFor(`split operator ${operatorId}`, 60_000, async () => {
      const ops = (await c.admin.admin('listOperators', admin.ListOperatorsRequest.create({ shardId: shard.shard.id, includeFinished: true }))).operators;
      const st = ops.find((o) => o.operator?.id === operatorId)?.status?.state;
      if (st !== undefined && st !== meta.OperatorState.RUNNING && st !== meta.OperatorState.SUCCEEDED) throw new Error(`split operator ended in state ${st}`);
      return st === meta.OperatorState.SUCCEEDED;
    });
    await progress(stream, 100, 'after the split');
    // The client learnt the new shard (WatchRoutes, or an EPOCH_NOT_MATCH refresh).
    await until('the SDK route cache to hold the new shard', async () => (await s.describe()).shardCount > shardsBefore);
  } finally {
    await stream.stop();
  }
  assert.deepEqual(stream.failures, [], 'no error reaches the caller');
  const learnt = routeEvents.slice(eventsBefore).filter((e) => e.table === 's' && e.source !== 'meta');
  assert.ok(learnt.length > 0, 'the split reached the client by WatchRoutes or a node\'s EPOCH_NOT_MATCH');
  await stream.verify();
  await stream.verifyScan();
  console.log(`split: ${stream.writes} writes, ${stream.reads} reads, max latency ${stream.maxLatencyMs} ms`);
});

/** Runs `f`, returning its error and how long it took; fails if it succeeds. */
async function failure(f: () => Promise<unknown>): Promise<{ code: string; ms: number; error: unknown }> {
  const t0 = Date.now();
  try {
    const v = await f();
    assert.fail(`expected a failure, got ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`);
  } catch (e) {
    if (!isKvError(e)) throw e;
    return { code: e.code, ms: Date.now() - t0, error: e };
  }
}

test('no quorum: deadlines honoured; a write whose leader lost its quorum is UNKNOWN_OUTCOME, never a false success', async () => {
  await q.put('present', 'yes');
  const shard = (await c.shards()).find((x) => x.table === 'q')!;
  const addresses = await nodeAddresses(c);
  const followers = shard.shard.replicas.filter((r) => r.nodeId !== shard.leaderNode).map((r) => nodeName(c, addresses.get(r.nodeId)!));
  assert.equal(followers.length, 2);
  await Promise.all(followers.map((n) => c.lc.kill(n, 'SIGKILL')));

  // Usually the leader has not noticed yet: it accepts the put, proposes it, and cannot
  // commit it → UNKNOWN_OUTCOME, sent once. On a loaded machine check-quorum may already have
  // deposed it (CI saw "leader unknown"): then nothing was sent to a leader → TIMEOUT, and
  // the write must be absent after healing (checked below). Never a success.
  const lost = await failure(() => q.put('lost', 'maybe', { timeoutMs: 2000 }));
  assert.ok(lost.code === 'UNKNOWN_OUTCOME' || lost.code === 'TIMEOUT', String(lost.error));
  assert.ok(lost.ms < 2000 + DEADLINE_SLACK_MS, `put took ${lost.ms} ms with timeoutMs 2000`);
  const lostCall = calls.findLast((e) => e.op === 'put' && e.table === 'q');
  assert.equal(lostCall?.code, lost.code);
  if (lost.code === 'UNKNOWN_OUTCOME') assert.equal(lostCall.attempts, 1, 'a write of unknown outcome is not re-sent');

  const read = await failure(() => q.get('present', { timeoutMs: 1000 }));
  assert.equal(read.code, 'TIMEOUT', String(read.error));
  assert.ok(read.ms < 1000 + DEADLINE_SLACK_MS, `get took ${read.ms} ms with timeoutMs 1000`);
  // Nor does it give up early: the cluster could heal until the deadline (EARLY_MS: timer slack).
  assert.ok(read.ms >= 1000 - EARLY_MS, `get gave up after ${read.ms} ms of its 1000`);
  const many = await failure(() => s.getMany(['a', 'b', 'c'], { timeoutMs: 800 }));
  assert.equal(many.code, 'TIMEOUT', String(many.error));
  assert.ok(many.ms < 800 + DEADLINE_SLACK_MS, `getMany took ${many.ms} ms with timeoutMs 800`);

  const follower = await failure(() => q.get('present', { consistency: 'follower', timeoutMs: 1000 }));
  assert.equal(follower.code, 'TIMEOUT', String(follower.error));
  assert.ok(follower.ms < 1000 + DEADLINE_SLACK_MS, `follower get took ${follower.ms} ms with timeoutMs 1000`);
  assert.ok(follower.ms >= 1000 - EARLY_MS, `follower get gave up after ${follower.ms} ms of its 1000`);
  // A stale read needs no quorum: the SDK skips the dead replicas and reads the live one.
  for (let i = 0; i < 3; i++) {
    assert.equal(await q.get('present', { consistency: 'stale', maxStalenessMs: 0, timeoutMs: 3000, valueEncoding: 'utf8' }), 'yes');
  }

  // Later writes: the leader may have stepped down (nothing sent → TIMEOUT) or not (UNKNOWN_OUTCOME).
  const later = await failure(() => q.put('later', 'maybe', { timeoutMs: 1000 }));
  assert.ok(later.code === 'TIMEOUT' || later.code === 'UNKNOWN_OUTCOME', String(later.error));
  assert.ok(later.ms < 1000 + DEADLINE_SLACK_MS, `put took ${later.ms} ms with timeoutMs 1000`);

  await Promise.all(followers.map((n) => c.lc.restart(n)));
  await waitLeaders(c);
  const after = await q.getMany(['present', 'lost', 'later'], { valueEncoding: 'utf8' });
  assert.equal(after[0], 'yes');
  assert.ok(after[1] === undefined || after[1] === 'maybe');
  if (lost.code === 'TIMEOUT') assert.equal(after[1], undefined, 'a TIMEOUT write must not have been applied');
  if (later.code === 'TIMEOUT') assert.equal(after[2], undefined, 'a TIMEOUT write must not have been applied');
  assert.deepEqual(await q.put('healed', 'ok'), { applied: true });
  console.log(`no quorum: put ${lost.code} in ${lost.ms} ms (applied after healing: ${after[1] !== undefined}), get TIMEOUT in ${read.ms} ms, later put ${later.code} in ${later.ms} ms`);
});

test('metaserver leader killed: the client keeps serving and learns a later split without traffic to it', async () => {
  await q.put('m1', 'x');
  await q.put('z1', 'y');
  const leader = await c.lc.metaLeader();
  await c.lc.kill(`meta${leader.id}`, 'SIGKILL');
  try {
    // Calls on a loaded table need no metaserver.
    assert.equal(await s.get('fr:1', { valueEncoding: 'utf8' }), 'fr:1');
    const mark = routeEvents.length;
    const shard = (await c.shards()).find((x) => x.table === 'q')!;
    const before = (await q.describe()).shardCount;
    const { operatorId } = await c.admin.admin('splitShard', admin.SplitShardRequest.create({ shardId: shard.shard.id }));
    await c.waitFor(`split operator ${operatorId}`, 60_000, async () => {
      const ops = (await c.admin.admin('listOperators', admin.ListOperatorsRequest.create({ shardId: shard.shard.id, includeFinished: true }))).operators;
      const st = ops.find((o) => o.operator?.id === operatorId)?.status?.state;
      if (st !== undefined && st !== meta.OperatorState.RUNNING && st !== meta.OperatorState.SUCCEEDED) throw new Error(`split operator ended in state ${st}`);
      return st === meta.OperatorState.SUCCEEDED;
    });
    // No call touched q meanwhile: only the (re-opened) watch or its resync can tell the client.
    await until('the split of q in the client\'s routes', async () => (await q.describe()).shardCount > before);
    const sources = routeEvents.slice(mark).filter((e) => e.table === 'q').map((e) => e.source);
    assert.ok(!sources.includes('node'), `learnt from ${sources.join(', ')}`);
    assert.deepEqual(await q.getMany(['m1', 'z1'], { valueEncoding: 'utf8' }), ['x', 'y']);
    console.log(`meta leader killed: split learnt from ${sources.join(', ')}`);
  } finally {
    await c.lc.restart(`meta${leader.id}`);
  }
});
