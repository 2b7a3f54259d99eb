// Goal: a group's log in the WAL behaves as raft-ts's Storage must — appends, conflicting-suffix overwrites, hard state, snapshot metadata and compaction — both before and after a flush, and options are validated by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError } from '@shoal/common';
import type { LogIndex } from '@shoal/raft-ts';
import { CONF, ent, ents, hs, openWal, options, plain, readAll, snap, tempDir } from './test-support.js';
import { Wal } from './wal.js';

const i = (n: number): LogIndex => n as LogIndex;

test('a new group starts empty at index 0 with its membership', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(7, CONF);
  assert.deepEqual(s.initialState(), { hardState: hs(0, 0, 0), confState: CONF });
  assert.equal(s.firstIndex(), 1);
  assert.equal(s.lastIndex(), 0);
  assert.equal(s.term(i(0)), 0);
  assert.equal(s.snapshot(), 'temporarily-unavailable');
  assert.deepEqual(s.snapshotMetadata(), snap(0, 0));
  assert.deepEqual(wal.groupIds(), [7]);
  assert.equal(wal.group(7), s);
  assert.throws(() => wal.createGroup(7, CONF), (e) => isKvError(e, 'ALREADY_EXISTS'));
});

test('staged entries are readable at once and after the flush', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 5, 1));
  assert.equal(s.lastIndex(), 5);
  assert.deepEqual(plain(readAll(s)), plain(ents(1, 5, 1)));
  await wal.flush();
  wal.stageEntries(1, ents(6, 8, 2));
  assert.deepEqual(plain(readAll(s)), plain([...ents(1, 5, 1), ...ents(6, 8, 2)]));
  assert.equal(s.term(i(6)), 2);
  assert.equal(s.term(i(9)), 'unavailable');
  await wal.flush();
  assert.ok(wal.stats().fsyncs >= 2);
});

test('a conflicting suffix is truncated, before and after it was flushed', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 10, 1));
  await wal.flush();
  wal.stageEntries(1, ents(4, 6, 2)); // replaces 4..10
  assert.equal(s.lastIndex(), 6);
  wal.stageEntries(1, ents(6, 7, 3)); // replaces the staged 6 in the same batch
  await wal.flush();
  assert.deepEqual(plain(readAll(s)), plain([...ents(1, 3, 1), ...ents(4, 5, 2), ...ents(6, 7, 3)]));
});

test('entries honour the byte limit but always return one entry', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 10, 1, 100));
  assert.equal((s.entries(i(1), i(11), 1) as unknown[]).length, 1);
  assert.equal((s.entries(i(1), i(11), 2 * 116) as unknown[]).length, 2);
  assert.equal((s.entries(i(1), i(11), 0) as unknown[]).length, 10);
  assert.equal((s.entries(i(3), i(3), 0) as unknown[]).length, 0);
});

test('hard state is staged, read back and superseded', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageHardState(1, hs(1, 2, 0));
  assert.deepEqual(s.hardState(), hs(1, 2, 0));
  wal.stageEntries(1, ents(1, 3, 1));
  wal.stageHardState(1, hs(2, 3, 3));
  await wal.flush();
  assert.deepEqual(s.initialState().hardState, hs(2, 3, 3));
});

test('compaction drops the prefix and keeps the boundary term', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageEntries(1, [...ents(1, 4, 1), ...ents(5, 8, 2)]);
  wal.stageCompact(1, i(5));
  assert.equal(s.firstIndex(), 6);
  assert.equal(s.term(i(5)), 2);
  assert.equal(s.term(i(4)), 'compacted');
  assert.equal(s.entries(i(5), i(7), 0), 'compacted');
  assert.deepEqual(plain(readAll(s)), plain(ents(6, 8, 2)));
  wal.stageCompact(1, i(3)); // idempotent for older points
  assert.equal(s.firstIndex(), 6);
  wal.stageEntries(1, ents(2, 9, 2)); // entries already compacted are skipped
  assert.equal(s.lastIndex(), 9);
  assert.throws(() => wal.stageCompact(1, i(20)), /beyond last index/);
});

