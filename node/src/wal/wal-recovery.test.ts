// Goal: reopening the WAL restores every group exactly, repairs a torn or corrupt tail of the last segment (logging it), and refuses damage anywhere else with CORRUPTION naming the file and offset.
import assert from 'node:assert/strict';
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isKvError } from '@shoal/common';
import type { LogIndex } from '@shoal/raft-ts';
import {
  CONF, ents, hs, openWal, plain, readAll, RecordingLogger, segmentFiles, snap, tempDir,
} from './test-support.js';

const i = (n: number): LogIndex => n as LogIndex;

test('recovery after close restores entries, hard state, snapshots, compaction and removals', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir);
  wal.createGroup(1, CONF);
  wal.createGroup(2, CONF);
  wal.createGroup(3, CONF);
  wal.stageEntries(1, ents(1, 10, 1));
  wal.stageEntries(2, ents(1, 5, 1));
  wal.stageHardState(1, hs(1, 1, 8));
  await wal.flush();
  wal.stageEntries(1, ents(7, 12, 2)); // overwrite 7..10
  wal.stageCompact(1, i(3));
  wal.stageSnapshot(2, snap(20, 4)); // replaces group 2's log
  wal.stageHardState(2, hs(4, 2, 20));
  wal.stageRemoveGroup(3);
  await wal.close();

  const again = await openWal(dir, { entryCacheBytesMax: 0 });
  t.after(() => again.close());
  assert.deepEqual(again.groupIds(), [1, 2]);
  const g1 = again.group(1)!;
  assert.equal(g1.firstIndex(), 4);
  assert.equal(g1.term(i(3)), 1);
  assert.deepEqual(plain(readAll(g1)), plain([...ents(4, 6, 1), ...ents(7, 12, 2)]));
  assert.deepEqual(g1.hardState(), hs(1, 1, 8));
  assert.deepEqual(g1.initialState().confState, CONF);
  const g2 = again.group(2)!;
  assert.equal(g2.firstIndex(), 21);
  assert.equal(g2.lastIndex(), 20);
  assert.equal(g2.term(i(20)), 4);
  assert.deepEqual(g2.snapshotMetadata(), snap(20, 4));
  assert.deepEqual(g2.hardState(), hs(4, 2, 20));
  // And the reopened log keeps working.
  again.stageEntries(2, ents(21, 22, 4));
  await again.flush();
  assert.deepEqual(plain(readAll(g2)), plain(ents(21, 22, 4)));
});

test('a crash drops what was staged but not flushed', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir);
  wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 3, 1));
  await wal.flush();
  wal.stageEntries(1, ents(4, 6, 1));
  wal.stageHardState(1, hs(1, 1, 6));
  await wal.close({ flush: false });
  const again = await openWal(dir);
  t.after(() => again.close());
  assert.equal(again.group(1)!.lastIndex(), 3);
  assert.deepEqual(again.group(1)!.hardState(), hs(0, 0, 0));
});

/** Writes a base state, then one more entries record; returns the file and both sizes. */
async function withLastRecord(dir: string): Promise<{ file: string; before: number; full: Buffer }> {
  const wal = await openWal(dir);
  wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 4, 1));
  wal.stageHardState(1, hs(1, 1, 4));
  await wal.flush();
  const [seg] = await segmentFiles(dir);
  wal.stageEntries(1, ents(5, 6, 1, 40));
  await wal.close();
  const file = join(dir, seg!.name);
  return { file, before: seg!.bytes, full: await readFile(file) };
}

test('a torn last record, cut at every byte, is truncated and the prefix survives', async (t) => {
  const dir = await tempDir(t);
  const { file, before, full } = await withLastRecord(dir);
  assert.ok(full.length - before > 100);
  for (let cut = before; cut <= full.length; cut++) {
    await writeFile(file, full.subarray(0, cut));
    const logger = new RecordingLogger();
    const wal = await openWal(dir, { logger, entryCacheBytesMax: 0 });
    const g = wal.group(1)!;
    const complete = cut === full.length;
    assert.equal(g.lastIndex(), complete ? 6 : 4, `cut at ${cut}`);
    assert.deepEqual(plain(readAll(g, 1, 4)), plain(ents(1, 4, 1)));
    assert.deepEqual(g.hardState(), hs(1, 1, 4));
    assert.equal(logger.warnings.length, cut === before || complete ? 0 : 1, `cut at ${cut}`);
    // The tail was cut off on disk, and appending after the repair works.
    assert.equal((await segmentFiles(dir))[0]!.bytes, complete ? full.length : before);
    wal.stageEntries(1, ents(g.lastIndex() + 1, g.lastIndex() + 1, 2));
    await wal.close();
  }
});

