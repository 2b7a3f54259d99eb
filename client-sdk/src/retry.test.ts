// Goal: the retry policy — retryable rejections are retried with back-off inside the
// deadline; a call never outlives its timeoutMs by more than a small slack; a write whose
// outcome is unknown (no answer, connection lost) fails with UNKNOWN_OUTCOME after exactly
// one attempt, while a write that provably was not sent (node unreachable) is retried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvError } from '@shoal/common';
import { PartialWriteError } from './errors.js';
import type { CallEvent, RetryEvent } from './hooks.js';
import { FakeCluster } from './testing/fake-cluster.js';
import { codeOf, connect, text } from './testing/helpers.js';
import { backoffMs } from './timing.js';

/**
 * How far past its deadline a call may end in these tests. The SDK itself overshoots by a
 * few ms; the rest is event-loop lag when test files run in parallel on a loaded machine.
 */
const SLACK_MS = 200;

async function timed<T>(p: Promise<T>): Promise<{ ms: number; result: T | KvError }> {
  const started = performance.now();
  try {
    // Await first: in an object literal `ms` would be computed before `p` settles.
    const result = await p;
    return { ms: performance.now() - started, result };
  } catch (e) {
    if (!(e instanceof KvError)) throw e;
    return { ms: performance.now() - started, result: e };
  }
}

async function cluster(): Promise<FakeCluster> {
  const c = await FakeCluster.start();
  c.createTable({ name: 't', scheme: 'hash', leader: 1 });
  return c;
}

test('back-off: full jitter stays within [0, min(max, base·2^n)]', () => {
  for (let n = 0; n < 40; n++) {
    assert.equal(backoffMs(n, 10, 1000, () => 0), 0);
    assert.equal(backoffMs(n, 10, 1000, () => 0.999999), Math.min(1000, 10 * 2 ** n));
  }
});

test('retryable rejections (SERVER_BUSY with retryAfterMs, NOT_READY) are retried, then succeed', async () => {
  const c = await cluster();
  const retries: RetryEvent[] = [];
  const calls: CallEvent[] = [];
  const db = await connect(c, { hooks: { onRetry: (e) => retries.push(e), onCall: (e) => calls.push(e) } });
  try {
    const faults = ['SERVER_BUSY', 'NOT_READY', 'PROPOSAL_DROPPED'] as const;
    let n = 0;
    c.node(1).fault = (r) => (r.method === 'Put' && n < faults.length ? { error: faults[n++]!, retryAfterMs: 30 } : undefined);
    assert.deepEqual(await db.table('t').put('k', 'v'), { applied: true });
    assert.equal(c.node(1).count('Put'), 4);
    assert.deepEqual(retries.map((r) => r.code), [...faults]);
    assert.ok(retries.every((r) => r.delayMs >= 30), 'the server\'s retryAfterMs is honoured');
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2, 3]);
    const put = calls.find((e) => e.op === 'put')!;
    assert.equal(put.attempts, 4);
    assert.equal(put.code, undefined, 'it succeeded');
    assert.ok(put.durationMs >= 90);
    await db.table('t').incr('k').catch(() => undefined);
    assert.equal(calls.at(-1)!.code, 'INVALID_ARGUMENT', 'failures are reported with their code');
  } finally {
    await db.close();
    c.stop();
  }
});

test('a write rejected until its deadline ends with TIMEOUT on time, and nothing applied', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    c.node(1).fault = (r) => (r.method === 'Put' ? { error: 'SERVER_BUSY' } : undefined);
    const { ms, result } = await timed(db.table('t').put('k', 'v', { timeoutMs: 300 }));
    assert.ok(result instanceof KvError, String(result));
    if (result.code === 'TIMEOUT') {
      assert.equal((result.cause as KvError).code, 'SERVER_BUSY');
    } else {
      // On a loaded machine the last retry, sent just before the deadline, may miss it: the
      // SDK cannot tell that from a write that ran, so it must say UNKNOWN_OUTCOME.
      assert.equal(result.code, 'UNKNOWN_OUTCOME');
    }
    assert.ok(ms <= 300 + SLACK_MS, `took ${ms} ms`);
    assert.ok(c.node(1).count('Put') > 2, 'it was retried');
    c.node(1).fault = undefined;
    assert.equal(await db.table('t').get('k'), undefined);
  } finally {
    await db.close();
    c.stop();
  }
});

