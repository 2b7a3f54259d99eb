// Goal: the node's background sweeper loop deletes a deleted big hash's subkeys through
// proposals, a bounded number of ranges per step, keeps live collections, carries a cursor
// per shard and forgets shards it no longer leads; a failing shard does not stop the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatchManager } from './latches.js';
import { SubkeySweepLoop } from './sweep-loop.js';
import type { SweepShard } from './sweep-loop.js';
import type { SweepHost } from './sweeper.js';
import { Harness, RANGE_SHARD } from './fixture.js';
import type { RawWrite } from './view.js';

function hostOf(h: Harness, proposed: RawWrite[][]): SweepHost {
  return {
    openView: () => h.view,
    now: () => h.nowMs,
    propose: async (writes) => {
      proposed.push([...writes]);
      h.apply(writes);
    },
  };
}

test('a deleted 20,000-field hash disappears after sweep steps; live data stays', async () => {
  const h = new Harness();
  const args: string[] = [];
  for (let i = 0; i < 20_000; i++) args.push(`f${i}`, `v${i}`);
  assert.equal(await h.call(['HSET', 'big', ...args]), 20_000);
  await h.v('HSET', 'live', 'f', 'v');
  for (let i = 0; i < 5; i++) {
    await h.v('SADD', `s${i}`, 'a', 'b');
    await h.v('DEL', `s${i}`);
  }
  await h.v('DEL', 'big');
  assert.equal(h.entries, 20_000 + 2 + 10);
  const proposed: RawWrite[][] = [];
  const shard: SweepShard = { shardId: 1, shard: RANGE_SHARD, host: hostOf(h, proposed) };
  let listed = true;
  const loop = new SubkeySweepLoop(new LatchManager(), () => (listed ? [shard] : []), { intervalMs: 10, rangesPerStep: 2, examinedPerStep: 1000 });
  let steps = 0;
  while (h.entries > 2 && steps < 50) {
    await loop.step();
    steps++;
  }
  assert.equal(h.entries, 2, 'only the live hash remains');
  assert.ok(proposed.every((b) => b.length <= 2 && b.every((w) => w.type === 'deleteRange')), 'at most rangesPerStep range deletes per proposal');
  assert.equal(loop.deletedTotal, 6);
  assert.deepEqual(await h.v('HGETALL', 'live'), ['f', 'v']);
  listed = false;
  assert.equal(await loop.step(), 0);
});

test('a failing shard is reported and the others are still swept; start/stop run steps on a timer', async () => {
  const h = new Harness();
  await h.v('HSET', 'x', 'f', 'v');
  await h.v('DEL', 'x');
  const failures: number[] = [];
  const bad: SweepShard = {
    shardId: 7, shard: RANGE_SHARD,
    host: { openView: () => { throw new Error('engine closed'); }, now: () => h.nowMs, propose: () => Promise.resolve() },
  };
  const good: SweepShard = { shardId: 1, shard: RANGE_SHARD, host: hostOf(h, []) };
  const loop = new SubkeySweepLoop(new LatchManager(), () => [bad, good], { intervalMs: 5, rangesPerStep: 8, examinedPerStep: 100 },
    (id) => failures.push(id));
  loop.start();
  const deadline = Date.now() + 10_000;
  while (h.entries > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  loop.stop();
  assert.equal(h.entries, 0);
  assert.ok(failures.length >= 1 && failures.every((id) => id === 7));
  assert.throws(() => new SubkeySweepLoop(new LatchManager(), () => [], { intervalMs: 0, rangesPerStep: 1, examinedPerStep: 1 }), /intervalMs/);
});
