// Goal: the connection commands (PING, ECHO, SELECT, AUTH, HELLO, RESET, TIME) answer byte for byte as Redis 7 does, including every authentication flow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { RespError } from '../testing/resp-client.js';
import { startProxy } from '../testing/harness.js';
import type { TestProxy } from '../testing/harness.js';

describe('PING, ECHO, TIME', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('PING answers +PONG, or its argument as a bulk string; more arguments are an arity error', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('PING'), '+PONG\r\n');
    assert.equal(await c.callRaw('PING', 'hello'), '$5\r\nhello\r\n');
    assert.equal(await c.callRaw('PING', 'a', 'b'), "-ERR wrong number of arguments for 'ping' command\r\n");
  });

  it('ECHO answers its argument', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('ECHO', 'x y'), '$3\r\nx y\r\n');
    assert.equal(await c.callRaw('ECHO'), "-ERR wrong number of arguments for 'echo' command\r\n");
  });

  it('TIME answers [seconds, microseconds] as bulk strings', async () => {
    const c = await proxy.connect();
    const t = await c.call('TIME') as string[];
    assert.equal(t.length, 2);
    assert.ok(Math.abs(Number(t[0]) - Date.now() / 1000) < 5);
    assert.ok(Number(t[1]) >= 0 && Number(t[1]) < 1e6);
  });
});

describe('SELECT', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ databases: ['default', 'orders', 'users'] }); });
  after(() => proxy.close());

  it('maps db indexes to tables: db 0 is default, db n the nth configured table', async () => {
    const c = await proxy.connect();
    assert.equal(await c.call('SET', 'k', 'zero'), 'OK');
    assert.equal(await c.callRaw('SELECT', '1'), '+OK\r\n');
    assert.equal(await c.call('SET', 'k', 'one'), 'OK');
    assert.equal(proxy.backend.peek('default', 'k')?.toString(), 'zero');
    assert.equal(proxy.backend.peek('orders', 'k')?.toString(), 'one');
    assert.match(String(await c.call('CLIENT', 'INFO')), / db=1 /);
  });

  it('refuses indexes out of range and non-integers with Redis\' errors', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('SELECT', '3'), '-ERR DB index is out of range\r\n');
    assert.equal(await c.callRaw('SELECT', '-1'), '-ERR DB index is out of range\r\n');
    assert.equal(await c.callRaw('SELECT', 'x'), '-ERR value is not an integer or out of range\r\n');
    assert.equal(await c.callRaw('SELECT', '99999999999'), '-ERR value is not an integer or out of range\r\n');
  });
});

describe('AUTH with requirePass', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ requirePass: 'sekret' }); });
  after(() => proxy.close());

  it('refuses commands before AUTH with -NOAUTH, then accepts them', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('GET', 'a'), '-NOAUTH Authentication required.\r\n');
    assert.equal(await c.callRaw('PING'), '-NOAUTH Authentication required.\r\n');
    assert.equal(await c.callRaw('AUTH', 'wrong'), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    assert.equal(await c.callRaw('AUTH', 'sekret'), '+OK\r\n');
    assert.equal(await c.callRaw('PING'), '+PONG\r\n');
  });

  it('accepts AUTH default <password> and refuses more arguments with a syntax error', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('AUTH', 'default', 'sekret'), '+OK\r\n');
    assert.equal(await c.callRaw('AUTH', 'a', 'b', 'c'), '-ERR syntax error\r\n');
  });

  it('limits requests before AUTH as Redis does (argument count), closing the connection', async () => {
    const c = await proxy.connect();
    c.write('*11\r\n');
    assert.equal((await c.reply()).raw.toString(), '-ERR Protocol error: unauthenticated multibulk length\r\n');
    assert.ok(await c.waitClosed());
  });

  it('HELLO without AUTH is refused with Redis\' NOAUTH text; HELLO 3 AUTH authenticates', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('HELLO', '3'),
      '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n');
    assert.equal(await c.callRaw('HELLO', '3', 'AUTH', 'default', 'wrong'), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    const r = await c.call('HELLO', '3', 'AUTH', 'default', 'sekret', 'SETNAME', 'me');
    assert.ok(Array.isArray(r));
    assert.equal(await c.call('CLIENT', 'GETNAME'), 'me');
  });
});

describe('AUTH without a password', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('AUTH <password> is an error when the default user needs none', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('AUTH', 'x'),
      '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n');
  });
});

