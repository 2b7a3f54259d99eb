// Goal: MULTI/EXEC/WATCH, pipelined batches, SELECT, FLUSHDB/FLUSHALL, INFO keyspace and
// shutdown through `shoal proxy` on a real cluster: a transaction on one shard is atomic (no
// reader sees half of it), WATCH aborts EXEC exactly when a watched key was written (not for
// other keys), what cannot be atomic is refused with CROSSSLOT before anything runs, a deep
// pipeline batched per shard keeps per-key order; SIGTERM closes the proxy cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { KEYS_ON_TWO_SHARDS, startProxyEnv, waitUntil } from './harness.js';
import type { ProxyEnv } from './harness.js';

let env: ProxyEnv;
let r: Redis;
const [A, B] = KEYS_ON_TWO_SHARDS;

before(async () => {
  env = await startProxyEnv();
  r = env.redis();
});

after(async () => {
  await env?.destroy();
});

/** A RESP2 connection that shows the exact bytes of each reply (ioredis and redis-cli print `$-1` and `*-1` alike). */
async function rawConnection(port: number): Promise<{ send(...args: string[]): Promise<string>; close(): void }> {
  const s: Socket = createConnection({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  let got = '';
  s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
  return {
    // Every reply used here is one line long.
    async send(...args: string[]): Promise<string> {
      got = '';
      s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
      await waitUntil('a reply', 10_000, () => got.endsWith('\r\n'));
      return got;
    },
    close: () => s.destroy(),
  };
}

test('RESP2 null arrays on the wire: an EXEC aborted by WATCH, LPOP with a count and ZRANK WITHSCORE on a missing key answer *-1', async () => {
  const raw = await rawConnection(env.port);
  try {
    assert.equal(await raw.send('SET', '{n}k', '1'), '+OK\r\n');
    assert.equal(await raw.send('WATCH', '{n}k'), '+OK\r\n');
    assert.equal(await r.set('{n}k', '2'), 'OK');
    assert.equal(await raw.send('MULTI'), '+OK\r\n');
    assert.equal(await raw.send('SET', '{n}k', '3'), '+QUEUED\r\n');
    assert.equal(await raw.send('EXEC'), '*-1\r\n');
    assert.equal(await raw.send('LPOP', '{n}nolist', '2'), '*-1\r\n');
    // Only the node knows this nil is an array (kv.RedisReply.null_array).
    assert.equal(await raw.send('ZRANK', '{n}nozset', 'm', 'WITHSCORE'), '*-1\r\n');
    assert.equal(await raw.send('ZRANK', '{n}nozset', 'm'), '$-1\r\n');
    assert.equal(await raw.send('GET', '{n}nokey'), '$-1\r\n');
  } finally {
    raw.close();
  }
});

test('MULTI/EXEC with one data command runs it on its shard', async () => {
  const res = await r.multi().set('{m}k', 'v').exec();
  assert.deepEqual(res, [[null, 'OK']]);
  assert.deepEqual(await r.multi().ping().get('{m}k').exec(), [[null, 'PONG'], [null, 'v']]);
});

test('MULTI across shards is refused with CROSSSLOT before anything runs', async () => {
  await r.del(A, B);
  await assert.rejects(r.multi().set(A, '1').set(B, '2').exec(), /CROSSSLOT Keys in request don't hash to the same slot/);
  assert.deepEqual(await r.mget(A, B), [null, null]);
});

test('several data commands on one shard run as one atomic block', async () => {
  await r.del('{m}a', '{m}b');
  assert.deepEqual(await r.multi().set('{m}a', '1').incr('{m}b').get('{m}a').hset('{m}h', 'f', 'v').exec(),
    [[null, 'OK'], [null, 1], [null, '1'], [null, 1]]);
  // Two writers bump x and y together; a reader's MULTI GET x GET y never sees them apart.
  await r.mset('{m}x', '0', '{m}y', '0');
  const w1 = env.redis();
  const w2 = env.redis();
  const rounds = 40;
  const writer = async (c: Redis): Promise<void> => {
    for (let i = 0; i < rounds; i++) await c.multi().incr('{m}x').incr('{m}y').exec();
  };
  let reads = 0;
  const reader = async (): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      const res = await r.multi().get('{m}x').get('{m}y').exec();
      assert.equal(res?.[0]?.[1], res?.[1]?.[1], 'a transaction was seen half applied');
      reads++;
    }
  };
  await Promise.all([writer(w1), writer(w2), reader()]);
  assert.equal(reads, rounds);
  assert.deepEqual(await r.mget('{m}x', '{m}y'), [String(2 * rounds), String(2 * rounds)]);
  w1.disconnect();
  w2.disconnect();
});

test('WATCH: a write by another client between WATCH and EXEC aborts the transaction', async () => {
  const other = env.redis();
  await r.set('{w}k', '1');
  assert.equal(await r.watch('{w}k'), 'OK');
  const seen = await r.get('{w}k');
  assert.equal(await other.set('{w}k', '2'), 'OK');
  assert.equal(await r.multi().set('{w}k', String(Number(seen) + 10)).exec(), null);
  assert.equal(await r.get('{w}k'), '2');
  // After the abort the watch is gone: the next transaction runs.
  assert.deepEqual(await r.multi().set('{w}k', '3').exec(), [[null, 'OK']]);
  // A plain KV-style overwrite through another command family counts too (DEL, HSET).
  assert.equal(await r.watch('{w}k'), 'OK');
  assert.equal(await other.del('{w}k'), 1);
  assert.equal(await r.multi().get('{w}k').exec(), null);
  other.disconnect();
});

test('WATCH: writes to other keys (same shard) do not abort; UNWATCH forgets', async () => {
  const other = env.redis();
  await r.set('{w}k', '1');
  assert.equal(await r.watch('{w}k'), 'OK');
  assert.equal(await other.set('{w}other', 'x'), 'OK');
  assert.equal(await other.get('{w}k'), '1');
  assert.deepEqual(await r.multi().incr('{w}k').exec(), [[null, 2]]);
  assert.equal(await r.watch('{w}k'), 'OK');
  assert.equal(await other.set('{w}k', '9'), 'OK');
  assert.equal(await r.unwatch(), 'OK');
  assert.deepEqual(await r.multi().incr('{w}k').exec(), [[null, 10]]);
  other.disconnect();
});

test('a deep pipeline over keys on both shards is batched and keeps per-key order', async () => {
  const keys = Array.from({ length: 20 }, (_, i) => `pk${i}`);
  await r.del(...keys);
  const p = r.pipeline();
  const expected: unknown[] = [];
  for (let round = 1; round <= 50; round++) {
    for (const k of keys) {
      p.incr(k);
      expected.push([null, round]);
      if (round % 10 === 0) {
        p.get(k);
        expected.push([null, String(round)]);
      }
    }
  }
  p.mget(A, B);
  expected.push([null, [null, null]]);
  await r.del(A, B);
  const execs = async (): Promise<number> =>
    (await env.cluster.metric(1, 'shoal_kv_requests_total', 'method="Exec"')) + (await env.cluster.metric(2, 'shoal_kv_requests_total', 'method="Exec"'));
  const before = await execs();
  assert.deepEqual(await p.exec(), expected);
  const sent = (await execs()) - before;
  assert.ok(sent > 0, 'the metric counts Exec calls');
  // 1,101 commands; coalesced per shard they take a few dozen Kv.Exec calls, not one each.
  assert.ok(sent < expected.length / 4, `${sent} Kv.Exec calls for ${expected.length} pipelined commands`);
});

test('SELECT maps db indexes to tables; a db whose table does not exist answers an error', async () => {
  const other = env.redis({ db: 0 });
  assert.equal(await other.select(1), 'OK');
  await assert.rejects(other.get('k'), /^ReplyError: ERR /);
  await assert.rejects(other.select(2), /ERR DB index is out of range/);
});

test('FLUSHDB deletes every key of the table on every shard; INFO keyspace counts keys', async () => {
  await r.flushdb();
  await r.mset(A, '1', B, '2', 'x', '3');
  await r.hset('fh', 'f', 'v');
  // INFO's counts are reused for a moment (they walk every shard): wait for fresh ones.
  const info = await waitUntil('INFO keyspace counts the keys', 10_000, async () => {
    const text = await r.info('keyspace');
    return /^db0:keys=4,expires=0,avg_ttl=0/m.test(text) ? text : undefined;
  });
  assert.match(info, /^# Keyspace/m);
  assert.equal(await r.flushdb(), 'OK');
  assert.equal(await r.dbsize(), 0);
  assert.deepEqual(await r.mget(A, B, 'x'), [null, null, null]);
  assert.equal(await r.hlen('fh'), 0);
  assert.equal(await r.hset('fh', 'g', 'w'), 1);
  assert.deepEqual(await r.call('HGETALL', 'fh'), ['g', 'w']);
});

test('SIGTERM: the proxy exits 0', async () => {
  assert.equal(await env.stopProxy(), 0);
});
