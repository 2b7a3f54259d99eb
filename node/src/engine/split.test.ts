// Goal: a Split command applied by the engine narrows the left half and creates the right half over the same data in one batch, with the metaserver's epoch and peer-order rules; keys route to their half; stale commands are refused; both halves survive a reopen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keySlot, rangeShardBound, slotRangeStart, toHex } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { command, common } from '@shoal/proto';
import type { PeerId } from '@shoal/raft-ts';
import { Engine } from './engine.js';
import {
  appliedIndex, applyAll, applyOne, b, cmd, descriptor, dump, engineOptions, errorCode, HASH_TABLE, put, RANGE_TABLE, reply,
  str, tempDir,
} from './fixture.js';
import type { Op } from './fixture.js';
import { SPLIT_INIT_INDEX, SPLIT_INIT_TERM } from './split.js';
import type { ShardLocalState, TableInfo } from './types.js';

const THREE = { voters: [30, 10, 20] as PeerId[], learners: [] as PeerId[], votersOutgoing: [] as PeerId[], learnersNext: [] as PeerId[], autoLeave: false };

/** A 3-replica shard whose descriptor lists replicas out of peer-id order (on purpose). */
async function open(dir: string, table: TableInfo): Promise<Engine> {
  const e = await Engine.open(engineOptions(dir));
  const d: common.ShardDescriptor = { ...descriptor(1, table), replicas: [
    common.Replica.create({ nodeId: 3, peerId: 30, role: common.ReplicaRole.VOTER }),
    common.Replica.create({ nodeId: 1, peerId: 10, role: common.ReplicaRole.VOTER }),
    common.Replica.create({ nodeId: 2, peerId: 20, role: common.ReplicaRole.VOTER }),
  ] };
  const st: ShardLocalState = { descriptor: d, appliedIndex: 0, appliedTerm: 0, confState: THREE, peerId: 10, tombstone: false };
  await e.createShard(st, table);
  return e;
}

const splitOp = (splitKey: Uint8Array, newShardId = 2, newPeerIds = [11, 21, 31]): Op => ({
  $case: 'split', split: command.SplitCommand.create({ splitKey, newShardId, newPeerIds }),
});

function withEpoch(c: command.RaftCommand, confVer: number, version: number): command.RaftCommand {
  return { ...c, header: { ...c.header!, epoch: { confVer, version } } };
}