test('a checksum mismatch in the last record is repaired and logged', async (t) => {
  const dir = await tempDir(t);
  const { file, before, full } = await withLastRecord(dir);
  const bad = Buffer.from(full);
  bad[full.length - 3]! ^= 0x01; // inside the last entry's data
  await writeFile(file, bad);
  const logger = new RecordingLogger();
  const wal = await openWal(dir, { logger });
  t.after(() => wal.close());
  assert.equal(wal.group(1)!.lastIndex(), 4);
  assert.equal(logger.warnings.length, 1);
  assert.match(String((logger.warnings[0]!.o as { reason: string }).reason), /checksum/);
  assert.equal((logger.warnings[0]!.o as { offset: number }).offset, before);
  assert.equal((await segmentFiles(dir))[0]!.bytes, before);
});

/** Two segments at least, group 1's records in the first; returns the first file. */
async function twoSegments(dir: string): Promise<string> {
  const wal = await openWal(dir, { segmentBytes: 1024 });
  wal.createGroup(1, CONF);
  for (let k = 0; k < 6; k++) {
    wal.stageEntries(1, ents(k * 5 + 1, k * 5 + 5, 1, 30));
    await wal.flush();
  }
  await wal.close();
  const files = await segmentFiles(dir);
  assert.ok(files.length >= 2, `expected rotation, got ${files.length} segment(s)`);
  return join(dir, files[0]!.name);
}

test('a checksum mismatch inside a segment that is not the last refuses to open', async (t) => {
  const dir = await tempDir(t);
  const file = await twoSegments(dir);
  const buf = await readFile(file);
  const offset = 300; // inside some record after the header
  buf[offset]! ^= 0xff;
  await writeFile(file, buf);
  await assert.rejects(openWal(dir, { segmentBytes: 1024 }), (e) => isKvError(e, 'CORRUPTION')
    && e.message.includes('0000000000000001.wal') && /at offset \d+/.test(e.message));
});

test('a truncated segment that is not the last refuses to open', async (t) => {
  const dir = await tempDir(t);
  const file = await twoSegments(dir);
  const { size } = { size: (await readFile(file)).length };
  await truncate(file, size - 5);
  await assert.rejects(openWal(dir, { segmentBytes: 1024 }), (e) => isKvError(e, 'CORRUPTION')
    && e.message.includes('0000000000000001.wal'));
});

test('a missing segment in the middle refuses to open', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: 1024 });
  wal.createGroup(1, CONF);
  for (let k = 0; k < 12; k++) {
    wal.stageEntries(1, ents(k * 5 + 1, k * 5 + 5, 1, 30));
    await wal.flush();
  }
  await wal.close();
  const files = await segmentFiles(dir);
  assert.ok(files.length >= 3);
  await unlink(join(dir, files[1]!.name));
  await assert.rejects(openWal(dir, { segmentBytes: 1024 }),
    (e) => isKvError(e, 'CORRUPTION') && e.message.includes(files[1]!.name));
});

test('reads from disk verify the checksum', async (t) => {
  const dir = await tempDir(t);
  const file = await twoSegments(dir);
  const wal = await openWal(dir, { segmentBytes: 1024, entryCacheBytesMax: 0 });
  t.after(() => wal.close());
  const buf = await readFile(file);
  buf[300]! ^= 0xff; // damaged after recovery verified it
  await writeFile(file, buf);
  const g = wal.group(1)!;
  assert.throws(() => readAll(g), (e) => isKvError(e, 'CORRUPTION') && e.message.includes('0000000000000001.wal'));
});

test('an empty directory, and a last segment cut to nothing, open as fresh logs', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir);
  await wal.close();
  const [seg] = await segmentFiles(dir);
  await truncate(join(dir, seg!.name), 0);
  const again = await openWal(dir);
  t.after(() => again.close());
  assert.deepEqual(again.groupIds(), []);
  assert.ok((await segmentFiles(dir))[0]!.bytes > 0);
});
