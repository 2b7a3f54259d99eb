// Goal: with cross-client coalescing on (the default), many concurrent ioredis clients whose
// keys share one shard each get the replies of their own requests, in their own order — no
// reply crosses to another connection — while the proxy really sends their commands in
// shared Kv.Exec batches (INFO cluster shoal_coalesced_batches).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startProxyEnv, waitUntil } from './harness.js';
import type { ProxyEnv } from './harness.js';

const CLIENTS = 40;
const ROUNDS = 15;

let env: ProxyEnv;
let clients: Redis[];

before(async () => {
  env = await startProxyEnv({ backendCoalesceAcrossClients: true });
  clients = Array.from({ length: CLIENTS }, () => env.redis());
  await Promise.all(clients.map((c) => c.ping()));
});

after(async () => {
  await env?.destroy();
});

async function coalescedBatches(r: Redis): Promise<number> {
  const info = await r.info('cluster');
  const m = /shoal_coalesced_batches:(\d+)/.exec(info);
  assert.ok(m !== null, `INFO cluster has shoal_coalesced_batches:\n${info}`);
  return Number(m[1]);
}

test('every client gets its own replies: INCR, SET, GET, WRONGTYPE on one shard, many clients at once', async () => {
  // `{co}` puts every key on one shard, so all clients' commands meet in one queue.
  await Promise.all(clients.map(async (r, c) => {
    const counter = `{co}:n:${c}`;
    const value = `{co}:v:${c}`;
    const list = `{co}:l:${c}`;
    await r.rpush(list, 'x');
    for (let i = 1; i <= ROUNDS; i++) {
      assert.equal(await r.incr(counter), i, `client ${c} INCR round ${i}`);
      const mine = `client-${c}-round-${i}`;
      assert.equal(await r.set(value, mine), 'OK');
      assert.equal(await r.get(value), mine, `client ${c} GET round ${i}`);
      // A Redis error of one client is that client's reply only.
      if (i % 5 === 0) await assert.rejects(r.get(list), /WRONGTYPE/);
    }
    assert.equal(await r.get(counter), String(ROUNDS));
  }));
  // Counters reach INFO within STATS_REUSE_MS (2 s).
  const probe = clients[0]!;
  const batches = await waitUntil('INFO to show coalesced batches', 10_000, async () => {
    const n = await coalescedBatches(probe);
    return n > 0 ? n : undefined;
  });
  assert.ok(batches > 0);
});

test('pipelines and MULTI/EXEC of other clients still run as before alongside coalesced commands', async () => {
  await Promise.all(clients.map(async (r, c) => {
    if (c % 2 === 0) {
      const res = await r.multi().incr(`{co}:m:${c}`).incr(`{co}:m:${c}`).exec();
      assert.deepEqual(res, [[null, 1], [null, 2]]);
    } else {
      const res = await r.pipeline().set(`{co}:p:${c}`, String(c)).get(`{co}:p:${c}`).exec();
      assert.deepEqual(res, [[null, 'OK'], [null, String(c)]]);
    }
    assert.equal(await r.get(`{co}:v:${c}`), `client-${c}-round-${ROUNDS}`);
  }));
});
