// Goal: MULTI/EXEC/DISCARD/WATCH/UNWATCH follow Redis' state machine exactly (queueing, EXECABORT, nesting and WATCH errors, WATCH conflicts) and hand the queued data commands to the backend as one transaction.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RespError } from '../testing/resp-client.js';
import { startProxy } from '../testing/harness.js';
import type { TestProxy } from '../testing/harness.js';

describe('MULTI / EXEC', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ databases: ['default', 'other'] }); });
  after(() => proxy.close());

  it('queues commands (+QUEUED) and EXEC runs them as one backend transaction, replies in order', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('MULTI'), '+OK\r\n');
    assert.equal(await c.callRaw('SET', 'tx', '1'), '+QUEUED\r\n');
    assert.equal(await c.callRaw('INCR', 'tx'), '+QUEUED\r\n');
    assert.equal(await c.callRaw('PING'), '+QUEUED\r\n');
    assert.equal(await c.callRaw('GET', 'tx'), '+QUEUED\r\n');
    const before = proxy.backend.calls.length;
    assert.equal(await c.callRaw('EXEC'), '*4\r\n+OK\r\n:2\r\n+PONG\r\n$1\r\n2\r\n');
    assert.deepEqual(proxy.backend.calls.slice(before), [{ kind: 'transaction', commands: 3 }]);
  });

  it('an error while queueing aborts EXEC with -EXECABORT; nothing runs', async () => {
    const c = await proxy.connect();
    await c.call('MULTI');
    await c.call('SET', 'never', 'x');
    assert.equal(await c.callRaw('NOSUCHCMD'), "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n");
    assert.equal(await c.callRaw('GET'), "-ERR wrong number of arguments for 'get' command\r\n");
    assert.equal(await c.callRaw('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
    assert.equal(proxy.backend.peek('default', 'never'), undefined);
    assert.equal(await c.callRaw('EXEC'), '-ERR EXEC without MULTI\r\n');
  });

  it('a command that fails when run is an error inside the EXEC array; the others apply', async () => {
    const c = await proxy.connect();
    await c.call('SET', 'text', 'abc');
    await c.call('MULTI');
    await c.call('INCR', 'text');
    await c.call('SET', 'after', 'yes');
    await c.call('PING', 'a', 'b');
    assert.deepEqual(await c.call('EXEC'), [
      new RespError('ERR value is not an integer or out of range'), 'OK', new RespError("ERR wrong number of arguments for 'ping' command"),
    ]);
    assert.equal(proxy.backend.peek('default', 'after')?.toString(), 'yes');
  });

  it('nested MULTI, EXEC and DISCARD without MULTI, WATCH inside MULTI: Redis\' errors, MULTI intact', async () => {
    const c = await proxy.connect();
    assert.equal(await c.callRaw('DISCARD'), '-ERR DISCARD without MULTI\r\n');
    await c.call('MULTI');
    assert.equal(await c.callRaw('MULTI'), '-ERR MULTI calls can not be nested\r\n');
    assert.equal(await c.callRaw('WATCH', 'k'), '-ERR WATCH inside MULTI is not allowed\r\n');
    await c.call('SET', 'nest', 'ok');
    assert.equal(await c.callRaw('EXEC'), '*1\r\n+OK\r\n', 'those errors do not abort the transaction');
  });

  it('DISCARD drops the queue', async () => {
    const c = await proxy.connect();
    await c.call('MULTI');
    await c.call('SET', 'discarded', 'x');
    assert.equal(await c.callRaw('DISCARD'), '+OK\r\n');
    assert.equal(proxy.backend.peek('default', 'discarded'), undefined);
    assert.equal(await c.callRaw('GET', 'discarded'), '$-1\r\n', 'commands run again after DISCARD');
  });

  it('commands needing the whole table cannot be queued', async () => {
    const c = await proxy.connect();
    await c.call('MULTI');
    assert.equal(await c.callRaw('FLUSHDB'), '-ERR Command not allowed inside a transaction\r\n');
    assert.equal(await c.callRaw('EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
  });

  it('SELECT inside MULTI moves the following commands to the selected table', async () => {
    const c = await proxy.connect();
    await c.call('MULTI');
    await c.call('SET', 's', 'zero');
    await c.call('SELECT', '1');
    await c.call('SET', 's', 'one');
    assert.deepEqual(await c.call('EXEC'), ['OK', 'OK', 'OK']);
    assert.equal(proxy.backend.peek('default', 's')?.toString(), 'zero');
    assert.equal(proxy.backend.peek('other', 's')?.toString(), 'one');
    assert.match(String(await c.call('CLIENT', 'INFO')), / db=1 /);
  });

  it('an empty MULTI/EXEC answers an empty array; RESP3 nulls inside EXEC are RESP3', async () => {
    const c = await proxy.connect();
    await c.call('MULTI');
    assert.equal(await c.callRaw('EXEC'), '*0\r\n');
    await c.call('HELLO', '3');
    await c.call('MULTI');
    await c.call('GET', 'missing-key');
    assert.equal(await c.callRaw('EXEC'), '*1\r\n_\r\n');
  });
});

describe('pipelined transactions', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy({ databases: ['default', 'other'] }, { delayMs: 5 }); });
  after(() => proxy.close());

  it('WATCH, MULTI, …, EXEC sent in one write honour the WATCH', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    await b.call('SET', 'pw', 'old');
    a.send('WATCH', 'pw');
    a.send('GET', 'pw');
    const [w, g] = [await a.reply(), await a.reply()];
    assert.deepEqual([w.value, g.value], ['OK', 'old']);
    await b.call('SET', 'pw', 'changed');
    a.send('MULTI');
    a.send('SET', 'pw', 'mine');
    a.send('EXEC');
    assert.deepEqual([(await a.reply()).value, (await a.reply()).value, (await a.reply()).raw.toString()], ['OK', 'QUEUED', '*-1\r\n']);
    a.send('WATCH', 'pw');
    a.send('MULTI');
    a.send('SET', 'pw', 'mine');
    a.send('EXEC');
    assert.deepEqual([(await a.reply()).value, (await a.reply()).value, (await a.reply()).value, (await a.reply()).value], ['OK', 'OK', 'QUEUED', ['OK']]);
  });

  it('WATCH then UNWATCH in one write leaves nothing watched', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    a.send('WATCH', 'pu');
    a.send('UNWATCH');
    await a.reply();
    await a.reply();
    await b.call('SET', 'pu', 'x');
    assert.deepEqual(await a.call('MULTI'), 'OK');
    await a.call('GET', 'pu');
    assert.deepEqual(await a.call('EXEC'), ['x']);
  });

  it('a SELECT queued in MULTI applies to the commands pipelined after EXEC', async () => {
    const c = await proxy.connect();
    c.send('MULTI');
    c.send('SELECT', '1');
    c.send('EXEC');
    c.send('SET', 'after-exec', 'v');
    for (let i = 0; i < 4; i++) await c.reply();
    assert.equal(proxy.backend.peek('other', 'after-exec')?.toString(), 'v');
    assert.equal(proxy.backend.peek('default', 'after-exec'), undefined);
  });
});

