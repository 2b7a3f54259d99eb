// Goal: the request parser reads exactly what Redis reads — multibulk and inline, split at any byte — and refuses what Redis refuses with Redis' exact error text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError, RespParser } from './parser.js';
import type { ParserLimits } from './parser.js';

const LIMITS: ParserLimits = { bulkBytesMax: 512 * 1024 * 1024, multibulkLengthMax: 1024 * 1024, inlineBytesMax: 64 * 1024, bufferBytesMax: 1024 * 1024 * 1024 };

function cmd(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

type Out = string[][] | { error: string; silent: boolean; before: string[][] };

/** Feeds `chunks` one by one, draining commands after each; returns the commands or the error. */
function run(chunks: readonly Buffer[], limits: ParserLimits = LIMITS, authRequired = false): Out {
  const p = new RespParser(limits);
  p.authRequired = authRequired;
  const got: string[][] = [];
  for (const c of chunks) {
    const pushed = p.push(c);
    if (pushed !== null) return { error: pushed.reason, silent: pushed.reply === null, before: got };
    for (;;) {
      const r = p.next();
      if (r === null) break;
      if (r instanceof ProtocolError) {
        assert.ok(r.reply !== null);
        assert.equal(Buffer.from(r.reply.value).toString('latin1'), `ERR ${r.reason}`);
        return { error: r.reason, silent: false, before: got };
      }
      got.push(r.map((a) => a.toString('latin1')));
    }
  }
  return got;
}

function splitAt(b: Buffer, points: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points].sort((x, y) => x - y)) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

function bytewise(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.of(x));
}

const CORPUS: Buffer[] = [
  Buffer.concat([cmd('SET', 'key', 'value'), cmd('GET', 'key')]),
  Buffer.concat([cmd('SET', 'k', Buffer.from('a\r\nb\0c\r\n')), Buffer.from('PING\r\n'), cmd('ECHO', '')]),
  Buffer.from('SET a "hello world"\r\nGET a\n\r\n  \r\n*0\r\n*-1\r\nPING\r\n'),
  Buffer.concat([Buffer.from("ECHO 'it\\'s' \"x\\x41\\ny\"\r\n"), cmd('MSET', 'a', '1', 'b', '2', 'c', '3')]),
  cmd('SET', 'big', Buffer.alloc(70_000, 0x5a)),
];

