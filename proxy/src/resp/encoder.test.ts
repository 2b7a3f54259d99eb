// Goal: every reply type is written byte for byte as Redis writes it in RESP3, and mapped down to RESP2 as Redis maps it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@shoal/common';
import { encodeReply, ReplyWriter } from './encoder.js';
import { formatDouble } from './numbers.js';
import {
  array, bigNumber, boolean, bulk, double, err, error, integer, kvErrorReply, map, NULL_ARRAY, NULL_BULK, OK, push, set,
  simple, verbatim,
} from './reply.js';
import type { Reply } from './reply.js';

const enc = (r: Reply, v: 2 | 3): string => encodeReply(r, v).toString('latin1');

describe('encoder: RESP2 and RESP3 forms of every type', () => {
  const cases: [string, Reply, string, string][] = [
    ['simple string', simple('OK'), '+OK\r\n', '+OK\r\n'],
    ['error', err('unknown command'), '-ERR unknown command\r\n', '-ERR unknown command\r\n'],
    ['integer', integer(-42), ':-42\r\n', ':-42\r\n'],
    ['64-bit integer', integer(9223372036854775807n), ':9223372036854775807\r\n', ':9223372036854775807\r\n'],
    ['bulk string', bulk('héllo'), '$6\r\nh\xc3\xa9llo\r\n', '$6\r\nh\xc3\xa9llo\r\n'],
    ['empty bulk string', bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['binary bulk string', bulk(Buffer.from('a\r\n\0b')), '$5\r\na\r\n\0b\r\n', '$5\r\na\r\n\0b\r\n'],
    ['null bulk', NULL_BULK, '$-1\r\n', '_\r\n'],
    ['null array', NULL_ARRAY, '*-1\r\n', '_\r\n'],
    ['array', array([integer(1), bulk('a')]), '*2\r\n:1\r\n$1\r\na\r\n', '*2\r\n:1\r\n$1\r\na\r\n'],
    ['empty array', array([]), '*0\r\n', '*0\r\n'],
    ['map', map([['a', integer(1)], ['b', NULL_BULK]]), '*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n', '%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n'],
    ['set', set([simple('x')]), '*1\r\n+x\r\n', '~1\r\n+x\r\n'],
    ['double', double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['integral double', double(3), '$1\r\n3\r\n', ',3\r\n'],
    ['infinite double', double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['boolean true', boolean(true), ':1\r\n', '#t\r\n'],
    ['boolean false', boolean(false), ':0\r\n', '#f\r\n'],
    ['big number', bigNumber(3492890328409238509324850943850943825024385n), '$43\r\n3492890328409238509324850943850943825024385\r\n', '(3492890328409238509324850943850943825024385\r\n'],
    ['verbatim string', verbatim('Some string'), '$11\r\nSome string\r\n', '=15\r\ntxt:Some string\r\n'],
    ['push', push([bulk('message'), bulk('ch')]), '*2\r\n$7\r\nmessage\r\n$2\r\nch\r\n', '>2\r\n$7\r\nmessage\r\n$2\r\nch\r\n'],
    ['nested', array([map([['k', set([])]]), array([NULL_ARRAY])]), '*2\r\n*2\r\n$1\r\nk\r\n*0\r\n*1\r\n*-1\r\n', '*2\r\n%1\r\n$1\r\nk\r\n~0\r\n*1\r\n_\r\n'],
  ];
  for (const [what, reply, resp2, resp3] of cases) {
    it(what, () => {
      assert.equal(enc(reply, 2), resp2);
      assert.equal(enc(reply, 3), resp3);
    });
  }

  it('errors and simple strings stay on one line: CR and LF become spaces, as Redis does', () => {
    assert.equal(enc(error('ERR bad\r\nthing'), 2), '-ERR bad  thing\r\n');
    assert.equal(enc(error(Buffer.from('ERR a\nb')), 3), '-ERR a b\r\n');
    assert.equal(enc(simple('a\rb'), 2), '+a b\r\n');
  });

  it('an operating error becomes its RESP prefix and message', () => {
    assert.equal(enc(kvErrorReply(new KvError('WRONG_TYPE', 'Operation against a key holding the wrong kind of value')), 2),
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
    assert.equal(enc(kvErrorReply(new KvError('CROSSSLOT', 'Keys in request don\'t hash to the same slot')), 3),
      '-CROSSSLOT Keys in request don\'t hash to the same slot\r\n');
  });
});

describe('encoder: doubles as Redis 7.0 prints them (%.17g, checked against redis-server 7.0.15)', () => {
  const cases: [number, string][] = [
    [0, '0'], [-0, '-0'], [1, '1'], [-17, '-17'], [0.1, '0.10000000000000001'], [1.5e-7, '1.4999999999999999e-07'],
    [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'], [2 ** 62, '4.6116860184273879e+18'], [3.14159, '3.1415899999999999'],
    [100, '100'], [1e16, '10000000000000000'], [1e17, '1e+17'], [0.0001, '0.0001'], [0.00001, '1.0000000000000001e-05'],
  ];
  for (const [d, text] of cases) it(`${String(d)} → ${text}`, () => assert.equal(formatDouble(d), text));
});

describe('ReplyWriter', () => {
  it('appends many replies and hands them out as chunks that are never rewritten', () => {
    const w = new ReplyWriter();
    w.write(OK, 2);
    const first = w.take();
    w.write(bulk('x'.repeat(100)), 2);
    const second = w.take();
    assert.equal(Buffer.concat(first).toString(), '+OK\r\n');
    assert.equal(Buffer.concat(second).toString(), `$100\r\n${'x'.repeat(100)}\r\n`);
    assert.equal(w.pendingBytes, 0);
  });

  it('passes large values through without copying them', () => {
    const big = Buffer.alloc(100_000, 0x61);
    const w = new ReplyWriter();
    w.write(array([bulk('k'), bulk(big)]), 3);
    const chunks = w.take();
    assert.ok(chunks.some((c) => c === big), 'the value buffer itself is one of the chunks');
    assert.equal(Buffer.concat(chunks).length, '*2\r\n$1\r\nk\r\n$100000\r\n'.length + big.length + 2);
  });

  it('grows past its slab for replies larger than a slab', () => {
    const w = new ReplyWriter();
    const items = Array.from({ length: 20_000 }, (_, i) => integer(i));
    w.write(array(items), 2);
    const out = Buffer.concat(w.take()).toString();
    assert.ok(out.startsWith('*20000\r\n:0\r\n:1\r\n'));
    assert.ok(out.endsWith(':19999\r\n'));
  });
});
