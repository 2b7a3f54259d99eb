// Goal: the engine's Redis hooks — raw batches (RaftCommand.raw_batch) apply deterministically
// over the apply overlay without decoding subkeys as stored values, the executor reads the
// shard through rawReadAccess, and plain KV operations treat Redis collections like Redis
// does (WRONG_TYPE for reads/updates of the value, overwrite for Put/Delete, Scan skips them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHex } from '@shoal/common';
import { command, kv } from '@shoal/proto';
import { rawBatchRaftCommand } from '../redis/apply-raw.js';
import { EngineReadView } from '../redis/engine-view.js';
import { RedisExecutor } from '../redis/executor.js';
import { toProtoReply } from '../redis/reply.js';
import { plain } from '../redis/fixture.js';
import type { ShardInfo } from '../redis/encoding.js';
import type { RawWrite } from '../redis/view.js';
import type { EngineCore } from './core.js';
import type { Engine } from './engine.js';
import {
  applyAll, applyOne, batchWrite, cas, del, dump, errorCode, incr, openWithShard, put, RANGE_TABLE, reply, str, tempDir,
} from './fixture.js';
import { decodeStoredValue } from './stored-value.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

function coreOf(e: Engine): EngineCore {
  return (e as unknown as { core: EngineCore }).core;
}

function shardInfo(e: Engine): ShardInfo {
  const { scheme, range } = e.rawReadAccess(1);
  return { tableId: RANGE_TABLE.tableId, partition: scheme, range };
}

/** Runs one Redis command on `e`'s applied state; returns the wire reply and the writes. */
async function run(e: Engine, nowMs: number, ...args: string[]): Promise<{ reply: unknown; writes: readonly RawWrite[] }> {
  const shard = shardInfo(e);
  const { access, scheme, range } = e.rawReadAccess(1);
  const view = new EngineReadView(access, scheme, range);
  try {
    const r = await new RedisExecutor().execute({ shard, nowMs }, args.map(b), view);
    return { reply: plain(toProtoReply(r.reply, 2)), writes: r.writes };
  } finally {
    await view.close();
  }
}

function rawCmd(writes: readonly RawWrite[], stampMs: number): command.RaftCommand {
  return rawBatchRaftCommand(
    command.CommandHeader.create({ shardId: 1, epoch: { confVer: 1, version: 1 }, proposedAtUnixMs: stampMs }), writes);
}

/** Every DB entry of the shard, subkeys included, data-key values resolved to their bytes. */
async function rawDump(e: Engine): Promise<string[]> {
  const core = coreOf(e);
  const range = shardInfo(e).range;
  const out: string[] = [];
  for await (const [k, v] of core.db.iterator({ gte: range.start, lt: range.end })) {
    let value = v;
    if (k[k.length - 1] === 0x01 && v.length > 0 && (v[0]! & 0x0f) === 0x02) {
      const s = decodeStoredValue(v);
      value = await core.resolve(k, s);
      out.push(`${toHex(k)}=ptr:${s.type}:${s.expireAtUnixMs}:${toHex(value)}`);
      continue;
    }
    out.push(`${toHex(k)}=${toHex(value)}`);
  }
  return out;
}

test('a raw batch applies identically on two engines (subkeys, value-log strings, range deletes)', async (t) => {
  const a = await openWithShard(tempDir(t), RANGE_TABLE);
  const c = await openWithShard(tempDir(t), RANGE_TABLE);
  t.after(() => a.close());
  t.after(() => c.close());
  const script: string[][] = [
    ['HSET', 'h', 'f1', 'v1', 'f2', 'v2'],
    ['RPUSH', 'l', 'x', 'y', 'z'],
    ['ZADD', 'z', '1', 'one', '2', 'two'],
    ['SADD', 's', 'm1', 'm2'],
    ['SET', 'big', 'q'.repeat(3000)],
    ['SET', 'small', 'v', 'PX', '100000'],
    ['LTRIM', 'l', '1', '1'],
    ['HDEL', 'h', 'f1'],
    ['DEL', 's'],
  ];
  let stamp = 10_000;
  for (const args of script) {
    stamp += 10;
    const r = await run(a, stamp, ...args);
    assert.ok(r.writes.length > 0, `${args[0]} wrote nothing`);
    const cmd = rawCmd(r.writes, stamp);
    assert.equal(a.validateCommand(1, cmd), undefined);
    const [oa] = await applyAll(a, 1, [cmd]);
    const [oc] = await applyAll(c, 1, [cmd]);
    assert.equal(errorCode(oa!), 'ok', `${args.join(' ')}: ${oa!.ok ? '' : oa!.error.message}`);
    assert.equal(errorCode(oc!), 'ok');
  }
  assert.deepEqual(await rawDump(a), await rawDump(c));
  assert.deepEqual((await run(a, stamp, 'HGETALL', 'h')).reply, ['f2', 'v2']);
  assert.deepEqual((await run(c, stamp, 'LRANGE', 'l', '0', '-1')).reply, ['y']);
  assert.equal((await run(c, stamp, 'GET', 'big')).reply, 'q'.repeat(3000));
  assert.equal((await run(c, stamp, 'EXISTS', 's')).reply, 0);
  assert.ok(a.stats().valueLogLiveBytes > 0);
  assert.equal(a.stats().valueLogLiveBytes, c.stats().valueLogLiveBytes);
});

