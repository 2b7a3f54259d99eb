// Goal: scans page through exactly the requested range in order (forward and reverse, range
// and hash tables, keys-only, bounded pages resumed by next_key), and each page is one
// point in time even while batches commit underneath it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAll, b, cmd, HASH_TABLE, openWithShard, put, str, tempDir } from './fixture.js';
import type { Engine } from './engine.js';
import type { ScanRequest } from './types.js';

const empty = new Uint8Array(0);
const key = (i: number): string => `k${String(i).padStart(4, '0')}`;

async function scanAll(e: Engine, req: Omit<ScanRequest, 'limit'>, limit: number, nowMs = 0): Promise<string[]> {
  const out: string[] = [];
  let r: ScanRequest = { ...req, limit };
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await e.scan(1, r, nowMs);
    assert.ok(page.pairs.length <= limit);
    out.push(...page.pairs.map((p) => str(p.key)));
    if (!page.more) return out;
    r = req.reverse ? { ...r, endKey: page.nextKey } : { ...r, startKey: page.nextKey };
  }
  throw new Error('scan did not end');
}

test('forward and reverse pages cover [start, end) exactly once, in order', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 100 }, (_, i) => cmd(1, put(key(i), `v${i}`))));
  const want = Array.from({ length: 60 }, (_, i) => key(i + 20));
  const fwd = await scanAll(e, { startKey: b(key(20)), endKey: b(key(80)), reverse: false, keysOnly: false }, 7);
  assert.deepEqual(fwd, want);
  const rev = await scanAll(e, { startKey: b(key(20)), endKey: b(key(80)), reverse: true, keysOnly: false }, 7);
  assert.deepEqual(rev, [...want].reverse());
  const page = await e.scan(1, { startKey: empty, endKey: empty, limit: 3, reverse: false, keysOnly: true }, 0);
  assert.deepEqual(page.pairs.map((p) => [str(p.key), p.value.length]), [[key(0), 0], [key(1), 0], [key(2), 0]]);
  assert.equal(str(page.nextKey), key(3));
});

test('expired keys are skipped and a page stops after its examined-entries budget', async (t) => {
  const e = await openWithShard(tempDir(t), undefined, { scanExaminedKeysMax: 10 });
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 100 }, (_, i) => cmd(1, put(key(i), 'v', { expireAtUnixMs: i % 10 === 9 ? 0 : 500 }))));
  const first = await e.scan(1, { startKey: empty, endKey: empty, limit: 50, reverse: false, keysOnly: false }, 1_000);
  assert.ok(first.more && first.pairs.length <= 1, 'stopped early with a resume point');
  for (const reverse of [false, true]) {
    const all = await scanAll(e, { startKey: empty, endKey: empty, reverse, keysOnly: false }, 50, 1_000);
    const want = Array.from({ length: 10 }, (_, i) => key(i * 10 + 9));
    assert.deepEqual(all, reverse ? want.reverse() : want);
  }
});

test('a hash shard scans every key once, in slot order, resumable by next_key', async (t) => {
  const e = await openWithShard(tempDir(t), HASH_TABLE);
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 200 }, (_, i) => cmd(1, put(key(i), 'v'))));
  for (const reverse of [false, true]) {
    const all = await scanAll(e, { startKey: empty, endKey: empty, reverse, keysOnly: true }, 13);
    assert.equal(all.length, 200);
    assert.equal(new Set(all).size, 200);
  }
});

test('a page is one point in time while writes commit during the scan', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 2000 }, (_, i) => cmd(1, put(key(i), 'gen0'))));
  const scanning = e.scan(1, { startKey: empty, endKey: empty, limit: 2000, reverse: false, keysOnly: false }, 0);
  // While the scan iterates, rewrite every key and delete some, in several batches.
  let committed = 0;
  const writes = (async () => {
    for (let gen = 1; gen <= 3; gen++) {
      await applyAll(e, 1, Array.from({ length: 2000 }, (_, i) => cmd(1, i % 5 === 0 ? { $case: 'delete', delete: { key: b(key(i)) } } : put(key(i), `gen${gen}`))));
      committed++;
    }
  })();
  const [page, committedBeforeScanEnded] = await Promise.all([scanning, scanning.then(() => committed), writes]);
  t.diagnostic(`batches committed while the page was read: ${committedBeforeScanEnded}`);
  assert.equal(page.pairs.length, 2000, 'no key vanished mid-page');
  assert.deepEqual(new Set(page.pairs.map((p) => str(p.value))), new Set(['gen0']), 'every value from the same instant');
  const after = await e.scan(1, { startKey: empty, endKey: empty, limit: 2000, reverse: false, keysOnly: false }, 0);
  assert.equal(after.pairs.length, 1600);
  assert.deepEqual(new Set(after.pairs.map((p) => str(p.value))), new Set(['gen3']));
});

test('the empty key is never a resume key', async (t) => {
  const e = await openWithShard(tempDir(t), HASH_TABLE);
  t.after(() => e.close());
  await applyAll(e, 1, [cmd(1, put('', 'empty')), ...Array.from({ length: 30 }, (_, i) => cmd(1, put(key(i), 'v')))]);
  for (const reverse of [false, true]) {
    for (let limit = 1; limit <= 4; limit++) {
      const seen: string[] = [];
      let r: ScanRequest = { startKey: empty, endKey: empty, limit, reverse, keysOnly: true };
      for (let pages = 0; pages < 100; pages++) {
        const page = await e.scan(1, r, 0);
        seen.push(...page.pairs.map((p) => str(p.key)));
        if (!page.more) break;
        assert.ok(page.nextKey.length > 0);
        r = reverse ? { ...r, endKey: page.nextKey } : { ...r, startKey: page.nextKey };
      }
      assert.equal(seen.length, 31, `reverse=${reverse} limit=${limit}`);
      assert.equal(new Set(seen).size, 31);
    }
  }
});
