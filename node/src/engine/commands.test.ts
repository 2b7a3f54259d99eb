// Goal: every Raft command applies with the semantics of its kv request — conditions,
// previous values, CAS, Incr (overflow, non-integers), BatchWrite atomicity, DeleteRange
// counts — and the apply-time defences (KEY_NOT_IN_SHARD, limits, epoch, bad commands).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { command, kv } from '@shoal/proto';
import {
  applyAll, applyOne, b, batchWrite, cas, cmd, del, delRange, dump, errorCode, expireDelete, HASH_TABLE, incr,
  openWithShard, put, reply, str, tempDir,
} from './fixture.js';
import { INT64_MAX, INT64_MIN, parseInt64 } from './int64.js';

test('put: plain, ifAbsent, ifPresent, returnPrevious', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  let r = reply(await applyOne(e, 1, put('k', 'v1', { returnPrevious: true })), 'put');
  assert.deepEqual([r.applied, r.previousFound, r.previousValue.length], [true, false, 0]);
  r = reply(await applyOne(e, 1, put('k', 'v2', { condition: kv.PutCondition.IF_ABSENT, returnPrevious: true })), 'put');
  assert.deepEqual([r.applied, r.previousFound, str(r.previousValue)], [false, true, 'v1']);
  assert.equal(str(e.get(1, b('k'), 0).value), 'v1');
  r = reply(await applyOne(e, 1, put('k', 'v3', { condition: kv.PutCondition.IF_PRESENT, returnPrevious: true })), 'put');
  assert.deepEqual([r.applied, str(r.previousValue)], [true, 'v1']);
  r = reply(await applyOne(e, 1, put('nope', 'x', { condition: kv.PutCondition.IF_PRESENT })), 'put');
  assert.equal(r.applied, false);
  assert.equal(e.get(1, b('nope'), 0).found, false);
  assert.equal(str(e.get(1, b('k'), 0).value), 'v3');
});

test('delete reports whether the key existed', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyOne(e, 1, put('k', 'v'));
  assert.equal(reply(await applyOne(e, 1, del('k')), 'delete').deleted, true);
  assert.equal(reply(await applyOne(e, 1, del('k')), 'delete').deleted, false);
  assert.equal(e.get(1, b('k'), 0).found, false);
});

test('compare-and-swap: expect absent, expect value, delete on match, mismatch reports current', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  let r = reply(await applyOne(e, 1, cas('k', { expectAbsent: true, newValue: b('a') })), 'cas');
  assert.equal(r.swapped, true);
  r = reply(await applyOne(e, 1, cas('k', { expectAbsent: true, newValue: b('b') })), 'cas');
  assert.deepEqual([r.swapped, r.currentFound, str(r.currentValue)], [false, true, 'a']);
  r = reply(await applyOne(e, 1, cas('k', { expectedValue: b('x'), newValue: b('b') })), 'cas');
  assert.deepEqual([r.swapped, str(r.currentValue)], [false, 'a']);
  r = reply(await applyOne(e, 1, cas('k', { expectedValue: b('a'), newValue: b('b') })), 'cas');
  assert.equal(r.swapped, true);
  assert.equal(str(e.get(1, b('k'), 0).value), 'b');
  r = reply(await applyOne(e, 1, cas('k', { expectedValue: b('b'), delete: true })), 'cas');
  assert.equal(r.swapped, true);
  assert.equal(e.get(1, b('k'), 0).found, false);
  r = reply(await applyOne(e, 1, cas('k', { expectedValue: b('') })), 'cas');
  assert.deepEqual([r.swapped, r.currentFound], [false, false]);
  // An empty value is a value: expecting it matches an existing empty value.
  await applyOne(e, 1, put('empty', ''));
  assert.equal(reply(await applyOne(e, 1, cas('empty', { expectedValue: b(''), newValue: b('z') })), 'cas').swapped, true);
});