test('rewriting and deleting subkeys in later batches does not decode them as stored values', async (t) => {
  const e = await openWithShard(tempDir(t), RANGE_TABLE);
  t.after(() => e.close());
  let stamp = 1_000;
  for (const args of [['HSET', 'h', 'f', 'v'], ['HSET', 'h', 'f', 'w'], ['HDEL', 'h', 'f'], ['ZADD', 'z', '1', 'm'], ['ZADD', 'z', '2', 'm']]) {
    stamp += 1;
    const r = await run(e, stamp, ...args);
    const [o] = await applyAll(e, 1, [rawCmd(r.writes, stamp)]);
    assert.equal(errorCode(o!), 'ok', args.join(' '));
  }
  // Two batches in one apply batch, the second overwriting the first's subkey.
  const w1 = (await run(e, 2_000, 'HSET', 'h2', 'f', 'v')).writes;
  const [o1, o2] = await applyAll(e, 1, [rawCmd(w1, 2_000), rawCmd(w1, 2_000)]);
  assert.equal(errorCode(o1!), 'ok');
  assert.equal(errorCode(o2!), 'ok');
  assert.deepEqual((await run(e, 3_000, 'ZRANGE', 'z', '0', '-1', 'WITHSCORES')).reply, ['m', '2']);
  assert.equal((await run(e, 3_000, 'HGET', 'h2', 'f')).reply, 'v');
});

test('a raw batch with a key outside the shard or an op as well is refused without writing', async (t) => {
  const e = await openWithShard(tempDir(t), RANGE_TABLE, {}, 1, 'a', 'm');
  t.after(() => e.close());
  const outside = (await run(e, 1_000, 'HSET', 'h', 'f', 'v')).writes.map((w): RawWrite =>
    (w.type === 'put' ? { ...w, key: Uint8Array.from([...w.key.subarray(0, 4), 0x7a, 0x7a]) } : w));
  const [o] = await applyAll(e, 1, [rawCmd(outside, 1_000)]);
  assert.equal(errorCode(o!), 'KEY_NOT_IN_SHARD');
  const both = command.RaftCommand.create({
    ...rawCmd((await run(e, 1_000, 'HSET', 'h', 'f', 'v')).writes, 1_000), op: { $case: 'delete', delete: { key: b('h') } },
  });
  assert.equal(e.validateCommand(1, both)?.code, 'INVALID_ARGUMENT');
  const [o2] = await applyAll(e, 1, [both]);
  assert.equal(errorCode(o2!), 'INVALID_ARGUMENT');
  assert.deepEqual(await rawDump(e), []);
});

/** An engine holding hash `h`, list `l`, zset `z` and plain string `s`. */
async function withCollections(t: { after(fn: () => Promise<void> | void): void }): Promise<Engine> {
  const e = await openWithShard(tempDir(t), RANGE_TABLE);
  t.after(() => e.close());
  let stamp = 1_000;
  for (const args of [['HSET', 'h', 'f', 'v'], ['RPUSH', 'l', 'x'], ['ZADD', 'z', '1', 'm'], ['SET', 's', '5']]) {
    stamp++;
    const [o] = await applyAll(e, 1, [rawCmd((await run(e, stamp, ...args)).writes, stamp)]);
    assert.equal(errorCode(o!), 'ok');
  }
  return e;
}

