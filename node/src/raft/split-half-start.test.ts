// Goal: a split's right half starts its raft group at the split point the engine gave it (log after index/term 5), so starting it is not mistaken for recovery from a crash (no "engine is ahead of the raft log" reset); a group created without that point still is, as after a real crash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '@shoal/common';
import { confStateOf } from './descriptor.js';
import { reconcileWithEngine } from './replica-factory.js';
import { createSplitHalfGroup } from './replica-manager.js';
import type { ShardStatePort } from './ports.js';
import { descriptor, silentLogger } from './testing/mem-cluster.js';
import { MemWal } from './testing/mem-wal.js';

/** engine/split.ts: the right half's state applied at SPLIT_INIT_INDEX/TERM (5, 5). */
function rightHalf(): ShardStatePort {
  const desc = descriptor(9, [1, 2, 3]);
  return { descriptor: desc, peerId: 91, confState: confStateOf(desc), appliedIndex: 5, appliedTerm: 5, tombstone: false };
}

function recordingLogger(warnings: string[]): Logger {
  return { ...silentLogger, warn: (_o: unknown, msg: string) => warnings.push(msg), child: () => recordingLogger(warnings) } as unknown as Logger;
}

test('the right half\'s group starts at the split point: nothing to reconcile, no warning', async () => {
  const wal = new MemWal();
  const st = rightHalf();
  const storage = createSplitHalfGroup(wal, st);
  await wal.flush();
  assert.equal(storage.firstIndex(), 6, 'the log continues after the split point');
  assert.equal(storage.term(5 as never), 5);
  assert.equal(storage.hardState().commit, 5);
  const warnings: string[] = [];
  assert.equal(reconcileWithEngine(wal, recordingLogger(warnings), 9, st, storage), false);
  assert.deepEqual(warnings, []);
});

test('a group created empty under an engine at (5, 5) is reset, with the crash warning', () => {
  const wal = new MemWal();
  const st = rightHalf();
  const storage = wal.createGroup(9, st.confState);
  const warnings: string[] = [];
  assert.equal(reconcileWithEngine(wal, recordingLogger(warnings), 9, st, storage), true);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /engine is ahead of the raft log/);
});