describe('ACL users', () => {
  let proxy: TestProxy;
  const hash = createHash('sha256').update('reader-pw').digest('hex');
  before(async () => {
    proxy = await startProxy({
      databases: ['default', 'orders', 'secret'],
      users: [
        { name: 'default', passwords: ['admin-pw'] },
        { name: 'reader', passwords: [`#${hash}`], commands: ['+@all', '-@write', '-@dangerous'], tables: ['default', 'ord*'] },
        { name: 'off', enabled: false, nopass: true },
      ],
    });
  });
  after(() => proxy.close());

  it('authenticates users by name, with plain or SHA-256 passwords; disabled users cannot log in', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('AUTH', 'reader', 'nope'), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    assert.equal(await c.callRaw('AUTH', 'off', 'x'), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    assert.equal(await c.callRaw('AUTH', 'nobody', 'x'), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    assert.equal(await c.callRaw('AUTH', 'reader', 'reader-pw'), '+OK\r\n');
    assert.match(String(await c.call('CLIENT', 'INFO')), / user=reader /);
  });

  it('answers NOPERM for commands outside the user\'s categories', async () => {
    const c = await proxy.connect();
    await c.call('AUTH', 'reader', 'reader-pw');
    assert.equal(await c.call('GET', 'k'), null);
    assert.equal(await c.callRaw('SET', 'k', 'v'), "-NOPERM User reader has no permissions to run the 'set' command\r\n");
    assert.equal(await c.callRaw('CONFIG', 'SET', 'timeout', '1'), "-NOPERM User reader has no permissions to run the 'config|set' command\r\n");
  });

  it('answers NOPERM for tables outside the user\'s patterns, at SELECT and at each command', async () => {
    const c = await proxy.connect();
    await c.call('AUTH', 'reader', 'reader-pw');
    assert.equal(await c.callRaw('SELECT', '1'), '+OK\r\n');
    assert.equal(await c.call('GET', 'x'), null);
    assert.equal(await c.callRaw('SELECT', '2'), "-NOPERM User reader has no permissions to access the 'secret' table\r\n");
    const admin = await proxy.connect();
    await admin.call('AUTH', 'admin-pw');
    assert.equal(await admin.call('SELECT', '2'), 'OK');
    assert.equal(await admin.call('AUTH', 'reader', 'reader-pw'), 'OK');
    assert.equal(await admin.callRaw('GET', 'x'), "-NOPERM User reader has no permissions to access the 'secret' table\r\n");
    assert.equal(await admin.callRaw('PING'), '+PONG\r\n', 'commands without data still run');
  });
});

describe('HELLO', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('HELLO 3 switches to RESP3 and answers Redis 7\'s map, itself in RESP3', async () => {
    const c = await proxy.connect();
    const id = await c.call('CLIENT', 'ID') as number;
    const raw = await c.callRaw('HELLO', '3');
    assert.equal(raw, `%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.0\r\n$5\r\nproto\r\n:3\r\n`
      + `$2\r\nid\r\n:${id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n`);
    assert.equal(await c.callRaw('GET', 'missing'), '_\r\n');
    assert.equal(await c.callRaw('CONFIG', 'GET', 'maxclients'), '%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n');
    assert.match(await c.callRaw('CLIENT', 'INFO'), /^=\d+\r\ntxt:id=/);
  });

  it('HELLO 2 answers the same fields as a flat array; HELLO alone keeps the protocol', async () => {
    const c = await proxy.connect();
    const r = await c.callRaw('HELLO', '2');
    assert.ok(r.startsWith('*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n'));
    assert.ok(r.includes('$5\r\nproto\r\n:2\r\n'));
    assert.ok((await c.callRaw('HELLO')).startsWith('*14\r\n'));
    assert.equal(await c.callRaw('GET', 'missing'), '$-1\r\n');
  });

  it('replies already queued keep the protocol they were made in when HELLO switches mid-pipeline', async () => {
    const slow = await startProxy({}, { delayMs: 30 });
    try {
      const c = await slow.connect();
      c.send('GET', 'missing');
      c.send('HELLO', '3');
      c.send('GET', 'missing');
      assert.equal((await c.reply()).raw.toString(), '$-1\r\n');
      assert.ok((await c.reply()).raw.toString().startsWith('%7\r\n'));
      assert.equal((await c.reply()).raw.toString(), '_\r\n');
    } finally {
      await slow.close();
    }
  });

  it('refuses bad versions and options with Redis\' texts', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('HELLO', '4'), '-NOPROTO unsupported protocol version\r\n');
    assert.equal(await c.callRaw('HELLO', 'x'), '-ERR Protocol version is not an integer or out of range\r\n');
    assert.equal(await c.callRaw('HELLO', '3', 'FOO'), "-ERR Syntax error in HELLO option 'FOO'\r\n");
    assert.equal(await c.callRaw('HELLO', '3', 'AUTH', 'default'), "-ERR Syntax error in HELLO option 'AUTH'\r\n");
    assert.equal(await c.callRaw('HELLO', '3', 'SETNAME', 'a b'), '-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
    assert.equal(await c.callRaw('GET', 'missing'), '$-1\r\n', 'a failed HELLO does not switch the protocol');
  });
});

describe('RESET', () => {
  it('restores a fresh connection: RESP2, db 0, no name, no MULTI, authentication required again', async () => {
    const proxy = await startProxy({ requirePass: 'pw', databases: ['default', 'other'] });
    try {
      const c = await proxy.connect();
      await c.call('HELLO', '3', 'AUTH', 'default', 'pw', 'SETNAME', 'n');
      await c.call('SELECT', '1');
      await c.call('MULTI');
      assert.equal(await c.callRaw('RESET'), '+RESET\r\n');
      assert.equal(await c.callRaw('PING'), '-NOAUTH Authentication required.\r\n');
      await c.call('AUTH', 'pw');
      assert.equal(await c.callRaw('CLIENT', 'GETNAME'), '$-1\r\n');
      assert.match(String(await c.call('CLIENT', 'INFO')), / db=0 .* multi=-1 .* resp=2 /);
      assert.deepEqual(await c.call('EXEC'), new RespError('ERR EXEC without MULTI'));
    } finally {
      await proxy.close();
    }
  });
});