describe('RespParser: framing', () => {
  it('parses multibulk commands into binary-safe Buffers', () => {
    const value = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x0d]);
    const p = new RespParser(LIMITS);
    p.push(cmd('SET', 'k', value));
    const r = p.next();
    assert.ok(Array.isArray(r));
    assert.equal(r.length, 3);
    assert.deepEqual(r[2], value);
    assert.equal(p.next(), null);
  });

  it('gives the same commands however the bytes are split: every single split point', () => {
    for (const b of CORPUS) {
      const whole = run([b]);
      assert.ok(Array.isArray(whole));
      for (let i = 0; i <= b.length; i += b.length > 2000 ? 97 : 1) {
        assert.deepEqual(run(splitAt(b, [i])), whole, `split at ${i}`);
      }
    }
  });

  it('gives the same commands when fed one byte at a time', () => {
    for (const b of CORPUS) assert.deepEqual(run(bytewise(b)), run([b]));
  });

  it('gives the same commands for random commands and random chunking (property)', () => {
    const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    fc.assert(fc.property(
      fc.array(fc.array(arg, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (commands, cuts) => {
        const bytes = Buffer.concat(commands.map((c) => cmd(...c)));
        const chunks = splitAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
        const got = run(chunks);
        assert.deepEqual(got, commands.map((c) => c.map((a) => a.toString('latin1'))));
      },
    ), { seed: 0x5eed, numRuns: 300 });
  });

  it('skips *0, *-1 and empty inline lines', () => {
    assert.deepEqual(run([Buffer.from('*0\r\n*-1\r\n\r\n\n   \r\nPING\r\n')]), [['PING']]);
  });

  it('accepts an inline line ended by a bare LF and keeps the CR of CRLF out', () => {
    assert.deepEqual(run([Buffer.from('GET a\nGET b\r\n')]), [['GET', 'a'], ['GET', 'b']]);
  });

  it('keeps earlier arguments intact while later chunks arrive (views are never overwritten)', () => {
    const p = new RespParser(LIMITS);
    const first = cmd('SET', 'k1', 'v'.repeat(100));
    const second = cmd('SET', 'k2', 'w'.repeat(10_000));
    const bytes = Buffer.concat([first, second]);
    p.push(bytes.subarray(0, first.length + 20));
    const a = p.next();
    assert.ok(Array.isArray(a));
    for (let i = first.length + 20; i < bytes.length; i += 7) p.push(bytes.subarray(i, Math.min(i + 7, bytes.length)));
    const b = p.next();
    assert.ok(Array.isArray(b));
    assert.equal(a[2]!.toString(), 'v'.repeat(100));
    assert.equal(b[2]!.toString(), 'w'.repeat(10_000));
  });

  it('does not allocate for a declared length before the bytes arrive', () => {
    const p = new RespParser(LIMITS);
    p.push(Buffer.from('*1\r\n$500000000\r\nab'));
    assert.equal(p.next(), null);
    assert.ok(p.bufferedBytes < 100);
  });

  it('returns the commands before a malformed frame, then the error, and stays failed', () => {
    const p = new RespParser(LIMITS);
    p.push(Buffer.concat([cmd('PING'), Buffer.from('*1\r\n+oops\r\n'), cmd('PING')]));
    assert.deepEqual(p.next(), [Buffer.from('PING')]);
    const e = p.next();
    assert.ok(e instanceof ProtocolError);
    assert.equal(e.reason, "Protocol error: expected '$', got '+'");
    assert.equal(p.next(), e);
    assert.equal(p.push(cmd('PING')), e);
  });
});

describe('RespParser: inline commands split like sdssplitargs', () => {
  const cases: [string, string[] | null][] = [
    ['set a b', ['set', 'a', 'b']],
    ['  set\t a   b  ', ['set', 'a', 'b']],
    ['set "hello world" x', ['set', 'hello world', 'x']],
    ['set "a\\nb\\r\\t\\b\\a\\"\\\\" x', ['set', 'a\nb\r\t\b\x07"\\', 'x']],
    ['set "\\x41\\x4a\\x4G" x', ['set', 'AJx4G', 'x']],
    ["set 'it\\'s' x", ['set', "it's", 'x']],
    ["set 'a\\nb' x", ['set', 'a\\nb', 'x']],
    ['set a"b c"d', null],
    ['set a"b c" d', ['set', 'ab c', 'd']],
    ['set "" x', ['set', '', 'x']],
    ['set "abc', null],
    ["set 'abc", null],
    ['set "abc"def', null],
    ["set 'abc'def", null],
    ['a\x0bb', ['a\x0bb']],
    ['a\x00b c', ['a']],
  ];
  for (const [line, want] of cases) {
    it(`${JSON.stringify(line)} → ${JSON.stringify(want)}`, () => {
      const got = run([Buffer.from(`${line}\r\n`, 'latin1')]);
      if (want === null) assert.deepEqual(got, { error: 'Protocol error: unbalanced quotes in request', silent: false, before: [] });
      else assert.deepEqual(got, [want]);
    });
  }
});

