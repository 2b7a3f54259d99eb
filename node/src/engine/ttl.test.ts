// Goal: expiry is stored with the value, reads never return an expired key, every expiry
// decision at apply uses the command's stamp (so two replicas applying the same commands end
// in identical state), and the sweeper's expiredKeys + ExpireDelete reclaim the space.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kv } from '@shoal/proto';
import {
  applyAll, applyOne, b, cas, cmd, del, delRange, dump, expireDelete, HASH_TABLE, incr, openWithShard, put, reply,
  str, tempDir,
} from './fixture.js';
import type { Op } from './fixture.js';
import { resolveExpireAt } from './validate.js';

test('reads hide a key from its expiry instant on, and report the expiry before', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyOne(e, 1, put('k', 'v', { expireAtUnixMs: 10_000 }));
  assert.deepEqual({ ...e.get(1, b('k'), 9_999), value: str(e.get(1, b('k'), 9_999).value) }, { found: true, value: 'v', expireAtUnixMs: 10_000 });
  assert.equal(e.get(1, b('k'), 10_000).found, false);
  const [r] = await e.batchGet(1, [b('k')], 10_001);
  assert.equal(r!.found, false);
  const page = await e.scan(1, { startKey: new Uint8Array(0), endKey: new Uint8Array(0), limit: 10, reverse: false, keysOnly: false }, 10_001);
  assert.deepEqual(page.pairs, []);
});

test('apply judges expiry at the command stamp, not the local clock', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyOne(e, 1, put('k', 'old', { expireAtUnixMs: 5_000 }), 1_000);
  // Before expiry at the stamp: the key exists, so IF_ABSENT does not apply.
  let r = reply(await applyOne(e, 1, put('k', 'x', { condition: kv.PutCondition.IF_ABSENT }), 4_999), 'put');
  assert.equal(r.applied, false);
  // At a later stamp it is gone, whatever the wall clock says.
  r = reply(await applyOne(e, 1, put('k', 'new', { condition: kv.PutCondition.IF_ABSENT, returnPrevious: true }), 5_000), 'put');
  assert.deepEqual([r.applied, r.previousFound], [true, false]);
  assert.equal(e.get(1, b('k'), 0).expireAtUnixMs, 0);
});

test('the same commands on two engines give identical state', async (t) => {
  const ops: [Op, number][] = [];
  for (let i = 0; i < 200; i++) {
    const k = `k${i % 37}`;
    const stamp = 1_000 + i * 10;
    switch (i % 7) {
      case 0: ops.push([put(k, `v${i}`, { expireAtUnixMs: stamp + 50 }), stamp]); break;
      case 1: ops.push([put(k, `w${i}`, { condition: kv.PutCondition.IF_ABSENT, expireAtUnixMs: stamp + 300 }), stamp]); break;
      case 2: ops.push([incr(`n${i % 5}`, BigInt(i), stamp + 120), stamp]); break;
      case 3: ops.push([cas(k, { expectAbsent: true, newValue: b(`c${i}`), expireAtUnixMs: stamp + 80 }), stamp]); break;
      case 4: ops.push([del(k), stamp]); break;
      case 5: ops.push([put(k, 'x'.repeat(2000 + i), { condition: kv.PutCondition.IF_PRESENT }), stamp]); break;
      default: ops.push([i % 3 === 0 ? delRange('k1', 'k2') : expireDelete([b(k), b(`k${(i + 1) % 37}`)]), stamp]);
    }
  }
  const dumps: string[][] = [];
  const outcomes: string[][] = [];
  for (const table of [HASH_TABLE, HASH_TABLE]) {
    const e = await openWithShard(tempDir(t), table);
    const outs: string[] = [];
    // Different batching per engine: the state must not depend on it.
    const size = dumps.length === 0 ? 1 : 13;
    for (let i = 0; i < ops.length; i += size) {
      const res = await applyAll(e, 1, ops.slice(i, i + size).map(([op, stamp]) => cmd(1, op, stamp)));
      for (const o of res) outs.push(o.ok ? JSON.stringify(o.value.response, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : o.error.code);
    }
    dumps.push(await dump(e, 1));
    outcomes.push(outs);
    await e.close();
  }
  assert.ok(dumps[0]!.length > 0);
  assert.deepEqual(dumps[1], dumps[0]);
  assert.deepEqual(outcomes[1], outcomes[0]);
});

test('the sweeper finds expired keys round-robin and ExpireDelete reclaims them', async (t) => {
  const e = await openWithShard(tempDir(t), undefined, { scanExaminedKeysMax: 30 });
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 100 }, (_, i) => cmd(1, put(`k${String(i).padStart(3, '0')}`, 'v', { expireAtUnixMs: i % 2 === 0 ? 2_000 : 0 }))));
  const found = new Set<string>();
  for (let round = 0; round < 10; round++) {
    for (const k of await e.expiredKeys(1, 3_000, 7)) found.add(str(k));
  }
  assert.equal(found.size, 50, 'every expired key is found within a few bounded calls');
  // One key was rewritten without expiry after the sweep saw it: ExpireDelete leaves it.
  await applyOne(e, 1, put('k000', 'fresh'), 3_000);
  const r = reply(await applyOne(e, 1, expireDelete([...found].map(b)), 3_000), 'expireDelete');
  assert.equal(r.deletedCount, 49);
  assert.equal((await dump(e, 1)).length, 51, 'expired keys are physically gone');
  assert.deepEqual(await e.expiredKeys(1, 3_000, 100), []);
});

test('proposers resolve TTLs into absolute expiries', () => {
  assert.equal(resolveExpireAt(undefined, 0, 1_000), 0);
  assert.equal(resolveExpireAt(undefined, 60_000, 1_000), 61_000);
  assert.equal(resolveExpireAt(0, 60_000, 1_000), 0);
  assert.equal(resolveExpireAt(500, 60_000, 1_000), 1_500);
});
