// Goal: the executor is deterministic — the same command sequence with the same stamps and
// seed gives byte-identical write batches and final states — and applying a batch needs no
// decision of its own (replicas applying the proposals converge to the leader's state).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShardInfo } from './encoding.js';
import { HASH_SHARD, Harness, RANGE_SHARD, seeded } from './fixture.js';
import type { Arg } from './fixture.js';
import { MemoryView } from './memory-view.js';

/** A random but reproducible workload over every family. */
function workload(seed: number, n: number): { at: number; args: Arg[] }[] {
  const r = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const keys = ['a', 'b', 'c', 'd'];
  const m = (): string => pick(['m1', 'm2', 'm3', 'm4', 'm5']);
  const gens: (() => Arg[])[] = [
    () => ['SET', pick(keys), String(Math.floor(r() * 100)), ...(r() < 0.3 ? ['PX', String(1 + Math.floor(r() * 50))] : [])],
    () => ['INCRBY', pick(keys), String(Math.floor(r() * 10))],
    () => ['HSET', pick(keys), m(), String(r())],
    () => ['HDEL', pick(keys), m()],
    () => ['RPUSH', pick(keys), m(), m()],
    () => ['LPOP', pick(keys)],
    () => ['LTRIM', pick(keys), '1', '-1'],
    () => ['SADD', pick(keys), m(), m()],
    () => ['SPOP', pick(keys)],
    () => ['SINTERSTORE', pick(keys), pick(keys), pick(keys)],
    () => ['ZADD', pick(keys), String(Math.floor(r() * 10)), m()],
    () => ['ZPOPMIN', pick(keys)],
    () => ['ZUNIONSTORE', pick(keys), '2', pick(keys), pick(keys)],
    () => ['DEL', pick(keys)],
    () => ['RENAME', pick(keys), pick(keys)],
    () => ['EXPIRE', pick(keys), String(Math.floor(r() * 3))],
    () => ['LINSERT', pick(keys), 'BEFORE', m(), m()],
  ];
  const out: { at: number; args: Arg[] }[] = [];
  let at = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    at += Math.floor(r() * 20);
    out.push({ at, args: pick(gens)() });
  }
  return out;
}

async function run(seed: number, n: number, shard: ShardInfo = RANGE_SHARD): Promise<{ h: Harness; batches: string }> {
  const h = new Harness(shard);
  for (const step of workload(seed, n)) {
    h.nowMs = step.at;
    await h.call(step.args);
  }
  const batches = JSON.stringify(h.batches, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  return { h, batches };
}

test('the same sequence gives identical write batches and states', async () => {
  const one = await run(99, 600);
  const two = await run(99, 600);
  assert.ok(one.h.batches.length > 100, `${one.h.batches.length} batches`);
  assert.equal(one.batches, two.batches);
  assert.deepEqual(one.h.view.entries(), two.h.view.entries());
});

test('the same holds on a hash-partitioned shard', async () => {
  const one = await run(11, 300, HASH_SHARD);
  const two = await run(11, 300, HASH_SHARD);
  assert.equal(one.batches, two.batches);
});

test('a replica applying the proposed batches alone reaches the leader state', async () => {
  const leader = await run(5, 400);
  const replica = new MemoryView();
  for (const b of leader.h.batches) leader.h.apply(b, replica);
  assert.deepEqual(replica.entries(), leader.h.view.entries());
});
