// Goal: string and generic key commands through `shoal proxy` on a real two-shard cluster
// answer with Redis' exact reply shapes (ioredis and redis-cli), binary-safe, including
// split-and-gather of MGET/MSET/DEL/EXISTS across shards, CROSSSLOT and TTL expiry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { KEYS_ON_TWO_SHARDS, startProxyEnv, waitUntil } from './harness.js';
import type { ProxyEnv } from './harness.js';

let env: ProxyEnv;
let r: Redis;
const [A, B] = KEYS_ON_TWO_SHARDS;

before(async () => {
  env = await startProxyEnv({ backendConcurrencyMax: 512 });
  r = env.redis();
});

after(async () => {
  await env?.destroy();
});

test('GET / SET with options, SETNX, GETSET, GETDEL, APPEND, STRLEN, ranges', async () => {
  assert.equal(await r.set('s:1', 'hello'), 'OK');
  assert.equal(await r.get('s:1'), 'hello');
  assert.equal(await r.get('s:missing'), null);
  assert.equal(await r.set('s:1', 'x', 'NX'), null);
  assert.equal(await r.set('s:1', 'world', 'XX', 'GET'), 'hello');
  assert.equal(await r.setnx('s:1', 'y'), 0);
  assert.equal(await r.getset('s:1', 'v2'), 'world');
  assert.equal(await r.append('s:1', '-tail'), 7);
  assert.equal(await r.strlen('s:1'), 7);
  assert.equal(await r.getrange('s:1', 0, 1), 'v2');
  assert.equal(await r.setrange('s:1', 1, 'X'), 7);
  assert.equal(await r.getdel('s:1'), 'vX-tail');
  assert.equal(await r.exists('s:1'), 0);
});

test('counters: INCR family, INCRBYFLOAT, overflow and not-an-integer errors', async () => {
  assert.equal(await r.incr('c'), 1);
  assert.equal(await r.incrby('c', 41), 42);
  assert.equal(await r.decr('c'), 41);
  assert.equal(await r.decrby('c', 1), 40);
  assert.equal(await r.incrbyfloat('c', '0.5'), '40.5');
  await r.set('big', '9223372036854775807');
  await assert.rejects(r.incr('big'), /ERR increment or decrement would overflow/);
  await r.set('word', 'abc');
  await assert.rejects(r.incr('word'), /ERR value is not an integer or out of range/);
});

test('MGET / MSET / DEL / EXISTS / UNLINK / TOUCH split across shards keep Redis shapes', async () => {
  assert.equal(await r.mset(A, '1', B, '2', '{a}z', '3'), 'OK');
  assert.deepEqual(await r.mget(A, 'nope', B, '{a}z'), ['1', null, '2', '3']);
  assert.equal(await r.exists(A, B, A, 'nope'), 3);
  assert.equal(await r.touch(A, B), 2);
  assert.equal(await r.del(A, B, 'nope'), 2);
  assert.equal(await r.unlink('{a}z'), 1);
  assert.deepEqual(await r.mget(A, B), [null, null]);
});

