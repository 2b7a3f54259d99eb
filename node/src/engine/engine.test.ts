// Goal: the engine's lifecycle — applied index persisted in the same batch as the data and
// resumed after reopen, replicas and tables persisted, removal leaving a tombstone, option
// and command validation naming what is wrong, durability calls, and the on-disk formats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InternalSpace, isKvError } from '@shoal/common';
import { command } from '@shoal/proto';
import { Engine } from './engine.js';
import {
  applyAll, applyOne, b, cmd, CONF, del, descriptor, dump, engineOptions, HASH_TABLE, openWithShard, put, RANGE_TABLE,
  shardState, str, tempDir,
} from './fixture.js';
import { EngineSpace } from './local-keys.js';
import { decodeStoredValue, encodeInline, encodePointerValue } from './stored-value.js';

test('reopen resumes from the persisted applied index with the data it covers', async (t) => {
  const dir = tempDir(t);
  let e = await openWithShard(dir);
  await applyAll(e, 1, Array.from({ length: 5 }, (_, i) => cmd(1, put(`k${i}`, `v${i}`))));
  const batch = e.beginApply();
  batch.setApplied(1, 6, 2, { ...CONF, learners: [2 as never] });
  await batch.commit();
  const before = await dump(e, 1);
  await e.close();
  e = await Engine.open(engineOptions(dir));
  t.after(() => e.close());
  const s = e.shards()[0]!;
  assert.deepEqual([s.appliedIndex, s.appliedTerm, s.confState.learners], [6, 2, [2]]);
  assert.deepEqual(await dump(e, 1), before);
  // The scheduler replays from appliedIndex + 1; re-applying an applied index is a bug.
  assert.throws(() => e.beginApply().apply(1, 6, 2, new Uint8Array(0)), /applied index 6 after 6/);
});

test('a conf change records the new descriptor in the same batch as its applied index', async (t) => {
  const dir = tempDir(t);
  let e = await openWithShard(dir);
  const d = e.shards()[0]!.descriptor;
  const next = { ...d, epoch: { confVer: 2, version: 1 }, replicas: [...d.replicas, { nodeId: 2, peerId: 2, role: 0 as const }] };
  const batch = e.beginApply();
  batch.setApplied(1, 1, 1, { ...CONF, voters: [1 as never, 2 as never] });
  batch.setDescriptor(1, next);
  // Commands later in the batch already see the new descriptor (same epoch version here).
  const o = batch.apply(1, 2, 1, command.RaftCommand.encode(cmd(1, put('a', 'b'))).finish());
  await batch.commit();
  assert.equal(o.ok, true);
  await e.close();
  e = await Engine.open(engineOptions(dir));
  t.after(() => e.close());
  const s = e.shards()[0]!;
  assert.deepEqual([s.appliedIndex, s.descriptor.epoch?.confVer, s.descriptor.replicas.length, s.confState.voters], [2, 2, 2, [1, 2]]);
});

test('one batch spans shards; an unwritten batch leaves no trace', async (t) => {
  const dir = tempDir(t);
  let e = await Engine.open(engineOptions(dir));
  await e.createShard(shardState(descriptor(1, RANGE_TABLE, '', 'm')), RANGE_TABLE);
  await e.createShard(shardState(descriptor(2, RANGE_TABLE, 'm', '')), RANGE_TABLE);
  const batch = e.beginApply();
  batch.apply(1, 1, 1, command.RaftCommand.encode(cmd(1, put('a', '1'))).finish());
  batch.apply(2, 1, 1, command.RaftCommand.encode(cmd(2, put('x', '2'))).finish());
  await batch.commit();
  const lost = e.beginApply();
  lost.apply(1, 2, 1, command.RaftCommand.encode(cmd(1, put('b', 'never committed'))).finish());
  await e.close().catch(() => undefined); // the process dies before commit()
  e = await Engine.open(engineOptions(dir));
  t.after(() => e.close());
  assert.deepEqual(e.shards().map((s) => s.appliedIndex), [1, 1]);
  assert.equal(e.get(1, b('b'), 0).found, false);
  assert.equal(str(e.get(2, b('x'), 0).value), '2');
});

test('removeShard deletes the data and leaves a persisted tombstone; the id can be reused', async (t) => {
  const dir = tempDir(t);
  let e = await openWithShard(dir, HASH_TABLE);
  await applyAll(e, 1, Array.from({ length: 50 }, (_, i) => cmd(1, put(`k${i}`, i % 5 === 0 ? 'x'.repeat(4000) : 'v'))));
  assert.ok(e.stats().valueLogLiveBytes > 0);
  await e.removeShard(1);
  assert.throws(() => e.get(1, b('k1'), 0), (x: unknown) => isKvError(x, 'SHARD_NOT_FOUND'));
  assert.equal(e.stats().valueLogLiveBytes, 0, 'its value-log bytes are garbage now');
  await e.close();
  e = await Engine.open(engineOptions(dir));
  t.after(() => e.close());
  assert.deepEqual(e.shards().map((s) => [s.descriptor.id, s.tombstone]), [[1, true]]);
  await e.createShard(shardState(descriptor(1, HASH_TABLE)), HASH_TABLE);
  assert.deepEqual(await dump(e, 1), [], 'no data of the removed replica comes back');
});

