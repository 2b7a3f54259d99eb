// Goal: any failed write or fsync (injected by failpoints) rejects the flush with DISK_FAILURE and fails the WAL for good — every later call throws DISK_FAILURE — while what was acknowledged before survives a reopen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError } from '@shoal/common';
import type { LogIndex } from '@shoal/raft-ts';
import { CONF, ents, hs, openWal, plain, readAll, tempDir } from './test-support.js';
import type { Wal } from './wal.js';

const isDiskFailure = (e: unknown): boolean => isKvError(e, 'DISK_FAILURE');

async function assertFailedForGood(wal: Wal): Promise<void> {
  assert.throws(() => wal.stageEntries(1, ents(100, 100, 9)), isDiskFailure);
  assert.throws(() => wal.stageHardState(1, hs(9, 1, 0)), isDiskFailure);
  assert.throws(() => wal.stageCompact(1, 1 as LogIndex), isDiskFailure);
  assert.throws(() => wal.createGroup(99, CONF), isDiskFailure);
  await assert.rejects(wal.flush(), isDiskFailure);
  await assert.rejects(wal.maybeGc(), isDiskFailure);
}

test('an fsync failure rejects the flush and every later call', async (t) => {
  const dir = await tempDir(t);
  let failFsync = false;
  const wal = await openWal(dir, { failpoints: { fsyncError: () => failFsync } });
  wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 3, 1));
  await wal.flush();
  failFsync = true;
  wal.stageEntries(1, ents(4, 6, 1));
  const first = wal.flush();
  wal.stageEntries(1, ents(7, 7, 1)); // queued behind the failing batch
  const second = wal.flush();
  await assert.rejects(first, isDiskFailure);
  await assert.rejects(second, isDiskFailure);
  failFsync = false; // a retry "succeeding" proves nothing (fsyncgate): stay failed
  await assertFailedForGood(wal);
  await wal.close(); // releases the files without throwing

  const again = await openWal(dir);
  t.after(() => again.close());
  // The acknowledged prefix is there; the failed batch may or may not be.
  assert.deepEqual(plain(readAll(again.group(1)!, 1, 3)), plain(ents(1, 3, 1)));
});

test('a write failure rejects the flush and fails the WAL', async (t) => {
  const dir = await tempDir(t);
  let failWrite = false;
  const wal = await openWal(dir, { failpoints: { writeError: () => failWrite } });
  wal.createGroup(1, CONF);
  await wal.flush();
  failWrite = true;
  wal.stageEntries(1, ents(1, 2, 1));
  await assert.rejects(wal.flush(), (e) => isDiskFailure(e) && /write/.test((e as Error).message));
  await assertFailedForGood(wal);
  await wal.close();
});

test('a failure while rotating to a new segment fails the WAL', async (t) => {
  const dir = await tempDir(t);
  let fsyncs = 0;
  let failAt = Infinity;
  const wal = await openWal(dir, { segmentBytes: 1024, failpoints: { fsyncError: () => ++fsyncs >= failAt } });
  wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 10, 1, 200)); // fills the first segment
  await wal.flush();
  failAt = fsyncs + 2; // the old segment's sync passes, the directory fsync after creation fails
  wal.stageEntries(1, ents(11, 11, 1));
  await assert.rejects(wal.flush(), (e) => isDiskFailure(e) && /segment/.test((e as Error).message));
  await assertFailedForGood(wal);
  await wal.close();
});

test('in async mode a failed background fsync fails later calls', async (t) => {
  const dir = await tempDir(t);
  let failFsync = false;
  const wal = await openWal(dir, { sync: 'async', syncIntervalMs: 5, failpoints: { fsyncError: () => failFsync } });
  wal.createGroup(1, CONF);
  failFsync = true;
  await wal.flush(); // async: resolves after the write
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      wal.stageHardState(1, hs(1, 1, 0));
    } catch (e) {
      assert.ok(isDiskFailure(e));
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await assertFailedForGood(wal);
  await wal.close();
});
