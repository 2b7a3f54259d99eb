// Goal: sorted-set commands match Redis 7 — ZADD's flags, inf scores and '(' exclusive
// bounds, lex ranges, ZRANGE's unified syntax and its errors, RESP2/RESP3 score shapes,
// pops, removals by rank/score/lex, random members and ZUNIONSTORE/ZINTERSTORE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Harness } from './fixture.js';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

test('ZADD flags NX XX GT LT CH INCR and their conflicts', async () => {
  const h = new Harness();
  assert.equal(await h.v('ZADD', 'z', '1', 'a', '2', 'b', '3', 'a'), 2);
  assert.equal(await h.v('ZSCORE', 'z', 'a'), '3');
  assert.equal(await h.v('ZADD', 'z', 'XX', '10', 'a', '5', 'new'), 0);
  assert.equal(await h.v('ZSCORE', 'z', 'new'), null);
  assert.equal(await h.v('ZADD', 'z', 'NX', '100', 'a', '5', 'c'), 1);
  assert.equal(await h.v('ZSCORE', 'z', 'a'), '10');
  assert.equal(await h.v('ZADD', 'z', 'CH', '11', 'a', '2', 'b', '6', 'd'), 2);
  assert.equal(await h.v('ZADD', 'z', 'GT', 'CH', '5', 'a', '20', 'b'), 1);
  assert.deepEqual([await h.v('ZSCORE', 'z', 'a'), await h.v('ZSCORE', 'z', 'b')], ['11', '20']);
  assert.equal(await h.v('ZADD', 'z', 'LT', 'CH', '1', 'a', '30', 'b'), 1);
  assert.deepEqual([await h.v('ZSCORE', 'z', 'a'), await h.v('ZSCORE', 'z', 'b')], ['1', '20']);
  assert.equal(await h.v('ZADD', 'z', 'INCR', '2.5', 'a'), '3.5');
  assert.equal(await h.v('ZADD', 'z', 'NX', 'INCR', '1', 'a'), null);
  assert.equal(await h.v('ZADD', 'z', 'GT', 'INCR', '-1', 'a'), null);
  assert.equal(await h.v('ZADD', 'none', 'XX', 'INCR', '1', 'a'), null);
  assert.equal(await h.v('ZADD', 'none', 'XX', '1', 'a'), 0);
  assert.equal(await h.v('EXISTS', 'none'), 0);
  assert.equal(await h.v('ZADD', 'z', 'NX', 'XX', '1', 'a'), '-ERR XX and NX options at the same time are not compatible');
  assert.equal(await h.v('ZADD', 'z', 'GT', 'LT', '1', 'a'), '-ERR GT, LT, and/or NX options at the same time are not compatible');
  assert.equal(await h.v('ZADD', 'z', 'GT', 'NX', '1', 'a'), '-ERR GT, LT, and/or NX options at the same time are not compatible');
  assert.equal(await h.v('ZADD', 'z', 'INCR', '1', 'a', '2', 'b'), '-ERR INCR option supports a single increment-element pair');
  assert.equal(await h.v('ZADD', 'z', '1', 'a', '2'), '-ERR syntax error');
  assert.equal(await h.v('ZADD', 'z', 'NX'), "-ERR wrong number of arguments for 'zadd' command");
  assert.equal(await h.v('ZADD', 'z', 'x', 'a'), '-ERR value is not a valid float');
  assert.equal(await h.v('ZADD', 'z', 'nan', 'a'), '-ERR value is not a valid float');
  assert.equal(await h.v('ZADD', 'z', '1', 'ok', 'bad', 'x'), '-ERR value is not a valid float');
  assert.equal(await h.v('ZSCORE', 'z', 'ok'), null, 'all scores are parsed before anything is added');
  assert.equal(await h.v('ZADD', 'z', 'INCR', '-inf', 'inf'), '-inf');
  assert.equal(await h.v('ZADD', 'z', '+inf', 'inf'), 0);
  assert.equal(await h.v('ZADD', 'z', 'INCR', '-inf', 'inf'), '-ERR resulting score is not a number (NaN)');
  await h.v('SET', 'str', 'v');
  assert.equal(await h.v('ZADD', 'str', '1', 'a'), WRONGTYPE);
});