test('createShard and setTable validate; tables persist', async (t) => {
  const dir = tempDir(t);
  let e = await openWithShard(dir, RANGE_TABLE, {}, 1, '', 'm');
  const code = (c: string) => (x: unknown) => isKvError(x, c as 'INVALID_ARGUMENT');
  await assert.rejects(e.createShard(shardState(descriptor(1, RANGE_TABLE)), RANGE_TABLE), code('ALREADY_EXISTS'));
  await assert.rejects(e.createShard(shardState(descriptor(2, RANGE_TABLE, 'c', 'z')), RANGE_TABLE), code('INVALID_ARGUMENT'), 'overlap');
  await assert.rejects(e.createShard(shardState(descriptor(3, HASH_TABLE)), RANGE_TABLE), code('INVALID_ARGUMENT'), 'table mismatch');
  await assert.rejects(e.setTable({ ...RANGE_TABLE, partition: 'hash' }), code('INVALID_ARGUMENT'));
  await e.setTable({ ...RANGE_TABLE, valueSeparationThresholdBytes: 10 });
  await applyOne(e, 1, put('a', 'x'.repeat(20)));
  assert.ok(e.stats().valueLogLiveBytes > 0, 'the new threshold applies at once');
  await e.makeDurable();
  await e.close();
  e = await Engine.open(engineOptions(dir));
  t.after(() => e.close());
  assert.equal(e.table(RANGE_TABLE.tableId)?.valueSeparationThresholdBytes, 10);
  assert.equal(str(e.get(1, b('a'), 0).value), 'x'.repeat(20));
});

test('options are validated and the bad one is named', async (t) => {
  const dir = tempDir(t);
  for (const [option, value] of [['valueLogGcGarbageRatio', 1], ['keyBytesMax', 0], ['valueLogFileBytes', 10]] as const) {
    await assert.rejects(Engine.open({ ...engineOptions(dir), [option]: value }), (x: unknown) => isKvError(x, 'CONFIG_INVALID') && x.details?.option === option);
  }
});

test('validateCommand: limits, shape, shard, key range and epoch before proposing', async (t) => {
  const e = await openWithShard(tempDir(t), RANGE_TABLE, { batchKeysMax: 3 }, 1, 'a', 'm');
  t.after(() => e.close());
  const v = (c: command.RaftCommand, shard = 1): string => e.validateCommand(shard, c)?.code ?? 'ok';
  assert.equal(v(cmd(1, put('b', 'v'))), 'ok');
  assert.equal(v(cmd(1, put('z', 'v'))), 'KEY_NOT_IN_SHARD');
  assert.equal(v(cmd(1, put('b'.repeat(2000), 'v'))), 'KEY_TOO_LARGE');
  assert.equal(v(cmd(1, put('b', new Uint8Array((1 << 20) + 1)))), 'VALUE_TOO_LARGE');
  assert.equal(v(cmd(1, { $case: 'batchWrite', batchWrite: { ops: Array.from({ length: 4 }, () => command.WriteOp.create({ key: b('b') })) } })), 'REQUEST_TOO_LARGE');
  assert.equal(v(command.RaftCommand.create({ header: cmd(1, del('b')).header })), 'INVALID_ARGUMENT');
  assert.equal(v(command.RaftCommand.create({ op: del('b') })), 'INVALID_ARGUMENT', 'no header, no stamp');
  assert.equal(v(cmd(2, del('b'))), 'INVALID_ARGUMENT', 'header names another shard');
  assert.equal(v(cmd(9, del('b')), 9), 'SHARD_NOT_FOUND');
  const stale = cmd(1, del('b'));
  assert.equal(v({ ...stale, header: { ...stale.header!, epoch: { confVer: 1, version: 0 } } }), 'EPOCH_NOT_MATCH');
});

test('one apply batch at a time', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  const first = e.beginApply();
  assert.throws(() => e.beginApply(), /another apply batch is open/);
  await first.commit();
  await e.beginApply().commit();
});

test('stored values round-trip and reject unknown headers; engine spaces stay clear of common\'s', () => {
  const inline = decodeStoredValue(encodeInline(123, b('abc')));
  assert.deepEqual([inline.storage, inline.expireAtUnixMs, inline.storage === 'inline' ? str(inline.value) : ''], ['inline', 123, 'abc']);
  const p = { fileId: 7, offset: 2 ** 40, length: 99, crc: 0xdeadbeef };
  const ptr = decodeStoredValue(encodePointerValue(0, p));
  assert.deepEqual(ptr.storage === 'pointer' ? ptr.pointer : undefined, p);
  assert.throws(() => decodeStoredValue(Uint8Array.of(0x03, 0, 0, 0, 0, 0, 0, 0, 0)), (x: unknown) => isKvError(x, 'CORRUPTION'));
  assert.throws(() => decodeStoredValue(Uint8Array.of(0x01)), (x: unknown) => isKvError(x, 'CORRUPTION'));
  const common = new Set<number>(Object.values(InternalSpace));
  for (const s of Object.values(EngineSpace)) assert.equal(common.has(s), false, `space 0x${s.toString(16)}`);
});
