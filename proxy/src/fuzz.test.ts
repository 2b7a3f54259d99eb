// Goal: malformed input — random bytes, truncated frames, huge declared lengths, random commands — never crashes the proxy, and a well-behaved client working alongside never sees its data corrupted. Seeded: a failure prints the seed that replays it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from 'node:net';
import { ProtocolError, RespParser } from './resp/parser.js';
import { encodeCommand } from './testing/resp-client.js';
import { startProxy } from './testing/harness.js';

const SEED = Number(process.env['PROXY_FUZZ_SEED'] ?? 0x5eed1e);

/** mulberry32: small, seedable, good enough to pick test inputs. */
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

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const bytes = (r: Rand, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(r, 256)));

const COMMAND_NAMES = ['GET', 'SET', 'DEL', 'PING', 'ECHO', 'MULTI', 'EXEC', 'WATCH', 'CLIENT', 'CONFIG', 'INFO', 'HELLO',
  'SELECT', 'AUTH', 'COMMAND', 'SLOWLOG', 'FUNCTION', 'INCR', 'MGET', 'MSET', 'SCAN', 'nope', 'QUIT', 'RESET'];

/** One malicious or broken request stream. */
function garbage(r: Rand): Buffer {
  switch (int(r, 9)) {
    case 0: return bytes(r, 1 + int(r, 300));
    case 1: { // a valid frame cut anywhere
      const f = encodeCommand(['SET', `fz${int(r, 100)}`, bytes(r, int(r, 200))]);
      return f.subarray(0, int(r, f.length));
    }
    case 2: return Buffer.from(`*${pick(r, ['99999999999', '2147483648', '-5', '1048577', '0', 'x', ''])}\r\n`);
    case 3: return Buffer.concat([Buffer.from(`*1\r\n$${pick(r, ['536870912', '536870913', '400000000', '-1', '9'.repeat(30), 'abc'])}\r\n`), bytes(r, int(r, 100))]);
    case 4: return Buffer.from(`${pick(r, ['SET "a', "GET 'b", 'ECHO "\\x4', 'PING "x"y', 'a'.repeat(70_000)])}\r\n`);
    case 5: return Buffer.concat([encodeCommand(['PING']), bytes(r, 50)]);
    case 6: { // random commands with random arguments, some valid
      const args = [pick(r, COMMAND_NAMES), ...Array.from({ length: int(r, 5) }, () => (r() < 0.5 ? bytes(r, int(r, 20)) : pick(r, ['GET', 'LIST', '3', '-1', 'KILL', 'SET', '*'])))];
      return Buffer.concat(Array.from({ length: 1 + int(r, 5) }, () => encodeCommand(args)));
    }
    case 7: return Buffer.from(`*2\r\n$4\r\nECHO\r\n$${1 + int(r, 70_000)}\r\n`);
    default: return Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n'), Buffer.from(`$${int(r, 10)}\r\n`), bytes(r, int(r, 40))]);
  }
}

/** Sends `data` in random pieces, then lingers or hangs up; never throws. */
async function attack(port: number, r: Rand, data: Buffer): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.on('data', () => undefined);
    s.on('connect', () => {
      let at = 0;
      const step = (): void => {
        if (at >= data.length || s.destroyed) {
          setTimeout(() => s.destroy(), int(r, 30));
          return;
        }
        const n = 1 + int(r, 64);
        s.write(data.subarray(at, at + n));
        at += n;
        if (r() < 0.2) setTimeout(step, int(r, 3));
        else step();
      };
      step();
    });
  });
}

describe('fuzz', () => {
  it(`the parser never throws and honours its limits on random input (seed ${SEED})`, () => {
    const r = prng(SEED);
    const limits = { bulkBytesMax: 1 << 20, multibulkLengthMax: 1000, inlineBytesMax: 4096, bufferBytesMax: 1 << 22 };
    for (let i = 0; i < 2000; i++) {
      const p = new RespParser(limits);
      p.authRequired = r() < 0.2;
      const input = Buffer.concat(Array.from({ length: 1 + int(r, 4) }, () => garbage(r)));
      try {
        for (let at = 0; at < input.length;) {
          const n = 1 + int(r, 200);
          if (p.push(input.subarray(at, at + n)) !== null) break;
          at += n;
          let cmd;
          while ((cmd = p.next()) !== null && !(cmd instanceof ProtocolError)) {
            assert.ok(cmd.length > 0 && cmd.length <= limits.multibulkLengthMax);
            for (const a of cmd) assert.ok(a.length <= limits.bulkBytesMax);
          }
          if (cmd instanceof ProtocolError) break;
          assert.ok(p.bufferedBytes <= limits.bufferBytesMax);
        }
      } catch (e) {
        assert.fail(`seed ${SEED}, case ${i}: ${String(e)}`);
      }
    }
  });

  it(`the server survives hostile clients and a concurrent client's data stays intact (seed ${SEED})`, async () => {
    const proxy = await startProxy({ inlineBytesMax: '16KiB', bulkBytesMax: 1 << 20, clientBufferBytesMax: '4MiB', requirePass: '' });
    const r = prng(SEED);
    try {
      const canary = await proxy.connect();
      let canaryRounds = 0;
      let stop = false;
      const canaryWork = (async () => {
        const cr = prng(SEED ^ 0xc0ffee);
        const mine = new Map<string, Buffer>();
        while (!stop) {
          const key = `canary:${int(cr, 50)}`;
          const value = bytes(cr, int(cr, 2000));
          assert.equal(await canary.call('SET', key, value), 'OK');
          mine.set(key, value);
          const check = pick(cr, [...mine.keys()]);
          canary.send('GET', check);
          const frame = await canary.reply();
          const expected = mine.get(check)!;
          assert.deepEqual(frame.raw, Buffer.concat([Buffer.from(`$${expected.length}\r\n`), expected, Buffer.from('\r\n')]),
            `seed ${SEED}: canary value of ${check} corrupted`);
          canaryRounds++;
        }
      })();
      const attacks = 1000;
      const concurrency = 8;
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < attacks) {
          next++;
          const data = Buffer.concat(Array.from({ length: 1 + int(r, 3) }, () => garbage(r)));
          await attack(proxy.port, r, data);
        }
      }));
      stop = true;
      await canaryWork;
      assert.ok(canaryRounds > 10, `the canary kept working (${canaryRounds} rounds)`);
      assert.equal(await canary.call('PING'), 'PONG');
      const fresh = await proxy.connect();
      assert.equal(await fresh.call('ECHO', 'still here'), 'still here');
    } finally {
      await proxy.close();
    }
  });
});
