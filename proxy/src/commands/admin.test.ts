// Goal: the server commands (COMMAND, CONFIG, INFO, SLOWLOG, FUNCTION, DBSIZE/FLUSHDB/FLUSHALL/SCAN) answer in Redis 7's shapes and errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Decoded } from '../testing/resp-client.js';
import { RespError } from '../testing/resp-client.js';
import { startProxy } from '../testing/harness.js';
import type { TestProxy } from '../testing/harness.js';

/** A RESP2 flat key/value array (or RESP3 pairs) as a Map. */
function asMap(d: Decoded): Map<string, Decoded> {
  assert.ok(Array.isArray(d));
  const m = new Map<string, Decoded>();
  if (d.length > 0 && Array.isArray(d[0]) && (d[0] as Decoded[]).length === 2 && typeof (d[0] as Decoded[])[0] === 'string' && d.every((x) => Array.isArray(x))) {
    for (const [k, v] of d as [Decoded, Decoded][]) m.set(String(k), v);
    return m;
  }
  for (let i = 0; i < d.length; i += 2) m.set(String(d[i]), d[i + 1]!);
  return m;
}

describe('COMMAND', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('COUNT counts top-level commands; COMMAND lists them all', async () => {
    const c = await proxy.connect();
    const count = await c.call('COMMAND', 'COUNT') as number;
    const all = await c.call('COMMAND') as Decoded[];
    assert.equal(all.length, count);
    assert.ok(count >= 30);
  });

  it('INFO gives Redis 7\'s ten fields; unknown names are null', async () => {
    const c = await proxy.connect();
    const [get, nope, cfg] = await c.call('COMMAND', 'INFO', 'get', 'nope', 'config|get') as Decoded[][];
    assert.deepEqual(get!.slice(0, 7), ['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast']]);
    assert.equal(get!.length, 10);
    const keySpecs = get![8] as Decoded[];
    assert.equal(keySpecs.length, 1);
    assert.equal(nope, null);
    assert.equal(cfg![0], 'config|get');
    assert.deepEqual(cfg![6], ['@admin', '@slow', '@dangerous']);
    const [client] = await c.call('COMMAND', 'INFO', 'client') as Decoded[][];
    assert.ok((client![9] as Decoded[][]).some((s) => s[0] === 'client|list'));
    assert.equal(await c.callRaw('COMMAND', 'INFO', 'nope'), '*1\r\n$-1\r\n');
  });

  it('DOCS gives summary, since, group, complexity and arguments (what redis-cli builds hints from)', async () => {
    const c = await proxy.connect();
    const docs = asMap(await c.call('COMMAND', 'DOCS', 'set', 'client'));
    const set = asMap(docs.get('set')!);
    assert.equal(set.get('group'), 'string');
    assert.equal(set.get('since'), '1.0.0');
    const args = (set.get('arguments') as Decoded[]).map(asMap);
    assert.deepEqual(args.map((a) => a.get('name')), ['key', 'value', 'condition', 'get', 'expiration']);
    assert.equal(args[0]!.get('type'), 'key');
    assert.deepEqual(args[2]!.get('flags'), ['optional']);
    const subs = asMap(asMap(docs.get('client')!).get('subcommands')!);
    assert.ok(subs.has('client|list'));
    const everything = asMap(await c.call('COMMAND', 'DOCS'));
    assert.ok(everything.has('ping') && everything.has('hello'));
  });

  it('LIST, with FILTERBY PATTERN and ACLCAT; GETKEYS', async () => {
    const c = await proxy.connect();
    const names = await c.call('COMMAND', 'LIST') as string[];
    assert.ok(names.includes('get') && names.includes('client|list'));
    assert.deepEqual((await c.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'client|s*') as string[]).sort(), ['client|setinfo', 'client|setname']);
    const tx = await c.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'transaction') as string[];
    assert.deepEqual(tx.sort(), ['discard', 'exec', 'multi', 'unwatch', 'watch']);
    assert.deepEqual(await c.call('COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'), ['a', 'b']);
    assert.deepEqual(await c.call('COMMAND', 'GETKEYS', 'PING'), new RespError('ERR The command has no key arguments'));
    assert.deepEqual(await c.call('COMMAND', 'GETKEYS', 'NOPE', 'x'), new RespError('ERR Invalid command specified'));
    assert.deepEqual(await c.call('COMMAND', 'GETKEYS', 'GET'), new RespError('ERR Invalid number of arguments specified for command'));
  });
});