test('multi-key commands spanning shards answer CROSSSLOT; hash tags co-locate', async () => {
  await r.set(A, 'v');
  await assert.rejects(r.rename(A, B), /^ReplyError: CROSSSLOT Keys in request don't hash to the same slot/);
  await assert.rejects(r.msetnx(A, '1', B, '2'), /CROSSSLOT/);
  await r.set('{user}a', 'v');
  assert.equal(await r.rename('{user}a', '{user}b'), 'OK');
  assert.equal(await r.get('{user}b'), 'v');
  assert.equal(await r.msetnx('{t}1', 'a', '{t}2', 'b'), 1);
});

test('TYPE, EXPIRE/TTL/PTTL/PERSIST, and a key really expires', async () => {
  await r.set('t:1', 'v');
  assert.equal(await r.type('t:1'), 'string');
  assert.equal(await r.type('t:none'), 'none');
  assert.equal(await r.ttl('t:1'), -1);
  assert.equal(await r.ttl('t:none'), -2);
  assert.equal(await r.expire('t:1', 100), 1);
  assert.ok((await r.ttl('t:1')) > 98);
  assert.equal(await r.persist('t:1'), 1);
  assert.equal(await r.ttl('t:1'), -1);
  assert.equal(await r.set('t:2', 'v', 'PX', 150), 'OK');
  const pttl = await r.pttl('t:2');
  assert.ok(pttl > 0 && pttl <= 150, `pttl ${pttl}`);
  await waitUntil('t:2 expired', 5000, async () => (await r.get('t:2')) === null);
  assert.equal(await r.exists('t:2'), 0);
});

test('binary values and keys with \\r\\n and \\0 round-trip exactly', async () => {
  const key = Buffer.from('bin\r\n\0key');
  const value = Buffer.from([0, 13, 10, 255, 0, 36, 45, 49, 13, 10, 42]);
  assert.equal(await r.set(key, value), 'OK');
  assert.deepEqual(await r.getBuffer(key), value);
  assert.equal(await r.strlen(key), value.length);
});

test('pipelining 10,000 commands: replies in order', async () => {
  const p = r.pipeline();
  for (let i = 0; i < 5000; i++) p.set(`p:${i}`, String(i));
  for (let i = 0; i < 5000; i++) p.get(`p:${i}`);
  const res = await p.exec();
  assert.ok(res !== null);
  assert.equal(res.length, 10_000);
  for (let i = 0; i < 5000; i++) assert.deepEqual(res[i], [null, 'OK']);
  for (let i = 0; i < 5000; i++) assert.deepEqual(res[5000 + i], [null, String(i)]);
});

test('unknown commands and arity errors are exactly Redis\'', async () => {
  await assert.rejects(r.call('NOPE', 'a', 'b'), /^ReplyError: ERR unknown command 'NOPE', with args beginning with: 'a' 'b' /);
  await assert.rejects(r.call('GET'), /ERR wrong number of arguments for 'get' command/);
  await assert.rejects(r.call('MSET', A, '1', B), /^ReplyError: ERR wrong number of arguments for 'mset' command/);
});

test('redis-cli: SET/GET, --scan over both shards, DBSIZE, FLUSHDB', async () => {
  assert.equal((await env.cli(['SET', 'cli:k', 'hello world'])).trim(), 'OK');
  assert.equal((await env.cli(['GET', 'cli:k'])).trim(), 'hello world');
  await r.flushdb();
  assert.equal(await r.dbsize(), 0);
  const keys = Array.from({ length: 50 }, (_, i) => `scan:${i}`);
  await r.mset(...keys.flatMap((k) => [k, 'v']));
  assert.equal(await r.dbsize(), 50);
  const scanned = (await env.cli(['--scan', '--pattern', 'scan:*'])).trim().split('\n').sort();
  assert.deepEqual([...new Set(scanned)], [...keys].sort());
  assert.deepEqual((await r.keys('scan:1*')).sort(), keys.filter((k) => k.startsWith('scan:1')).sort());
  assert.ok(keys.includes(await r.randomkey() ?? ''));
  assert.equal((await env.cli(['FLUSHDB'])).trim(), 'OK');
  assert.equal(await r.dbsize(), 0);
  assert.equal(await r.randomkey(), null);
});

test('malformed requests close only their own connection; other clients and their data are untouched', async () => {
  await r.set('safe', 'value');
  const { createConnection } = await import('node:net');
  const frames = [
    Buffer.from('*99999999999\r\n'), Buffer.from('*1\r\n$-5\r\n'), Buffer.from('*2\r\n$3\r\nSET\r\n$1\r\nxx\r\n'),
    Buffer.from([0x2a, 0x31, 0x0d, 0x0a, 0x24, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x0d, 0x0a]),
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
  ];
  for (const frame of frames) {
    const answer = await new Promise<string>((resolve) => {
      const s = createConnection({ port: env.port, host: '127.0.0.1' });
      let got = '';
      s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
      s.write(frame);
      // Redis closes after a protocol error; a frame that parses as an incomplete request is ended by us.
      setTimeout(() => s.end(), 300);
    });
    assert.ok(answer === '' || /^-ERR /.test(answer), `a Redis error or nothing, got ${JSON.stringify(answer.slice(0, 80))}`);
  }
  assert.equal(await r.get('safe'), 'value');
  assert.equal(await r.ping(), 'PONG');
  assert.equal(env.proxy.exitCode, null, 'the proxy is still running');
});
