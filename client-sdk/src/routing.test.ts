// Goal: the client finds the right node as the cluster changes under it — it follows
// NOT_LEADER hints, repairs its route cache from EPOCH_NOT_MATCH / KEY_NOT_IN_SHARD and
// metaserver reloads, keeps it fresh from WatchRoutes (and reconnects the stream), and
// finds the metaserver leader among several members.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meta } from '@shoal/proto';
import type { RoutesEvent } from './hooks.js';
import { FakeCluster } from './testing/fake-cluster.js';
import { connect, waitFor } from './testing/helpers.js';

/** A range table split at "m": returns [left, right] shard ids. */
function splitTable(c: FakeCluster, name = 't'): [number, number] {
  const [left] = c.createTable({ name, scheme: 'range', leader: 1 });
  const right = c.split(left!, c.keyBound(c.tableId(name), 'm'));
  return [left!, right];
}

test('NOT_LEADER: the hint is followed at once, and remembered for the next call', async () => {
  const c = await FakeCluster.start();
  const [left] = splitTable(c);
  const db = await connect(c, { watchRoutes: false });
  try {
    const t = db.table('t');
    await t.put('a', '1');
    c.moveLeader(left, 2, { publish: false }); // the metaserver does not know yet
    await t.put('b', '2');
    assert.equal(c.node(1).count('Put'), 2, 'old leader: the first put and the rejected one');
    assert.equal(c.node(2).count('Put'), 1, 'the hint led straight to the new leader');
    await t.put('c', '3');
    assert.equal(c.node(1).count('Put'), 2, 'the next call goes straight to the new leader');
    assert.equal(c.node(2).count('Put'), 2);
    assert.equal(await t.get('b', { valueEncoding: 'utf8' }), '2');
    const ids = c.nodes.flatMap((n) => n.seen).filter((s) => s.method === 'Put' && (s.req as { key: Uint8Array }).key[0] === 0x62).map((s) => s.header?.requestId);
    assert.equal(ids.length, 2);
    assert.ok(ids[0] !== 0 && ids[0] === ids[1], 'one request id for every attempt of a call');
  } finally {
    await db.close();
    c.stop();
  }
});

test('NOT_LEADER without a hint: the other voters are asked, and they redirect', async () => {
  const c = await FakeCluster.start();
  splitTable(c);
  const db = await connect(c, { watchRoutes: false });
  try {
    const t = db.table('t');
    await t.get('warm-up');
    let injected = 0;
    c.node(1).fault = (r) => (r.method === 'Put' && injected++ === 0 ? { error: 'NOT_LEADER' } : undefined);
    await t.put('k', 'v');
    assert.equal(c.node(1).count('Put'), 2, 'the leader rejected once, then served the redirected retry');
    assert.equal(c.node(2).count('Put') + c.node(3).count('Put'), 1, 'one other voter was asked and pointed back');
  } finally {
    await db.close();
    c.stop();
  }
});

test('EPOCH_NOT_MATCH after a split the metaserver has not heard of: the node\'s descriptor is enough for its half', async () => {
  const c = await FakeCluster.start();
  const [left] = c.createTable({ name: 't', scheme: 'range', leader: 1 });
  const tid = c.tableId('t');
  const db = await connect(c, { watchRoutes: false });
  try {
    const t = db.table('t');
    await t.put('a', '0');
    const loads = c.leaderMeta()!.count('GetRoutes');
    c.split(left!, c.keyBound(tid, 'm'), { publish: false });
    await t.put('b', '1');
    assert.equal(c.leaderMeta()!.count('GetRoutes'), loads, 'repaired from the node\'s answer alone');
    const puts = c.node(1).seen.filter((s) => s.method === 'Put').map((s) => s.header?.epoch?.version);
    assert.deepEqual(puts, [1, 1, 2], 'the stale attempt, then the retry with the new epoch');
  } finally {
    await db.close();
    c.stop();
  }
});

test('EPOCH_NOT_MATCH into the unknown half: the client reloads routes until the metaserver knows, without double writes', async () => {
  const c = await FakeCluster.start();
  const [left] = c.createTable({ name: 't', scheme: 'range', leader: 1 });
  const tid = c.tableId('t');
  const db = await connect(c, { watchRoutes: false });
  try {
    const t = db.table('t');
    await t.put('a', '0');
    const loads = c.leaderMeta()!.count('GetRoutes');
    const right = c.split(left!, c.keyBound(tid, 'm'), { publish: false });
    const put = t.put('z', '1');
    await waitFor(() => c.leaderMeta()!.count('GetRoutes') > loads, 'a route reload');
    c.publish([left!, right]);
    assert.deepEqual(await put, { applied: true });
    const executed = c.nodes.flatMap((n) => n.seen).filter((s) => s.method === 'Put' && s.header?.shardId === right);
    assert.equal(executed.length, 1, 'sent once to the new shard');
    assert.equal(await t.get('z', { valueEncoding: 'utf8' }), '1');
  } finally {
    await db.close();
    c.stop();
  }
});

test('KEY_NOT_IN_SHARD with an unchanged descriptor: routes are reloaded and the call retried', async () => {
  const c = await FakeCluster.start();
  splitTable(c);
  const db = await connect(c, { watchRoutes: false });
  try {
    const t = db.table('t');
    await t.get('x');
    const loads = c.leaderMeta()!.count('GetRoutes');
    let injected = 0;
    c.node(1).fault = (r) => (r.method === 'Get' && injected++ === 0 ? { error: 'KEY_NOT_IN_SHARD', withShard: true } : undefined);
    assert.equal(await t.get('x'), undefined);
    assert.equal(c.leaderMeta()!.count('GetRoutes'), loads + 1);
  } finally {
    await db.close();
    c.stop();
  }
});

