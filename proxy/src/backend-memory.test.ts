// Goal: the test-only in-memory backend gives the minimal Redis semantics the proxy's tests rely on (strings, TTLs, WATCH stamps, transactions, scans).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBackend } from './backend-memory.js';
import { encodeReply } from './resp/encoder.js';
import type { Reply } from './resp/reply.js';

const a = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x));
const wire = (r: readonly Reply[]): string[] => r.map((x) => encodeReply(x, 2).toString('latin1'));

describe('MemoryBackend (test only)', () => {
  it('strings: SET options, GET, MSET/MGET, DEL, EXISTS, INCR with its errors', async () => {
    const b = new MemoryBackend();
    const r = await b.exec('t', [
      a('SET', 'k', 'v'), a('SET', 'k', 'w', 'NX'), a('SET', 'k', 'x', 'XX', 'GET'), a('GET', 'k'),
      a('MSET', 'a', '1', 'b', '2'), a('MGET', 'a', 'nope', 'b'), a('EXISTS', 'a', 'b', 'nope', 'a'), a('DEL', 'a', 'nope'),
      a('INCR', 'n'), a('INCR', 'k'), a('SET', 'big', '9223372036854775807'), a('INCR', 'big'), a('SET', 'k', 'v', 'EX', '0'),
      a('HSET', 'h', 'f', 'v'),
    ]);
    assert.deepEqual(wire(r), [
      '+OK\r\n', '$-1\r\n', '$1\r\nv\r\n', '$1\r\nx\r\n', '+OK\r\n', '*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n', ':3\r\n', ':1\r\n',
      ':1\r\n', '-ERR value is not an integer or out of range\r\n', '+OK\r\n', '-ERR increment or decrement would overflow\r\n',
      "-ERR invalid expire time in 'set' command\r\n", "-ERR the in-memory test backend does not implement 'hset'\r\n",
    ]);
  });

  it('TTLs follow the injected clock', async () => {
    let now = 1_000_000;
    const b = new MemoryBackend({ clock: () => now });
    await b.exec('t', [a('SET', 'k', 'v', 'PX', '1500'), a('SET', 'p', 'v')]);
    assert.deepEqual(wire(await b.exec('t', [a('TTL', 'k'), a('TTL', 'p'), a('TTL', 'nope')])), [':2\r\n', ':-1\r\n', ':-2\r\n']);
    now += 1600;
    assert.deepEqual(wire(await b.exec('t', [a('GET', 'k'), a('EXPIRE', 'p', '10'), a('EXPIRE', 'p', '5', 'GT'), a('TTL', 'p')])), ['$-1\r\n', ':1\r\n', ':0\r\n', ':10\r\n']);
  });

  it('WATCH stamps change on writes and expiry; a stale stamp fails the transaction', async () => {
    const b = new MemoryBackend();
    const [stamp] = await b.watch('t', a('k'));
    assert.deepEqual(wire((await b.transaction([{ table: 't', args: a('SET', 'k', '1') }], [stamp!]))!), ['+OK\r\n']);
    assert.equal(await b.transaction([{ table: 't', args: a('SET', 'k', '2') }], [stamp!]), null);
    assert.equal(b.peek('t', 'k')?.toString(), '1');
  });

  it('DBSIZE, SCAN with MATCH, FLUSH, stats', async () => {
    const b = new MemoryBackend();
    await b.exec('t', [a('MSET', 'u:1', 'x', 'u:2', 'y', 'i:1', 'z'), a('SET', 'e', 'v', 'EX', '100')]);
    assert.equal(await b.dbsize('t'), 4);
    const seen: string[] = [];
    let cursor = '0';
    do {
      const page = await b.scan('t', cursor, { count: 2, match: Buffer.from('u:*') });
      seen.push(...page.keys.map((k) => k.toString()));
      cursor = page.cursor;
    } while (cursor !== '0');
    assert.deepEqual(seen.sort(), ['u:1', 'u:2']);
    const stats = await b.stats(['t', 'empty']);
    assert.equal(stats.tables.get('t')?.keys, 4);
    assert.equal(stats.tables.get('t')?.expires, 1);
    await b.flush('t');
    assert.equal(await b.dbsize('t'), 0);
  });
});
