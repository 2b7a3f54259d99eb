// Goal: over real TCP, the proxy pipelines with replies strictly in request order, is binary-safe, applies flow control, and closes connections exactly when Redis would (protocol errors, QUIT, maxclients, idle timeout, shutdown).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KvError } from '@shoal/common';
import type { CommandArgs, ExecOptions } from './backend.js';
import type { Reply } from './resp/reply.js';
import { encodeCommand, RespError, RespTestClient, waitFor } from './testing/resp-client.js';
import { startProxy } from './testing/harness.js';
import type { TestProxy } from './testing/harness.js';

/** A seeded PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pipelining and ordering', () => {
  let proxy: TestProxy;
  before(async () => {
    const rand = prng(7);
    // Backend calls take 0-3 ms, so local commands finish long before the data commands queued ahead of them.
    proxy = await startProxy({}, { delayMs: () => Math.floor(rand() * 4) });
  });
  after(() => proxy.close());

  it('answers 10,000 pipelined commands in request order, mixing backend and local commands', async () => {
    const c = await proxy.connect();
    const n = 10_000;
    const expected: unknown[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      switch (i % 5) {
        case 0: parts.push(encodeCommand(['SET', `k${i}`, `v${i}`])); expected.push('OK'); break;
        case 1: parts.push(encodeCommand(['GET', `k${i - 1}`])); expected.push(`v${i - 1}`); break;
        case 2: parts.push(encodeCommand(['ECHO', `e${i}`])); expected.push(`e${i}`); break;
        case 3: parts.push(encodeCommand(['INCR', 'counter'])); expected.push(Math.floor(i / 5) + 1); break;
        default: parts.push(encodeCommand(['PING'])); expected.push('PONG'); break;
      }
    }
    c.write(Buffer.concat(parts));
    for (let i = 0; i < n; i++) assert.deepEqual((await c.reply()).value, expected[i], `reply ${i}`);
    const batches = proxy.backend.calls.filter((x) => x.kind === 'exec');
    assert.ok(batches.length < n / 5, `data commands were batched (${batches.length} backend calls)`);
  });

  it('keeps a slow async reply (INFO) ahead of the instant replies that follow it', async () => {
    const slow = await startProxy({}, { delayMs: (what) => (what === 'stats' ? 80 : 0) });
    try {
      const c = await slow.connect();
      c.write(Buffer.concat([encodeCommand(['INFO', 'keyspace']), encodeCommand(['PING']), encodeCommand(['ECHO', 'x'])]));
      const first = await c.reply();
      assert.match(String(first.value), /^# Keyspace/);
      assert.equal((await c.reply()).value, 'PONG');
      assert.equal((await c.reply()).value, 'x');
    } finally {
      await slow.close();
    }
  });

  it('stores and returns values containing CR, LF and NUL unchanged', async () => {
    const c = await proxy.connect();
    const value = Buffer.from([0x00, 0x0d, 0x0a, 0x24, 0x33, 0x0d, 0x0a, 0xff, 0x00]);
    const key = Buffer.from('bin\r\nkey\0');
    assert.equal(await c.call('SET', key, value), 'OK');
    c.send('GET', key);
    const frame = await c.reply();
    assert.deepEqual(frame.raw, Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]));
  });

  it('carries a 32 MiB value both ways intact', async () => {
    const c = await proxy.connect();
    const value = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < value.length; i += 4096) value[i] = i % 251;
    assert.equal(await c.call('SET', 'huge', value), 'OK');
    c.send('GET', 'huge');
    const frame = await c.reply(30_000);
    const header = `$${value.length}\r\n`;
    assert.equal(frame.raw.length, header.length + value.length + 2);
    assert.ok(frame.raw.subarray(header.length, header.length + value.length).equals(value));
  });

  it('serves inline commands, as telnet sends them', async () => {
    const c = await proxy.connect();
    c.write('PING\r\nSET greeting "hello world"\r\nGET greeting\n');
    assert.equal((await c.reply()).raw.toString(), '+PONG\r\n');
    assert.equal((await c.reply()).value, 'OK');
    assert.equal((await c.reply()).value, 'hello world');
  });
});

describe('closing like Redis', () => {
  let proxy: TestProxy;
  before(async () => { proxy = await startProxy(); });
  after(() => proxy.close());

  it('a protocol error is answered after the replies before it, then the connection closes', async () => {
    const c = await proxy.connect();
    c.write('PING\r\n*1\r\nxyz\r\nPING\r\n');
    assert.equal((await c.reply()).raw.toString(), '+PONG\r\n');
    assert.equal((await c.reply()).raw.toString(), "-ERR Protocol error: expected '$', got 'x'\r\n");
    assert.ok(await c.waitClosed());
    assert.equal(c.pendingBytes, 0, 'nothing after the error');
  });

  it('an invalid multibulk length closes the connection with Redis\' text', async () => {
    const c = await proxy.connect();
    c.write('*abc\r\n');
    assert.equal((await c.reply()).raw.toString(), '-ERR Protocol error: invalid multibulk length\r\n');
    assert.ok(await c.waitClosed());
  });

  it('QUIT answers +OK and closes; commands pipelined after it do not run', async () => {
    const c = await proxy.connect();
    c.write(Buffer.concat([encodeCommand(['SET', 'q1', 'x']), encodeCommand(['QUIT']), encodeCommand(['SET', 'q2', 'x'])]));
    assert.equal((await c.reply()).value, 'OK');
    assert.equal((await c.reply()).raw.toString(), '+OK\r\n');
    assert.ok(await c.waitClosed());
    assert.equal(proxy.backend.peek('default', 'q1')?.toString(), 'x');
    assert.equal(proxy.backend.peek('default', 'q2'), undefined);
  });

  it('a client that half-closes after sending still gets every reply', async () => {
    const c = await proxy.connect();
    c.socket.end(Buffer.concat([encodeCommand(['SET', 'h', '1']), encodeCommand(['INCR', 'h']), encodeCommand(['GET', 'h'])]));
    assert.equal((await c.reply()).value, 'OK');
    assert.equal((await c.reply()).value, 2);
    assert.equal((await c.reply()).value, '2');
    assert.ok(await c.waitClosed());
  });

  it('maxclients: the connection over the limit gets Redis\' error and is closed', async () => {
    const small = await startProxy({ maxClients: 2 });
    try {
      const a = await small.connect();
      const b = await small.connect();
      assert.equal(await a.call('PING'), 'PONG');
      assert.equal(await b.call('PING'), 'PONG');
      const c = await small.connect();
      assert.equal((await c.reply()).raw.toString(), '-ERR max number of clients reached\r\n');
      assert.ok(await c.waitClosed());
      assert.match(String(await a.call('INFO', 'stats')), /rejected_connections:1\r\n/);
      b.close();
      assert.ok(await waitFor(() => small.server.connectedClients === 1));
      const d = await small.connect();
      assert.equal(await d.call('PING'), 'PONG');
    } finally {
      await small.close();
    }
  });

  it('idle timeout closes a quiet client but not a busy one', async () => {
    const p = await startProxy({ idleTimeoutMs: 300 });
    try {
      const quiet = await p.connect();
      const busy = await p.connect();
      assert.equal(await quiet.call('PING'), 'PONG');
      const deadline = Date.now() + 1500;
      let quietClosed = false;
      while (Date.now() < deadline && !quietClosed) {
        assert.equal(await busy.call('PING'), 'PONG');
        await new Promise((r) => setTimeout(r, 50));
        quietClosed = quiet.isClosed;
      }
      assert.ok(quietClosed, 'the quiet client was closed');
      assert.ok(!busy.isClosed, 'the busy client stays');
      // Redis' timeout is whole seconds: 300 ms shows as 0.
      assert.deepEqual(await (await p.connect()).call('CONFIG', 'GET', 'timeout'), ['timeout', '0']);
    } finally {
      await p.close();
    }
  });

  it('graceful shutdown delivers the replies of commands already read, then closes', async () => {
    const p = await startProxy({}, { delayMs: 100 });
    const c = await p.connect();
    c.send('SET', 'slow', 'v');
    await waitFor(() => p.backend.calls.length > 0);
    const closing = p.server.close();
    assert.equal((await c.reply()).value, 'OK');
    assert.ok(await c.waitClosed());
    await closing;
    await assert.rejects(RespTestClient.connect(p.port));
  });
});

describe('flow control', () => {
  it('stops reading while too many replies wait, and catches up without losing order', async () => {
    const p = await startProxy({ clientPendingCommandsMax: 8, backendBatchCommandsMax: 4 }, { delayMs: 1 });
    try {
      const c = await p.connect();
      const n = 500;
      c.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand(['ECHO', String(i)]))));
      c.write(Buffer.concat(Array.from({ length: n }, () => encodeCommand(['INCR', 'fc']))));
      const conn = [...p.server.clients()][0]!;
      let maxPending = 0;
      for (let i = 0; i < n; i++) {
        maxPending = Math.max(maxPending, conn.pendingCommands);
        assert.equal((await c.reply()).value, String(i));
      }
      for (let i = 0; i < n; i++) {
        maxPending = Math.max(maxPending, conn.pendingCommands);
        assert.equal((await c.reply()).value, i + 1);
      }
      assert.ok(maxPending <= 8, `at most clientPendingCommandsMax commands wait (saw ${maxPending})`);
      assert.ok(p.backend.calls.every((x) => (x.commands ?? 0) <= 4), 'batches respect backendBatchCommandsMax');
    } finally {
      await p.close();
    }
  });

  it('stops reading while the socket holds more than clientWriteBufferBytesMax, then resumes', async () => {
    const p = await startProxy({ clientWriteBufferBytesMax: 64 * 1024, clientPendingCommandsMax: 4 });
    try {
      const c = await p.connect();
      const big = 'x'.repeat(256 * 1024);
      assert.equal(await c.call('SET', 'big', big), 'OK');
      c.socket.pause();
      const n = 200;
      c.write(Buffer.concat(Array.from({ length: n }, () => encodeCommand(['GET', 'big']))));
      const conn = [...p.server.clients()][0]!;
      await new Promise((r) => setTimeout(r, 200));
      const processed = p.server.stats.commandsProcessed;
      assert.ok(processed < n, `the proxy stopped reading early (${processed} commands run)`);
      assert.ok(conn.outputBufferBytes <= 64 * 1024 + 4 * (big.length + 20), `output stays bounded (${conn.outputBufferBytes} bytes)`);
      c.socket.resume();
      for (let i = 0; i < n; i++) assert.equal(((await c.reply(10_000)).value as string).length, big.length);
    } finally {
      await p.close();
    }
  });
});

describe('backend failures', () => {
  it('a rejected backend call answers each of its commands with the error; the connection lives on', async () => {
    const p = await startProxy();
    const real = p.backend.exec.bind(p.backend);
    let fail = true;
    p.backend.exec = (table: string, commands: readonly CommandArgs[], options?: ExecOptions): Promise<readonly Reply[]> => {
      if (fail) {
        fail = false;
        return Promise.reject(new KvError('NOT_LEADER', 'leader moved'));
      }
      return real(table, commands, options);
    };
    try {
      const c = await p.connect();
      c.write(Buffer.concat([encodeCommand(['GET', 'a']), encodeCommand(['GET', 'b'])]));
      assert.deepEqual((await c.reply()).value, new RespError('TRYAGAIN leader moved'));
      assert.deepEqual((await c.reply()).value, new RespError('TRYAGAIN leader moved'));
      assert.equal(await c.call('SET', 'a', '1'), 'OK');
    } finally {
      await p.close();
    }
  });
});
