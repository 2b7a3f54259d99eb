// Goal: command lookup and the checks before execution (unknown command, unknown subcommand, arity) give Redis 7's exact replies, including argument echo and truncation rules.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCommandTable } from './index.js';
import { unknownCommand } from './table.js';
import { startProxy } from '../testing/harness.js';
import type { TestProxy } from '../testing/harness.js';

const text = (argv: string[]): string => Buffer.from(unknownCommand(argv.map((a) => Buffer.from(a, 'latin1'))).value).toString('latin1');

describe('unknown command text (unit)', () => {
  it('quotes each argument followed by a space, and ends with a space after the colon when there are none', () => {
    assert.equal(text(['foo']), "ERR unknown command 'foo', with args beginning with: ");
    assert.equal(text(['foo', 'a', 'b']), "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
  });

  it('keeps the command name\'s case and cuts it at 128 bytes', () => {
    assert.equal(text(['FoO']), "ERR unknown command 'FoO', with args beginning with: ");
    assert.equal(text(['x'.repeat(200)]), `ERR unknown command '${'x'.repeat(128)}', with args beginning with: `);
  });

  it('stops echoing arguments once 128 bytes of them are shown, cutting the last one', () => {
    const args = Array.from({ length: 30 }, (_, i) => `arg${i}`);
    const got = text(['foo', ...args]);
    const shown = got.slice("ERR unknown command 'foo', with args beginning with: ".length);
    assert.ok(shown.length >= 128 && shown.length < 128 + 3 + 5, `shown ${shown.length} bytes`);
    assert.equal(text(['foo', 'y'.repeat(300)]), `ERR unknown command 'foo', with args beginning with: '${'y'.repeat(128)}' `);
    assert.equal(text(['foo', 'y'.repeat(125), 'zzzz']), `ERR unknown command 'foo', with args beginning with: '${'y'.repeat(125)}' `);
  });

  it('cuts names and arguments at a NUL byte, as C printf does', () => {
    assert.equal(text(['fo\0o', 'a\0b']), "ERR unknown command 'fo', with args beginning with: 'a' ");
  });
});

describe('dispatch over TCP', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('answers unknown commands like Redis 7, CR and LF shown as spaces', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('foo', 'a', 'b'), "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
    assert.equal(await c.callRaw('FLUBBER'), "-ERR unknown command 'FLUBBER', with args beginning with: \r\n");
    assert.equal(await c.callRaw('foo', 'a\r\nb'), "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n");
    assert.equal(await c.callRaw('PING'), '+PONG\r\n', 'the connection stays open');
  });

  it('looks commands up case-insensitively', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('pInG'), '+PONG\r\n');
    assert.equal(await c.callRaw('client', 'GETname'), '$-1\r\n');
  });

  it('answers wrong arity with the command\'s full name', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('GET'), "-ERR wrong number of arguments for 'get' command\r\n");
    assert.equal(await c.callRaw('GET', 'a', 'b'), "-ERR wrong number of arguments for 'get' command\r\n");
    assert.equal(await c.callRaw('SET', 'a'), "-ERR wrong number of arguments for 'set' command\r\n");
    assert.equal(await c.callRaw('CLIENT'), "-ERR wrong number of arguments for 'client' command\r\n");
    assert.equal(await c.callRaw('CLIENT', 'SETNAME'), "-ERR wrong number of arguments for 'client|setname' command\r\n");
    assert.equal(await c.callRaw('CONFIG', 'GET'), "-ERR wrong number of arguments for 'config|get' command\r\n");
  });

  it('answers unknown subcommands with Redis 7\'s hint', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('CLIENT', 'FOO'), "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
    assert.equal(await c.callRaw('config', 'bar', 'x'), "-ERR unknown subcommand 'bar'. Try CONFIG HELP.\r\n");
    assert.equal(await c.callRaw('COMMAND', 'nope'), "-ERR unknown subcommand 'nope'. Try COMMAND HELP.\r\n");
  });

  it('answers a huge unknown command name quickly, echoing only 128 bytes of it', async () => {
    const c = await proxy.connect();
    const name = Buffer.alloc(8 * 1024 * 1024, 0x71);
    assert.equal(await c.callRaw(name, Buffer.alloc(1024 * 1024, 0x61)),
      `-ERR unknown command '${'q'.repeat(128)}', with args beginning with: '${'a'.repeat(128)}' \r\n`);
    assert.equal(await c.callRaw('CLIENT', name), `-ERR unknown subcommand '${'q'.repeat(128)}'. Try CLIENT HELP.\r\n`);
  });

  it('closes a connection that sends an HTTP request (POST / Host:), without a reply', async () => {
    const c = await proxy.connect();
    c.write('POST / HTTP/1.1\r\nHost: example\r\n\r\n');
    assert.ok(await c.waitClosed());
    assert.equal(c.pendingBytes, 0);
  });
});

describe('command table invariants', () => {
  it('every command has a summary, a group, and a handler unless it is a backend command or container', () => {
    for (const spec of createCommandTable().allWithSubcommands()) {
      assert.ok(spec.def.doc.summary.length > 0, spec.fullName);
      if (spec.run.kind === 'local') assert.equal(typeof spec.run.handler, 'function');
      // Keyless data commands run on every shard (KEYS, RANDOMKEY); numkeys forms declare movablekeys.
      const keyless = spec.def.notInTransaction === true || spec.def.flags.includes('movablekeys');
      if (spec.run.kind === 'backend' && !keyless) assert.ok(spec.keys.first > 0, `${spec.fullName}: a data command names its keys`);
    }
  });
});
