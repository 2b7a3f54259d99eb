// Goal: the README's command list is exactly what the executor serves, every command's
// key spec extracts the right keys, and read-only commands never write.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS, supportedCommands } from './executor.js';
import { Harness, toArg } from './fixture.js';

const here = dirname(fileURLToPath(import.meta.url));

test('README lists exactly the supported commands', () => {
  const readme = readFileSync(join(here, '..', '..', 'src', 'redis', 'README.md'), 'utf8');
  const m = /<!-- commands:begin[^>]*-->([\s\S]*?)<!-- commands:end -->/.exec(readme);
  assert.ok(m !== null, 'markers missing');
  const listed = m[1]!.trim().split(/\s+/);
  assert.deepEqual(listed, supportedCommands().map((c) => c.toUpperCase()));
});

test('key specs', () => {
  const h = new Harness();
  const keysOf = (...args: string[]): string[] => {
    const d = h.exec.describe(args.map(toArg));
    assert.ok(d.ok, args.join(' '));
    return d.keys.map((k) => Buffer.from(k).toString());
  };
  assert.deepEqual(keysOf('MSET', 'a', '1', 'b', '2'), ['a', 'b']);
  assert.deepEqual(keysOf('MGET', 'a', 'b'), ['a', 'b']);
  assert.deepEqual(keysOf('SMOVE', 'a', 'b', 'm'), ['a', 'b']);
  assert.deepEqual(keysOf('LMOVE', 'a', 'b', 'LEFT', 'RIGHT'), ['a', 'b']);
  assert.deepEqual(keysOf('SINTERSTORE', 'd', 'a', 'b'), ['d', 'a', 'b']);
  assert.deepEqual(keysOf('ZINTERSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'), ['d', 'a', 'b']);
  assert.deepEqual(keysOf('SCAN', '0'), []);
  assert.deepEqual(keysOf('HSET', 'h', 'f', 'v'), ['h']);
  const unknown = h.exec.describe(['FOO'].map(toArg));
  assert.ok(!unknown.ok);
});

test('read-only commands write nothing, whatever the state', async () => {
  const h = new Harness();
  await h.v('SET', 's', 'v');
  await h.v('HSET', 'h', 'f', 'v');
  await h.v('RPUSH', 'l', 'a', 'b');
  await h.v('SADD', 'st', 'a', 'b');
  await h.v('ZADD', 'z', '1', 'a');
  const args: Record<string, string[]> = {
    get: ['s'], mget: ['s', 'h'], strlen: ['s'], getrange: ['s', '0', '-1'], substr: ['s', '0', '1'], exists: ['s'], touch: ['s'],
    type: ['h'], ttl: ['s'], pttl: ['s'], expiretime: ['s'], pexpiretime: ['s'], hget: ['h', 'f'], hmget: ['h', 'f'], hlen: ['h'],
    hexists: ['h', 'f'], hstrlen: ['h', 'f'], hgetall: ['h'], hkeys: ['h'], hvals: ['h'], hrandfield: ['h', '-3'], llen: ['l'],
    lrange: ['l', '0', '-1'], lindex: ['l', '0'], lpos: ['l', 'a'], sismember: ['st', 'a'], smismember: ['st', 'a'],
    smembers: ['st'], scard: ['st'], srandmember: ['st', '-2'], sinter: ['st', 'st'], sunion: ['st'], sdiff: ['st'],
    sintercard: ['1', 'st'], zscore: ['z', 'a'], zmscore: ['z', 'a'], zcard: ['z'], zcount: ['z', '-inf', '+inf'],
    zlexcount: ['z', '-', '+'], zrange: ['z', '0', '-1'], zrangebyscore: ['z', '0', '1'], zrevrangebyscore: ['z', '1', '0'],
    zrevrange: ['z', '0', '-1'], zrangebylex: ['z', '-', '+'], zrevrangebylex: ['z', '+', '-'], zrank: ['z', 'a'],
    zrevrank: ['z', 'a'], zrandmember: ['z', '2'], scan: ['0'], keys: ['*'], dbsize: [], randomkey: [], hscan: ['h', '0'],
    sscan: ['st', '0'], zscan: ['z', '0'],
  };
  for (const [name, spec] of COMMANDS) {
    if (spec.write) continue;
    const a = args[name];
    assert.ok(a !== undefined, `no sample arguments for read-only ${name}`);
    const r = await h.raw(name, ...a);
    assert.notEqual(r.reply.kind, 'error', `${name}: ${r.reply.kind === 'error' ? r.reply.text : ''}`);
    assert.deepEqual(r.writes, [], name);
  }
});
