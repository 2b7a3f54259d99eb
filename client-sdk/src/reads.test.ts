// Goal: read consistency reaches the wire and the right replicas — linearizable reads go
// to the leader only, follower and stale reads spread over every replica, stale reads
// carry maxStalenessMs, and the call > client > table order of defaults holds.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { common } from '@shoal/proto';
import type { kv } from '@shoal/proto';
import type { Shoal } from './shoal.js';
import { FakeCluster } from './testing/fake-cluster.js';
import { codeOf, connect } from './testing/helpers.js';

let c: FakeCluster;
let db: Shoal;

before(async () => {
  c = await FakeCluster.start({ nodes: 3 });
  c.createTable({ name: 't', scheme: 'hash', leader: 1 });
  c.createTable({ name: 'stale-by-default', scheme: 'hash', leader: 1, readPolicy: common.ReadConsistency.STALE, maxStalenessMs: 777 });
  db = await connect(c);
  await db.table('t').put('k', 'v');
});

after(async () => {
  await db.close();
  c.stop();
});

/** Gets per node since the snapshot `since`. */
function reads(since: readonly number[]): number[] {
  return c.nodes.map((n, i) => n.count('Get') - since[i]!);
}
const snapshot = (): number[] => c.nodes.map((n) => n.count('Get'));
const lastHeader = (nodeId: number) => c.node(nodeId).seen.filter((s) => s.method === 'Get').at(-1)!.header!;

test('linearizable reads go to the leader only', async () => {
  const s = snapshot();
  for (let i = 0; i < 9; i++) await db.table('t').get('k');
  assert.deepEqual(reads(s), [9, 0, 0]);
  assert.equal(lastHeader(1).consistency, common.ReadConsistency.LINEARIZABLE);
});

test('follower reads spread over every replica (round-robin)', async () => {
  const s = snapshot();
  for (let i = 0; i < 9; i++) await db.table('t').get('k', { consistency: 'follower' });
  assert.deepEqual(reads(s), [3, 3, 3]);
  assert.equal(lastHeader(2).consistency, common.ReadConsistency.FOLLOWER);
});

test('stale reads spread too and carry maxStalenessMs', async () => {
  const s = snapshot();
  for (let i = 0; i < 6; i++) await db.table('t').get('k', { consistency: 'stale', maxStalenessMs: 250 });
  assert.deepEqual(reads(s), [2, 2, 2]);
  for (const id of [1, 2, 3]) {
    assert.equal(lastHeader(id).consistency, common.ReadConsistency.STALE);
    assert.equal(lastHeader(id).maxStalenessMs, 250);
  }
});

test('getMany and scan use the read consistency too', async () => {
  const s = snapshot();
  const batch = c.nodes.map((n) => n.count('BatchGet'));
  const scans = c.nodes.map((n) => n.count('Scan'));
  for (let i = 0; i < 3; i++) {
    await db.table('t').getMany(['k', 'x'], { consistency: 'follower' });
    await db.table('t').scan({ consistency: 'stale', maxStalenessMs: 5 }).toArray();
  }
  assert.deepEqual(reads(s), [0, 0, 0]);
  assert.deepEqual(c.nodes.map((n, i) => n.count('BatchGet') - batch[i]!), [1, 1, 1]);
  assert.deepEqual(c.nodes.map((n, i) => n.count('Scan') - scans[i]!), [1, 1, 1]);
  assert.equal(c.node(3).seen.filter((x) => x.method === 'Scan').at(-1)!.header!.maxStalenessMs, 5);
});

/** The header of the one Get `fn` sends. */
async function headerOf(fn: () => Promise<unknown>): Promise<kv.RequestHeader> {
  const before = c.nodes.map((n) => n.seen.length);
  await fn();
  const fresh = c.nodes.flatMap((n, i) => n.seen.slice(before[i])).filter((x) => x.method === 'Get');
  assert.equal(fresh.length, 1);
  return fresh[0]!.header!;
}

test('defaults: the table\'s read policy, then the client\'s, then the call\'s', async () => {
  const h = await headerOf(() => db.table('stale-by-default').get('k'));
  assert.equal(h.consistency, common.ReadConsistency.STALE);
  assert.equal(h.maxStalenessMs, 777);
  const other = await connect(c, { readConsistency: 'follower' });
  try {
    await other.table('stale-by-default').get('warm-up');
    const h2 = await headerOf(() => other.table('stale-by-default').get('k'));
    assert.equal(h2.consistency, common.ReadConsistency.FOLLOWER, 'the client default beats the table policy');
    assert.equal(h2.maxStalenessMs, 0);
    const h3 = await headerOf(() => other.table('stale-by-default').get('k', { consistency: 'stale', maxStalenessMs: 9 }));
    assert.equal(h3.consistency, common.ReadConsistency.STALE, 'the call beats both');
    assert.equal(h3.maxStalenessMs, 9);
  } finally {
    await other.close();
  }
});

test('maxStalenessMs with another explicit consistency is refused', async () => {
  assert.equal(await codeOf(db.table('t').get('k', { consistency: 'follower', maxStalenessMs: 5 } as never)), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(db.table('t').get('k', { maxStalenessMs: 5 })), 'INVALID_ARGUMENT', 'table t reads linearizable by default');
  assert.equal(await codeOf(db.table('t').get('k', { consistency: 'stale', maxStalenessMs: -1 })), 'INVALID_ARGUMENT');
});
