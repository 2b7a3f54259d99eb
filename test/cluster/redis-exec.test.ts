// Goal: Redis commands run through the real Kv.Exec gRPC RPC on a 3-node cluster — hashes,
// lists, sorted sets, counters and WRONGTYPE (via Exec and via plain Kv.Get) — and what they
// wrote survives a kill -9 of the shard leader's node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { kv } from '@shoal/proto';
import { dec, enc, KvCallError, TestClient } from './client.js';
import { Cluster, waitUntil } from './harness.js';

let cluster: Cluster;
let client: TestClient;

before(async () => {
  cluster = await Cluster.start({
    nodes: 3,
    tables: [{ id: 1, partition: 'hash' }],
    shards: [{ id: 1, tableId: 1, slots: [0, 16384], nodes: [1, 2, 3] }],
  });
  client = new TestClient(cluster);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

type Plain = null | number | string | Plain[];

/** A wire reply as plain data: '+OK' simple strings, '-ERR …' errors, numbers, bulk strings, arrays. */
function plain(r: kv.RedisReply | undefined): Plain {
  if (r === undefined) return null;
  const T = kv.RedisReplyType;
  switch (r.type) {
    case T.NIL: return null;
    case T.SIMPLE_STRING: return `+${dec(r.str)}`;
    case T.ERROR: return `-${dec(r.str)}`;
    case T.INTEGER: return Number(r.integer);
    case T.BULK_STRING: return dec(r.str);
    case T.ARRAY: return r.elements.map(plain);
    default: return `unexpected reply type ${r.type}`;
  }
}

/** One Redis command through Kv.Exec on the key's shard leader (RESP2). */
async function exec(...args: string[]): Promise<Plain> {
  const s = client.shardOf(1, args[1] ?? '');
  const res = await client.routed<kv.ExecRequest, kv.ExecResponse>(s, 'exec',
    kv.ExecRequest.create({ header: client.header(s), args: args.map(enc), respVersion: 2 }));
  return plain(res.reply);
}

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

test('hashes: HSET, HGET, HGETALL, DEL', async () => {
  assert.equal(await exec('HSET', 'user:1', 'name', 'ada', 'lang', 'ts'), 2);
  assert.equal(await exec('HGET', 'user:1', 'name'), 'ada');
  assert.equal(await exec('HSET', 'user:1', 'name', 'grace'), 0);
  assert.deepEqual(await exec('HGETALL', 'user:1'), ['lang', 'ts', 'name', 'grace']);
  assert.equal(await exec('DEL', 'user:1'), 1);
  assert.deepEqual(await exec('HGETALL', 'user:1'), []);
  assert.equal(await exec('HGET', 'user:1', 'name'), null);
});

test('lists and sorted sets: LPUSH/LRANGE, ZADD/ZRANGE WITHSCORES', async () => {
  assert.equal(await exec('LPUSH', 'q', 'a', 'b', 'c'), 3);
  assert.deepEqual(await exec('LRANGE', 'q', '0', '-1'), ['c', 'b', 'a']);
  assert.deepEqual(await exec('LRANGE', 'q', '1', '1'), ['b']);
  assert.equal(await exec('ZADD', 'board', '10', 'ann', '5', 'bob', '7.5', 'cy'), 3);
  assert.deepEqual(await exec('ZRANGE', 'board', '0', '-1', 'WITHSCORES'), ['bob', '5', 'cy', '7.5', 'ann', '10']);
});

test('INCR on a string; a Redis string is a plain KV value', async () => {
  assert.equal(await exec('INCR', 'hits'), 1);
  assert.equal(await exec('INCR', 'hits'), 2);
  assert.equal(await exec('INCRBY', 'hits', '40'), 42);
  assert.equal(dec((await client.get(1, 'hits')).value), '42');
  await client.put(1, 'plain', '7');
  assert.equal(await exec('INCR', 'plain'), 8);
});

test('WRONGTYPE: GET of a hash via Exec, and plain Kv.Get of a hash', async () => {
  assert.equal(await exec('HSET', 'h:wt', 'f', 'v'), 1);
  assert.equal(await exec('GET', 'h:wt'), WRONGTYPE);
  assert.equal(await exec('INCR', 'h:wt'), WRONGTYPE);
  await assert.rejects(client.get(1, 'h:wt'), (e: unknown) => e instanceof KvCallError && e.code === 'WRONG_TYPE');
  // A plain Put overwrites it like SET.
  await client.put(1, 'h:wt', 'now a string');
  assert.equal(await exec('GET', 'h:wt'), 'now a string');
  assert.equal(await exec('HGET', 'h:wt', 'f'), WRONGTYPE);
});

test('Redis data survives kill -9 of the leader node; the new leader serves Exec', async (t) => {
  assert.equal(await exec('HSET', 'keep:h', 'a', '1', 'b', '2'), 2);
  assert.equal(await exec('RPUSH', 'keep:l', 'x', 'y', 'z'), 3);
  assert.equal(await exec('ZADD', 'keep:z', '1', 'one', '2', 'two'), 2);
  const shard = client.shardOf(1, 'keep:h');
  const victim = await waitUntil('a leader', 10_000, () => client.leaderNode(shard));
  const killedAt = Date.now();
  await cluster.kill9(victim);
  const leader = await waitUntil('a new leader', 15_000, async () => {
    const n = await client.leaderNode(shard);
    return n !== undefined && n !== victim ? n : undefined;
  });
  assert.notEqual(leader, victim);
  assert.deepEqual(await exec('HGETALL', 'keep:h'), ['a', '1', 'b', '2']);
  t.diagnostic(`node ${victim} killed; node ${leader} served Exec after ${Date.now() - killedAt} ms`);
  assert.deepEqual(await exec('LRANGE', 'keep:l', '0', '-1'), ['x', 'y', 'z']);
  assert.deepEqual(await exec('ZRANGE', 'keep:z', '0', '-1', 'WITHSCORES'), ['one', '1', 'two', '2']);
  assert.equal(await exec('HINCRBY', 'keep:h', 'a', '10'), 11);
  assert.equal(await exec('HGET', 'keep:h', 'a'), '11');
  assert.equal(await exec('GET', 'hits'), '42');
});
