// Goal: per-shard SCAN/KEYS/DBSIZE/RANDOMKEY and HSCAN/SSCAN/ZSCAN visit every live key or
// element exactly once across pages, honour MATCH/COUNT/TYPE, skip subkeys and expired
// keys, and reject bad cursors — on range and hash shards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatch } from '@shoal/common';
import { HASH_SHARD, Harness, RANGE_SHARD, rangeShard, sorted } from './fixture.js';
import type { Plain } from './fixture.js';

async function scanAll(h: Harness, ...opts: string[]): Promise<{ keys: string[]; pages: number }> {
  let cursor = '0';
  const keys: string[] = [];
  let pages = 0;
  do {
    const r = (await h.v('SCAN', cursor, ...opts)) as [string, string[]];
    cursor = r[0];
    keys.push(...r[1]);
    pages++;
    assert.ok(pages < 1000, 'scan does not terminate');
  } while (cursor !== '0');
  return { keys, pages };
}

for (const shard of [RANGE_SHARD, HASH_SHARD]) {
  test(`SCAN pages through every key once (${shard.partition} shard)`, async () => {
    const h = new Harness(shard);
    const expected: string[] = [];
    for (let i = 0; i < 57; i++) {
      const k = `key:${i}`;
      expected.push(k);
      if (i % 4 === 0) await h.v('HSET', k, 'a', '1', 'b', '2');
      else if (i % 4 === 1) await h.v('RPUSH', k, 'x', 'y');
      else await h.v('SET', k, 'v');
    }
    await h.v('SET', 'gone', 'v', 'PX', '1');
    h.advance(1);
    const all = await scanAll(h, 'COUNT', '10');
    assert.deepEqual(all.keys.sort(), expected.sort());
    assert.ok(all.pages >= 6, `${all.pages} pages`);
    const hashes = await scanAll(h, 'TYPE', 'hash', 'COUNT', '7');
    assert.equal(hashes.keys.length, 15);
    const matched = await scanAll(h, 'MATCH', 'key:1*');
    assert.deepEqual(matched.keys.sort(), ['key:1', 'key:10', 'key:11', 'key:12', 'key:13', 'key:14', 'key:15', 'key:16', 'key:17', 'key:18', 'key:19'].sort());
    assert.equal(await h.v('DBSIZE'), 57);
    assert.deepEqual(sorted(await h.v('KEYS', 'key:5*')), ['key:5', 'key:50', 'key:51', 'key:52', 'key:53', 'key:54', 'key:55', 'key:56']);
    assert.equal(((await h.v('KEYS', '*')) as string[]).length, 57);
    const rk = await h.v('RANDOMKEY');
    assert.ok(expected.includes(rk as string), String(rk));
  });
}

test('SCAN errors and empty shards', async () => {
  const h = new Harness();
  assert.deepEqual(await h.v('SCAN', '0'), ['0', []]);
  assert.equal(await h.v('DBSIZE'), 0);
  assert.equal(await h.v('RANDOMKEY'), null);
  assert.deepEqual(await h.v('KEYS', '*'), []);
  assert.equal(await h.v('SCAN', 'abc'), '-ERR invalid cursor');
  assert.equal(await h.v('SCAN', '0', 'COUNT', '0'), '-ERR syntax error');
  assert.equal(await h.v('SCAN', '0', 'COUNT', 'x'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('SCAN', '0', 'FOO', 'bar'), '-ERR syntax error');
  assert.equal(await h.v('SCAN', '0', 'MATCH'), '-ERR syntax error');
});

test('a shard sees only its own keys', async () => {
  const h = new Harness(rangeShard('b', 'd'));
  await h.v('SET', 'b1', 'v');
  await h.v('SET', 'c', 'v');
  assert.deepEqual((await scanAll(h)).keys, ['b1', 'c']);
  assert.equal(await h.v('DBSIZE'), 2);
});

test('HSCAN SSCAN ZSCAN page through elements, with MATCH', async () => {
  const h = new Harness();
  const fields: string[] = [];
  for (let i = 0; i < 25; i++) fields.push(`f${i}`, `v${i}`);
  await h.v('HSET', 'h', ...fields);
  await h.v('SADD', 's', 'a', 'b', 'c');
  await h.v('ZADD', 'z', '1.5', 'm', '2', 'n');
  let cursor = '0';
  const seen: Plain[] = [];
  do {
    const r = (await h.v('HSCAN', 'h', cursor, 'COUNT', '10')) as [string, string[]];
    cursor = r[0];
    seen.push(...r[1]);
  } while (cursor !== '0');
  assert.equal(seen.length, 50);
  assert.equal(new Set(seen.filter((_, i) => i % 2 === 0)).size, 25);
  assert.deepEqual(await h.v('SSCAN', 's', '0'), ['0', ['a', 'b', 'c']]);
  assert.deepEqual(await h.v('SSCAN', 's', '0', 'MATCH', '[ab]'), ['0', ['a', 'b']]);
  assert.deepEqual(await h.v('ZSCAN', 'z', '0'), ['0', ['m', '1.5', 'n', '2']]);
  assert.deepEqual(await h.v3('ZSCAN', 'z', '0'), ['0', ['m', '1.5', 'n', '2']], 'scores are bulk strings even in RESP3');
  assert.deepEqual(await h.v('HSCAN', 'none', '0'), ['0', []]);
  assert.equal(await h.v('HSCAN', 'h', 'zz'), '-ERR invalid cursor');
  assert.equal(await h.v('SSCAN', 's', '0', 'TYPE', 'set'), '-ERR syntax error');
  assert.equal(await h.v('HSCAN', 's', '0'), '-WRONGTYPE Operation against a key holding the wrong kind of value');
});

test('glob matching follows Redis stringmatchlen', () => {
  const m = (p: string, s: string): boolean => globMatch(new TextEncoder().encode(p), new TextEncoder().encode(s));
  // As in Redis, '*' does not match the empty string here; callers short-cut a lone '*'.
  assert.ok(!m('*', ''));
  assert.ok(m('a*', 'a'));
  assert.ok(m('h?llo', 'hello'));
  assert.ok(!m('h?llo', 'hllo'));
  assert.ok(m('h*llo', 'heeeello'));
  assert.ok(m('h[ae]llo', 'hallo'));
  assert.ok(!m('h[^e]llo', 'hello'));
  assert.ok(m('h[a-b]llo', 'hbllo'));
  assert.ok(m('h[b-a]llo', 'hallo'));
  assert.ok(m('h\\*llo', 'h*llo'));
  assert.ok(!m('h\\*llo', 'hello'));
  assert.ok(m('a*b*c', 'aXXbYYc'));
  assert.ok(!m('a*b*c', 'aXXbYY'));
  assert.ok(m('*a', 'bbba'));
  assert.ok(m('[abc', 'a'), 'an unclosed class matches like Redis');
  assert.ok(!m('a', 'ab'));
  // A pathological pattern finishes quickly thanks to skipLongerMatches.
  const t0 = Date.now();
  assert.ok(!m('a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(60)));
  assert.ok(Date.now() - t0 < 1000);
});
