// Goal: RedisExec routes a Redis command to the leader of its keys' shard with the SDK's
// retry rules — CROSSSLOT before sending when keys span shards, NOT_LEADER followed,
// EPOCH_NOT_MATCH after a split refreshed, a write whose answer was lost never re-sent
// (UNKNOWN_OUTCOME) while a read is retried — and clear() deletes every shard's range.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keySlot } from '@shoal/common';
import { kv } from '@shoal/proto';
import { RedisExec } from './exec.js';
import { FakeCluster } from './testing/fake-cluster.js';
import { codeOf, connect, str, text, waitFor } from './testing/helpers.js';

const b = (s: string): Uint8Array => text(s);

async function setup(): Promise<{ c: FakeCluster; x: RedisExec; close: () => Promise<void> }> {
  const c = await FakeCluster.start();
  c.createTable({ name: 't', scheme: 'hash', leader: 1 });
  const db = await connect(c);
  return { c, x: RedisExec.of(db), close: async () => { await db.close(); c.stop(); } };
}

/** Two keys whose slots fall on either side of `slot`. */
function keysAround(slot: number): [string, string] {
  let lo = 'k0';
  let hi = 'k1';
  for (let i = 0; keySlot(b(lo)) >= slot; i++) lo = `lo${i}`;
  for (let i = 0; keySlot(b(hi)) < slot; i++) hi = `hi${i}`;
  return [lo, hi];
}

test('exec: one command on its key\'s shard leader; CROSSSLOT before sending when keys span shards', async () => {
  const { c, x, close } = await setup();
  try {
    const id = c.tableId('t');
    const [shard] = c.shardsOf(id);
    const right = c.split(shard!.id, c.slotBound(id, 8192));
    assert.ok(right > 0);
    const [lo, hi] = keysAround(8192);
    const ok = await x.exec('t', [b('SET'), b(lo), b('v')], { keys: [b(lo)], write: true });
    assert.equal(ok.type, kv.RedisReplyType.SIMPLE_STRING);
    assert.equal(str((await x.exec('t', [b('GET'), b(lo)], { keys: [b(lo)], write: false })).str), 'v');
    const before = c.node(1).count('Exec');
    assert.equal(await codeOf(x.exec('t', [b('GET'), b(lo)], { keys: [b(lo), b(hi)], write: false })), 'CROSSSLOT');
    assert.equal(c.node(1).count('Exec'), before, 'nothing was sent');
    const groups = await x.groupByShard('t', [b(lo), b(hi), b(lo)]);
    assert.deepEqual(groups, [[0, 2], [1]]);
  } finally {
    await close();
  }
});

test('exec follows NOT_LEADER and refreshes on EPOCH_NOT_MATCH', async () => {
  const { c, x, close } = await setup();
  try {
    const id = c.tableId('t');
    await x.exec('t', [b('SET'), b('a'), b('1')], { keys: [b('a')], write: true });
    const [shard] = c.shardsOf(id);
    c.moveLeader(shard!.id, 2, { publish: false });
    assert.equal(Number((await x.exec('t', [b('INCR'), b('a')], { keys: [b('a')], write: true })).integer), 2);
    assert.ok(c.node(2).count('Exec') >= 1, 'the new leader answered');
    assert.ok(keySlot(b('a')) < 16000);
    // The node now holds a newer, smaller shard: EPOCH_NOT_MATCH carries it, the SDK retries.
    c.split(shard!.id, c.slotBound(id, 16000), { publish: false });
    assert.equal(Number((await x.exec('t', [b('INCR'), b('a')], { keys: [b('a')], write: true })).integer), 3);
  } finally {
    await close();
  }
});

test('a write whose answer is lost is not re-sent (UNKNOWN_OUTCOME); a read is retried', async () => {
  const { c, x, close } = await setup();
  try {
    let hang = true;
    c.node(1).fault = (r) => (r.method === 'Exec' && hang ? { applyThenHang: true } : undefined);
    assert.equal(await codeOf(x.exec('t', [b('INCR'), b('n')], { keys: [b('n')], write: true, timeoutMs: 300 })), 'UNKNOWN_OUTCOME');
    assert.equal(c.node(1).count('Exec'), 1, 'sent once');
    let reads = 0;
    c.node(1).fault = (r) => (r.method === 'Exec' && reads++ === 0 ? { applyThenDrop: true } : undefined);
    hang = false;
    const pending = x.exec('t', [b('GET'), b('n')], { keys: [b('n')], write: false, timeoutMs: 5000 });
    await waitFor(() => reads >= 1, 'the first read');
    await c.node(1).restart();
    const got = await pending;
    assert.equal(str(got.str), '1', 'the lost INCR was applied once');
    assert.ok(reads >= 2, 'the read was retried');
  } finally {
    await close();
  }
});

test('clear: one DeleteRange per shard; execAt walks every shard once', async () => {
  const { c, x, close } = await setup();
  try {
    const id = c.tableId('t');
    const [shard] = c.shardsOf(id);
    c.split(shard!.id, c.slotBound(id, 8192));
    const [lo, hi] = keysAround(8192);
    for (const k of [lo, hi]) await x.exec('t', [b('SET'), b(k), b('v')], { keys: [b(k)], write: true });
    const seen: number[] = [];
    let at: Uint8Array | null = await x.tableStart('t');
    while (at !== null) {
      const r: Awaited<ReturnType<RedisExec['execAt']>> = await x.execAt('t', at, [b('DBSIZE')], { write: false });
      seen.push(r.shardId);
      at = r.next;
    }
    assert.equal(seen.length, 2);
    assert.deepEqual(await x.clear('t'), { deletedCount: 2, shardCount: 2 });
    assert.equal((await x.exec('t', [b('GET'), b(lo)], { keys: [b(lo)], write: false })).type, kv.RedisReplyType.NIL);
  } finally {
    await close();
  }
});