test('incr: creates at delta, adds, rejects non-integers and overflow without writing', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  assert.equal(reply(await applyOne(e, 1, incr('n', 5n)), 'incr').value, 5n);
  assert.equal(reply(await applyOne(e, 1, incr('n', -7n)), 'incr').value, -2n);
  assert.equal(str(e.get(1, b('n'), 0).value), '-2');
  await applyOne(e, 1, put('s', 'abc'));
  assert.equal(errorCode(await applyOne(e, 1, incr('s', 1n))), 'INVALID_ARGUMENT');
  await applyOne(e, 1, put('max', INT64_MAX.toString()));
  assert.equal(errorCode(await applyOne(e, 1, incr('max', 1n))), 'OVERFLOW');
  assert.equal(str(e.get(1, b('max'), 0).value), INT64_MAX.toString());
  await applyOne(e, 1, put('min', INT64_MIN.toString()));
  assert.equal(errorCode(await applyOne(e, 1, incr('min', -1n))), 'OVERFLOW');
  assert.equal(reply(await applyOne(e, 1, incr('min', 1n)), 'incr').value, INT64_MIN + 1n);
});

test('incr parses integers like Redis', () => {
  for (const ok of ['0', '1', '-1', '9223372036854775807', '-9223372036854775808', '120']) {
    assert.equal(parseInt64(b(ok)), BigInt(ok), ok);
  }
  for (const bad of ['', '-', '+1', '01', '-0', ' 1', '1 ', '1.0', '9223372036854775808', '-9223372036854775809', 'x', '123456789012345678901']) {
    assert.equal(parseInt64(b(bad)), undefined, JSON.stringify(bad));
  }
});

test('incr keeps an existing key\'s expiry and gives a new key the command\'s', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyOne(e, 1, put('n', '1', { expireAtUnixMs: 50_000 }));
  await applyOne(e, 1, incr('n', 1n, 99_000));
  assert.equal(e.get(1, b('n'), 0).expireAtUnixMs, 50_000);
  await applyOne(e, 1, incr('fresh', 1n, 99_000));
  assert.equal(e.get(1, b('fresh'), 0).expireAtUnixMs, 99_000);
});

test('batch write is atomic: one bad op fails the whole batch', async (t) => {
  const e = await openWithShard(tempDir(t), undefined, {}, 1, 'a', 'm');
  t.after(() => e.close());
  await applyOne(e, 1, put('b', 'old'));
  const bad = await applyOne(e, 1, batchWrite([{ put: ['c', '1'] }, { del: 'b' }, { put: ['z', 'outside'] }]));
  assert.equal(errorCode(bad), 'KEY_NOT_IN_SHARD');
  assert.equal(e.get(1, b('c'), 0).found, false);
  assert.equal(str(e.get(1, b('b'), 0).value), 'old');
  const big = await applyOne(e, 1, batchWrite([{ put: ['c', '1'] }, { put: ['d', 'x'.repeat((1 << 20) + 1)] }]));
  assert.equal(errorCode(big), 'VALUE_TOO_LARGE');
  assert.equal(e.get(1, b('c'), 0).found, false);
  reply(await applyOne(e, 1, batchWrite([{ put: ['c', '1'] }, { del: 'b' }, { put: ['c', '2'] }])), 'batchWrite');
  assert.deepEqual([e.get(1, b('b'), 0).found, str(e.get(1, b('c'), 0).value)], [false, '2']);
});

