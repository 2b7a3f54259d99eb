// Goal: a shard's cached figures are never reported for another key range — after a split
// the left half keeps its id, and the parent's key count would make the metaserver split
// it again and again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KeyRange } from '@shoal/common';
import { ClassicLevel } from 'classic-level';
import { ShardStatsSource } from './shard-stats.js';

const key = (i: number): Uint8Array => new TextEncoder().encode(`k${String(i).padStart(4, '0')}`);

test('stats are measured again at once when the shard range changed (split), cached otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shard-stats-'));
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(i), value: new Uint8Array(10) })));
    let range: KeyRange = { start: key(0), end: key(100) };
    const source = new ShardStatsSource({ rawReadAccess: () => ({ access: { db }, range }) });
    const raft = { term: 1, commitIndex: 10, appliedIndex: 10 };
    assert.equal((await source.stats(1, raft, 1000)).keyCount, 100);
    // Same range within the cache window: the cached figure, even if data changed.
    await db.put(key(100), new Uint8Array(10));
    range = { start: key(0), end: key(101) };
    // ...but the range did change here, so it is measured again.
    assert.equal((await source.stats(1, raft, 1001)).keyCount, 101);
    await db.del(key(5));
    assert.equal((await source.stats(1, raft, 1002)).keyCount, 101, 'same range within STATS_CACHE_MS: cached');
    // The split: the left half keeps id 1 and half the keys.
    range = { start: key(0), end: key(50) };
    assert.equal((await source.stats(1, raft, 1003)).keyCount, 49);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