describe('RespParser: protocol errors carry Redis\' exact text', () => {
  const E = (reason: string): Out => ({ error: `Protocol error: ${reason}`, silent: false, before: [] });
  const cases: [string, string | Buffer, Out, Partial<ParserLimits>?][] = [
    ['non-numeric multibulk length', '*abc\r\n', E('invalid multibulk length')],
    ['multibulk length with a plus sign', '*+1\r\n', E('invalid multibulk length')],
    ['multibulk length with a leading zero', '*01\r\n', E('invalid multibulk length')],
    ['multibulk length over the limit', '*1025\r\n', E('invalid multibulk length'), { multibulkLengthMax: 1024 }],
    ['multibulk length past 64 bits', '*-99999999999999999999\r\n', E('invalid multibulk length')],
    ['a bulk header without $', '*1\r\nxyz\r\n', E("expected '$', got 'x'")],
    ['an empty bulk header line', '*1\r\n\r\n', E("expected '$', got '\r'")],
    ['negative bulk length', '*1\r\n$-1\r\n', E('invalid bulk length')],
    ['non-numeric bulk length', '*1\r\n$x\r\n', E('invalid bulk length')],
    ['bulk length over proto-max-bulk-len', '*1\r\n$1025\r\n', E('invalid bulk length'), { bulkBytesMax: 1024 }],
    ['inline line over the limit', `${'a'.repeat(101)}\r\n`, E('too big inline request'), { inlineBytesMax: 100 }],
    ['inline line over the limit without a newline yet', 'a'.repeat(101), E('too big inline request'), { inlineBytesMax: 100 }],
    ['multibulk count line over the limit', `*${'1'.repeat(101)}`, E('too big mbulk count string'), { inlineBytesMax: 100 }],
    ['bulk count line over the limit', `*1\r\n$${'1'.repeat(101)}`, E('too big bulk count string'), { inlineBytesMax: 100 }],
    ['unbalanced quotes', 'SET "a\r\n', E('unbalanced quotes in request')],
  ];
  for (const [what, input, want, limits] of cases) {
    it(`${what}: whole and byte by byte`, () => {
      const bytes = Buffer.from(input);
      const l = { ...LIMITS, ...limits };
      assert.deepEqual(run([bytes], l), want);
      assert.deepEqual(run(bytewise(bytes), l), want);
    });
  }

  it('echoes the unexpected byte itself, NUL included', () => {
    const p = new RespParser(LIMITS);
    p.push(Buffer.from('*1\r\n\0\r\n'));
    const e = p.next();
    assert.ok(e instanceof ProtocolError && e.reply !== null);
    assert.deepEqual(Buffer.from(e.reply.value), Buffer.from("ERR Protocol error: expected '$', got '\0'", 'latin1'));
  });

  it('an inline line of exactly the limit (bytes before LF, CR included) is accepted, one more is not', () => {
    const l = { ...LIMITS, inlineBytesMax: 100 };
    const fits = Buffer.from(`ECHO ${'x'.repeat(94)}\r\n`);
    assert.deepEqual(run([fits], l), [['ECHO', 'x'.repeat(94)]]);
    assert.deepEqual(run(bytewise(fits), l), [['ECHO', 'x'.repeat(94)]]);
    const over = Buffer.from(`ECHO ${'x'.repeat(95)}\r\n`);
    assert.deepEqual(run([over], l), E('too big inline request'));
    assert.deepEqual(run(bytewise(over), l), E('too big inline request'));
  });

  it('before authentication: more than 10 arguments or a bulk over 16 KiB is refused', () => {
    assert.deepEqual(run([Buffer.from('*11\r\n')], LIMITS, true), E('unauthenticated multibulk length'));
    assert.deepEqual(run([Buffer.from('*1\r\n$16385\r\n')], LIMITS, true), E('unauthenticated bulk length'));
    assert.deepEqual(run([cmd('AUTH', 'x'.repeat(16384))], LIMITS, true), [['AUTH', 'x'.repeat(16384)]]);
    // The absolute limits are checked first, as in Redis.
    assert.deepEqual(run([Buffer.from('*1\r\n$2000\r\n')], { ...LIMITS, bulkBytesMax: 1024 }, true), E('invalid bulk length'));
  });

  it('closes silently (no reply) when the buffered bytes exceed the client buffer limit', () => {
    const l = { ...LIMITS, bufferBytesMax: 1000 };
    const got = run([cmd('SET', 'k', 'x'.repeat(600)), cmd('SET', 'k', 'x'.repeat(1200))], l);
    assert.ok(!Array.isArray(got));
    assert.equal(got.silent, true);
    assert.deepEqual(got.before, [['SET', 'k', 'x'.repeat(600)]]);
    const split = run(bytewise(cmd('SET', 'k', 'x'.repeat(2000))), l);
    assert.ok(!Array.isArray(split) && split.silent);
  });
});