describe('WATCH', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('EXEC fails with a null array when a watched key changed, and runs nothing', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    await a.call('SET', 'w', '1');
    assert.equal(await a.callRaw('WATCH', 'w'), '+OK\r\n');
    await b.call('SET', 'w', '2');
    await a.call('MULTI');
    await a.call('SET', 'w', 'from-a');
    await a.call('SET', 'side', 'effect');
    assert.equal(await a.callRaw('EXEC'), '*-1\r\n');
    assert.equal(proxy.backend.peek('default', 'w')?.toString(), '2');
    assert.equal(proxy.backend.peek('default', 'side'), undefined);
  });

  it('EXEC succeeds when watched keys are unchanged; watches end after EXEC', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    await a.call('WATCH', 'w2', 'w3');
    await a.call('MULTI');
    await a.call('SET', 'w2', 'mine');
    assert.deepEqual(await a.call('EXEC'), ['OK']);
    await b.call('SET', 'w2', 'theirs');
    await a.call('MULTI');
    await a.call('SET', 'w2', 'again');
    assert.deepEqual(await a.call('EXEC'), ['OK'], 'the earlier WATCH no longer applies');
  });

  it('UNWATCH forgets the watched keys', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    await a.call('WATCH', 'u');
    await b.call('SET', 'u', 'changed');
    assert.equal(await a.callRaw('UNWATCH'), '+OK\r\n');
    await a.call('MULTI');
    await a.call('GET', 'u');
    assert.deepEqual(await a.call('EXEC'), ['changed']);
  });

  it('a failed WATCH check leaves local commands of the transaction unrun', async () => {
    const a = await proxy.connect();
    const b = await proxy.connect();
    await a.call('WATCH', 'v');
    await b.call('SET', 'v', 'x');
    await a.call('MULTI');
    await a.call('CLIENT', 'SETNAME', 'should-not-apply');
    assert.equal(await a.callRaw('EXEC'), '*-1\r\n');
    assert.equal(await a.callRaw('CLIENT', 'GETNAME'), '$-1\r\n');
  });
});