test('a back-off drawn past the deadline is cut short: the call still tries just before its deadline', async () => {
  const c = await cluster();
  // random() ≈ 1 draws the longest back-off: 2 s, past the 600 ms deadline.
  const db = await connect(c, { backoffBaseMs: 2000, backoffMaxMs: 2000, random: () => 0.999 });
  try {
    const started = performance.now();
    // Not ready until 300 ms into the call: only an attempt after that succeeds.
    c.node(1).fault = (r) => (r.method === 'Get' && performance.now() - started < 300 ? { error: 'NOT_READY' } : undefined);
    const { ms, result } = await timed(db.table('t').get('k', { timeoutMs: 600 }));
    assert.equal(result, undefined, `a retry before the deadline succeeds, not ${String(result)}`);
    assert.ok(ms >= 300 && ms <= 600 + SLACK_MS, `took ${ms} ms`);
    assert.equal(c.node(1).count('Get'), 2, 'one retry, just before the deadline');
  } finally {
    await db.close();
    c.stop();
  }
});

test('a read whose node never answers ends with TIMEOUT on time', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    await db.table('t').get('warm-up');
    c.node(1).fault = (r) => (r.method === 'Get' ? { hang: true } : undefined);
    const { ms, result } = await timed(db.table('t').get('k', { timeoutMs: 250 }));
    assert.ok(result instanceof KvError && result.code === 'TIMEOUT', String(result));
    assert.ok(ms <= 250 + SLACK_MS, `took ${ms} ms`);
  } finally {
    await db.close();
    c.stop();
  }
});

test('two nodes naming each other leader: bounded attempts, TIMEOUT on time', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    await db.table('t').get('warm-up');
    const d = c.shardsOf(c.tableId('t'))[0]!;
    const hintTo = (nodeId: number): { error: 'NOT_LEADER'; leaderHint: { nodeId: number; peerId: number; address: string } } => ({
      error: 'NOT_LEADER', leaderHint: { nodeId, peerId: d.replicas.find((r) => r.nodeId === nodeId)!.peerId, address: c.node(nodeId).address },
    });
    c.node(1).fault = () => hintTo(2);
    c.node(2).fault = () => hintTo(1);
    c.node(3).fault = () => hintTo(1);
    const { ms, result } = await timed(db.table('t').put('k', 'v', { timeoutMs: 300 }));
    // TIMEOUT normally; UNKNOWN_OUTCOME is also truthful if the last attempt was sent and
    // its answer came a moment too late (a loaded machine).
    assert.ok(result instanceof KvError && (result.code === 'TIMEOUT' || result.code === 'UNKNOWN_OUTCOME'), String(result));
    assert.ok(ms <= 300 + SLACK_MS, `took ${ms} ms`);
    const attempts = c.nodes.reduce((n, x) => n + x.count('Put'), 0);
    assert.ok(attempts < 100, `back-off kept the attempts down (${attempts})`);
  } finally {
    await db.close();
    c.stop();
  }
});

test('unknown outcome: a put that is never answered fails with UNKNOWN_OUTCOME after exactly one attempt', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    c.node(1).fault = (r) => (r.method === 'Put' ? { hang: true } : undefined);
    const { ms, result } = await timed(db.table('t').put('k', 'v', { timeoutMs: 250 }));
    assert.ok(result instanceof KvError && result.code === 'UNKNOWN_OUTCOME', String(result));
    assert.equal((result.cause as KvError).code, 'TIMEOUT');
    assert.ok(ms <= 250 + SLACK_MS, `took ${ms} ms`);
    assert.equal(c.nodes.reduce((n, x) => n + x.count('Put'), 0), 1, 'never re-sent');
  } finally {
    await db.close();
    c.stop();
  }
});

