// Goal: the engine side of a replica that missed a split (raft/unknown-shard.ts): installing the leader's snapshot of the narrowed left half deletes the stale right-range data, after which the right half can be created empty and filled by its own snapshot; creating the right half while the stale parent still covers its range is refused (the replica manager waits for the parent instead).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError, rangeShardBound } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { command } from '@shoal/proto';
import type { common } from '@shoal/proto';
import type { PeerId } from '@shoal/raft-ts';
import { Engine } from './engine.js';
import { applyAll, applyOne, b, cmd, dump, engineOptions, openWithShard, put, RANGE_TABLE, reply, tempDir } from './fixture.js';
import type { ShardLocalState, SnapshotMeta } from './types.js';

const EMPTY = { voters: [] as PeerId[], learners: [] as PeerId[], votersOutgoing: [] as PeerId[], learnersNext: [] as PeerId[], autoLeave: false };

async function exportShard(e: Engine, shardId: number): Promise<{ chunks: Uint8Array[]; meta: SnapshotMeta }> {
  const snap = e.openSnapshot(shardId);
  const chunks: Uint8Array[] = [];
  for await (const c of snap.chunks(4096)) chunks.push(c);
  const meta = { index: snap.appliedIndex, term: snap.appliedTerm, confState: snap.confState, descriptor: snap.descriptor };
  await snap.close();
  return { chunks, meta };
}

async function install(e: Engine, shardId: number, s: { chunks: Uint8Array[]; meta: SnapshotMeta }): Promise<void> {
  const inst = e.beginInstall(shardId);
  for (const c of s.chunks) await inst.write(c);
  await inst.finish(s.meta);
}

/** The leader: shard 1 split at "d" into 1 [.., d) and 2 [d, ..), then written at the new epoch. */
async function leader(dir: string): Promise<{ e: Engine; right: common.ShardDescriptor }> {
  const e = await openWithShard(dir, RANGE_TABLE);
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) await applyOne(e, 1, put(k, `v-${k}`));
  const splitKey = rangeShardBound(RANGE_TABLE.tableId as TableId, b('d'));
  const out = await applyOne(e, 1, { $case: 'split', split: command.SplitCommand.create({ splitKey, newShardId: 2, newPeerIds: [2] }) });
  const { right } = reply(out, 'split');
  const at2 = (shardId: number, k: string, v: string): command.RaftCommand => {
    const c = cmd(shardId, put(k, v));
    return { ...c, header: { ...c.header!, epoch: { confVer: 1, version: 2 } } };
  };
  await applyAll(e, 1, [at2(1, 'a', 'a2')]);
  await applyAll(e, 2, [at2(2, 'e', 'e2'), at2(2, 'g', 'g2')]);
  return { e, right };
}

/** The replica that missed the split: the parent's old, wide range with data the right half has since changed. */
async function stale(dir: string): Promise<Engine> {
  const e = await openWithShard(dir, RANGE_TABLE);
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'x']) await applyOne(e, 1, put(k, `old-${k}`));
  return e;
}

const emptyReplica = (right: common.ShardDescriptor): ShardLocalState => ({ descriptor: right, appliedIndex: 0, appliedTerm: 0, confState: EMPTY, peerId: 2, tombstone: false });

test('left snapshot first: the stale right range is deleted; the right half is then created empty and filled', async (t) => {
  const { e: src, right } = await leader(tempDir(t));
  t.after(() => src.close());
  const dst = await stale(tempDir(t));
  t.after(() => dst.close());

  await install(dst, 1, await exportShard(src, 1));
  assert.deepEqual(await dump(dst, 1), await dump(src, 1));
  await dst.createShard(emptyReplica(right), RANGE_TABLE);
  assert.deepEqual(await dump(dst, 2), [], 'nothing of the parent\'s old right range is left under the new shard');
  await install(dst, 2, await exportShard(src, 2));
  assert.deepEqual(await dump(dst, 2), await dump(src, 2));
  const st = dst.shards().find((s) => s.descriptor.id === 2)!;
  assert.deepEqual([st.appliedIndex, st.descriptor.epoch?.version], [src.shards().find((s) => s.descriptor.id === 2)!.appliedIndex, 2]);
});

test('right half first: creating it over the stale parent is refused; after the left snapshot it succeeds', async (t) => {
  const { e: src, right } = await leader(tempDir(t));
  t.after(() => src.close());
  const dir = tempDir(t);
  const dst = await stale(dir);
  t.after(() => dst.close());

  const refused = await dst.createShard(emptyReplica(right), RANGE_TABLE).then(() => undefined, (e: unknown) => e);
  assert.ok(isKvError(refused) && refused.code === 'INVALID_ARGUMENT', String(refused));
  assert.equal(dst.shards().length, 1, 'nothing created');
  assert.equal((await dump(dst, 1)).length, 7, 'the stale parent is untouched');

  await install(dst, 1, await exportShard(src, 1));
  await dst.createShard(emptyReplica(right), RANGE_TABLE);
  await install(dst, 2, await exportShard(src, 2));
  assert.deepEqual(await dump(dst, 1), await dump(src, 1));
  assert.deepEqual(await dump(dst, 2), await dump(src, 2));

  // Both halves survive a reopen.
  await dst.close();
  const again = await Engine.open(engineOptions(dir));
  t.after(() => again.close());
  assert.deepEqual(await dump(again, 2), await dump(src, 2));
});
