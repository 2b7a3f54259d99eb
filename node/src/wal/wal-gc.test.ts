// Goal: segments rotate at segmentBytes, GC deletes (unlinks and closes) exactly the segments no group needs, rewrites small pinned groups forward to free old segments, and the log reopens identically afterwards.
import assert from 'node:assert/strict';
import { readdir, readlink } from 'node:fs/promises';
import { test } from 'node:test';
import type { LogIndex } from '@shoal/raft-ts';
import { CONF, ents, hs, openWal, plain, readAll, segmentFiles, snap, tempDir } from './test-support.js';
import type { Wal } from './wal.js';

const i = (n: number): LogIndex => n as LogIndex;
const SEG = 2048;

/** Appends `turns` flushes of 4 entries × 100 B to group `id`, compacting to `keep` entries behind. */
async function churn(wal: Wal, id: number, turns: number, keep = 4): Promise<void> {
  const s = wal.group(id)!;
  for (let k = 0; k < turns; k++) {
    const last = s.lastIndex();
    wal.stageEntries(id, ents(last + 1, last + 4, 1, 100));
    wal.stageHardState(id, hs(1, 1, last + 4));
    if (last + 4 - keep > s.firstIndex()) wal.stageCompact(id, i(last + 4 - keep));
    await wal.flush();
  }
}

/** File descriptors of this process still open on deleted files under `dir` (Linux only). */
async function deletedButOpen(dir: string): Promise<string[]> {
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return [];
  }
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((p) => p.startsWith(dir) && p.endsWith('(deleted)'));
}

test('segments rotate and GC deletes the ones behind every group', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: SEG });
  wal.createGroup(1, CONF);
  await churn(wal, 1, 40);
  const before = await segmentFiles(dir);
  assert.ok(before.length >= 8, `expected many segments, got ${before.length}`);
  for (const f of before.slice(0, -1)) assert.ok(f.bytes >= SEG && f.bytes < SEG + 1024, `${f.name}: ${f.bytes}`);

  const r = await wal.maybeGc();
  const after = await segmentFiles(dir);
  assert.ok(after.length <= 2, `expected at most 2 segments left, got ${after.map((f) => f.name).join(',')}`);
  // The oldest were deleted (the rewrite may have rotated to a new segment); stats agree with the directory.
  const names = new Set(after.map((f) => f.name));
  assert.ok(r.deletedSegments >= before.length - 2);
  for (const [k, f] of before.entries()) assert.equal(names.has(f.name), k >= r.deletedSegments, f.name);
  assert.equal(wal.stats().segments, after.length);
  assert.equal(wal.stats().bytes, after.reduce((n, f) => n + f.bytes, 0));
  assert.deepEqual(await deletedButOpen(dir), []);

  const s = wal.group(1)!;
  const tail = plain(readAll(s));
  const state = { first: s.firstIndex(), last: s.lastIndex(), hs: s.hardState() };
  await wal.close();
  const again = await openWal(dir, { segmentBytes: SEG, entryCacheBytesMax: 0 });
  t.after(() => again.close());
  const s2 = again.group(1)!;
  assert.deepEqual({ first: s2.firstIndex(), last: s2.lastIndex(), hs: s2.hardState() }, state);
  assert.deepEqual(plain(readAll(s2)), tail);
});

test('an idle group pinning the oldest segment is rewritten forward, then the segment is deleted', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: SEG });
  const cs = { ...CONF, learners: [] };
  wal.createGroup(1, CONF);
  wal.createGroup(2, cs); // the idle one: a few entries and a hard state in segment 1
  wal.stageEntries(2, ents(1, 3, 1, 20));
  wal.stageHardState(2, hs(1, 3, 2));
  await churn(wal, 1, 30);
  const first = (await segmentFiles(dir))[0]!.name;
  assert.equal(first, '0000000000000001.wal');

  const r = await wal.maybeGc();
  assert.ok(r.rewrittenBytes > 0, 'the idle group was rewritten');
  const left = await segmentFiles(dir);
  assert.ok(!left.some((f) => f.name === first), 'segment 1 is gone');
  assert.ok(left.length <= 3, `left: ${left.map((f) => f.name).join(',')}`);

  await wal.close();
  const again = await openWal(dir, { segmentBytes: SEG, entryCacheBytesMax: 0 });
  t.after(() => again.close());
  const g2 = again.group(2)!;
  assert.deepEqual(plain(readAll(g2)), plain(ents(1, 3, 1, 20)));
  assert.deepEqual(g2.hardState(), hs(1, 3, 2));
  assert.deepEqual(g2.initialState().confState, cs);
  assert.equal(g2.firstIndex(), 1);
});

test('a group with a large live tail keeps its segments until it compacts', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: SEG, gcGroupRewriteBytesMax: 1000 });
  wal.createGroup(1, CONF);
  wal.createGroup(2, CONF);
  wal.stageEntries(2, ents(1, 20, 1, 100)); // ~2.4 KB live tail in segment 1
  await churn(wal, 1, 30);
  let r = await wal.maybeGc();
  assert.equal(r.deletedSegments, 0);
  assert.equal((await segmentFiles(dir))[0]!.name, '0000000000000001.wal');
  wal.stageSnapshot(2, snap(20, 1)); // group 2 compacts its whole tail
  r = await wal.maybeGc();
  assert.ok(r.deletedSegments > 0);
  assert.ok((await segmentFiles(dir)).length <= 3);
  assert.equal(wal.group(2)!.firstIndex(), 21);
  await wal.close();
});

