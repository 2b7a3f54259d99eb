// Goal: CLIENT subcommands behave as in Redis 7.2 — CLIENT LIST lines field for field, names validated, KILL by address and by filters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RespError, waitFor } from '../testing/resp-client.js';
import { startProxy } from '../testing/harness.js';
import type { TestProxy } from '../testing/harness.js';

const LIST_FIELDS = [
  'id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'qbuf', 'qbuf-free',
  'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user', 'redir', 'resp',
  'lib-name', 'lib-ver',
];

function parseLine(line: string): Map<string, string> {
  return new Map(line.split(' ').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)] as [string, string];
  }));
}

describe('CLIENT', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('ID, SETNAME, GETNAME', async () => {
    const c = await proxy.connect();
    const id = await c.call('CLIENT', 'ID');
    assert.equal(typeof id, 'number');
    assert.equal(await c.callRaw('CLIENT', 'GETNAME'), '$-1\r\n');
    assert.equal(await c.callRaw('CLIENT', 'SETNAME', 'worker-1'), '+OK\r\n');
    assert.equal(await c.callRaw('CLIENT', 'GETNAME'), '$8\r\nworker-1\r\n');
    assert.equal(await c.callRaw('CLIENT', 'SETNAME', 'bad name'), '-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
    assert.equal(await c.callRaw('CLIENT', 'SETNAME', ''), '+OK\r\n');
    assert.equal(await c.callRaw('CLIENT', 'GETNAME'), '$-1\r\n');
  });

  it('LIST writes one Redis 7.2 line per client, fields in Redis\' order, each ending in a newline', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    await a.call('CLIENT', 'SETNAME', 'alpha');
    await b.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib');
    await b.call('CLIENT', 'SETINFO', 'lib-ver', '1.2.3');
    const text = await a.call('CLIENT', 'LIST') as string;
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.ok(lines.length >= 2);
    for (const line of lines) assert.deepEqual([...parseLine(line).keys()], LIST_FIELDS);
    const aId = String(await a.call('CLIENT', 'ID'));
    const bId = String(await b.call('CLIENT', 'ID'));
    const mine = parseLine(lines.find((l) => l.startsWith(`id=${aId} `))!);
    assert.equal(mine.get('name'), 'alpha');
    assert.equal(mine.get('cmd'), 'client|list');
    assert.equal(mine.get('flags'), 'N');
    assert.equal(mine.get('db'), '0');
    assert.equal(mine.get('multi'), '-1');
    assert.equal(mine.get('user'), 'default');
    assert.equal(mine.get('resp'), '2');
    assert.match(mine.get('addr')!, /^127\.0\.0\.1:\d+$/);
    assert.equal(mine.get('laddr'), `127.0.0.1:${proxy.port}`);
    const other = parseLine((await a.call('CLIENT', 'LIST', 'ID', bId) as string).trimEnd());
    assert.equal(other.get('lib-name'), 'mylib');
    assert.equal(other.get('lib-ver'), '1.2.3');
  });

  it('LIST filters by TYPE and ID and refuses bad filters', async () => {
    const c = await proxy.connect();
    assert.equal(await c.call('CLIENT', 'LIST', 'TYPE', 'pubsub'), '');
    assert.ok(String(await c.call('CLIENT', 'LIST', 'TYPE', 'normal')).length > 0);
    assert.equal(await c.callRaw('CLIENT', 'LIST', 'TYPE', 'bogus'), "-ERR Unknown client type 'bogus'\r\n");
    assert.equal(await c.callRaw('CLIENT', 'LIST', 'ID', 'x'), '-ERR Invalid client ID\r\n');
    assert.equal(await c.callRaw('CLIENT', 'LIST', 'FOO'), '-ERR syntax error\r\n');
    assert.equal(await c.call('CLIENT', 'LIST', 'ID', '999999'), '');
  });

  it('INFO describes the calling client; a client in MULTI shows flag x and its queued count', async () => {
    const c = await proxy.connect();
    const observer = await proxy.connect();
    const id = String(await c.call('CLIENT', 'ID'));
    await c.call('MULTI');
    await c.call('PING');
    const line = parseLine(String(await observer.call('CLIENT', 'LIST', 'ID', id)).trimEnd());
    assert.equal(line.get('flags'), 'x');
    assert.equal(line.get('multi'), '1');
    assert.equal(line.get('cmd'), 'ping');
    await c.call('DISCARD');
    const after = parseLine(String(await c.call('CLIENT', 'INFO')).trimEnd());
    assert.equal(after.get('flags'), 'N');
    assert.equal(after.get('multi'), '-1');
    assert.equal(after.get('cmd'), 'client|info');
  });

  it('KILL addr:port closes that client; unknown address is -ERR No such client', async () => {
    const killer = await proxy.connect();
    const victim = await proxy.connect();
    const vid = String(await victim.call('CLIENT', 'ID'));
    const line = parseLine(String(await killer.call('CLIENT', 'LIST', 'ID', vid)).trimEnd());
    assert.equal(await killer.callRaw('CLIENT', 'KILL', line.get('addr')!), '+OK\r\n');
    assert.ok(await victim.waitClosed());
    assert.equal(await killer.callRaw('CLIENT', 'KILL', '1.2.3.4:5'), '-ERR No such client\r\n');
  });

  it('KILL with filters counts the clients closed, skips the caller unless SKIPME no', async () => {
    const killer = await proxy.connect();
    const v1 = await proxy.connect();
    const id = await v1.call('CLIENT', 'ID');
    assert.equal(await killer.call('CLIENT', 'KILL', 'ID', String(id)), 1);
    assert.ok(await v1.waitClosed());
    const kid = await killer.call('CLIENT', 'ID');
    assert.equal(await killer.call('CLIENT', 'KILL', 'ID', String(kid)), 0);
    assert.equal(await killer.callRaw('CLIENT', 'KILL', 'ID', '0'), '-ERR client-id should be greater than 0\r\n');
    assert.equal(await killer.callRaw('CLIENT', 'KILL', 'TYPE', 'x'), "-ERR Unknown client type 'x'\r\n");
    assert.equal(await killer.callRaw('CLIENT', 'KILL', 'USER', 'ghost'), "-ERR No such user 'ghost'\r\n");
    assert.equal(await killer.callRaw('CLIENT', 'KILL', 'ID', String(kid), 'SKIPME', 'maybe'), '-ERR syntax error\r\n');
    assert.equal(await killer.callRaw('CLIENT', 'KILL', 'ID', String(kid), 'SKIPME', 'no'), ':1\r\n');
    assert.ok(await killer.waitClosed(), 'killing itself closes after the reply');
  });

  it('KILL USER closes every connection of that user', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    const killer = await proxy.connect();
    await a.call('PING');
    await b.call('PING');
    const killed = await killer.call('CLIENT', 'KILL', 'USER', 'default');
    assert.ok(typeof killed === 'number' && killed >= 2);
    assert.ok(await a.waitClosed());
    assert.ok(await b.waitClosed());
    assert.ok(await waitFor(() => proxy.server.connectedClients === 1));
  });

  it('SETINFO validates the attribute and value', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('CLIENT', 'SETINFO', 'color', 'x'), "-ERR Unrecognized option 'color'\r\n");
    assert.equal(await c.callRaw('CLIENT', 'SETINFO', 'LIB-NAME', 'a b'), '-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n');
  });

  it('HELP lists the subcommands', async () => {
    const c = await proxy.connect();
    const help = await c.call('CLIENT', 'HELP') as string[];
    assert.ok(help[0]!.startsWith('CLIENT <subcommand>'));
    assert.ok(help.includes('SETNAME <name>'));
    assert.deepEqual(await c.call('CLIENT', 'HELP', 'x'), new RespError("ERR wrong number of arguments for 'client|help' command"));
  });
});
