// Goal: the executor answers a deterministic command script exactly as a real redis-server
// does (RESP2), when one is on PATH; without one the test is skipped with a message —
// never faked.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { Harness, sorted } from './fixture.js';
import type { Plain } from './fixture.js';

const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
const available = probe.error === undefined && probe.status === 0;
const skip = available ? false : 'redis-server is not on PATH (install the redis-server package to run the differential test)';

/** Replies compared as sets (Redis returns these in hash order). */
const UNORDERED = new Set(['smembers', 'sinter', 'sunion', 'sdiff', 'hkeys', 'hvals', 'keys']);

const SCRIPT: string[][] = [
  ['SET', 'k', 'v'], ['GET', 'k'], ['SET', 'k', 'w', 'NX'], ['SET', 'k', 'w', 'XX', 'GET'], ['SET', 'k', 'v', 'EX', '0'],
  ['SET', 'k', 'v', 'NX', 'XX'], ['SETNX', 'k', 'z'], ['GETSET', 'k', 'x'], ['GETDEL', 'k'], ['GETDEL', 'k'],
  ['MSET', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'c'], ['MSETNX', 'a', '3', 'c', '4'], ['INCR', 'a'], ['INCRBY', 'a', '10'],
  ['DECRBY', 'a', '3'], ['DECR', 'a'], ['INCRBY', 'a', 'x'], ['SET', 'big', '9223372036854775807'], ['INCR', 'big'],
  ['INCRBYFLOAT', 'f', '10.5'], ['INCRBYFLOAT', 'f', '0.1'], ['INCRBYFLOAT', 'f', '-5.0e3'], ['INCRBYFLOAT', 'f', 'abc'],
  ['APPEND', 's', 'Hello'], ['APPEND', 's', ' World'], ['STRLEN', 's'], ['GETRANGE', 's', '-5', '-1'], ['GETRANGE', 's', '5', '2'],
  ['SETRANGE', 's', '6', 'Redis'], ['GET', 's'], ['SETRANGE', 's', '-1', 'x'], ['SETRANGE', 'pad', '3', 'x'], ['GET', 'pad'],
  ['EXPIRE', 'a', '100'], ['TTL', 'a'], ['EXPIRE', 'a', '50', 'GT'], ['EXPIRE', 'a', '50', 'LT'], ['TTL', 'a'], ['PERSIST', 'a'],
  ['TTL', 'a'], ['TTL', 'none'], ['EXPIRE', 'a', '1', 'NX', 'XX'], ['TYPE', 'a'], ['EXISTS', 'a', 'a', 'none'], ['RENAME', 'none', 'x'],
  ['RENAME', 'a', 'a2'], ['RENAMENX', 'a2', 'b'], ['DEL', 'a2', 'b', 'none'],
  ['HSET', 'h', 'f1', 'v1', 'f2', 'v2', 'f1', 'v3'], ['HGET', 'h', 'f1'], ['HMGET', 'h', 'f1', 'nope'], ['HLEN', 'h'],
  ['HINCRBY', 'h', 'n', '5'], ['HINCRBY', 'h', 'f1', '1'], ['HINCRBYFLOAT', 'h', 'x', '1.5'], ['HSETNX', 'h', 'f1', 'z'],
  ['HSTRLEN', 'h', 'f2'], ['HEXISTS', 'h', 'f2'], ['HDEL', 'h', 'f1', 'f2', 'none'], ['HKEYS', 'h'], ['HGET', 's', 'f'],
  ['HSET', 'h', 'odd'],
  ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'c'], ['LPUSH', 'l', 'z'], ['LRANGE', 'l', '0', '-1'], ['LRANGE', 'l', '-3', '100'],
  ['LINDEX', 'l', '-1'], ['LSET', 'l', '0', 'Z'], ['LSET', 'l', '99', 'x'], ['LPOS', 'l', 'c'], ['LPOS', 'l', 'c', 'RANK', '-1'],
  ['LPOS', 'l', 'c', 'COUNT', '0'], ['LPOS', 'l', 'c', 'RANK', '0'], ['LINSERT', 'l', 'BEFORE', 'b', 'ins'], ['LREM', 'l', '-1', 'c'],
  ['LTRIM', 'l', '1', '-2'], ['LRANGE', 'l', '0', '-1'], ['LPOP', 'l'], ['RPOP', 'l', '2'], ['LPOP', 'l', '-1'],
  ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'], ['RPOPLPUSH', 'l2', 'l2'], ['LRANGE', 'l2', '0', '-1'], ['LLEN', 'l'], ['LPOP', 'none'],
  ['SADD', 'sa', 'a', 'b', 'c', 'a'], ['SADD', 'sb', 'b', 'c', 'd'], ['SISMEMBER', 'sa', 'a'], ['SMISMEMBER', 'sa', 'a', 'z'],
  ['SCARD', 'sa'], ['SINTER', 'sa', 'sb'], ['SUNION', 'sa', 'sb'], ['SDIFF', 'sa', 'sb'], ['SINTERSTORE', 'sc', 'sa', 'sb'],
  ['SMEMBERS', 'sc'], ['SINTERCARD', '2', 'sa', 'sb', 'LIMIT', '1'], ['SMOVE', 'sa', 'sb', 'a'], ['SREM', 'sa', 'b', 'c'],
  ['EXISTS', 'sa'], ['SPOP', 'none'], ['SINTERCARD', '0', 'sa'],
  ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '-inf', 'n', '+inf', 'p'], ['ZADD', 'z', 'XX', 'CH', 'GT', '5', 'a', '1', 'b'],
  ['ZADD', 'z', 'INCR', '1.5', 'b'], ['ZSCORE', 'z', 'b'], ['ZMSCORE', 'z', 'a', 'none', 'n'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
  ['ZRANGEBYSCORE', 'z', '(1', '+inf', 'LIMIT', '1', '2'], ['ZREVRANGEBYSCORE', 'z', '5', '-inf', 'WITHSCORES'],
  ['ZRANGE', 'z', '(5', '0', 'BYSCORE', 'REV'], ['ZCOUNT', 'z', '-inf', '(3'], ['ZRANK', 'z', 'c'], ['ZREVRANK', 'z', 'c'],
  ['ZINCRBY', 'z', '2', 'c'], ['ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '1'], ['ZADD', 'z', 'NX', 'XX', '1', 'a'],
  ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd'], ['ZRANGEBYLEX', 'lex', '[b', '(d'], ['ZLEXCOUNT', 'lex', '-', '+'],
  ['ZREMRANGEBYLEX', 'lex', '-', '[a'], ['ZRANGEBYLEX', 'lex', 'b', '+'], ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z', '2'],
  ['ZREMRANGEBYRANK', 'z', '0', '0'], ['ZREMRANGEBYSCORE', 'z', '-inf', '+inf'], ['EXISTS', 'z'],
  ['ZADD', 'za', '1', 'x', '2', 'y'], ['ZADD', 'zb', '10', 'y', '20', 'w'], ['ZUNIONSTORE', 'zu', '2', 'za', 'zb', 'WEIGHTS', '2', '1'],
  ['ZRANGE', 'zu', '0', '-1', 'WITHSCORES'], ['ZINTERSTORE', 'zi', '2', 'za', 'zb', 'AGGREGATE', 'MAX'], ['ZRANGE', 'zi', '0', '-1', 'WITHSCORES'],
  ['ZUNIONSTORE', 'zu', '0', 'za'], ['TYPE', 'zu'], ['GET', 'zu'], ['DEL', 'h', 'l2', 'sb', 'sc', 'zu', 'zi'], ['KEYS', '*'],
];

function encode(args: readonly string[]): Buffer {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(out);
}

/** A minimal RESP2 reader: resolves one parsed reply per request, in order. */
class RespClient {
  private buf = Buffer.alloc(0);
  private readonly waiting: ((p: Plain) => void)[] = [];

  constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = parse(this.buf, 0);
        if (r === undefined) break;
        this.buf = this.buf.subarray(r.next);
        this.waiting.shift()?.(r.value);
      }
    });
  }

  call(args: readonly string[]): Promise<Plain> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(encode(args));
    });
  }
}

