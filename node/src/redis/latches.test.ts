// Goal: latches serialize commands per key in FIFO order, never deadlock on overlapping
// multi-key sets (randomized), keep mutual exclusion, bound their queues with SERVER_BUSY,
// and let aborted waiters leave without blocking the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError } from '@shoal/common';
import { LatchManager } from './latches.js';
import type { LatchGuard } from './latches.js';
import { seeded } from './fixture.js';

const k = (s: string): Uint8Array => new TextEncoder().encode(s);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('one key: FIFO grants', async () => {
  const l = new LatchManager();
  const order: string[] = [];
  const a = await l.acquire([k('x')]);
  const pb = l.acquire([k('x')]).then((g) => (order.push('b'), g));
  const pc = l.acquire([k('x')]).then((g) => (order.push('c'), g));
  await tick();
  assert.deepEqual(order, []);
  assert.deepEqual(l.stats(), { keys: 1, waiting: 2 });
  a.release();
  const b = await pb;
  await tick();
  assert.deepEqual(order, ['b']);
  b.release();
  (await pc).release();
  assert.deepEqual(order, ['b', 'c']);
  assert.deepEqual(l.stats(), { keys: 0, waiting: 0 });
});

test('multi-key: queued on all keys at once, granted when head of every queue', async () => {
  const l = new LatchManager();
  const x = await l.acquire([k('b'), k('a'), k('a')]);
  let yGranted = false;
  let zGranted = false;
  const py = l.acquire([k('b'), k('c')]).then((g) => ((yGranted = true), g));
  const pz = l.acquire([k('c')]).then((g) => ((zGranted = true), g));
  await tick();
  assert.equal(yGranted, false);
  assert.equal(zGranted, false, 'FIFO: z queued behind y on c although c is not held');
  assert.equal(l.tryAcquire([k('a')]), undefined);
  assert.ok(l.tryAcquire([k('free')]) !== undefined);
  x.release();
  const y = await py;
  await tick();
  assert.equal(zGranted, false);
  y.release();
  (await pz).release();
});

test('random overlapping multi-key commands never deadlock and stay mutually exclusive', async () => {
  const l = new LatchManager({ waitersMax: 10_000 });
  const rnd = seeded(7);
  const held = new Set<string>();
  let done = 0;
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  const task = async (): Promise<void> => {
    const mine = keys.filter(() => rnd() < 0.4);
    if (mine.length === 0) mine.push('a');
    mine.sort(() => rnd() - 0.5);
    const g = await l.acquire(mine.map(k));
    for (const m of mine) {
      assert.ok(!held.has(m), `key ${m} held twice`);
      held.add(m);
    }
    const waits = Math.floor(rnd() * 3);
    for (let i = 0; i < waits; i++) await tick();
    for (const m of mine) held.delete(m);
    g.release();
    done++;
  };
  await Promise.all(Array.from({ length: 300 }, task));
  assert.equal(done, 300);
  assert.deepEqual(l.stats(), { keys: 0, waiting: 0 });
});

test('bounded: SERVER_BUSY when too many wait, overall or on one key', async () => {
  const l = new LatchManager({ waitersMax: 2, queuePerKeyMax: 3, busyRetryAfterMs: 25 });
  const g = await l.acquire([k('a')]);
  const w1 = l.acquire([k('a')]);
  const w2 = l.acquire([k('a')]);
  await assert.rejects(l.acquire([k('a')]), (e: unknown) => isKvError(e) && e.code === 'SERVER_BUSY' && e.details?.retryAfterMs === 25);
  await assert.rejects(l.acquire([k('b'), k('a')]), (e: unknown) => isKvError(e) && e.code === 'SERVER_BUSY');
  assert.ok(l.tryAcquire([k('b')]) !== undefined, 'free keys never wait');
  g.release();
  (await w1).release();
  (await w2).release();
  await assert.rejects(new LatchManager({ keysPerCommandMax: 1 }).acquire([k('a'), k('b')]), (e: unknown) => isKvError(e) && e.code === 'REQUEST_TOO_LARGE');
  assert.throws(() => new LatchManager({ waitersMax: 0 }), (e: unknown) => isKvError(e) && e.code === 'CONFIG_INVALID');
});

test('an aborted waiter leaves every queue; the next one proceeds', async () => {
  const l = new LatchManager();
  const holder = await l.acquire([k('a')]);
  const ac = new AbortController();
  const aborted = l.acquire([k('a'), k('b')], ac.signal);
  let third: LatchGuard | undefined;
  const p3 = l.acquire([k('b')]).then((g) => (third = g));
  await tick();
  assert.equal(third, undefined, 'queued behind the waiter on b');
  ac.abort();
  await assert.rejects(aborted, (e: unknown) => isKvError(e) && e.code === 'TIMEOUT');
  const g3 = await p3;
  g3.release();
  holder.release();
  holder.release();
  assert.deepEqual(l.stats(), { keys: 0, waiting: 0 });
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(l.acquire([k('a')], pre.signal), (e: unknown) => isKvError(e) && e.code === 'TIMEOUT');
});
