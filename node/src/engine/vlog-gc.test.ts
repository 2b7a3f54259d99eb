// Goal: value-log GC really returns space to the filesystem after overwrites and keeps
// every live value readable (also after reopen), a pointer swap that races with an
// overwrite never resurrects the old value, and a file an open snapshot still needs is
// unlinked only once that snapshot closes.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Engine } from './engine.js';
import { applyAll, applyOne, b, cmd, dirBytes, engineOptions, openWithShard, put, str, tempDir } from './fixture.js';

const OPTS = { valueLogFileBytes: 64 * 1024 };
const value = (i: number, gen: number): Uint8Array => new Uint8Array(8 * 1024).fill((i * 3 + gen) & 0xff);
const key = (i: number): string => `key${String(i).padStart(3, '0')}`;
const vlogFiles = (dir: string): string[] => readdirSync(join(dir, 'vlog')).filter((f) => f.endsWith('.vlog')).sort();

test('GC reclaims space after overwrites; every value survives, also across reopen', async (t) => {
  const dir = tempDir(t);
  let e = await openWithShard(dir, undefined, OPTS);
  await applyAll(e, 1, Array.from({ length: 64 }, (_, i) => cmd(1, put(key(i), value(i, 0)))));
  // Three of four keys become small: their records in the old files are garbage.
  await applyAll(e, 1, Array.from({ length: 64 }, (_, i) => i).filter((i) => i % 4 !== 0).map((i) => cmd(1, put(key(i), `small${i}`))));
  // Two more generations of the same large key fill files with garbage only.
  for (let gen = 1; gen <= 2; gen++) await applyAll(e, 1, Array.from({ length: 8 }, () => cmd(1, put('hot', value(99, gen)))));
  const before = dirBytes(join(dir, 'vlog'));
  const filesBefore = vlogFiles(dir);
  const r = await e.runValueLogGc();
  const after = dirBytes(join(dir, 'vlog'));
  assert.ok(r.filesRewritten >= 8, `rewrote ${r.filesRewritten} files`);
  assert.ok(after < before / 2, `vlog ${before} → ${after} bytes`);
  assert.ok(filesBefore.filter((f) => !vlogFiles(dir).includes(f)).length >= 8, 'old files are unlinked');
  const check = (eng: Engine): void => {
    for (let i = 0; i < 64; i++) {
      const got = eng.get(1, b(key(i)), 0).value;
      if (i % 4 === 0) assert.ok(Buffer.from(got).equals(Buffer.from(value(i, 0))), key(i));
      else assert.equal(str(got), `small${i}`);
    }
    assert.ok(Buffer.from(eng.get(1, b('hot'), 0).value).equals(Buffer.from(value(99, 2))));
  };
  check(e);
  const live = e.stats().valueLogLiveBytes;
  await e.close();
  e = await Engine.open(engineOptions(dir, OPTS));
  t.after(() => e.close());
  check(e);
  assert.equal(e.stats().valueLogLiveBytes, live, 'accounting persisted with the swaps');
  // Nothing left to reclaim above the ratio: a second pass is a no-op for the old files.
  const again = await e.runValueLogGc();
  assert.ok(again.filesRewritten <= 1);
  check(e);
});

test('a swap racing with an overwrite does not resurrect the old value', async (t) => {
  const dir = tempDir(t);
  let e = await openWithShard(dir, undefined, OPTS);
  await applyOne(e, 1, put('k', value(1, 0)));
  await e.close();
  e = await Engine.open(engineOptions(dir, OPTS)); // the first file is sealed now
  t.after(() => e.close());
  const gc = e.valueLogGc;
  const sealed = Number(vlogFiles(dir)[0]!.slice(0, 10));
  const { swaps } = await gc.rewriteFile(sealed);
  assert.equal(swaps.length, 1, 'GC copied the live record');
  // The overwrite is applied between GC's copy and its swap.
  await applyOne(e, 1, put('k', value(1, 7)));
  assert.equal(await gc.swapAll(swaps), 0, 'the compare failed: the key moved on');
  assert.ok(Buffer.from(e.get(1, b('k'), 0).value).equals(Buffer.from(value(1, 7))));
  // Likewise for a delete in between: the key stays deleted.
  await applyOne(e, 1, put('d', value(2, 0)));
  await e.close();
  e = await Engine.open(engineOptions(dir, OPTS));
  const file = Number(vlogFiles(dir).at(-2)!.slice(0, 10));
  const copied = await e.valueLogGc.rewriteFile(file);
  await applyOne(e, 1, { $case: 'delete', delete: { key: b('d') } });
  assert.equal(copied.swaps.length, 2, 'k and d were live when copied');
  assert.equal(await e.valueLogGc.swapAll(copied.swaps), 1, 'only k, which did not change, moves');
  assert.equal(e.get(1, b('d'), 0).found, false);
  assert.ok(Buffer.from(e.get(1, b('k'), 0).value).equals(Buffer.from(value(1, 7))));
});

test('a file an open snapshot may read is unlinked only when the snapshot closes', async (t) => {
  const dir = tempDir(t);
  const e = await openWithShard(dir, undefined, OPTS);
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 16 }, (_, i) => cmd(1, put(key(i), value(i, 0)))));
  const snap = e.openSnapshot(1);
  await applyAll(e, 1, Array.from({ length: 16 }, (_, i) => cmd(1, put(key(i), 'gone'))));
  const r = await e.runValueLogGc();
  assert.ok(r.filesRewritten >= 1);
  assert.ok(e.stats().filesAwaitingDelete >= 1, 'retired but still on disk');
  let values = 0;
  const { decodeChunk } = await import('./snapshot-chunk.js');
  for await (const chunk of snap.chunks(1 << 20)) {
    for (const entry of decodeChunk(chunk).entries) if (entry.value.length > 8000) values++;
  }
  assert.equal(values, 16, 'the snapshot still reads the old values');
  const before = vlogFiles(dir).length;
  await snap.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(e.stats().filesAwaitingDelete, 0);
  assert.ok(vlogFiles(dir).length < before);
});
