// Goal: a thousand groups share one WAL — every turn stages all of them and costs exactly one write and one fdatasync — and all of them survive rotation, GC and a reopen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogIndex } from '@shoal/raft-ts';
import { CONF, ent, hs, openWal, plain, readAll, segmentFiles, tempDir } from './test-support.js';

const GROUPS = 1000;
const TURNS = 12;
const i = (n: number): LogIndex => n as LogIndex;

/** Group g's entry at index n: its term and data depend on both, so mix-ups show. */
const entryOf = (g: number, n: number) => ent(n, 1 + (n >> 2), `g${g}-n${n}-${'x'.repeat(g % 50)}`);

test('1000 groups interleaved: one write and one fsync per turn, all recovered', async (t) => {
  const dir = await tempDir(t);
  const wal = await openWal(dir, { segmentBytes: 256 * 1024, entryCacheBytesMax: 512 * 1024 });
  for (let g = 1; g <= GROUPS; g++) wal.createGroup(g, CONF);
  await wal.flush();
  for (let turn = 1; turn <= TURNS; turn++) {
    const before = wal.stats();
    for (let g = 1; g <= GROUPS; g++) {
      // Every group appends one entry per turn; every 7th group also appends a second.
      const es = [entryOf(g, wal.group(g)!.lastIndex() + 1)];
      if (g % 7 === 0) es.push(entryOf(g, es[0]!.index + 1));
      wal.stageEntries(g, es);
      wal.stageHardState(g, hs(turn, g % 3 + 1, es[es.length - 1]!.index));
      // Odd groups compact behind themselves from turn 6 on.
      if (g % 2 === 1 && turn >= 6) wal.stageCompact(g, i(turn - 3));
    }
    await wal.flush();
    const after = wal.stats();
    assert.equal(after.flushes - before.flushes, 1, `turn ${turn}: one write`);
    // One fdatasync per turn, plus the rotation's (old segment sync + directory fsync).
    assert.ok(after.fsyncs - before.fsyncs >= 1 && after.fsyncs - before.fsyncs <= 3, `turn ${turn}`);
  }
  const expected = (g: number) => {
    const s = wal.group(g)!;
    return { first: s.firstIndex(), last: s.lastIndex(), hs: s.hardState(), tail: plain(readAll(s)) };
  };
  const snapshot = new Map<number, ReturnType<typeof expected>>();
  for (let g = 1; g <= GROUPS; g++) snapshot.set(g, expected(g));
  assert.deepEqual(snapshot.get(14)!.tail, plain(Array.from({ length: 2 * TURNS }, (_, k) => entryOf(14, k + 1))));

  const segmentsBefore = (await segmentFiles(dir)).length;
  assert.ok(segmentsBefore >= 3, `rotation happened (${segmentsBefore} segments)`);
  await wal.maybeGc();
  await wal.close();

  const again = await openWal(dir, { segmentBytes: 256 * 1024, entryCacheBytesMax: 0 });
  t.after(() => again.close());
  assert.equal(again.groupIds().length, GROUPS);
  for (let g = 1; g <= GROUPS; g++) {
    const s = again.group(g)!;
    assert.deepEqual({ first: s.firstIndex(), last: s.lastIndex(), hs: s.hardState(), tail: plain(readAll(s)) },
      snapshot.get(g), `group ${g}`);
  }
});
