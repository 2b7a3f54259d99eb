// Goal: big data through `shoal proxy` on a real cluster — a 100 MiB value round-trips
// byte for byte, and a hash with 100,000 fields is deleted by one DEL (O(1): only its
// metadata changes), after which the key is gone and can be created afresh, and the shard
// leader's background sweeper deletes the old version's 100,000 subkeys in one proposal
// (after which it finds nothing left to propose).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { startProxyEnv, waitUntil } from './harness.js';
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
  const applied = async (): Promise<number> =>
    (await env.cluster.metric(1, 'shoal_raft_applied_entries_total')) + (await env.cluster.metric(2, 'shoal_raft_applied_entries_total'));
  // Let any earlier sweep settle, then count: DEL and the HSET below are 2 entries.
  await settled(applied);
  const before = await applied();
  const started = performance.now();
  assert.equal(await r.del('wide'), 1);
  const delMs = performance.now() - started;
  assert.equal(await r.exists('wide'), 0);
  assert.equal(await r.hlen('wide'), 0);
  assert.equal(await r.hget('wide', 'f1'), null);
  assert.equal(await r.hset('wide', 'new', 'x'), 1);
  assert.deepEqual(await r.call('HGETALL', 'wide'), ['new', 'x']);
  console.log(`DEL of a 100,000-field hash took ${delMs.toFixed(0)} ms`);
  // The sweeper (every second on the leader) proposes the stale range's delete…
  await waitUntil('the subkey sweeper proposes', 15_000, async () => (await applied()) >= before + 3);
  // …and then finds nothing stale: had the subkeys survived, it would propose again.
  const after = await settled(applied);
  assert.equal(after, before + 3, 'one sweep proposal deleted the old version\'s subkeys');
});

/** Waits until `count` has not changed for 2.5 s (over two sweep intervals); its value. */
async function settled(count: () => Promise<number>): Promise<number> {
  let last = await count();
  let since = performance.now();
  return waitUntil('the applied-entry count settles', 20_000, async () => {
    const now = await count();
    if (now !== last) {
      last = now;
      since = performance.now();
    }
    return performance.now() - since >= 2500 ? now : undefined;
  });
}