test('WatchRoutes: a published leader move and split reach the cache without any failed request', async () => {
  const c = await FakeCluster.start();
  const [left] = c.createTable({ name: 't', scheme: 'range', leader: 1 });
  const events: RoutesEvent[] = [];
  const db = await connect(c, { hooks: { onRoutesUpdated: (e) => events.push(e) } });
  try {
    const t = db.table('t');
    await t.put('a', '1');
    await waitFor(() => c.leaderMeta()!.watchers.size === 1, 'the watch stream');
    c.moveLeader(left!, 3);
    await waitFor(() => events.some((e) => e.source === 'watch'), 'a watch event');
    await t.put('b', '2');
    assert.equal(c.node(1).count('Put'), 1, 'no attempt at the old leader');
    assert.equal(c.node(3).count('Put'), 1);
    const putsTo = (id: number): number => c.nodes.flatMap((n) => n.seen).filter((s) => s.method === 'Put' && s.header?.shardId === id).length;
    const leftPuts = putsTo(left!);
    const right = c.split(left!, c.keyBound(c.tableId('t'), 'm'));
    await waitFor(() => events.filter((e) => e.source === 'watch').at(-1)?.shardCount === 2, 'the split via watch');
    await t.put('z', '3');
    assert.equal(putsTo(right), 1, 'routed to the new shard on the first attempt');
    assert.equal(putsTo(left!), leftPuts, 'nothing sent to the old range');
  } finally {
    await db.close();
    c.stop();
  }
});

test('WatchRoutes: a broken stream is reopened, and routes changed meanwhile are caught up', async () => {
  const c = await FakeCluster.start();
  const [left] = c.createTable({ name: 't', scheme: 'range', leader: 1 });
  const db = await connect(c);
  try {
    const t = db.table('t');
    await t.get('a');
    const m = c.leaderMeta()!;
    await waitFor(() => m.watchers.size === 1, 'the watch stream');
    const loads = m.count('GetRoutes');
    m.endWatches();
    c.moveLeader(left!, 2); // published while no stream is open: no event reaches the client
    await waitFor(() => m.watchers.size === 1 && m.count('GetRoutes') > loads, 'reload and a new stream');
    await t.put('b', '1');
    assert.equal(c.node(1).count('Put'), 0, 'the reload found the new leader');
    assert.equal(c.node(2).count('Put'), 1);
  } finally {
    await db.close();
    c.stop();
  }
});

test('WatchRoutes: a resync event makes the client reload every watched table', async () => {
  const c = await FakeCluster.start();
  const [shard] = c.createTable({ name: 't', scheme: 'hash', leader: 1 });
  const db = await connect(c);
  try {
    await db.table('t').get('a');
    const m = c.leaderMeta()!;
    await waitFor(() => m.watchers.size === 1, 'the watch stream');
    c.moveLeader(shard!, 2, { publish: false });
    c.publish([shard!], [], { silent: true });
    const loads = m.count('GetRoutes');
    m.push(meta.RouteEvent.create({ routeVersion: c.routeVersion, resync: true }));
    await waitFor(() => m.count('GetRoutes') > loads, 'a reload');
    await waitFor(() => db._core.routesFor('t').routes.byId(shard!)?.leader()?.nodeId === 2, 'the new leader in the cache');
    await db.table('t').put('k', 'v');
    assert.equal(c.node(1).count('Put'), 0);
  } finally {
    await db.close();
    c.stop();
  }
});

test('metaservers: a non-leader redirects, a dead member is skipped, and a new leader is found', async () => {
  const c = await FakeCluster.start({ metas: 3 });
  c.leaderIndex = 2;
  c.metas[1]!.stop();
  c.createTable({ name: 't', scheme: 'hash' });
  // Only the follower and the dead member are configured: the leader is learned.
  const db = await connect(c, { metaservers: [c.metas[0]!.address, c.metas[1]!.address] });
  try {
    const t = db.table('t');
    await t.put('k', 'v');
    assert.equal(c.metas[2]!.count('GetRoutes'), 1, 'the leader served the routes');
    await waitFor(() => c.metas[2]!.watchers.size === 1, 'a watch on the leader');
    // Leadership moves to member 0: the old leader ends its streams; the client follows.
    c.leaderIndex = 0;
    c.metas[2]!.endWatches();
    await waitFor(() => c.metas[0]!.watchers.size === 1, 'a watch on the new leader');
    const [shard] = c.shardsOf(c.tableId('t'));
    c.moveLeader(shard!.id, 3);
    await waitFor(() => db._core.routesFor('t').routes.byId(shard!.id)?.leader()?.nodeId === 3, 'the event from the new leader');
  } finally {
    await db.close();
    c.stop();
  }
});

test('connect fails with UNAVAILABLE within its timeout when no metaserver answers', async () => {
  const c = await FakeCluster.start({ metas: 1 });
  const address = c.metas[0]!.address;
  c.stop();
  const started = performance.now();
  await assert.rejects(connect(c, { metaservers: [address], timeoutMs: 300 }), { code: 'UNAVAILABLE' });
  assert.ok(performance.now() - started < 300 + 200, 'within the timeout plus slack');
});