test('unknown outcome: an incr applied but unanswered is not re-sent (the counter moved once)', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    c.node(1).fault = (r) => (r.method === 'Incr' ? { applyThenHang: true } : undefined);
    assert.equal(await codeOf(db.table('t').incr('n', 5, { timeoutMs: 200 })), 'UNKNOWN_OUTCOME');
    assert.equal(c.node(1).count('Incr'), 1);
    c.node(1).fault = undefined;
    assert.equal(await db.table('t').get('n', { valueEncoding: 'utf8' }), '5');
  } finally {
    await db.close();
    c.stop();
  }
});

test('unknown outcome: the connection drops after the write was sent — reported at once, not re-sent', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    await db.table('t').get('warm-up');
    c.node(1).fault = (r) => (r.method === 'Delete' ? { applyThenDrop: true } : undefined);
    await db.table('t').put('k', 'v');
    const { ms, result } = await timed(db.table('t').delete('k', { timeoutMs: 2000 }));
    assert.ok(result instanceof KvError && result.code === 'UNKNOWN_OUTCOME', String(result));
    assert.ok(ms < 1000, `reported when the connection dropped, not at the deadline (${ms} ms)`);
    assert.equal(c.node(1).count('Delete'), 1);
  } finally {
    await db.close();
    c.stop();
  }
});

test('unknown outcome in one part of a multi-shard batch: PartialWriteError says which part', async () => {
  const c = await FakeCluster.start();
  const [left] = c.createTable({ name: 'r', scheme: 'range', leader: 1 });
  const right = c.split(left!, c.keyBound(c.tableId('r'), 'm'));
  c.moveLeader(right, 2);
  const db = await connect(c);
  try {
    await db.table('r').getMany(['a', 'z']); // routes loaded, connections up
    c.node(2).fault = (r) => (r.method === 'BatchWrite' ? { hang: true } : undefined);
    const e = await db.table('r').batchWrite([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'z', value: '2' }], { timeoutMs: 1000 })
      .then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof PartialWriteError, String(e));
    assert.equal(e.code, 'UNKNOWN_OUTCOME');
    assert.deepEqual(e.parts.map((p) => [p.status, p.opIndexes]).sort(), [['applied', [0]], ['unknown', [1]]]);
    assert.equal(c.node(2).count('BatchWrite'), 1);
  } finally {
    await db.close();
    c.stop();
  }
});

test('a write to an unreachable leader was never sent: it is retried and lands on the new leader once', async () => {
  const c = await cluster();
  const db = await connect(c, { watchRoutes: false });
  try {
    const t = db.table('t');
    await t.put('a', '1');
    c.node(1).stop();
    c.moveLeader(c.shardsOf(c.tableId('t'))[0]!.id, 2); // the metaserver knows; the client does not yet
    assert.deepEqual(await t.put('b', '2'), { applied: true });
    assert.equal(c.node(2).count('Put'), 1, 'sent once, to the new leader');
    assert.equal(await t.get('b', { valueEncoding: 'utf8' }), '2');
  } finally {
    await db.close();
    c.stop();
  }
});

test('reads are retried on another replica when one is unreachable', async () => {
  const c = await cluster();
  const db = await connect(c);
  try {
    const t = db.table('t');
    await t.put('k', 'v');
    c.node(2).stop();
    for (let i = 0; i < 6; i++) assert.deepEqual(await t.get('k', { consistency: 'follower' }), text('v'));
    assert.equal(c.node(2).count('Get'), 0);
  } finally {
    await db.close();
    c.stop();
  }
});
