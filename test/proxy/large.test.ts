// Goal: big data through `shoal proxy` on a real cluster — a 100 MiB value round-trips
// byte for byte, and a hash with 100,000 fields is deleted by one DEL (O(1): only its
// metadata changes), after which the key is gone and can be created afresh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { startProxyEnv } from './harness.js';
import type { ProxyEnv } from './harness.js';

let env: ProxyEnv;
let r: Redis;

before(async () => {
  env = await startProxyEnv();
  r = env.redis();
});

after(async () => {
  await env?.destroy();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('a 100 MiB value: SET, GET byte for byte, GETRANGE at its end', async () => {
  const value = Buffer.alloc(100 * 1024 * 1024);
  for (let i = 0; i < value.length; i += 4096) value.writeUInt32BE(i, i);
  value.write('\r\n\0end', value.length - 6, 'latin1');
  assert.equal(await r.set('huge', value), 'OK');
  const got = await r.getBuffer('huge');
  assert.ok(got !== null);
  assert.equal(got.length, value.length);
  assert.equal(sha(got), sha(value));
  assert.equal(await r.getrange('huge', -5, -1), '\n\0end');
  assert.equal(await r.del('huge'), 1);
});

test('a hash with 100,000 fields is deleted by one DEL', async () => {
  const FIELDS = 100_000;
  // One HSET may write at most the node's batchKeysMax (10,000) subkeys: fill in chunks.
  const CHUNK = 5000;
  const p = r.pipeline();
  for (let from = 0; from < FIELDS; from += CHUNK) {
    const args: string[] = [];
    for (let i = from; i < from + CHUNK; i++) args.push(`f${i}`, `v${i}`);
    p.hset('wide', ...args);
  }
  const res = await p.exec();
  assert.ok(res !== null && res.every(([e, n]) => e === null && n === CHUNK));
  assert.equal(await r.hlen('wide'), FIELDS);
  assert.equal(await r.hget('wide', 'f99999'), 'v99999');
  const started = performance.now();
  assert.equal(await r.del('wide'), 1);
  const delMs = performance.now() - started;
  assert.equal(await r.exists('wide'), 0);
  assert.equal(await r.hlen('wide'), 0);
  assert.equal(await r.hget('wide', 'f1'), null);
  assert.equal(await r.hset('wide', 'new', 'x'), 1);
  assert.deepEqual(await r.call('HGETALL', 'wide'), ['new', 'x']);
  console.log(`DEL of a 100,000-field hash took ${delMs.toFixed(0)} ms`);
});
