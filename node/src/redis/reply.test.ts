// Goal: replies convert to kv.RedisReply in the shapes RESP2 and RESP3 clients expect, and
// numbers parse and print as Redis 7.0 does (string2ll, strtod, %.17g, INCRBYFLOAT text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kv } from '@shoal/proto';
import {
  addLongDouble, formatDouble, formatLongDouble, parseDouble, parseI64, parseLongDouble,
} from './numbers.js';
import { array, boolean, bulk, double, Err, int, map, NULL, NULL_ARRAY, OK, set, toProtoReply } from './reply.js';
import { plain } from './fixture.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

test('RESP3 shapes stay; RESP2 flattens map, set, double and boolean', () => {
  const r = array([OK, Err.wrongType, int(-3), bulk('x'), NULL, NULL_ARRAY, map([[bulk('k'), double(1.5)]]), set([bulk('m')]), boolean(true)]);
  assert.deepEqual(plain(toProtoReply(r, 3)), [
    '+OK', '-WRONGTYPE Operation against a key holding the wrong kind of value', -3, 'x', null, null,
    { map: [['k', { double: 1.5 }]] }, { set: ['m'] }, { bool: true },
  ]);
  assert.deepEqual(plain(toProtoReply(r, 2)), [
    '+OK', '-WRONGTYPE Operation against a key holding the wrong kind of value', -3, 'x', null, null,
    ['k', '1.5'], ['m'], 1,
  ]);
  const big = toProtoReply(int(9223372036854775807n), 2);
  assert.equal(big.type, kv.RedisReplyType.INTEGER);
  assert.equal(big.integer, 9223372036854775807n);
  assert.equal(toProtoReply(double(Infinity), 2).str.length, 3);
});

test('%.17g formatting', () => {
  const cases: [number, string][] = [
    [0, '0'], [-0, '-0'], [1, '1'], [-2.5, '-2.5'], [1.1, '1.1000000000000001'], [0.1, '0.10000000000000001'],
    [1e17, '1e+17'], [1e16, '10000000000000000'], [123456789012345680000, '1.2345678901234568e+20'],
    [0.0001, '0.0001'], [0.00001, '1.0000000000000001e-05'], [1e-300, '1e-300'], [1e300, '1.0000000000000001e+300'],
    [Infinity, 'inf'], [-Infinity, '-inf'], [3.14, '3.1400000000000001'], [100, '100'], [1.5e-7, '1.4999999999999999e-07'],
  ];
  for (const [d, s] of cases) assert.equal(formatDouble(d), s, String(d));
});

test('strtod-like double parsing', () => {
  const good: [string, number][] = [
    ['1', 1], ['-1.5', -1.5], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['+2', 2], ['inf', Infinity], ['-INF', -Infinity],
    ['+infinity', Infinity], ['0x10', 16], ['1e-310', 1e-310], ['0', 0], ['-0', -0],
  ];
  for (const [s, d] of good) assert.equal(parseDouble(b(s)), d, s);
  for (const s of ['', ' 1', '1 ', 'abc', 'nan', '1e', '1e400', '-1e400', '1e-400', '--1', '1.2.3', '0x']) {
    assert.equal(parseDouble(b(s)), undefined, JSON.stringify(s));
  }
});

test('string2ll-like integer parsing', () => {
  assert.equal(parseI64(b('-9223372036854775808')), -(2n ** 63n));
  for (const s of ['', '+1', '01', '-0', ' 1', '1 ', '9223372036854775808', '1.0', '-']) assert.equal(parseI64(b(s)), undefined, s);
});

test('INCRBYFLOAT arithmetic prints like %.17Lf with zeros cut', () => {
  const add = (x: string, y: string): string | undefined => {
    const a = parseLongDouble(b(x));
    const c = parseLongDouble(b(y));
    const s = a && c ? addLongDouble(a, c) : undefined;
    return s === undefined ? undefined : formatLongDouble(s);
  };
  assert.equal(add('10.50', '0.1'), '10.6');
  assert.equal(add('5.0e3', '0'), '5000');
  assert.equal(add('1', '-1'), '0');
  assert.equal(add('-0.5', '0.5'), '0');
  assert.equal(add('0', '1e-17'), '0.00000000000000001');
  assert.equal(add('0', '4e-18'), '0');
  assert.equal(add('0', '6e-18'), '0.00000000000000001');
  assert.equal(add('-1', '-0.25'), '-1.25');
  // Observed from redis-server 7.0.15 (x86 80-bit long double): the binary noise of the
  // extended format shows through %.17Lf, and 1e20 + 1 rounds to 1e20.
  assert.equal(add('1e20', '1'), '100000000000000000000');
  assert.equal(add('10.6', '-5.0e3'), '-4989.39999999999999991');
  assert.equal(add('0.00000000000000001', '5e-18'), '0.00000000000000002');
  assert.equal(add('3.0e3', '2.0e2'), '3200');
  assert.equal(add('0.1', '0.2'), '0.3');
  assert.equal(add('1e17', '0.3'), '100000000000000000.296875');
  assert.equal(add('inf', '1'), undefined);
  assert.equal(parseLongDouble(b('1e5000')), undefined);
  assert.equal(parseLongDouble(b('abc')), undefined);
});
