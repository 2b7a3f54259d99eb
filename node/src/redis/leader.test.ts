// Goal: the leader-side runner makes commands atomic per key — concurrent read-modify-write
// commands on one key serialize through the latches until their proposal applies — reads
// and no-op writes take the read barrier instead of proposing, failures release latches,
// and MULTI blocks propose one batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError, KvError } from '@shoal/common';
import { KeyCodec } from './encoding.js';
import { LatchManager } from './latches.js';
import { executeMultiOnLeader, executeOnLeader } from './leader.js';
import type { LeaderHost } from './leader.js';
import { toProtoReply } from './reply.js';
import { Harness, plain, toArg } from './fixture.js';
import type { Plain } from './fixture.js';
import type { RawWrite } from './view.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

class FakeRaft implements LeaderHost {
  readonly log: string[] = [];
  proposals = 0;
  barriers = 0;
  fail: KvError | undefined;

  constructor(readonly h: Harness) {}

  now(): number {
    this.log.push('now');
    return this.h.nowMs;
  }

  openView(): Harness['view'] {
    this.log.push('view');
    return this.h.view;
  }

  async propose(writes: readonly RawWrite[], stampMs: number): Promise<void> {
    this.log.push('propose');
    assert.equal(stampMs, this.h.nowMs);
    this.proposals++;
    // Commit and apply take a few turns, as a real Raft round trip does.
    await tick();
    await tick();
    if (this.fail !== undefined) throw this.fail;
    this.h.apply(writes);
  }

  async readBarrier(): Promise<void> {
    this.log.push('barrier');
    this.barriers++;
    await tick();
  }
}

async function run(h: Harness, host: FakeRaft, latches: LatchManager, ...args: string[]): Promise<Plain> {
  const r = await executeOnLeader(h.exec, latches, host, { shard: h.shard }, args.map(toArg));
  return plain(toProtoReply(r, 2));
}

test('concurrent INCRs on one key are serialized by the latches', async () => {
  const h = new Harness();
  const host = new FakeRaft(h);
  const latches = new LatchManager();
  const replies = await Promise.all(Array.from({ length: 100 }, () => run(h, host, latches, 'INCR', 'n')));
  assert.deepEqual([...replies].sort((a, b) => (a as number) - (b as number)), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.equal(await h.v('GET', 'n'), '100');
  assert.equal(host.proposals, 100);
  assert.deepEqual(latches.stats(), { keys: 0, waiting: 0 });
});

test('reads take the read barrier, never latches or proposals; no-op writes too', async () => {
  const h = new Harness();
  const host = new FakeRaft(h);
  const latches = new LatchManager();
  await run(h, host, latches, 'SET', 'k', 'v');
  assert.deepEqual(host.log, ['now', 'view', 'propose'], 'the stamp is read after the latches are held');
  host.log.length = 0;
  // A read does not wait for the key's latch (a write holding it has not been acknowledged).
  const held = latches.tryAcquire([new KeyCodec(h.shard).dataKey(toArg('k'))]);
  assert.ok(held !== undefined);
  assert.equal(await run(h, host, latches, 'GET', 'k'), 'v');
  held.release();
  assert.deepEqual(host.log, ['barrier', 'now', 'view']);
  host.log.length = 0;
  assert.equal(await run(h, host, latches, 'SETNX', 'k', 'w'), 0);
  assert.deepEqual(host.log, ['now', 'view', 'barrier']);
  assert.equal(host.proposals, 1);
  assert.equal(await run(h, host, latches, 'NOPE'), "-ERR unknown command 'NOPE', with args beginning with: ");
  assert.equal(await run(h, host, latches, 'HGET', 'k', 'f'), '-WRONGTYPE Operation against a key holding the wrong kind of value');
});

test('a failed proposal rejects and releases the latches', async () => {
  const h = new Harness();
  const host = new FakeRaft(h);
  const latches = new LatchManager();
  host.fail = new KvError('NOT_LEADER', 'stepped down');
  await assert.rejects(run(h, host, latches, 'SET', 'k', 'v'), (e: unknown) => isKvError(e) && e.code === 'NOT_LEADER');
  assert.deepEqual(latches.stats(), { keys: 0, waiting: 0 });
  host.fail = undefined;
  assert.equal(await run(h, host, latches, 'SET', 'k', 'v'), '+OK');
});

test('MULTI: commands see each other, one proposal, EXECABORT on a bad command', async () => {
  const h = new Harness();
  const host = new FakeRaft(h);
  const latches = new LatchManager();
  const block = [['INCR', 'x'], ['INCR', 'x'], ['RPUSH', 'l', 'a', 'b'], ['LPOP', 'l'], ['GET', 'x'], ['HGET', 'x', 'f'], ['LRANGE', 'l', '0', '-1']];
  const r = await executeMultiOnLeader(h.exec, latches, host, { shard: h.shard }, block.map((c) => c.map(toArg)));
  assert.deepEqual(plain(toProtoReply(r, 2)), [1, 2, 2, 'a', '2', '-WRONGTYPE Operation against a key holding the wrong kind of value', ['b']]);
  assert.equal(host.proposals, 1);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['b']);
  const bad = await executeMultiOnLeader(h.exec, latches, host, { shard: h.shard }, [['INCR', 'x'], ['GET']].map((c) => c.map(toArg)));
  assert.deepEqual(plain(toProtoReply(bad, 2)), '-EXECABORT Transaction discarded because of previous errors.');
  assert.equal(await h.v('GET', 'x'), '2');
  const reads = await executeMultiOnLeader(h.exec, latches, host, { shard: h.shard }, [['GET', 'x'], ['LLEN', 'l']].map((c) => c.map(toArg)));
  assert.deepEqual(plain(toProtoReply(reads, 2)), ['2', 1]);
  assert.equal(host.proposals, 1);
});

