// Goal: list commands match Redis 7 — push order, pops with counts (nil vs empty array),
// negative indexes, LTRIM/LREM/LINSERT rewrites, LPOS options, LMOVE including rotation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Harness } from './fixture.js';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

test('LPUSH RPUSH LPUSHX RPUSHX LLEN LRANGE', async () => {
  const h = new Harness();
  assert.equal(await h.v('LPUSHX', 'l', 'a'), 0);
  assert.equal(await h.v('EXISTS', 'l'), 0);
  assert.equal(await h.v('LPUSH', 'l', 'a', 'b', 'c'), 3);
  assert.equal(await h.v('RPUSH', 'l', 'x', 'y'), 5);
  assert.equal(await h.v('RPUSHX', 'l', 'z'), 6);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['c', 'b', 'a', 'x', 'y', 'z']);
  assert.deepEqual(await h.v('LRANGE', 'l', '-2', '-1'), ['y', 'z']);
  assert.deepEqual(await h.v('LRANGE', 'l', '-100', '1'), ['c', 'b']);
  assert.deepEqual(await h.v('LRANGE', 'l', '4', '100'), ['y', 'z']);
  assert.deepEqual(await h.v('LRANGE', 'l', '3', '2'), []);
  assert.deepEqual(await h.v('LRANGE', 'l', '6', '10'), []);
  assert.deepEqual(await h.v('LRANGE', 'none', '0', '-1'), []);
  assert.equal(await h.v('LLEN', 'l'), 6);
  assert.equal(await h.v('LLEN', 'none'), 0);
  assert.equal(await h.v('LRANGE', 'l', 'a', '1'), '-ERR value is not an integer or out of range');
  await h.v('SET', 's', 'v');
  assert.equal(await h.v('LPUSH', 's', 'a'), WRONGTYPE);
  assert.equal(await h.v('LPUSHX', 's', 'a'), WRONGTYPE);
});

test('LPOP / RPOP with and without count; the last pop deletes the key', async () => {
  const h = new Harness();
  assert.equal(await h.v('LPOP', 'none'), null);
  assert.equal(await h.v('LPOP', 'none', '2'), null);
  await h.v('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e');
  assert.equal(await h.v('LPOP', 'l'), 'a');
  assert.equal(await h.v('RPOP', 'l'), 'e');
  assert.deepEqual(await h.v('LPOP', 'l', '0'), []);
  assert.deepEqual(await h.v('RPOP', 'l', '2'), ['d', 'c']);
  assert.equal(await h.v('LPOP', 'l', '-1'), '-ERR value is out of range, must be positive');
  assert.equal(await h.v('LPOP', 'l', 'x'), '-ERR value is out of range, must be positive');
  assert.equal(await h.v('LPOP', 'l', '1', '2'), "-ERR wrong number of arguments for 'lpop' command");
  assert.deepEqual(await h.v('LPOP', 'l', '10'), ['b']);
  assert.equal(await h.v('EXISTS', 'l'), 0);
  assert.equal(h.entries, 0);
});

test('LINDEX LSET', async () => {
  const h = new Harness();
  await h.v('RPUSH', 'l', 'a', 'b', 'c');
  assert.deepEqual([await h.v('LINDEX', 'l', '0'), await h.v('LINDEX', 'l', '-1'), await h.v('LINDEX', 'l', '3'), await h.v('LINDEX', 'l', '-4')],
    ['a', 'c', null, null]);
  assert.equal(await h.v('LINDEX', 'none', '0'), null);
  assert.equal(await h.v('LSET', 'l', '1', 'B'), '+OK');
  assert.equal(await h.v('LSET', 'l', '-1', 'C'), '+OK');
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['a', 'B', 'C']);
  assert.equal(await h.v('LSET', 'l', '3', 'x'), '-ERR index out of range');
  assert.equal(await h.v('LSET', 'none', '0', 'x'), '-ERR no such key');
});

test('LTRIM keeps a range with O(1) writes and deletes an emptied list', async () => {
  const h = new Harness();
  await h.v('RPUSH', 'l', 'a', 'b', 'c', 'd', 'e');
  const r = await h.raw('LTRIM', 'l', '1', '-2');
  assert.ok(r.writes.length <= 3, `ltrim wrote ${r.writes.length} entries`);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['b', 'c', 'd']);
  assert.equal(await h.v('LLEN', 'l'), 3);
  assert.equal(await h.v('LTRIM', 'l', '0', '100'), '+OK');
  assert.equal(await h.v('LLEN', 'l'), 3);
  assert.equal(await h.v('LTRIM', 'l', '5', '10'), '+OK');
  assert.equal(await h.v('EXISTS', 'l'), 0);
  assert.equal(await h.v('LTRIM', 'none', '0', '1'), '+OK');
});

test('LREM from the head, the tail, or all', async () => {
  const h = new Harness();
  await h.v('RPUSH', 'l', 'a', 'x', 'b', 'x', 'c', 'x');
  assert.equal(await h.v('LREM', 'l', '1', 'x'), 1);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['a', 'b', 'x', 'c', 'x']);
  assert.equal(await h.v('LREM', 'l', '-1', 'x'), 1);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['a', 'b', 'x', 'c']);
  assert.equal(await h.v('LREM', 'l', '0', 'zz'), 0);
  await h.v('RPUSH', 'l', 'x');
  assert.equal(await h.v('LREM', 'l', '0', 'x'), 2);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['a', 'b', 'c']);
  assert.equal(await h.v('LLEN', 'l'), 3);
  assert.equal(await h.v('LREM', 'none', '0', 'x'), 0);
  await h.v('RPUSH', 'only', 'x', 'x');
  assert.equal(await h.v('LREM', 'only', '0', 'x'), 2);
  assert.equal(await h.v('EXISTS', 'only'), 0);
});