test('removed groups free everything', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: SEG });
  for (const id of [1, 2, 3]) wal.createGroup(id, CONF);
  for (const id of [1, 2, 3]) await churn(wal, id, 10, 40);
  assert.ok((await segmentFiles(dir)).length > 5);
  for (const id of [1, 2, 3]) wal.stageRemoveGroup(id);
  await wal.flush();
  await wal.maybeGc();
  const left = await segmentFiles(dir);
  assert.equal(left.length, 1, `left: ${left.map((f) => f.name).join(',')}`);
  assert.deepEqual(await deletedButOpen(dir), []);
  await wal.close();
  const again = await openWal(dir, { segmentBytes: SEG });
  t.after(() => again.close());
  assert.deepEqual(again.groupIds(), []);
});

test('GC keeps the segments whose records a staged, not yet durable change supersedes', async (t) => {
  const dir = await tempDir(t);
  const opts = { segmentBytes: SEG, entryCacheBytesMax: 0 };
  const wal = await openWal(dir, opts);
  wal.createGroup(1, CONF);
  await churn(wal, 1, 20); // many segments
  await wal.maybeGc(); // group 1's metadata rewritten forward, old segments gone
  const rotated = (await segmentFiles(dir)).length + 1;
  while ((await segmentFiles(dir)).length < rotated) await churn(wal, 1, 1); // metadata now in a non-active segment
  const s = wal.group(1)!;
  const durable = { first: s.firstIndex(), last: s.lastIndex(), hs: s.hardState(), tail: plain(readAll(s)) };

  const gc = wal.maybeGc(); // its flush covers only what was staged before this line
  wal.stageSnapshot(1, snap(s.lastIndex() + 100, 9)); // supersedes every record of group 1…
  wal.stageHardState(1, hs(9, 2, s.lastIndex()));
  await gc; // none of that is durable yet, so nothing group 1 needs may be deleted
  await wal.close({ flush: false }); // crash

  const again = await openWal(dir, opts);
  t.after(() => again.close());
  const s2 = again.group(1)!;
  assert.deepEqual({ first: s2.firstIndex(), last: s2.lastIndex(), hs: s2.hardState(), tail: plain(readAll(s2)) },
    durable);
});

test('GC keeps a removed group\'s segments until the removal is durable', async (t) => {
  const dir = await tempDir(t);
  const opts = { segmentBytes: SEG, entryCacheBytesMax: 0 };
  const wal = await openWal(dir, opts);
  wal.createGroup(1, CONF);
  wal.createGroup(2, CONF);
  wal.stageEntries(2, ents(1, 3, 1, 10));
  wal.stageHardState(2, hs(1, 1, 3));
  // Group 1 moves all its metadata forward every turn (hard state + a compacting snapshot).
  const turn = async () => {
    const s = wal.group(1)!;
    const last = s.lastIndex();
    wal.stageEntries(1, ents(last + 1, last + 4, 1, 100));
    wal.stageHardState(1, hs(1, 1, last + 4));
    wal.stageSnapshot(1, snap(last, 1));
    await wal.flush();
  };
  while ((await segmentFiles(dir)).length < 3) await turn();
  await wal.maybeGc(); // group 2 rewritten forward
  const rotated = (await segmentFiles(dir)).length + 1;
  while ((await segmentFiles(dir)).length < rotated) await turn(); // group 2 alone pins a non-active segment
  const g2 = wal.group(2)!;
  const durable = { first: g2.firstIndex(), last: g2.lastIndex(), hs: g2.hardState(), tail: plain(readAll(g2)) };

  const gc = wal.maybeGc();
  wal.stageRemoveGroup(2); // not durable before GC decides
  await gc;
  await wal.close({ flush: false }); // crash

  const again = await openWal(dir, opts);
  t.after(() => again.close());
  const s2 = again.group(2)!;
  assert.deepEqual({ first: s2.firstIndex(), last: s2.lastIndex(), hs: s2.hardState(), tail: plain(readAll(s2)) },
    durable);
});

test('GC while groups keep staging never deletes what a restart needs', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: SEG });
  for (const id of [1, 2, 3, 4]) wal.createGroup(id, CONF);
  for (let turn = 0; turn < 40; turn++) {
    for (const id of [1, 2, 3, 4]) {
      const s = wal.group(id)!;
      const last = s.lastIndex();
      // Group 4 overwrites its own tail every turn; the others append and compact.
      if (id === 4 && last > 3) wal.stageEntries(id, ents(last - 2, last + 1, turn + 2, 60));
      else wal.stageEntries(id, ents(last + 1, last + 2, 1, 60));
      wal.stageHardState(id, hs(turn + 2, 1, s.lastIndex()));
      if (id !== 4 && s.lastIndex() > 10) wal.stageCompact(id, i(s.lastIndex() - 6));
    }
    const gc = wal.maybeGc(); // runs concurrently with the next turn's staging
    await wal.flush();
    if (turn % 3 === 0) await gc;
    else void gc.catch(() => undefined);
  }
  await wal.maybeGc();
  const expected = new Map<number, unknown>();
  for (const id of [1, 2, 3, 4]) {
    const s = wal.group(id)!;
    expected.set(id, { first: s.firstIndex(), hs: s.hardState(), tail: plain(readAll(s)) });
  }
  await wal.close({ flush: false });
  const again = await openWal(dir, { segmentBytes: SEG, entryCacheBytesMax: 0 });
  t.after(() => again.close());
  for (const id of [1, 2, 3, 4]) {
    const s = again.group(id)!;
    assert.deepEqual({ first: s.firstIndex(), hs: s.hardState(), tail: plain(readAll(s)) }, expected.get(id), `group ${id}`);
  }
});
