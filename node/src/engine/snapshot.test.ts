// Goal: a shard snapshot exported from one engine and installed into another reproduces the
// range exactly (large values resolved on the way and re-separated on arrival), replaces
// whatever the receiver had, rejects damaged or incomplete streams, and an install that
// crashes mid-swap is finished by the next open — with readers kept out meanwhile.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKvError } from '@shoal/common';
import { ClassicLevel } from 'classic-level';
import { Engine } from './engine.js';
import {
  applyAll, applyOne, b, cmd, descriptor, dump, engineOptions, HASH_TABLE, openWithShard, put, RANGE_TABLE, shardState,
  tempDir,
} from './fixture.js';
import type { Engine as EngineT } from './engine.js';
import type { SnapshotMeta, TableInfo } from './types.js';

const big = (n: number, seed: number): Uint8Array => new Uint8Array(n).fill(seed);

async function filled(dir: string, table: TableInfo): Promise<EngineT> {
  const e = await openWithShard(dir, table);
  await applyAll(e, 1, Array.from({ length: 300 }, (_, i) => cmd(1, put(`k${i}`, i % 10 === 0 ? big(5000 + i, i) : `v${i}`, { expireAtUnixMs: i % 7 === 0 ? 99_000 : 0 }))));
  return e;
}

async function exportAll(e: EngineT, chunkBytes: number): Promise<{ chunks: Uint8Array[]; meta: SnapshotMeta }> {
  const snap = e.openSnapshot(1);
  const chunks: Uint8Array[] = [];
  for await (const c of snap.chunks(chunkBytes)) chunks.push(c);
  const meta = { index: snap.appliedIndex, term: snap.appliedTerm, confState: snap.confState, descriptor: snap.descriptor };
  await snap.close();
  return { chunks, meta };
}

for (const table of [RANGE_TABLE, HASH_TABLE]) {
  test(`export → install gives identical data and applied state (${table.partition} table)`, async (t) => {
    const src = await filled(tempDir(t), table);
    t.after(() => src.close());
    const { chunks, meta } = await exportAll(src, 16 * 1024);
    assert.ok(chunks.length > 5, `${chunks.length} chunks`);
    assert.equal(meta.index, 300);
    const dst = await openWithShard(tempDir(t), table);
    t.after(() => dst.close());
    await applyOne(dst, 1, put('stale', 'not in the snapshot'));
    const inst = dst.beginInstall(1);
    for (const c of chunks) await inst.write(c);
    await inst.finish(meta);
    assert.deepEqual(await dump(dst, 1), await dump(src, 1));
    const st = dst.shards()[0]!;
    assert.deepEqual([st.appliedIndex, st.appliedTerm], [300, 1]);
    assert.ok(dst.stats().valueLogLiveBytes > 30 * 5000, 'large values were separated again on arrival');
    // The receiver keeps applying after the snapshot's index.
    await applyOne(dst, 1, put('after', 'x'));
    assert.equal(dst.shards()[0]!.appliedIndex, 301);
  });
}

test('the installer takes the stream cut or joined anywhere, as a transport may re-frame it', async (t) => {
  const src = await filled(tempDir(t), RANGE_TABLE);
  t.after(() => src.close());
  const { chunks, meta } = await exportAll(src, 16 * 1024);
  const stream = Buffer.concat(chunks);
  for (const cut of [1, 997, 64 * 1024, stream.length]) {
    const dst = await openWithShard(tempDir(t));
    const inst = dst.beginInstall(1);
    const piece = Buffer.alloc(cut);
    for (let o = 0; o < stream.length; o += cut) {
      // One reused buffer, as a transport's receive buffer may be: the installer must copy.
      const n = stream.copy(piece, 0, o, Math.min(o + cut, stream.length));
      await inst.write(piece.subarray(0, n));
      piece.fill(0);
    }
    await inst.finish(meta);
    assert.deepEqual(await dump(dst, 1), await dump(src, 1), `cut every ${cut} bytes`);
    await dst.close();
  }
});

test('an empty shard snapshots as one last chunk', async (t) => {
  const src = await openWithShard(tempDir(t));
  t.after(() => src.close());
  const { chunks, meta } = await exportAll(src, 1024);
  assert.equal(chunks.length, 1);
  const dst = await openWithShard(tempDir(t));
  t.after(() => dst.close());
  await applyOne(dst, 1, put('x', 'y'));
  const inst = dst.beginInstall(1);
  await inst.write(chunks[0]!);
  await inst.finish(meta);
  assert.deepEqual(await dump(dst, 1), []);
});