describe('CONFIG', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ databases: ['default', 'b', 'c'] }); });
  after(() => proxy.close());

  it('GET answers the settings clients ask for, by glob, several patterns at once', async () => {
    const c = await proxy.connect();
    const m = asMap(await c.call('CONFIG', 'GET', 'maxclients', 'timeout', 'databases', 'save', 'appendonly', 'proto-max-bulk-len'));
    assert.deepEqual(Object.fromEntries(m), {
      maxclients: '10000', timeout: '0', databases: '3', save: '', appendonly: 'yes', 'proto-max-bulk-len': String(512 * 1024 * 1024),
    });
    assert.deepEqual(asMap(await c.call('CONFIG', 'GET', 'SLOWLOG-*')), new Map([['slowlog-log-slower-than', '10000'], ['slowlog-max-len', '128']]));
    assert.deepEqual(await c.call('CONFIG', 'GET', 'no-such-thing'), []);
  });

  it('SET changes per-proxy settings atomically and explains the rest', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('CONFIG', 'SET', 'timeout', '30', 'maxclients', '50'), '+OK\r\n');
    assert.deepEqual(await c.call('CONFIG', 'GET', 'timeout'), ['timeout', '30']);
    assert.equal(proxy.server.settings.idleTimeoutMs, 30_000);
    assert.equal(await c.callRaw('CONFIG', 'SET', 'timeout', '5', 'maxclients', 'lots'),
      "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n");
    assert.equal(proxy.server.settings.idleTimeoutMs, 30_000, 'nothing applied when one value is bad');
    assert.equal(await c.callRaw('CONFIG', 'SET', 'maxclients', '0'),
      "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 9223372036854775807 inclusive\r\n");
    assert.equal(await c.callRaw('CONFIG', 'SET', 'foo', 'bar'), "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n");
    assert.equal(await c.callRaw('CONFIG', 'SET', 'timeout', '1', 'timeout', '2'),
      "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter\r\n");
    assert.match(await c.callRaw('CONFIG', 'SET', 'appendonly', 'no'),
      /^-ERR CONFIG SET failed \(possibly related to argument 'appendonly'\) - can't set on a Shoal proxy: .+\r\n$/);
    assert.equal(await c.callRaw('CONFIG', 'SET', 'timeout'), "-ERR wrong number of arguments for 'config|set' command\r\n");
    assert.equal(await c.callRaw('CONFIG', 'SET', 'proto-max-bulk-len', '2mb'), '+OK\r\n');
    assert.equal(proxy.server.settings.limits.bulkBytesMax, 2 * 1024 * 1024);
    assert.equal(await c.callRaw('CONFIG', 'SET', 'timeout', '0', 'maxclients', '10000', 'proto-max-bulk-len', '512mb'), '+OK\r\n');
  });

  it('a lowered proto-max-bulk-len applies to the next request', async () => {
    const c = await proxy.connect();
    assert.equal(await c.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb'), 'OK');
    c.write(`*2\r\n$4\r\nECHO\r\n$${1024 * 1024 + 1}\r\n`);
    assert.equal((await c.reply()).raw.toString(), '-ERR Protocol error: invalid bulk length\r\n');
    assert.ok(await c.waitClosed());
    const d = await proxy.connect();
    assert.equal(await d.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb'), 'OK');
  });
});

