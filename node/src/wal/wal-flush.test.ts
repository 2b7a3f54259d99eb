// Goal: group commit — concurrent flush() calls coalesce into the next single write and resolve in staging order — and async mode acknowledges after the write, fsyncing on its timer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CONF, ents, hs, openWal, plain, readAll, tempDir } from './test-support.js';

test('flushes issued during a write coalesce into one batch and resolve in order', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  wal.createGroup(1, CONF);
  await wal.flush();
  const base = wal.stats();
  const order: string[] = [];
  wal.stageEntries(1, ents(1, 1, 1));
  const p1 = wal.flush().then(() => order.push('p1'));
  wal.stageEntries(1, ents(2, 2, 1));
  const p2 = wal.flush().then(() => order.push('p2'));
  wal.stageEntries(1, ents(3, 3, 1));
  const p3 = wal.flush().then(() => order.push('p3'));
  const p4 = wal.flush().then(() => order.push('p4')); // nothing new staged: waits for p3's batch
  await Promise.all([p1, p2, p3, p4]);
  assert.deepEqual(order, ['p1', 'p2', 'p3', 'p4']);
  const s = wal.stats();
  assert.equal(s.flushes - base.flushes, 2, 'the second batch carried entries 2 and 3');
  assert.equal(s.fsyncs - base.fsyncs, 2);
  assert.equal(s.stagedBytes, 0);
  assert.deepEqual(plain(readAll(wal.group(1)!)), plain(ents(1, 3, 1)));
});

test('a flush with nothing staged and nothing in flight resolves without I/O', async (t) => {
  const wal = await openWal(await tempDir(t));
  t.after(() => wal.close());
  const base = wal.stats();
  await wal.flush();
  await wal.flush();
  assert.deepEqual(wal.stats(), base);
});

test('the async sync timer does not keep the process alive', async (t) => {
  const dir = await tempDir(t);
  const walUrl = new URL('./wal.js', import.meta.url).href;
  const script = `const { Wal } = await import(${JSON.stringify(walUrl)});
    const wal = await Wal.open({ dir: ${JSON.stringify(dir)}, segmentBytes: 4096, sync: 'async', syncIntervalMs: 5,
      entryCacheBytesMax: 0 });
    wal.createGroup(1, { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
    await wal.flush();`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
  assert.equal(r.status, 0, String(r.stderr));
  assert.ok(Date.now() - started < 10_000);
});

test('async mode: flush resolves after the write; the timer fsyncs later', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { sync: 'async', syncIntervalMs: 20 });
  wal.createGroup(1, CONF);
  wal.stageEntries(1, ents(1, 5, 1));
  wal.stageHardState(1, hs(1, 1, 5));
  const before = wal.stats().fsyncs;
  await wal.flush();
  assert.equal(wal.stats().fsyncs, before, 'no fsync on the acknowledgement path');
  const deadline = Date.now() + 5000;
  while (wal.stats().fsyncs === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(wal.stats().fsyncs > before, 'the timer fsynced');
  // Idle: the timer does not sync again when nothing new was written.
  const idle = wal.stats().fsyncs;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(wal.stats().fsyncs, idle);

  // A process kill after the acknowledgement loses nothing: the write reached the page cache.
  wal.stageEntries(1, ents(6, 6, 1));
  await wal.flush();
  await wal.close({ flush: false });
  const again = await openWal(dir, { sync: 'async', syncIntervalMs: 20 });
  t.after(() => again.close());
  assert.deepEqual(plain(readAll(again.group(1)!)), plain(ents(1, 6, 1)));
});
