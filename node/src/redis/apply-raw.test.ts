// Goal: the raw_batch Raft command round-trips through protobuf and applies all-or-nothing:
// keys and ranges outside the shard, internal or TTL-area keys, and malformed data values
// fail the whole batch with a stable code and write nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { internalKey, InternalSpace, ttlIndexKey } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { command } from '@shoal/proto';
import { applyRawBatch, fromRawBatchCommand, toRawBatchCommand } from './apply-raw.js';
import { encodeString, KeyCodec } from './encoding.js';
import { MemoryView } from './memory-view.js';
import { HASH_SHARD, rangeShard } from './fixture.js';
import type { RawWrite } from './view.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const SHARD = rangeShard('b', 'm');
const codec = new KeyCodec(SHARD);
const target = { scheme: SHARD.partition, range: SHARD.range };

function apply(view: MemoryView, writes: RawWrite[]): ReturnType<typeof applyRawBatch> {
  const cmd = command.RawBatchCommand.decode(command.RawBatchCommand.encode(toRawBatchCommand(writes)).finish());
  return applyRawBatch(target, view, cmd);
}

test('puts, deletes and range deletes apply in order and round-trip', () => {
  const view = new MemoryView();
  const writes: RawWrite[] = [
    { type: 'put', key: codec.dataKey(b('c')), value: encodeString(b('v'), 0) },
    { type: 'put', key: codec.sub(b('c'), 5, b('f1')), value: b('x') },
    { type: 'put', key: codec.sub(b('c'), 5, b('f2')), value: b('y') },
    { type: 'deleteRange', range: codec.subRange(b('c'), 5) },
    { type: 'put', key: codec.sub(b('c'), 5, b('f3')), value: b('z') },
    { type: 'delete', key: codec.dataKey(b('d')) },
  ];
  assert.deepEqual(fromRawBatchCommand(toRawBatchCommand(writes)), writes);
  const r = apply(view, writes);
  assert.ok(r.ok);
  assert.equal(r.value.writes, 6);
  assert.equal(view.size, 2);
  assert.deepEqual(view.getSync(codec.sub(b('c'), 5, b('f3'))), b('z'));
});

test('bad batches change nothing', () => {
  const view = new MemoryView();
  const ok: RawWrite = { type: 'put', key: codec.dataKey(b('c')), value: encodeString(b('v'), 0) };
  const cases: [string, RawWrite, string][] = [
    ['key before the shard', { type: 'put', key: codec.dataKey(b('a')), value: encodeString(b('v'), 0) }, 'KEY_NOT_IN_SHARD'],
    ['key after the shard', { type: 'delete', key: codec.dataKey(b('x')) }, 'KEY_NOT_IN_SHARD'],
    ['range leaving the shard', { type: 'deleteRange', range: { start: codec.dataKey(b('c')), end: codec.dataKey(b('z')) } }, 'KEY_NOT_IN_SHARD'],
    ['empty range', { type: 'deleteRange', range: { start: codec.dataKey(b('c')), end: codec.dataKey(b('c')) } }, 'INVALID_ARGUMENT'],
    ['data value without a header', { type: 'put', key: codec.dataKey(b('c')), value: b('raw') }, 'INVALID_ARGUMENT'],
    ['truncated storage key', { type: 'put', key: codec.dataKey(b('c')).subarray(0, 8), value: b('x') }, 'INVALID_ARGUMENT'],
  ];
  for (const [what, bad, code] of cases) {
    const r = apply(view, [ok, bad]);
    assert.ok(!r.ok, what);
    assert.equal(r.error.code, code, what);
    assert.equal(view.size, 0, what);
  }
  const hashView = new MemoryView();
  const hashTarget = { scheme: HASH_SHARD.partition, range: HASH_SHARD.range };
  const ttl = command.RawBatchCommand.create({
    writes: [command.RawWrite.create({ type: command.RawWriteType.PUT, key: ttlIndexKey(9 as TableId, 3, 100, b('k')), value: b('') })],
  });
  const r1 = applyRawBatch(hashTarget, hashView, ttl);
  assert.ok(!r1.ok && r1.error.code === 'INVALID_ARGUMENT');
  const internal = command.RawBatchCommand.create({
    writes: [command.RawWrite.create({ type: command.RawWriteType.DELETE, key: internalKey(InternalSpace.Node, b('x')) })],
  });
  const r2 = applyRawBatch(hashTarget, hashView, internal);
  assert.ok(!r2.ok && r2.error.code === 'KEY_NOT_IN_SHARD');
  const unknown = command.RawBatchCommand.create({ writes: [command.RawWrite.create({ type: 9 as command.RawWriteType, key: codec.dataKey(b('c')) })] });
  const r3 = applyRawBatch(target, view, unknown);
  assert.ok(!r3.ok && r3.error.code === 'INVALID_ARGUMENT');
  const many = toRawBatchCommand([ok, ok, ok]);
  const r4 = applyRawBatch({ ...target, writesMax: 2 }, view, many);
  assert.ok(!r4.ok && r4.error.code === 'REQUEST_TOO_LARGE');
});

test('a RaftCommand carries raw_batch beside the header, with no op', () => {
  const cmd = command.RaftCommand.create({
    header: command.CommandHeader.create({ shardId: 3, proposedAtUnixMs: 42 }),
    rawBatch: toRawBatchCommand([{ type: 'delete', key: codec.dataKey(b('c')) }]),
  });
  const back = command.RaftCommand.decode(command.RaftCommand.encode(cmd).finish());
  assert.equal(back.op, undefined);
  assert.equal(back.rawBatch?.writes.length, 1);
  assert.equal(back.header?.proposedAtUnixMs, 42);
});