test('MULTI over deletes and range deletes reads through its own writes', async () => {
  const h = new Harness();
  const host = new FakeRaft(h);
  const latches = new LatchManager();
  await h.v('RPUSH', 'l', '1', '2', '3', '4', '5');
  await h.v('HSET', 'h', 'a', '1');
  const block = [['LTRIM', 'l', '1', '2'], ['RPUSH', 'l', '6'], ['LRANGE', 'l', '0', '-1'], ['DEL', 'h'], ['HSET', 'h', 'b', '2'], ['HGETALL', 'h']];
  const r = await executeMultiOnLeader(h.exec, latches, host, { shard: h.shard }, block.map((c) => c.map(toArg)));
  assert.deepEqual(plain(toProtoReply(r, 2)), ['+OK', 3, ['2', '3', '6'], 1, 1, ['b', '2']]);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['2', '3', '6']);
  assert.deepEqual(await h.v('HGETALL', 'h'), ['b', '2']);
});

test('MULTI with WATCH: the check runs under the watched keys\' latches; false aborts with a null array and writes nothing', async () => {
  const h = new Harness();
  const noted: string[] = [];
  const host = new FakeRaft(h);
  const hostWithMarks: LeaderHost = {
    now: () => host.now(), openView: () => host.openView(), propose: (w, s) => host.propose(w, s), readBarrier: () => host.readBarrier(),
    noteWrites: (keys) => { noted.push(...keys.map((k) => Buffer.from(k).toString('hex'))); },
  };
  const latches = new LatchManager();
  const codec = new KeyCodec(h.shard);
  const watchedKey = toArg('w');
  let held = false;
  const check = (ok: boolean) => ({
    keys: [watchedKey],
    unchanged: () => {
      held = latches.tryAcquire([codec.dataKey(watchedKey)]) === undefined;
      return ok;
    },
  });
  const aborted = await executeMultiOnLeader(h.exec, latches, hostWithMarks, { shard: h.shard }, [['SET', 'x', '1']].map((c) => c.map(toArg)), check(false));
  assert.deepEqual(plain(toProtoReply(aborted, 2)), null);
  assert.ok(held, 'the watched key is latched during the check');
  assert.equal(host.proposals, 0);
  assert.equal(await h.v('GET', 'x'), null);
  const ran = await executeMultiOnLeader(h.exec, latches, hostWithMarks, { shard: h.shard }, [['SET', 'x', '1']].map((c) => c.map(toArg)), check(true));
  assert.deepEqual(plain(toProtoReply(ran, 2)), ['+OK']);
  assert.equal(host.proposals, 1);
  assert.deepEqual(noted, [Buffer.from(codec.dataKey(toArg('x'))).toString('hex')], 'only the written key is marked, not the watched one');
});