test('ZSCORE ZMSCORE ZINCRBY ZCARD: doubles in RESP3, %.17g in RESP2', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '1.1', 'a', '-0', 'b', '1e300', 'c', '-inf', 'd');
  assert.equal(await h.v('ZSCORE', 'z', 'a'), '1.1000000000000001');
  assert.deepEqual(await h.v3('ZSCORE', 'z', 'a'), { double: 1.1 });
  assert.equal(await h.v('ZSCORE', 'z', 'c'), '1.0000000000000001e+300');
  assert.equal(await h.v('ZSCORE', 'z', 'd'), '-inf');
  assert.equal(await h.v('ZSCORE', 'z', 'b'), '-0');
  assert.deepEqual(await h.v('ZMSCORE', 'z', 'a', 'zz', 'd'), ['1.1000000000000001', null, '-inf']);
  assert.deepEqual(await h.v3('ZMSCORE', 'none', 'a'), [null]);
  assert.equal(await h.v('ZINCRBY', 'z', '2', 'a'), '3.1000000000000001');
  assert.deepEqual(await h.v3('ZINCRBY', 'z', '1', 'new'), { double: 1 });
  assert.equal(await h.v('ZINCRBY', 'z', 'x', 'a'), '-ERR value is not a valid float');
  assert.equal(await h.v('ZINCRBY', 'z', '+inf', 'd'), '-ERR resulting score is not a number (NaN)');
  assert.equal(await h.v('ZCARD', 'z'), 5);
  assert.equal(await h.v('ZCARD', 'none'), 0);
});

test('ZRANGE by rank with negative indexes, REV and WITHSCORES shapes', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '3', 'bb');
  assert.deepEqual(await h.v('ZRANGE', 'z', '0', '-1'), ['a', 'b', 'bb', 'c']);
  assert.deepEqual(await h.v('ZRANGE', 'z', '-2', '-1', 'WITHSCORES'), ['bb', '3', 'c', '3']);
  assert.deepEqual(await h.v3('ZRANGE', 'z', '0', '1', 'WITHSCORES'), [['a', { double: 1 }], ['b', { double: 2 }]]);
  assert.deepEqual(await h.v('ZRANGE', 'z', '0', '1', 'REV'), ['c', 'bb']);
  assert.deepEqual(await h.v('ZREVRANGE', 'z', '0', '0', 'WITHSCORES'), ['c', '3']);
  assert.deepEqual(await h.v('ZRANGE', 'z', '5', '10'), []);
  assert.deepEqual(await h.v('ZRANGE', 'z', '2', '1'), []);
  assert.deepEqual(await h.v('ZRANGE', 'none', '0', '-1'), []);
  assert.equal(await h.v('ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '1'),
    '-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  assert.equal(await h.v('ZRANGE', 'z', '-', '+', 'BYLEX', 'WITHSCORES'),
    '-ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  assert.equal(await h.v('ZRANGE', 'z', '0', '1', 'FOO'), '-ERR syntax error');
  assert.equal(await h.v('ZRANGE', 'z', 'a', '1'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('ZREVRANGE', 'z', '0', '1', 'REV'), '-ERR syntax error');
});

test('score ranges: inf, exclusive bounds, REV, LIMIT, ZCOUNT', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '-inf', 'n', '1', 'a', '2', 'b', '3', 'c', '+inf', 'p');
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '-inf', '+inf'), ['n', 'a', 'b', 'c', 'p']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '(1', '3'), ['b', 'c']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '(1', '(3'), ['b']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '1', '2', 'WITHSCORES'), ['a', '1', 'b', '2']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '-inf', 'inf', 'LIMIT', '1', '2'), ['a', 'b']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '-inf', 'inf', 'LIMIT', '1', '-1'), ['a', 'b', 'c', 'p']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '-inf', 'inf', 'LIMIT', '-1', '2'), []);
  assert.deepEqual(await h.v('ZREVRANGEBYSCORE', 'z', '3', '(1'), ['c', 'b']);
  assert.deepEqual(await h.v('ZRANGE', 'z', '(3', '1', 'BYSCORE', 'REV', 'WITHSCORES'), ['b', '2', 'a', '1']);
  assert.deepEqual(await h.v('ZRANGE', 'z', '0', '10', 'BYSCORE', 'LIMIT', '1', '1'), ['b']);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '3', '1'), []);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '(2', '(2'), []);
  assert.deepEqual(await h.v('ZRANGEBYSCORE', 'z', '+inf', '+inf'), ['p']);
  assert.equal(await h.v('ZRANGEBYSCORE', 'z', 'x', '1'), '-ERR min or max is not a float');
  assert.equal(await h.v('ZRANGEBYSCORE', 'z', '1', 'nan'), '-ERR min or max is not a float');
  assert.equal(await h.v('ZRANGEBYSCORE', 'z', '1', '2', 'BYSCORE'), '-ERR syntax error');
  assert.equal(await h.v('ZCOUNT', 'z', '-inf', '+inf'), 5);
  assert.equal(await h.v('ZCOUNT', 'z', '(1', '3'), 2);
  assert.equal(await h.v('ZCOUNT', 'none', '0', '1'), 0);
  assert.equal(await h.v('ZCOUNT', 'z', '(', '2'), 2, "'(' alone is an exclusive 0, as strtod reads it");
});