test('rawReadAccess checks the shard like every read', async (t) => {
  const e = await openWithShard(tempDir(t), RANGE_TABLE);
  t.after(() => e.close());
  assert.throws(() => e.rawReadAccess(99), { code: 'SHARD_NOT_FOUND' });
  const a = e.rawReadAccess(1);
  assert.equal(a.scheme, 'range');
  assert.equal(a.access, coreOf(e));
});

test('KV Get and BatchGet of a Redis collection answer WRONG_TYPE; strings read as values', async (t) => {
  const e = await withCollections(t);
  for (const k of ['h', 'l', 'z']) assert.throws(() => e.get(1, b(k), 2_000), { code: 'WRONG_TYPE' }, k);
  assert.equal(str(e.get(1, b('s'), 2_000).value), '5');
  await assert.rejects(e.batchGet(1, [b('s'), b('h')], 2_000), { code: 'WRONG_TYPE' });
  assert.equal((await e.batchGet(1, [b('s'), b('nope')], 2_000)).length, 2);
});

test('KV Scan skips Redis collections and their subkeys', async (t) => {
  const e = await withCollections(t);
  const page = await e.scan(1, { startKey: new Uint8Array(0), endKey: new Uint8Array(0), limit: 100, reverse: false, keysOnly: false }, 2_000);
  assert.deepEqual(page.pairs.map((p) => str(p.key)), ['s']);
  const rev = await e.scan(1, { startKey: new Uint8Array(0), endKey: new Uint8Array(0), limit: 100, reverse: true, keysOnly: true }, 2_000);
  assert.deepEqual(rev.pairs.map((p) => str(p.key)), ['s']);
});

test('KV Incr, CAS and Put with return_previous on a collection are WRONG_TYPE and write nothing', async (t) => {
  const e = await withCollections(t);
  const before = await rawDump(e);
  assert.equal(errorCode(await applyOne(e, 1, incr('h', 1n), 3_000)), 'WRONG_TYPE');
  assert.equal(errorCode(await applyOne(e, 1, cas('l', { expectedValue: b('x'), newValue: b('y') }), 3_000)), 'WRONG_TYPE');
  assert.equal(errorCode(await applyOne(e, 1, cas('z', { expectAbsent: true, newValue: b('y') }), 3_000)), 'WRONG_TYPE');
  assert.equal(errorCode(await applyOne(e, 1, put('h', 'v', { returnPrevious: true }), 3_000)), 'WRONG_TYPE');
  assert.deepEqual(await rawDump(e), before);
  // The string still increments.
  assert.equal(reply(await applyOne(e, 1, incr('s', 2n), 3_000), 'incr').value, 7n);
});

test('KV Put and Delete overwrite and delete a collection like SET and DEL', async (t) => {
  const e = await withCollections(t);
  assert.equal(reply(await applyOne(e, 1, put('h', 'plain'), 3_000), 'put').applied, true);
  assert.equal(str(e.get(1, b('h'), 3_000).value), 'plain');
  assert.equal((await run(e, 3_000, 'TYPE', 'h')).reply, '+string');
  assert.equal(reply(await applyOne(e, 1, del('l'), 3_000), 'delete').deleted, true);
  assert.equal((await run(e, 3_000, 'EXISTS', 'l')).reply, 0);
  assert.equal(reply(await applyOne(e, 1, put('z', 'no', { condition: kv.PutCondition.IF_ABSENT }), 3_000), 'put').applied, false);
  assert.equal(reply(await applyOne(e, 1, batchWrite([{ put: ['z', 'w'] }]), 3_000), 'batchWrite').error, undefined);
  assert.deepEqual(await dump(e, 1), [
    `${toHex(b('h'))}=${toHex(b('plain'))}@0`, `${toHex(b('s'))}=${toHex(b('5'))}@0`, `${toHex(b('z'))}=${toHex(b('w'))}@0`,
  ]);
  assert.equal((await run(e, 3_000, 'HGET', 'h', 'f')).reply, '-WRONGTYPE Operation against a key holding the wrong kind of value');
  // Re-creating a list over the deleted key starts fresh (the old subkeys are orphaned, not revived).
  const [o] = await applyAll(e, 1, [rawCmd((await run(e, 4_000, 'RPUSH', 'l', 'n')).writes, 4_000)]);
  assert.equal(errorCode(o!), 'ok');
  assert.deepEqual((await run(e, 4_000, 'LRANGE', 'l', '0', '-1')).reply, ['n']);
});
