// Goal: close() is graceful and bounded — it refuses new calls, lets calls in flight
// finish within closeTimeoutMs, then cancels the rest (a write already sent reports
// UNKNOWN_OUTCOME, a read CANCELLED), stops the route watch and closes every channel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeCluster } from './testing/fake-cluster.js';
import { codeOf, connect, waitFor } from './testing/helpers.js';

async function cluster(): Promise<FakeCluster> {
  const c = await FakeCluster.start();
  c.createTable({ name: 't', scheme: 'hash', leader: 1 });
  return c;
}

test('after close: new calls fail with CANCELLED, the watch stream and channels are gone', async () => {
  const c = await cluster();
  const db = await connect(c);
  await db.table('t').put('k', 'v');
  await waitFor(() => c.leaderMeta()!.watchers.size === 1, 'the watch stream');
  const scan = db.table('t').scan();
  const closing = db.close();
  assert.equal(db.close(), closing, 'idempotent');
  await closing;
  assert.equal(db.isOpen, false);
  assert.equal(await codeOf(db.table('t').get('k')), 'CANCELLED');
  assert.equal(await codeOf(scan.toArray()), 'CANCELLED');
  assert.equal(await codeOf(db.table('other').put('k', 'v')), 'CANCELLED');
  assert.equal(db._core.pool.size, 0);
  await waitFor(() => c.leaderMeta()!.watchers.size === 0, 'the watch stream to end');
  c.stop();
});

test('close waits for calls in flight that finish within closeTimeoutMs', async () => {
  const c = await cluster();
  const db = await connect(c, { closeTimeoutMs: 2000 });
  try {
    await db.table('t').get('warm-up');
    c.node(1).fault = (r) => (r.method === 'Put' ? { delayMs: 100 } : undefined);
    const put = db.table('t').put('k', 'v');
    await waitFor(() => c.node(1).count('Put') === 1, 'the put to reach the node');
    await db.close();
    assert.deepEqual(await put, { applied: true }, 'finished before close resolved');
  } finally {
    c.stop();
  }
});

test('close cancels calls still running after closeTimeoutMs: sent writes are UNKNOWN_OUTCOME, reads CANCELLED', async () => {
  const c = await cluster();
  const db = await connect(c, { closeTimeoutMs: 100 });
  try {
    await db.table('t').get('warm-up');
    c.node(1).fault = (r) => (r.method === 'Put' || r.method === 'Get' ? { hang: true } : undefined);
    const put = codeOf(db.table('t').put('k', 'v', { timeoutMs: 10_000 }));
    const get = codeOf(db.table('t').get('k', { timeoutMs: 10_000 }));
    await waitFor(() => c.node(1).count('Put') === 1 && c.node(1).count('Get') === 2, 'both calls to reach the node');
    const started = performance.now();
    await db.close();
    assert.ok(performance.now() - started < 100 + 400, 'bounded by closeTimeoutMs');
    assert.equal(await put, 'UNKNOWN_OUTCOME');
    assert.equal(await get, 'CANCELLED');
    assert.equal(c.node(1).count('Put'), 1, 'never re-sent');
  } finally {
    c.stop();
  }
});

test('a call backing off when close runs out of patience ends with CANCELLED', async () => {
  const c = await cluster();
  const db = await connect(c, { closeTimeoutMs: 50, backoffBaseMs: 1000, backoffMaxMs: 1000, random: () => 0.99 });
  try {
    await db.table('t').get('warm-up');
    c.node(1).fault = (r) => (r.method === 'Put' ? { error: 'SERVER_BUSY' } : undefined);
    const put = codeOf(db.table('t').put('k', 'v', { timeoutMs: 10_000 }));
    await waitFor(() => c.node(1).count('Put') === 1, 'the first attempt');
    await db.close();
    assert.equal(await put, 'CANCELLED');
  } finally {
    c.stop();
  }
});

test('many concurrent calls share the close signal without a listener-leak warning', async () => {
  const c = await cluster();
  const db = await connect(c);
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };
  process.on('warning', onWarning);
  try {
    c.node(1).fault = (r) => (r.method === 'Put' ? { delayMs: 50 } : undefined);
    await Promise.all(Array.from({ length: 64 }, (_, i) => db.table('t').put(`k${i}`, 'v')));
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  } finally {
    process.off('warning', onWarning);
    await db.close();
    c.stop();
  }
});