test('LINSERT before and after, at both ends', async () => {
  const h = new Harness();
  assert.equal(await h.v('LINSERT', 'none', 'BEFORE', 'a', 'x'), 0);
  await h.v('RPUSH', 'l', 'a', 'b', 'c', 'd');
  assert.equal(await h.v('LINSERT', 'l', 'BEFORE', 'b', 'x'), 5);
  assert.equal(await h.v('LINSERT', 'l', 'after', 'd', 'y'), 6);
  assert.equal(await h.v('LINSERT', 'l', 'BEFORE', 'a', 'z'), 7);
  assert.equal(await h.v('LINSERT', 'l', 'AFTER', 'c', 'w'), 8);
  assert.deepEqual(await h.v('LRANGE', 'l', '0', '-1'), ['z', 'a', 'x', 'b', 'c', 'w', 'd', 'y']);
  assert.equal(await h.v('LINSERT', 'l', 'BEFORE', 'nope', 'x'), -1);
  assert.equal(await h.v('LINSERT', 'l', 'MIDDLE', 'a', 'x'), '-ERR syntax error');
  assert.equal(await h.v('LLEN', 'l'), 8);
});

test('LPOS with RANK, COUNT and MAXLEN', async () => {
  const h = new Harness();
  await h.v('RPUSH', 'l', 'a', 'b', 'c', '1', '2', '3', 'c', 'c');
  assert.equal(await h.v('LPOS', 'l', 'c'), 2);
  assert.equal(await h.v('LPOS', 'l', 'c', 'RANK', '2'), 6);
  assert.equal(await h.v('LPOS', 'l', 'c', 'RANK', '-1'), 7);
  assert.deepEqual(await h.v('LPOS', 'l', 'c', 'COUNT', '2'), [2, 6]);
  assert.deepEqual(await h.v('LPOS', 'l', 'c', 'COUNT', '0'), [2, 6, 7]);
  assert.deepEqual(await h.v('LPOS', 'l', 'c', 'RANK', '-1', 'COUNT', '2'), [7, 6]);
  assert.deepEqual(await h.v('LPOS', 'l', 'c', 'COUNT', '0', 'MAXLEN', '3'), [2]);
  assert.equal(await h.v('LPOS', 'l', 'zz'), null);
  assert.deepEqual(await h.v('LPOS', 'l', 'zz', 'COUNT', '1'), []);
  assert.equal(await h.v('LPOS', 'none', 'a'), null);
  assert.deepEqual(await h.v('LPOS', 'none', 'a', 'COUNT', '1'), []);
  assert.equal(await h.v('LPOS', 'l', 'c', 'RANK', '0'),
    "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
  assert.equal(await h.v('LPOS', 'l', 'c', 'COUNT', '-1'), "-ERR COUNT can't be negative");
  assert.equal(await h.v('LPOS', 'l', 'c', 'MAXLEN', '-1'), "-ERR MAXLEN can't be negative");
  assert.equal(await h.v('LPOS', 'l', 'c', 'FOO'), '-ERR syntax error');
});

test('LMOVE / RPOPLPUSH between lists and on one list', async () => {
  const h = new Harness();
  assert.equal(await h.v('LMOVE', 'none', 'd', 'LEFT', 'RIGHT'), null);
  await h.v('RPUSH', 's', 'a', 'b', 'c');
  assert.equal(await h.v('RPOPLPUSH', 's', 'd'), 'c');
  assert.equal(await h.v('LMOVE', 's', 'd', 'LEFT', 'RIGHT'), 'a');
  assert.deepEqual([await h.v('LRANGE', 's', '0', '-1'), await h.v('LRANGE', 'd', '0', '-1')], [['b'], ['c', 'a']]);
  assert.equal(await h.v('LMOVE', 'd', 'd', 'LEFT', 'RIGHT'), 'c');
  assert.deepEqual(await h.v('LRANGE', 'd', '0', '-1'), ['a', 'c']);
  assert.equal(await h.v('LMOVE', 'd', 'd', 'RIGHT', 'LEFT'), 'c');
  assert.deepEqual(await h.v('LRANGE', 'd', '0', '-1'), ['c', 'a']);
  assert.equal(await h.v('LMOVE', 'd', 'd', 'LEFT', 'LEFT'), 'c');
  assert.deepEqual(await h.v('LRANGE', 'd', '0', '-1'), ['c', 'a']);
  assert.equal(await h.v('LMOVE', 's', 'd', 'LEFT', 'LEFT'), 'b');
  assert.equal(await h.v('EXISTS', 's'), 0);
  assert.deepEqual(await h.v('LRANGE', 'd', '0', '-1'), ['b', 'c', 'a']);
  assert.equal(await h.v('LMOVE', 'd', 'e', 'UP', 'LEFT'), '-ERR syntax error');
  await h.v('SET', 'str', 'v');
  assert.equal(await h.v('LMOVE', 'd', 'str', 'LEFT', 'LEFT'), WRONGTYPE);
  assert.deepEqual(await h.v('LRANGE', 'd', '0', '-1'), ['b', 'c', 'a'], 'nothing popped on WRONGTYPE');
  assert.equal(await h.v('RPOPLPUSH', 'str', 'd'), WRONGTYPE);
});
