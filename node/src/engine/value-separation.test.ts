// Goal: values at or above the table's threshold live in the value log and small ones
// inline, every read path returns them intact, and a corrupted value-log record surfaces as
// CORRUPTION on every read path — never as wrong data.
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKvError } from '@shoal/common';
import { applyAll, applyOne, b, cmd, openWithShard, put, RANGE_TABLE, tempDir } from './fixture.js';

const big = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const same = (a: Uint8Array, c: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(c));
const ALL = { startKey: new Uint8Array(0), endKey: new Uint8Array(0), limit: 100, reverse: false, keysOnly: false };

test('small values stay inline, large ones go to the value log, all read back', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  const threshold = RANGE_TABLE.valueSeparationThresholdBytes;
  await applyAll(e, 1, [
    cmd(1, put('small', big(threshold - 1, 1))),
    cmd(1, put('edge', big(threshold, 2))),
    cmd(1, put('large', big(200_000, 3))),
  ]);
  // A record is 12 header bytes + the storage key (4 table + 9 encoded key + 1 kind) + the value.
  const rec = (n: number): number => 12 + 14 + n;
  assert.equal(e.stats().valueLogLiveBytes, rec(threshold) + rec(200_000));
  assert.ok(same(e.get(1, b('small'), 0).value, big(threshold - 1, 1)));
  assert.ok(same(e.get(1, b('edge'), 0).value, big(threshold, 2)));
  assert.ok(same(e.get(1, b('large'), 0).value, big(200_000, 3)));
  const [r] = await e.batchGet(1, [b('large')], 0);
  assert.ok(same(r!.value, big(200_000, 3)));
  const page = await e.scan(1, ALL, 0);
  assert.deepEqual(page.pairs.map((p) => p.value.length), [threshold, 200_000, threshold - 1]);
  // Overwriting turns the old record into garbage: live bytes drop.
  await applyOne(e, 1, put('large', 'tiny now'));
  assert.equal(e.stats().valueLogLiveBytes, rec(threshold));
});

test('threshold 0 keeps everything inline', async (t) => {
  const e = await openWithShard(tempDir(t), { ...RANGE_TABLE, valueSeparationThresholdBytes: 0 });
  t.after(() => e.close());
  await applyOne(e, 1, put('large', big(100_000, 1)));
  assert.equal(e.stats().valueLogLiveBytes, 0);
  assert.ok(same(e.get(1, b('large'), 0).value, big(100_000, 1)));
});

test('a corrupted value-log record is CORRUPTION on every read path, never wrong data', async (t) => {
  const dir = tempDir(t);
  const e = await openWithShard(dir);
  t.after(() => e.close());
  await applyAll(e, 1, [cmd(1, put('a', big(5000, 1))), cmd(1, put('b', big(5000, 2)))]);
  // Flip one byte in the middle of the first record's value, on disk.
  const vlogDir = join(dir, 'vlog');
  const file = join(vlogDir, readdirSync(vlogDir).filter((f) => f.endsWith('.vlog')).sort()[0]!);
  const fd = openSync(file, 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, 16 + 12 + 14 + 2500);
  one[0] = one[0]! ^ 0x01;
  writeSync(fd, one, 0, 1, 16 + 12 + 14 + 2500);
  closeSync(fd);
  const corrupt = (x: unknown): boolean => isKvError(x, 'CORRUPTION');
  assert.throws(() => e.get(1, b('a'), 0), corrupt);
  await assert.rejects(e.batchGet(1, [b('a')], 0), corrupt);
  await assert.rejects(e.scan(1, ALL, 0), corrupt);
  // Keys-only scans do not read values; the other record is intact.
  assert.equal((await e.scan(1, { ...ALL, keysOnly: true }, 0)).pairs.length, 2);
  assert.ok(same(e.get(1, b('b'), 0).value, big(5000, 2)));
  // A snapshot of a corrupt shard fails rather than ship bad bytes.
  const snap = e.openSnapshot(1);
  await assert.rejects((async () => {
    for await (const _ of snap.chunks(1 << 20)) void _;
  })(), corrupt);
  await snap.close();
  // Apply that must read the value (returnPrevious) throws, and the batch refuses to commit.
  const batch = e.beginApply();
  const { command } = await import('@shoal/proto');
  assert.throws(() => batch.apply(1, 3, 1, command.RaftCommand.encode(cmd(1, put('a', 'x', { returnPrevious: true }))).finish()), corrupt);
  await assert.rejects(batch.commit(), corrupt);
  assert.equal(e.shards()[0]!.appliedIndex, 2);
});