test('lex ranges: [ ( + - bounds, REV, LIMIT, ZLEXCOUNT', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e');
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '-', '+'), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '[b', '(d'), ['b', 'c']);
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '(b', '[d'), ['c', 'd']);
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '-', '+', 'LIMIT', '1', '2'), ['b', 'c']);
  assert.deepEqual(await h.v('ZREVRANGEBYLEX', 'z', '[c', '-'), ['c', 'b', 'a']);
  assert.deepEqual(await h.v('ZRANGE', 'z', '[d', '(b', 'BYLEX', 'REV'), ['d', 'c']);
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '+', '-'), []);
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '[d', '[b'), []);
  assert.deepEqual(await h.v('ZRANGEBYLEX', 'z', '[b', '[b'), ['b']);
  assert.equal(await h.v('ZRANGEBYLEX', 'z', 'b', '+'), '-ERR min or max not valid string range item');
  assert.equal(await h.v('ZRANGEBYLEX', 'z', '++', '+'), '-ERR min or max not valid string range item');
  assert.equal(await h.v('ZLEXCOUNT', 'z', '-', '+'), 5);
  assert.equal(await h.v('ZLEXCOUNT', 'z', '(a', '[c'), 2);
  assert.equal(await h.v('ZLEXCOUNT', 'z', '', '+'), '-ERR min or max not valid string range item');
});

test('ZRANK ZREVRANK (WITHSCORE)', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c');
  assert.deepEqual([await h.v('ZRANK', 'z', 'a'), await h.v('ZRANK', 'z', 'c'), await h.v('ZREVRANK', 'z', 'c')], [0, 2, 0]);
  assert.equal(await h.v('ZRANK', 'z', 'zz'), null);
  assert.equal(await h.v('ZRANK', 'none', 'a'), null);
  assert.deepEqual(await h.v('ZRANK', 'z', 'b', 'WITHSCORE'), [1, '2']);
  assert.deepEqual(await h.v3('ZREVRANK', 'z', 'b', 'WITHSCORE'), [1, { double: 2 }]);
});

test('ZREM ZPOPMIN ZPOPMAX delete emptied sets; pop shapes', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd');
  assert.equal(await h.v('ZREM', 'z', 'a', 'zz', 'a'), 1);
  assert.deepEqual(await h.v('ZPOPMIN', 'z'), ['b', '2']);
  assert.deepEqual(await h.v3('ZPOPMIN', 'z'), ['c', { double: 3 }]);
  await h.v('ZADD', 'z', '5', 'e', '6', 'f');
  assert.deepEqual(await h.v3('ZPOPMAX', 'z', '2'), [['f', { double: 6 }], ['e', { double: 5 }]]);
  assert.deepEqual(await h.v('ZPOPMAX', 'z', '0'), []);
  assert.deepEqual(await h.v('ZPOPMAX', 'z', '5'), ['d', '4']);
  assert.equal(await h.v('EXISTS', 'z'), 0);
  assert.equal(h.entries, 0);
  assert.deepEqual(await h.v('ZPOPMIN', 'none'), []);
  assert.equal(await h.v('ZPOPMIN', 'z', '-1'), '-ERR value is out of range, must be positive');
  assert.equal(await h.v('ZPOPMIN', 'z', '1', '2'), '-ERR syntax error');
});

test('ZREMRANGEBYRANK / BYSCORE / BYLEX', async () => {
  const h = new Harness();
  await h.v('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e');
  assert.equal(await h.v('ZREMRANGEBYRANK', 'z', '0', '1'), 2);
  assert.equal(await h.v('ZREMRANGEBYRANK', 'z', '-1', '-1'), 1);
  assert.deepEqual(await h.v('ZRANGE', 'z', '0', '-1'), ['c', 'd']);
  assert.equal(await h.v('ZREMRANGEBYSCORE', 'z', '(3', '+inf'), 1);
  assert.equal(await h.v('ZREMRANGEBYSCORE', 'z', '10', '20'), 0);
  assert.equal(await h.v('ZREMRANGEBYSCORE', 'z', 'x', '20'), '-ERR min or max is not a float');
  await h.v('ZADD', 'y', '0', 'a', '0', 'b', '0', 'c');
  assert.equal(await h.v('ZREMRANGEBYLEX', 'y', '[a', '(c'), 2);
  assert.deepEqual(await h.v('ZRANGE', 'y', '0', '-1'), ['c']);
  assert.equal(await h.v('ZREMRANGEBYRANK', 'z', '0', '-1'), 1);
  assert.equal(await h.v('EXISTS', 'z'), 0);
  assert.equal(await h.v('ZREMRANGEBYRANK', 'none', '0', '-1'), 0);
});