test('damaged, reordered and incomplete streams are rejected', async (t) => {
  const src = await filled(tempDir(t), RANGE_TABLE);
  t.after(() => src.close());
  const { chunks, meta } = await exportAll(src, 8 * 1024);
  const dst = await openWithShard(tempDir(t));
  t.after(() => dst.close());
  const corrupt = (e: unknown): boolean => isKvError(e, 'CORRUPTION');
  let inst = dst.beginInstall(1);
  const flipped = chunks[0]!.slice();
  flipped[40] = flipped[40]! ^ 1;
  await assert.rejects(inst.write(flipped), corrupt);
  await assert.rejects(inst.write(chunks[1]!), corrupt, 'chunk 1 before chunk 0');
  await inst.write(chunks[0]!);
  await assert.rejects(inst.finish(meta), corrupt, 'no last chunk');
  await inst.abort();
  // A fresh installer works after the abort, and the applied state is untouched meanwhile.
  assert.equal(dst.shards()[0]!.appliedIndex, 0);
  inst = dst.beginInstall(1);
  for (const c of chunks) await inst.write(c);
  await inst.finish(meta);
  assert.deepEqual(await dump(dst, 1), await dump(src, 1));
});

async function internalSpaceKeys(dir: string, space: number): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  let n = 0;
  for await (const _ of db.keys({ gte: Uint8Array.of(0, 0, 0, 0, space), lt: Uint8Array.of(0, 0, 0, 0, space + 1) })) n++;
  await db.close();
  return n;
}

test('an install that stops after its marker is resumed by the next open; readers wait', async (t) => {
  const src = await filled(tempDir(t), RANGE_TABLE);
  t.after(() => src.close());
  const { chunks, meta } = await exportAll(src, 16 * 1024);
  const dir = tempDir(t);
  let stop = true;
  let dst = await openWithShard(dir, RANGE_TABLE, { failpoints: { installStopAfterMarker: () => stop } });
  await applyOne(dst, 1, put('stale', 'old'));
  const inst = dst.beginInstall(1);
  for (const c of chunks) await inst.write(c);
  await assert.rejects(inst.finish(meta), (e: unknown) => isKvError(e, 'INTERNAL'));
  assert.equal(dst.isInstalling(1), true);
  assert.throws(() => dst.get(1, b('k1'), 0), (e: unknown) => isKvError(e, 'NOT_READY'));
  await assert.rejects(dst.scan(1, { startKey: b(''), endKey: b(''), limit: 1, reverse: false, keysOnly: false }, 0), (e: unknown) => isKvError(e, 'NOT_READY'));
  await dst.close(); // "crash": marker and staged entries are on disk, the swap never ran
  assert.equal(await internalSpaceKeys(dir, 0x10), 301, 'marker + 300 staged entries');
  stop = false;
  dst = await Engine.open(engineOptions(dir));
  assert.equal(dst.isInstalling(1), false);
  assert.deepEqual(await dump(dst, 1), await dump(src, 1));
  assert.equal(dst.shards()[0]!.appliedIndex, 300);
  await dst.close();
  assert.equal(await internalSpaceKeys(dir, 0x10), 0, 'marker and staging are gone');
});

test('staged entries of an abandoned install are dropped at open', async (t) => {
  const src = await filled(tempDir(t), RANGE_TABLE);
  t.after(() => src.close());
  const { chunks } = await exportAll(src, 16 * 1024);
  const dir = tempDir(t);
  let dst = await Engine.open(engineOptions(dir));
  await dst.createShard(shardState(descriptor(1, RANGE_TABLE)), RANGE_TABLE);
  const inst = dst.beginInstall(1);
  await inst.write(chunks[0]!);
  await dst.close();
  assert.ok(await internalSpaceKeys(dir, 0x10) > 0);
  dst = await Engine.open(engineOptions(dir));
  const live = dst.stats().valueLogLiveBytes;
  await dst.close();
  assert.equal(await internalSpaceKeys(dir, 0x10), 0);
  assert.equal(live, 0, 'staged large values no longer count as live');
});