test('range split: halves narrow/created in one batch, epochs {confVer, version+1}, right peers in sorted-parent order, keys routed', async (t) => {
  const dir = tempDir(t);
  let e = await open(dir, RANGE_TABLE);
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) await applyOne(e, 1, put(k, `v-${k}`));
  const key = await e.splitKeyOf(1);
  assert.equal(toHex(key), toHex(rangeShardBound(RANGE_TABLE.tableId as TableId, b('d'))), 'the median user key');

  const out = await applyOne(e, 1, splitOp(key));
  const { left, right } = reply(out, 'split');
  assert.deepEqual(left.epoch, { confVer: 1, version: 2 });
  assert.deepEqual(right.epoch, { confVer: 1, version: 2 });
  assert.equal(toHex(left.endKey), toHex(key));
  assert.equal(toHex(right.startKey), toHex(key));
  assert.equal(right.endKey.length, 0, 'the right half keeps the parent\'s end');
  // Parent replicas sorted by peer id: 10 (node 1), 20 (node 2), 30 (node 3) → 11, 21, 31.
  assert.deepEqual(right.replicas.map((r) => [r.peerId, r.nodeId]), [[11, 1], [21, 2], [31, 3]]);
  const rs = e.shards().find((s) => s.descriptor.id === 2)!;
  assert.equal(rs.peerId, 11, 'the local replica of the right half is the local parent peer renamed');
  assert.deepEqual([...rs.confState.voters], [31, 11, 21], 'raft membership renamed in place');
  assert.equal(rs.appliedIndex, SPLIT_INIT_INDEX);
  assert.equal(rs.appliedTerm, SPLIT_INIT_TERM);

  assert.deepEqual((await dump(e, 1)).length, 3, 'a b c stay left');
  assert.deepEqual((await dump(e, 2)).length, 3, 'd e f go right');
  assert.equal(str(e.get(2, b('e'), 0).value), 'v-e');
  assert.throws(() => e.get(1, b('e'), 0), /KEY_NOT_IN_SHARD|outside/);

  // A write proposed before the split (old epoch) is refused at apply; one without epoch for a right key too.
  const [stale] = await applyAll(e, 1, [cmd(1, put('a', 'x'))]);
  assert.equal(errorCode(stale!), 'EPOCH_NOT_MATCH');
  const noEpoch = command.RaftCommand.create({ header: command.CommandHeader.create({ shardId: 1, proposedAtUnixMs: 1 }), op: put('e', 'x') });
  const [outside] = await applyAll(e, 1, [noEpoch]);
  assert.equal(errorCode(outside!), 'KEY_NOT_IN_SHARD');
  // New-epoch writes land in their half.
  const [okLeft] = await applyAll(e, 1, [withEpoch(cmd(1, put('a', 'new')), 1, 2)]);
  assert.equal(errorCode(okLeft!), 'ok');
  const [okRight] = await applyAll(e, 2, [withEpoch(cmd(2, put('z', 'zz')), 1, 2)]);
  assert.equal(errorCode(okRight!), 'ok');
  assert.equal(appliedIndex(e, 2), SPLIT_INIT_INDEX + 1);

  await e.close();
  e = await Engine.open(engineOptions(dir));
  t.after(() => e.close());
  const again = e.shards().find((s) => s.descriptor.id === 2)!;
  assert.equal(again.peerId, 11);
  assert.deepEqual(again.descriptor.epoch, { confVer: 1, version: 2 });
  assert.deepEqual((await dump(e, 1)).length, 3);
  assert.deepEqual((await dump(e, 2)).length, 4);
  assert.equal(str(e.get(1, b('a'), 0).value), 'new');
  assert.equal(str(e.get(2, b('z'), 0).value), 'zz');
});

test('hash split cuts at the metaserver\'s middle slot; refusals change nothing', async (t) => {
  const dir = tempDir(t);
  const e = await open(dir, HASH_TABLE);
  t.after(() => e.close());
  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  for (const k of keys) await applyOne(e, 1, put(k, k));
  const mid = await e.splitKeyOf(1);
  assert.equal(toHex(mid), toHex(slotRangeStart(HASH_TABLE.tableId as TableId, 8192)));

  const before = appliedIndex(e, 1);
  const refused = await applyAll(e, 1, [
    cmd(1, splitOp(mid, 2, [11, 21])), // wrong number of peers
    cmd(1, splitOp(rangeShardBound(HASH_TABLE.tableId as TableId, b('x')))), // not a slot boundary
    withEpoch(cmd(1, splitOp(mid)), 2, 1), // stale confVer
  ]);
  assert.deepEqual(refused.map(errorCode), ['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'EPOCH_NOT_MATCH']);
  assert.equal(appliedIndex(e, 1), before + 3, 'refused commands still move the applied index');
  assert.equal(e.shards().length, 1);

  const [done, second] = await applyAll(e, 1, [cmd(1, splitOp(mid)), cmd(1, splitOp(mid, 3, [12, 22, 32]))]);
  reply(done!, 'split');
  assert.equal(errorCode(second!), 'EPOCH_NOT_MATCH', 'a second split proposed at the old epoch, in the same batch');
  for (const k of keys) {
    const half = keySlot(b(k)) < 8192 ? 1 : 2;
    assert.equal(str(e.get(half, b(k), 0).value), k, `${k} readable in shard ${half}`);
  }
  assert.equal((await dump(e, 1)).length + (await dump(e, 2)).length, keys.length);
});

test('a range shard with fewer than two keys has no split key', async (t) => {
  const e = await open(tempDir(t), RANGE_TABLE);
  t.after(() => e.close());
  await assert.rejects(e.splitKeyOf(1), /fewer than two/);
  await applyOne(e, 1, put('only', '1'));
  await assert.rejects(e.splitKeyOf(1), /fewer than two/);
});