test('ZRANDMEMBER', async () => {
  const h = new Harness();
  assert.equal(await h.v('ZRANDMEMBER', 'none'), null);
  assert.deepEqual(await h.v('ZRANDMEMBER', 'none', '2'), []);
  await h.v('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c');
  assert.ok(['a', 'b', 'c'].includes((await h.v('ZRANDMEMBER', 'z')) as string));
  assert.equal(((await h.v('ZRANDMEMBER', 'z', '-5')) as string[]).length, 5);
  assert.equal(new Set((await h.v('ZRANDMEMBER', 'z', '2')) as string[]).size, 2);
  assert.deepEqual(await h.v('ZRANDMEMBER', 'z', '5', 'WITHSCORES'), ['a', '1', 'b', '2', 'c', '3']);
  assert.deepEqual(await h.v3('ZRANDMEMBER', 'z', '5', 'WITHSCORES'), [['a', { double: 1 }], ['b', { double: 2 }], ['c', { double: 3 }]]);
  assert.equal(await h.v('ZRANDMEMBER', 'z', '1', 'WITHSCORE'), '-ERR syntax error');
});

test('ZUNIONSTORE / ZINTERSTORE with WEIGHTS, AGGREGATE and set inputs', async () => {
  const h = new Harness();
  await h.v('ZADD', 'a', '1', 'x', '2', 'y');
  await h.v('ZADD', 'b', '10', 'y', '20', 'z');
  await h.v('SADD', 's', 'y', 'w');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '2', 'a', 'b'), 3);
  assert.deepEqual(await h.v('ZRANGE', 'd', '0', '-1', 'WITHSCORES'), ['x', '1', 'y', '12', 'z', '20']);
  assert.equal(await h.v('ZINTERSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '2', '3'), 1);
  assert.deepEqual(await h.v('ZRANGE', 'd', '0', '-1', 'WITHSCORES'), ['y', '34']);
  assert.equal(await h.v('ZUNIONSTORE', 'd', '3', 'a', 'b', 's', 'AGGREGATE', 'MAX'), 4);
  assert.deepEqual(await h.v('ZRANGE', 'd', '0', '-1', 'WITHSCORES'), ['w', '1', 'x', '1', 'y', '10', 'z', '20']);
  assert.equal(await h.v('ZINTERSTORE', 'd', '2', 'a', 's', 'AGGREGATE', 'min'), 1);
  assert.deepEqual(await h.v('ZRANGE', 'd', '0', '-1', 'WITHSCORES'), ['y', '1']);
  assert.equal(await h.v('ZINTERSTORE', 'd', '2', 'a', 'none'), 0);
  assert.equal(await h.v('EXISTS', 'd'), 0);
  // inf * 0 is NaN, which Redis turns into 0; inf + -inf likewise.
  await h.v('ZADD', 'i', 'inf', 'm');
  await h.v('ZADD', 'j', '-inf', 'm');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '1', 'i', 'WEIGHTS', '0'), 1);
  assert.equal(await h.v('ZSCORE', 'd', 'm'), '0');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '2', 'i', 'j'), 1);
  assert.equal(await h.v('ZSCORE', 'd', 'm'), '0');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '0', 'a'), "-ERR at least 1 input key is needed for 'zunionstore' command");
  assert.equal(await h.v('ZINTERSTORE', 'd', '3', 'a', 'b'), '-ERR syntax error');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1'), '-ERR syntax error');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', 'x'), '-ERR weight value is not a float');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '2', 'a', 'b', 'AGGREGATE', 'AVG'), '-ERR syntax error');
  await h.v('SET', 'str', 'v');
  assert.equal(await h.v('ZUNIONSTORE', 'd', '2', 'a', 'str'), WRONGTYPE);
  assert.deepEqual(h.exec.describe(['ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'].map((x) => new TextEncoder().encode(x))),
    { ok: true, name: 'zunionstore', write: true, keys: ['d', 'a', 'b'].map((x) => new TextEncoder().encode(x)) });
});