describe('INFO', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ databases: ['default', 'other'] }); });
  after(() => proxy.close());

  it('default sections in Redis\' order and format, with the keyspace per db', async () => {
    const c = await proxy.connect();
    await c.call('SET', 'a', '1');
    await c.call('SET', 'b', '2', 'EX', '100');
    const text = await c.call('INFO') as string;
    const titles = [...text.matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
    assert.deepEqual(titles, ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Cluster', 'Keyspace']);
    assert.match(text, /\r\nredis_version:7\.2\.0\r\n/);
    assert.match(text, /\r\nredis_mode:standalone\r\n/);
    assert.match(text, new RegExp(`\\r\\ntcp_port:${proxy.port}\\r\\n`));
    assert.match(text, /\r\nconnected_clients:1\r\n/);
    assert.match(text, /\r\nrole:master\r\n/);
    assert.match(text, /\r\ncluster_enabled:0\r\n/);
    assert.match(text, /\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\n$/);
    assert.ok(!text.includes('db1:'), 'empty databases are not listed');
    assert.ok(/\r\n\r\n# Clients\r\n/.test(text), 'sections are separated by an empty line');
  });

  it('answers the sections asked for (several, any case); commandstats counts calls', async () => {
    const c = await proxy.connect();
    await c.call('PING');
    assert.match(String(await c.call('INFO', 'SERVER', 'clients')), /^# Server\r\n[\s\S]*\r\n\r\n# Clients\r\n[\s\S]*\r\n$/);
    const stats = String(await c.call('INFO', 'commandstats'));
    assert.match(stats, /\r\ncmdstat_ping:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n/);
    assert.equal(await c.call('INFO', 'nosuchsection'), '');
    assert.match(String(await c.call('INFO', 'everything')), /# Commandstats/);
  });
});

describe('SLOWLOG', () => {
  it('records commands slower than the threshold, Redis\' entry shape, GET count, LEN, RESET', async () => {
    const proxy = await startProxy({ slowlogLogSlowerThanUs: 20_000 }, { delayMs: (what) => (what === 'exec' ? 40 : 0) });
    try {
      const c = await proxy.connect();
      await c.call('CLIENT', 'SETNAME', 'slowpoke');
      assert.equal(await c.call('SLOWLOG', 'LEN'), 0);
      await c.call('SET', 'k', 'v');
      await c.call('PING');
      await c.call('GET', 'k');
      assert.equal(await c.call('SLOWLOG', 'LEN'), 2);
      const entries = await c.call('SLOWLOG', 'GET') as Decoded[][];
      assert.equal(entries.length, 2);
      const [newest] = entries;
      assert.equal(newest!.length, 6);
      assert.equal(typeof newest![0], 'number');
      assert.ok(Math.abs((newest![1] as number) - Date.now() / 1000) < 10);
      assert.ok((newest![2] as number) >= 20_000);
      assert.deepEqual(newest![3], ['GET', 'k']);
      assert.match(newest![4] as string, /^127\.0\.0\.1:\d+$/);
      assert.equal(newest![5], 'slowpoke');
      assert.equal((await c.call('SLOWLOG', 'GET', '1') as Decoded[]).length, 1);
      assert.equal((await c.call('SLOWLOG', 'GET', '-1') as Decoded[]).length, 2);
      assert.equal(await c.callRaw('SLOWLOG', 'GET', '-2'), '-ERR count should be greater than or equal to -1\r\n');
      assert.equal(await c.call('CONFIG', 'SET', 'slowlog-max-len', '1'), 'OK');
      assert.equal(await c.call('SLOWLOG', 'LEN'), 1);
      assert.equal(await c.call('SLOWLOG', 'RESET'), 'OK');
      assert.equal(await c.call('SLOWLOG', 'LEN'), 0);
    } finally {
      await proxy.close();
    }
  });

  it('cuts long argument lists and long arguments as Redis does', async () => {
    const proxy = await startProxy({ slowlogLogSlowerThanUs: 0 });
    try {
      const c = await proxy.connect();
      await c.call('ECHO', 'x'.repeat(200));
      await c.call('MGET', ...Array.from({ length: 40 }, (_, i) => `k${i}`));
      const [mget, echo] = await c.call('SLOWLOG', 'GET', '2') as Decoded[][];
      const echoArgs = echo![3] as string[];
      assert.equal(echoArgs[1], `${'x'.repeat(128)}... (72 more bytes)`);
      const mgetArgs = mget![3] as string[];
      assert.equal(mgetArgs.length, 32);
      assert.equal(mgetArgs[31], '... (10 more arguments)');
    } finally {
      await proxy.close();
    }
  });
});

describe('FUNCTION', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('answers as a server with no functions loaded', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('FUNCTION', 'LIST'), '*0\r\n');
    assert.equal(await c.callRaw('FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'x*'), '*0\r\n');
    assert.equal(await c.callRaw('FUNCTION', 'LIST', 'BOGUS'), '-ERR Unknown argument BOGUS\r\n');
    assert.equal(await c.callRaw('FUNCTION', 'FLUSH'), '+OK\r\n');
    assert.equal(await c.callRaw('FUNCTION', 'FLUSH', 'ASYNC'), '+OK\r\n');
    assert.equal(await c.callRaw('FUNCTION', 'FLUSH', 'LATER'), '-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n');
    const stats = asMap(await c.call('FUNCTION', 'STATS'));
    assert.equal(stats.get('running_script'), null);
  });
});

describe('DBSIZE, FLUSHDB, FLUSHALL, SCAN', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ databases: ['default', 'other'] }); });
  after(() => proxy.close());

  it('count, scan and delete a table\'s keys, in order with the client\'s other commands', async () => {
    const c = await proxy.connect();
    c.send('MSET', 'a', '1', 'b', '2', 'c', '3');
    c.send('DBSIZE');
    c.send('FLUSHDB');
    c.send('DBSIZE');
    assert.deepEqual([(await c.reply()).value, (await c.reply()).value, (await c.reply()).value, (await c.reply()).value], ['OK', 3, 'OK', 0]);
    await c.call('MSET', 'user:1', 'x', 'user:2', 'y', 'item:1', 'z');
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await c.call('SCAN', cursor, 'MATCH', 'user:*', 'COUNT', '1') as [string, string[]];
      seen.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    assert.deepEqual(seen.sort(), ['user:1', 'user:2']);
    assert.equal(await c.callRaw('SCAN', 'abc'), '-ERR invalid cursor\r\n');
    assert.equal(await c.callRaw('SCAN', '0', 'COUNT', '0'), '-ERR syntax error\r\n');
    assert.equal(await c.callRaw('SCAN', '0', 'BOGUS', '1'), '-ERR syntax error\r\n');
    assert.equal(await c.callRaw('FLUSHDB', 'NOW'), '-ERR syntax error\r\n');
  });

  it('FLUSHALL empties every configured table', async () => {
    const c = await proxy.connect();
    await c.call('SET', 'x', '1');
    await c.call('SELECT', '1');
    await c.call('SET', 'y', '1');
    assert.equal(await c.call('FLUSHALL', 'SYNC'), 'OK');
    assert.equal(await c.call('DBSIZE'), 0);
    await c.call('SELECT', '0');
    assert.equal(await c.call('DBSIZE'), 0);
  });
});