test('a snapshot that matches the log compacts it; one that does not replaces it', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 10, 1));
  const cs2 = { ...CONF, voters: CONF.voters.slice(0, 2) };
  wal.stageSnapshot(1, snap(4, 1, cs2));
  assert.equal(s.firstIndex(), 5);
  assert.equal(s.lastIndex(), 10);
  assert.deepEqual(s.initialState().confState, cs2);
  assert.deepEqual(s.snapshotMetadata(), snap(4, 1, cs2));
  wal.stageSnapshot(1, snap(12, 3)); // from a leader: the log is replaced
  assert.equal(s.firstIndex(), 13);
  assert.equal(s.lastIndex(), 12);
  assert.equal(s.term(i(12)), 3);
  assert.throws(() => wal.stageSnapshot(1, snap(5, 1)), /older/);
  await wal.flush();
});

test('the snapshot provider answers snapshot()', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  const sn = { data: new Uint8Array([1]), metadata: snap(0, 0) };
  s.setSnapshotProvider(() => sn);
  assert.equal(s.snapshot(), sn);
});

test('removed groups disappear; their storage refuses use; the id can be reused', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const s = wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 3, 1));
  wal.stageRemoveGroup(1);
  wal.stageRemoveGroup(1); // no-op
  assert.deepEqual(wal.groupIds(), []);
  assert.throws(() => s.lastIndex(), (e) => isKvError(e, 'SHARD_NOT_FOUND'));
  assert.throws(() => wal.stageEntries(1, ents(4, 4, 1)), (e) => isKvError(e, 'SHARD_NOT_FOUND'));
  const again = wal.createGroup(1, CONF);
  assert.equal(again.lastIndex(), 0);
  await wal.flush();
});

test('misuse asserts: gaps and falling terms', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 3, 2));
  assert.throws(() => wal.stageEntries(1, ents(5, 6, 2)), /gap/);
  assert.throws(() => wal.stageEntries(1, [ent(4, 1)]), /term/);
  assert.throws(() => wal.stageEntries(1, [ent(4, 2), ent(6, 2)]), /invalid entry/);
});

test('an entry larger than recordBytesMax is refused; a large batch is split into records', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { recordBytesMax: 4096 });
  const s = wal.createGroup(1, CONF);
  assert.throws(() => wal.stageEntries(1, [ent(1, 1, new Uint8Array(5000))]),
    (e) => isKvError(e, 'REQUEST_TOO_LARGE') && e.details?.option === 'recordBytesMax');
  assert.equal(s.lastIndex(), 0);
  wal.stageEntries(1, ents(1, 40, 1, 1000)); // about 40 KB: ten records
  await wal.close();
  const again = await openWal(dir, { recordBytesMax: 4096, entryCacheBytesMax: 0 });
  t.after(() => again.close());
  assert.deepEqual(plain(readAll(again.group(1)!)), plain(ents(1, 40, 1, 1000)));
});

test('entries larger than a segment are one record', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: 1024 });
  wal.createGroup(1, CONF);
  wal.stageEntries(1, [ent(1, 1, new Uint8Array(10_000).fill(7))]);
  await wal.close();
  const again = await openWal(dir, { segmentBytes: 1024, entryCacheBytesMax: 0 });
  t.after(() => again.close());
  assert.deepEqual(plain(readAll(again.group(1)!)), plain([ent(1, 1, new Uint8Array(10_000).fill(7))]));
});

test('options are validated and the bad one is named', async () => {
  const cases: [string, object][] = [
    ['dir', { dir: '' }],
    ['segmentBytes', { segmentBytes: 10 }],
    ['segmentBytes', { segmentBytes: 1.5e3 + 0.5 }],
    ['sync', { sync: 'sometimes' }],
    ['syncIntervalMs', { syncIntervalMs: 0 }],
    ['entryCacheBytesMax', { entryCacheBytesMax: -1 }],
    ['recordBytesMax', { recordBytesMax: 2 ** 32 }],
    ['gcRewriteBytesMax', { gcRewriteBytesMax: -5 }],
    ['gcGroupRewriteBytesMax', { gcRewriteBytesMax: 100, gcGroupRewriteBytesMax: 1000 }],
  ];
  for (const [option, bad] of cases) {
    await assert.rejects(Wal.open({ ...options('/nonexistent-not-used'), ...bad }),
      (e) => isKvError(e, 'CONFIG_INVALID') && e.details?.option === option, option);
  }
});
