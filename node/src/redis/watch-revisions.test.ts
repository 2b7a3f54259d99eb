// Goal: WATCH revisions change on every write to a key and never go back — also when the
// bounded map evicts the key (its shard's floor rises) and after a whole-shard delete —
// while writes to other keys or other shards leave a key's revision alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WatchRevisions } from './watch-revisions.js';

const k = (s: string): Uint8Array => new TextEncoder().encode(s);

test('a write changes the key\'s revision; other keys and shards do not', () => {
  const w = new WatchRevisions({ watchRevisionsMax: 10 });
  const before = w.revision(1, k('a'));
  w.touch(1, [k('b')]);
  w.touch(2, [k('a')]);
  assert.equal(w.revision(1, k('a')), before);
  w.touch(1, [k('a')]);
  const after = w.revision(1, k('a'));
  assert.notEqual(after, before);
  w.touch(1, [k('a')]);
  assert.ok(w.revision(1, k('a')) > after);
});

test('eviction raises the shard floor: an evicted key\'s revision never returns to an old value', () => {
  const w = new WatchRevisions({ watchRevisionsMax: 2 });
  w.touch(1, [k('a')]);
  const a = w.revision(1, k('a'));
  const untouched = w.revision(1, k('z'));
  w.touch(1, [k('b')]);
  w.touch(1, [k('c')]);
  assert.equal(w.size, 2);
  // 'a' was evicted: its revision is the floor, at least its own last write.
  assert.ok(w.revision(1, k('a')) >= a);
  assert.notEqual(w.revision(1, k('z')), untouched, 'a false change is allowed, a missed one is not');
  assert.equal(w.revision(2, k('a')), 0, 'other shards keep their floor');
});

test('a whole-shard write (DeleteRange) changes every key of that shard only', () => {
  const w = new WatchRevisions({ watchRevisionsMax: 100 });
  w.touch(1, [k('a')]);
  w.touch(2, [k('a')]);
  const a1 = w.revision(1, k('a'));
  const a2 = w.revision(2, k('a'));
  const z1 = w.revision(1, k('z'));
  w.touchShard(1);
  assert.notEqual(w.revision(1, k('a')), a1);
  assert.notEqual(w.revision(1, k('z')), z1);
  assert.equal(w.revision(2, k('a')), a2);
  assert.throws(() => new WatchRevisions({ watchRevisionsMax: 0 }), /watchRevisionsMax/);
});