function parse(b: Buffer, o: number): { value: Plain; next: number } | undefined {
  const eol = b.indexOf('\r\n', o);
  if (eol < 0) return undefined;
  const line = b.toString('utf8', o + 1, eol);
  switch (String.fromCharCode(b[o]!)) {
    case '+': return { value: `+${line}`, next: eol + 2 };
    case '-': return { value: `-${line}`, next: eol + 2 };
    case ':': return { value: Number(line), next: eol + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      if (b.length < eol + 2 + n + 2) return undefined;
      return { value: b.toString('utf8', eol + 2, eol + 2 + n), next: eol + 2 + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const items: Plain[] = [];
      let at = eol + 2;
      for (let i = 0; i < n; i++) {
        const r = parse(b, at);
        if (r === undefined) return undefined;
        items.push(r.value);
        at = r.next;
      }
      return { value: items, next: at };
    }
    default: throw new Error(`unexpected RESP byte ${b[o]}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function connect(port: number): Promise<Socket> {
  for (let i = 0; i < 100; i++) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = createConnection({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      });
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`redis-server did not accept connections on ${port}`);
}

test('replies match a real redis-server', { skip, timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  t.after(() => {
    server.kill();
  });
  const socket = await connect(port);
  t.after(() => socket.destroy());
  const redis = new RespClient(socket);
  t.diagnostic(`against ${probe.stdout.trim()}`);
  const h = new Harness();
  for (const cmd of SCRIPT) {
    h.nowMs = Date.now();
    const theirs = await redis.call(cmd);
    const ours = await h.call(cmd);
    const unordered = UNORDERED.has(cmd[0]!.toLowerCase());
    assert.deepEqual(unordered ? sorted(ours) : ours, unordered ? sorted(theirs) : theirs, cmd.join(' '));
  }
});
