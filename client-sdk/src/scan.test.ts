// Goal: scans return every key exactly once, in order, while shards split and merge under
// them (routes learned from EPOCH_NOT_MATCH / SHARD_NOT_FOUND, not announced), forward and
// reverse, on range and hash tables; and a cursor taken at any point resumes the scan in
// another client after further route changes, again without skipping or repeating a key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keySlot } from '@shoal/common';
import { parseScanCursor } from './cursor.js';
import type { Scanner } from './scan.js';
import type { Shoal } from './shoal.js';
import { FakeCluster } from './testing/fake-cluster.js';
import { connect, str } from './testing/helpers.js';

const rangeKeys = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`);
const hashKeys = Array.from({ length: 60 }, (_, i) => `h${i}`);
const hashOrder = (a: string, b: string): number => keySlot(a) - keySlot(b) || (a < b ? -1 : a > b ? 1 : 0);

async function setup(scheme: 'range' | 'hash', keys: readonly string[]): Promise<{ c: FakeCluster; db: Shoal; tid: number }> {
  const c = await FakeCluster.start();
  c.createTable({ name: 't', scheme, leader: 1 });
  // No route watch: the client must learn every change from the nodes' rejections.
  const db = await connect(c, { watchRoutes: false });
  for (const k of keys) await db.table('t').put(k, `v-${k}`);
  return { c, db, tid: c.tableId('t') };
}

/** Runs a scan, calling `at(n)` after the n-th entry (1-based); returns the keys. */
async function drain(s: Scanner, at: (n: number) => void = () => undefined, stopAfter = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const e of s) {
    out.push(str(e.key));
    assert.equal(str(e.value), `v-${str(e.key)}`);
    at(out.length);
    if (out.length >= stopAfter) break;
  }
  return out;
}

/** Scans carrying a stale epoch that nodes rejected. */
function staleScans(c: FakeCluster): number {
  return c.nodes.flatMap((n) => n.seen).filter((s) => {
    if (s.method !== 'Scan') return false;
    const d = c.shard(s.header?.shardId ?? 0);
    return d === undefined || d.epoch?.version !== s.header?.epoch?.version;
  }).length;
}

test('range scan: splits behind, at and ahead of the position, then a merge, mid-scan', async () => {
  const { c, db, tid } = await setup('range', rangeKeys);
  try {
    const changes: Record<number, () => void> = {
      5: () => c.split(c.shardsOf(tid)[0]!.id, c.keyBound(tid, 'k02')), // behind the position
      9: () => c.split(c.shardsOf(tid)[1]!.id, c.keyBound(tid, 'k09')), // exactly at it
      14: () => c.split(c.shardsOf(tid)[2]!.id, c.keyBound(tid, 'k20')), // ahead
      22: () => { const ds = c.shardsOf(tid); c.merge(ds[2]!.id, ds[3]!.id); }, // the shard being scanned merges
    };
    const got = await drain(db.table('t').scan({ pageSize: 3 }), (n) => changes[n]?.());
    assert.deepEqual(got, rangeKeys);
    assert.ok(staleScans(c) >= 3, `the route changes were met as rejections (${staleScans(c)})`);
  } finally {
    await db.close();
    c.stop();
  }
});

test('reverse range scan with bounds: splits mid-scan lose and repeat nothing', async () => {
  const { c, db, tid } = await setup('range', rangeKeys);
  try {
    const changes: Record<number, () => void> = {
      3: () => c.split(c.shardsOf(tid)[0]!.id, c.keyBound(tid, 'k20')),
      8: () => c.split(c.shardsOf(tid)[0]!.id, c.keyBound(tid, 'k17')),
      12: () => c.split(c.shardsOf(tid)[0]!.id, c.keyBound(tid, 'k05')),
    };
    const got = await drain(db.table('t').scan({ reverse: true, start: 'k03', end: 'k27', pageSize: 2 }), (n) => changes[n]?.());
    assert.deepEqual(got, rangeKeys.filter((k) => k >= 'k03' && k < 'k27').reverse());
    assert.ok(staleScans(c) >= 2);
  } finally {
    await db.close();
    c.stop();
  }
});

test('hash scan: the table doubles twice mid-scan; every key once in (slot, key) order', async () => {
  const { c, db, tid } = await setup('hash', hashKeys);
  try {
    const double = (): void => {
      for (const d of c.shardsOf(tid)) {
        const lo = d.startKey.length === 0 ? 0 : (d.startKey[4]! << 8) | d.startKey[5]!;
        const hi = d.endKey.length === 0 ? 16384 : (d.endKey[4]! << 8) | d.endKey[5]!;
        c.split(d.id, c.slotBound(tid, (lo + hi) / 2));
      }
    };
    const got = await drain(db.table('t').scan({ pageSize: 4 }), (n) => (n === 10 || n === 35 ? double() : undefined));
    assert.deepEqual(got, [...hashKeys].sort(hashOrder));
    assert.equal(c.shardsOf(tid).length, 4);
    assert.ok(staleScans(c) >= 2);
  } finally {
    await db.close();
    c.stop();
  }
});

test('cursor: taken mid-scan, resumed by another client after splits and a merge, continues exactly after the last key', async () => {
  for (const scheme of ['range', 'hash'] as const) {
    const keys = scheme === 'range' ? rangeKeys : [...hashKeys].sort(hashOrder);
    const { c, db, tid } = await setup(scheme, keys);
    const other = await connect(c, { watchRoutes: false });
    try {
      const first = db.table('t').scan({ pageSize: 4 });
      const head = await drain(first, undefined, 11);
      const cursor = first.cursor!;
      const parsed = parseScanCursor(cursor);
      assert.equal(str(parsed.lastKey!), head.at(-1));
      assert.equal(parsed.slot, scheme === 'hash' ? keySlot(head.at(-1)!) : null);
      // The cluster changes before the scan resumes elsewhere.
      const [only] = c.shardsOf(tid);
      const at = scheme === 'range' ? c.keyBound(tid, head.at(-1)!) : c.slotBound(tid, keySlot(head.at(-1)!));
      const right = c.split(only!.id, at);
      c.split(right, scheme === 'range' ? c.keyBound(tid, 'k25') : c.slotBound(tid, 15000));
      c.merge(only!.id, right);
      const tail = await drain(other.table('t').scan({ cursor, pageSize: 3 }));
      assert.deepEqual([...head, ...tail], keys, scheme);
    } finally {
      await other.close();
      await db.close();
      c.stop();
    }
  }
});

test('cursor: with a limit, after a shard boundary, at the end, and misuse', async () => {
  const { c, db, tid } = await setup('range', rangeKeys);
  c.createTable({ name: 'other', scheme: 'range' });
  try {
    c.split(c.shardsOf(tid)[0]!.id, c.keyBound(tid, 'k10'));
    const t = db.table('t');
    let s = t.scan({ limit: 10, pageSize: 10 });
    const got = await drain(s);
    assert.deepEqual(got, rangeKeys.slice(0, 10));
    assert.equal(s.done, false);
    const saved = s.cursor!;
    const c1 = parseScanCursor(saved);
    assert.equal(c1.lastKey, undefined, 'the page ended the shard: the cursor is its end bound');
    s = t.scan({ cursor: s.cursor!, limit: 5 });
    assert.deepEqual(await drain(s), rangeKeys.slice(10, 15));
    s = t.scan({ cursor: s.cursor! });
    assert.deepEqual(await drain(s), rangeKeys.slice(15));
    assert.equal(s.done, true);
    assert.equal(s.cursor, undefined);
    await assert.rejects(drain(s), { code: 'INVALID_ARGUMENT' }, 'a scanner runs once');
    assert.throws(() => t.scan({ cursor: 'nonsense' }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => t.scan({ cursor: saved, start: 'a' }), { code: 'INVALID_ARGUMENT' }, 'a cursor carries its own bounds');
    assert.throws(() => t.scan({ cursor: saved, reverse: true }), { code: 'INVALID_ARGUMENT' }, 'and its direction');
    await assert.rejects(drain(db.table('other').scan({ cursor: saved })), { code: 'INVALID_ARGUMENT' }, 'and its table');
    const bounded = t.scan({ start: 'k05', end: 'k08', limit: 1 });
    await drain(bounded);
    assert.deepEqual(await drain(t.scan({ cursor: bounded.cursor! })), ['k06', 'k07'], 'the cursor keeps the bounds');
  } finally {
    await db.close();
    c.stop();
  }
});