test('delete range counts live keys, honours bounds, and composes with writes in the same batch', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyAll(e, 1, ['a', 'b', 'c', 'd', 'e'].map((k) => cmd(1, put(k, k))));
  await applyOne(e, 1, put('c2', 'gone-soon', { expireAtUnixMs: 500 }));
  const outcomes = await applyAll(e, 1, [
    cmd(1, put('bb', 'new-before')),      // written in the batch, then deleted by the range
    cmd(1, delRange('b', 'e')),           // b, bb, c, d (c2 expired at stamp 1000: not counted)
    cmd(1, put('c', 'after')),            // rewritten after the range delete: survives
    cmd(1, delRange('x', 'z')),
  ]);
  assert.equal(reply(outcomes[1]!, 'deleteRange').deletedCount, 4);
  assert.equal(reply(outcomes[3]!, 'deleteRange').deletedCount, 0);
  const keys = (await dump(e, 1)).map((l) => Buffer.from(l.split('=')[0]!, 'hex').toString());
  assert.deepEqual(keys, ['a', 'c', 'e']);
  assert.equal(str(e.get(1, b('c'), 0).value), 'after');
  // Overlapping ranges in one batch count each key once; empty bounds mean the whole shard.
  const [r1, r2] = await applyAll(e, 1, [cmd(1, delRange('a', 'd')), cmd(1, delRange('', ''))]);
  assert.equal(reply(r1!, 'deleteRange').deletedCount, 2);
  assert.equal(reply(r2!, 'deleteRange').deletedCount, 1);
  assert.deepEqual(await dump(e, 1), []);
});

test('delete range with empty bounds clears a hash shard', async (t) => {
  const e = await openWithShard(tempDir(t), HASH_TABLE);
  t.after(() => e.close());
  await applyAll(e, 1, Array.from({ length: 50 }, (_, i) => cmd(1, put(`key${i}`, 'v'))));
  assert.equal(reply(await applyOne(e, 1, delRange('', '')), 'deleteRange').deletedCount, 50);
  assert.deepEqual(await dump(e, 1), []);
});

test('KEY_NOT_IN_SHARD, KEY_TOO_LARGE and EPOCH_NOT_MATCH are enforced at apply', async (t) => {
  const e = await openWithShard(tempDir(t), undefined, {}, 1, 'f', 'p');
  t.after(() => e.close());
  assert.equal(errorCode(await applyOne(e, 1, put('a', 'v'))), 'KEY_NOT_IN_SHARD');
  assert.equal(errorCode(await applyOne(e, 1, put('p', 'v'))), 'KEY_NOT_IN_SHARD');
  assert.equal(errorCode(await applyOne(e, 1, incr('z', 1n))), 'KEY_NOT_IN_SHARD');
  assert.equal(errorCode(await applyOne(e, 1, put('f', 'v'))), 'ok');
  assert.equal(errorCode(await applyOne(e, 1, put('g'.repeat(1025), 'v'))), 'KEY_TOO_LARGE');
  const stale = cmd(1, put('g', 'v'));
  const [o] = await applyAll(e, 1, [{ ...stale, header: { ...stale.header!, epoch: { confVer: 1, version: 0 } } }]);
  assert.equal(errorCode(o!), 'EPOCH_NOT_MATCH');
  assert.equal(e.get(1, b('g'), 0).found, false);
  // The applied index moved past every rejected command.
  assert.equal(e.shards()[0]!.appliedIndex, 6);
});

test('undecodable and unknown commands fail deterministically and still advance the index', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  const batch = e.beginApply();
  const garbage = batch.apply(1, 1, 1, Uint8Array.of(0xff, 0xff, 0xff));
  const empty = batch.apply(1, 2, 1, command.RaftCommand.encode(command.RaftCommand.create({ header: { shardId: 1, proposedAtUnixMs: 0, requestId: 0, origin: '' } })).finish());
  await batch.commit();
  assert.equal(errorCode(garbage), 'CORRUPTION');
  assert.equal(errorCode(empty), 'INCOMPATIBLE_VERSION');
  assert.equal(e.shards()[0]!.appliedIndex, 2);
});

test('expire delete removes only keys still expired at its stamp', async (t) => {
  const e = await openWithShard(tempDir(t));
  t.after(() => e.close());
  await applyAll(e, 1, [cmd(1, put('a', '1', { expireAtUnixMs: 100 })), cmd(1, put('b', '1', { expireAtUnixMs: 5_000 })), cmd(1, put('c', '1'))]);
  const r = reply(await applyOne(e, 1, expireDelete([b('a'), b('b'), b('c'), b('missing')]), 1_000), 'expireDelete');
  assert.equal(r.deletedCount, 1);
  assert.equal((await dump(e, 1)).length, 2);
});
