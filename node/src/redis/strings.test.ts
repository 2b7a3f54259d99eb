// Goal: the string commands answer with Redis 7's reply shapes and error texts, including
// SET's option rules, integer and float arithmetic edge cases, and range commands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Harness } from './fixture.js';

const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

test('GET / SET basics and binary-safe values', async () => {
  const h = new Harness();
  assert.equal(await h.v('GET', 'k'), null);
  assert.equal(await h.v('SET', 'k', 'v'), '+OK');
  assert.equal(await h.v('GET', 'k'), 'v');
  const bin = new Uint8Array([0, 13, 10, 255, 0]);
  await h.v('SET', bin, bin);
  const r = await h.raw('GET', bin);
  assert.equal(r.reply.kind, 'bulk');
  assert.deepEqual(r.reply.kind === 'bulk' ? [...r.reply.value] : [], [...bin]);
  assert.equal(await h.v('SET', 'e', ''), '+OK');
  assert.equal(await h.v('GET', 'e'), '');
  assert.equal(await h.v('STRLEN', 'e'), 0);
});

test('SET NX / XX / GET / KEEPTTL and option conflicts', async () => {
  const h = new Harness();
  assert.equal(await h.v('SET', 'k', 'a', 'NX'), '+OK');
  assert.equal(await h.v('SET', 'k', 'b', 'NX'), null);
  assert.equal(await h.v('SET', 'x', 'b', 'XX'), null);
  assert.equal(await h.v('EXISTS', 'x'), 0);
  assert.equal(await h.v('SET', 'k', 'c', 'XX', 'GET'), 'a');
  assert.equal(await h.v('SET', 'k', 'd', 'NX', 'GET'), 'c');
  assert.equal(await h.v('GET', 'k'), 'c');
  assert.equal(await h.v('SET', 'new', 'v', 'GET'), null);
  assert.equal(await h.v('SET', 'k', 'v', 'NX', 'XX'), '-ERR syntax error');
  assert.equal(await h.v('SET', 'k', 'v', 'EX', '10', 'PX', '100'), '-ERR syntax error');
  assert.equal(await h.v('SET', 'k', 'v', 'KEEPTTL', 'EX', '10'), '-ERR syntax error');
  assert.equal(await h.v('SET', 'k', 'v', 'EX'), '-ERR syntax error');
  assert.equal(await h.v('SET', 'k', 'v', 'FOO'), '-ERR syntax error');
  assert.equal(await h.v('SET', 'k', 'v', 'EX', '0'), "-ERR invalid expire time in 'set' command");
  assert.equal(await h.v('SET', 'k', 'v', 'EX', '-5'), "-ERR invalid expire time in 'set' command");
  assert.equal(await h.v('SET', 'k', 'v', 'EX', 'abc'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('SET', 'k', 'v', 'EX', '9223372036854775807'), "-ERR invalid expire time in 'set' command");
  await h.v('SET', 'k', 'v', 'EX', '100');
  assert.equal(await h.v('TTL', 'k'), 100);
  await h.v('SET', 'k', 'w', 'KEEPTTL');
  assert.equal(await h.v('TTL', 'k'), 100);
  await h.v('SET', 'k', 'w');
  assert.equal(await h.v('TTL', 'k'), -1);
  await h.v('SET', 'k', 'w', 'px', '1500');
  assert.equal(await h.v('PTTL', 'k'), 1500);
  await h.v('SET', 'k', 'w', 'EXAT', String(Math.floor(h.nowMs / 1000) + 50));
  assert.equal(await h.v('TTL', 'k'), 50);
  await h.v('SET', 'k', 'w', 'PXAT', String(h.nowMs + 7000));
  assert.equal(await h.v('PTTL', 'k'), 7000);
  // An absolute expiry in the past leaves no key.
  assert.equal(await h.v('SET', 'k', 'w', 'PXAT', String(h.nowMs - 1)), '+OK');
  assert.equal(await h.v('EXISTS', 'k'), 0);
});

test('SET overwrites any type; SET GET on a collection is WRONGTYPE', async () => {
  const h = new Harness();
  await h.v('HSET', 'h', 'f', 'v');
  assert.equal(await h.v('SET', 'h', 'x', 'GET'), WRONGTYPE);
  assert.equal(await h.v('TYPE', 'h'), '+hash');
  assert.equal(await h.v('SET', 'h', 'x'), '+OK');
  assert.equal(await h.v('TYPE', 'h'), '+string');
  assert.equal(await h.v('GET', 'h'), 'x');
  assert.equal(await h.v('HGET', 'h', 'f'), WRONGTYPE);
  assert.equal(await h.v('GET', 'nope'), null);
  await h.v('LPUSH', 'l', 'a');
  assert.equal(await h.v('GET', 'l'), WRONGTYPE);
});

test('SETNX SETEX PSETEX GETSET GETDEL', async () => {
  const h = new Harness();
  assert.equal(await h.v('SETNX', 'k', 'a'), 1);
  assert.equal(await h.v('SETNX', 'k', 'b'), 0);
  assert.equal(await h.v('SETEX', 'k', '10', 'c'), '+OK');
  assert.equal(await h.v('TTL', 'k'), 10);
  assert.equal(await h.v('SETEX', 'k', '0', 'c'), "-ERR invalid expire time in 'setex' command");
  assert.equal(await h.v('PSETEX', 'k', '-1', 'c'), "-ERR invalid expire time in 'psetex' command");
  assert.equal(await h.v('PSETEX', 'k', '2500', 'd'), '+OK');
  assert.equal(await h.v('PTTL', 'k'), 2500);
  assert.equal(await h.v('GETSET', 'k', 'e'), 'd');
  assert.equal(await h.v('TTL', 'k'), -1);
  assert.equal(await h.v('GETSET', 'n', 'e'), null);
  assert.equal(await h.v('GETDEL', 'k'), 'e');
  assert.equal(await h.v('GETDEL', 'k'), null);
  assert.equal(await h.v('EXISTS', 'k'), 0);
  await h.v('SADD', 's', 'm');
  assert.equal(await h.v('GETSET', 's', 'x'), WRONGTYPE);
  assert.equal(await h.v('GETDEL', 's'), WRONGTYPE);
});

test('GETEX sets, persists or deletes the expiry', async () => {
  const h = new Harness();
  assert.equal(await h.v('GETEX', 'k'), null);
  await h.v('SET', 'k', 'v');
  assert.equal(await h.v('GETEX', 'k', 'EX', '100'), 'v');
  assert.equal(await h.v('TTL', 'k'), 100);
  assert.equal(await h.v('GETEX', 'k', 'PERSIST'), 'v');
  assert.equal(await h.v('TTL', 'k'), -1);
  assert.equal(await h.v('GETEX', 'k', 'PX', '100', 'PERSIST'), '-ERR syntax error');
  assert.equal(await h.v('GETEX', 'k', 'KEEPTTL'), '-ERR syntax error');
  assert.equal(await h.v('GETEX', 'k', 'EX', '0'), "-ERR invalid expire time in 'getex' command");
  assert.equal(await h.v('GETEX', 'k', 'PXAT', String(h.nowMs - 5)), 'v');
  assert.equal(await h.v('GET', 'k'), null);
  // Read-only GETEX writes nothing.
  await h.v('SET', 'k', 'v');
  assert.equal((await h.raw('GETEX', 'k')).writes.length, 0);
});

test('MGET MSET MSETNX', async () => {
  const h = new Harness();
  assert.equal(await h.v('MSET', 'a', '1', 'b', '2'), '+OK');
  await h.v('HSET', 'h', 'f', 'v');
  assert.deepEqual(await h.v('MGET', 'a', 'b', 'c', 'h'), ['1', '2', null, null]);
  assert.equal(await h.v('MSET', 'a', '1', 'b'), "-ERR wrong number of arguments for 'mset' command");
  assert.equal(await h.v('MSETNX', 'c', '3', 'a', '9'), 0);
  assert.equal(await h.v('GET', 'c'), null);
  assert.equal(await h.v('MSETNX', 'c', '3', 'd', '4'), 1);
  assert.deepEqual(await h.v('MGET', 'c', 'd'), ['3', '4']);
  // A repeated key: the last value wins.
  await h.v('MSET', 'r', 'x', 'r', 'y');
  assert.equal(await h.v('GET', 'r'), 'y');
});

test('INCR family: creation, TTL kept, non-integers and overflow', async () => {
  const h = new Harness();
  assert.equal(await h.v('INCR', 'n'), 1);
  assert.equal(await h.v('INCRBY', 'n', '41'), 42);
  assert.equal(await h.v('DECR', 'n'), 41);
  assert.equal(await h.v('DECRBY', 'n', '50'), -9);
  await h.v('EXPIRE', 'n', '100');
  assert.equal(await h.v('INCR', 'n'), -8);
  assert.equal(await h.v('TTL', 'n'), 100);
  await h.v('SET', 'n', '9223372036854775807');
  assert.equal(await h.v('INCR', 'n'), '-ERR increment or decrement would overflow');
  assert.equal(await h.v('GET', 'n'), '9223372036854775807');
  await h.v('SET', 'n', '-9223372036854775808');
  assert.equal(await h.v('DECR', 'n'), '-ERR increment or decrement would overflow');
  assert.equal(await h.v('DECRBY', 'z', '-9223372036854775808'), '-ERR decrement would overflow');
  for (const bad of ['abc', ' 1', '1 ', '+1', '01', '-0', '1.0', '', '9223372036854775808']) {
    await h.v('SET', 'b', bad);
    assert.equal(await h.v('INCR', 'b'), '-ERR value is not an integer or out of range', bad);
  }
  assert.equal(await h.v('INCRBY', 'n', 'x'), '-ERR value is not an integer or out of range');
  await h.v('LPUSH', 'l', 'a');
  assert.equal(await h.v('INCR', 'l'), WRONGTYPE);
});

test('INCRBYFLOAT: long double results exactly as redis-server 7.0 prints them, NaN/inf refused', async () => {
  const h = new Harness();
  assert.equal(await h.v('INCRBYFLOAT', 'f', '10.5'), '10.5');
  assert.equal(await h.v('INCRBYFLOAT', 'f', '0.1'), '10.6');
  assert.equal(await h.v('INCRBYFLOAT', 'f', '-5.0e3'), '-4989.39999999999999991');
  await h.v('SET', 'g', '0.1');
  assert.equal(await h.v('INCRBYFLOAT', 'g', '0.2'), '0.3');
  assert.equal(await h.v('INCRBYFLOAT', 'g', '-0.3'), '0');
  assert.equal(await h.v('INCRBYFLOAT', 'g', '3'), '3');
  assert.equal(await h.v('INCRBYFLOAT', 'g', '1e-20'), '3');
  assert.equal(await h.v('INCRBYFLOAT', 'g', 'inf'), '-ERR increment would produce NaN or Infinity');
  assert.equal(await h.v('INCRBYFLOAT', 'g', 'nan'), '-ERR value is not a valid float');
  assert.equal(await h.v('INCRBYFLOAT', 'g', 'abc'), '-ERR value is not a valid float');
  await h.v('SET', 's', 'abc');
  assert.equal(await h.v('INCRBYFLOAT', 's', '1'), '-ERR value is not a valid float');
  await h.v('SET', 'i', '5');
  await h.v('PEXPIRE', 'i', '9000');
  assert.equal(await h.v('INCRBYFLOAT', 'i', '1.5'), '6.5');
  assert.equal(await h.v('PTTL', 'i'), 9000);
});

test('APPEND STRLEN GETRANGE SETRANGE', async () => {
  const h = new Harness();
  assert.equal(await h.v('APPEND', 'k', 'Hello'), 5);
  assert.equal(await h.v('APPEND', 'k', ' World'), 11);
  assert.equal(await h.v('STRLEN', 'k'), 11);
  assert.equal(await h.v('STRLEN', 'none'), 0);
  assert.equal(await h.v('GETRANGE', 'k', '0', '4'), 'Hello');
  assert.equal(await h.v('GETRANGE', 'k', '-5', '-1'), 'World');
  assert.equal(await h.v('GETRANGE', 'k', '-1', '-5'), '');
  assert.equal(await h.v('GETRANGE', 'k', '5', '2'), '');
  assert.equal(await h.v('GETRANGE', 'k', '0', '100'), 'Hello World');
  assert.equal(await h.v('GETRANGE', 'k', '-100', '2'), 'Hel');
  assert.equal(await h.v('GETRANGE', 'none', '0', '-1'), '');
  assert.equal(await h.v('GETRANGE', 'k', 'a', '1'), '-ERR value is not an integer or out of range');
  assert.equal(await h.v('SETRANGE', 'k', '6', 'Redis'), 11);
  assert.equal(await h.v('GET', 'k'), 'Hello Redis');
  assert.equal(await h.v('SETRANGE', 'pad', '3', 'x'), 4);
  assert.equal(await h.v('GET', 'pad'), '\0\0\0x');
  assert.equal(await h.v('SETRANGE', 'none', '5', ''), 0);
  assert.equal(await h.v('EXISTS', 'none'), 0);
  assert.equal(await h.v('SETRANGE', 'k', '-1', 'x'), '-ERR offset is out of range');
  assert.equal(await h.v('SETRANGE', 'k', '536870911', 'xx'), '-ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  await h.v('HSET', 'h', 'f', 'v');
  assert.equal(await h.v('APPEND', 'h', 'x'), WRONGTYPE);
  assert.equal(await h.v('SETRANGE', 'h', '0', ''), WRONGTYPE);
});

test('unknown commands and arity errors use Redis text', async () => {
  const h = new Harness();
  assert.equal(await h.v('FOO', 'a', 'b'), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
  assert.equal(await h.v('NOPE'), "-ERR unknown command 'NOPE', with args beginning with: ");
  assert.equal(await h.v('GET'), "-ERR wrong number of arguments for 'get' command");
  assert.equal(await h.v('get', 'a', 'b'), "-ERR wrong number of arguments for 'get' command");
  assert.equal(await h.v('HSET', 'h', 'f'), "-ERR wrong number of arguments for 'hset' command");
  assert.equal(await h.v('HSET', 'h', 'f', 'v', 'g'), "-ERR wrong number of arguments for 'hset' command");
  assert.equal(await h.v('gEt', 'x'), null);
});
