// Goal: the SDK maps user keys into the storage keyspace exactly as the node does (data
// keys, slots with hash tags), and scan positions translate back into request bounds that
// are never on the wrong side of the position.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataKey, keySlot, rangeShardBound, slotRangeStart, tableEnd, tableId, tableStart, toBytes } from '@shoal/common';
import { TableKeyspace } from './keyspace.js';

const T = tableId(42);
const b = (s: string): Uint8Array => toBytes(s);

test('data keys match common\'s layout: slot prefix on hash tables only', () => {
  const range = new TableKeyspace(T, 'range');
  const hash = new TableKeyspace(T, 'hash');
  assert.deepEqual(range.dataKey(b('k')), dataKey(T, null, b('k')));
  assert.deepEqual(hash.dataKey(b('k')), dataKey(T, keySlot('k'), b('k')));
  assert.equal(hash.slotOf(b('{tag}a')), keySlot('tag'));
  assert.equal(range.slotOf(b('x')), null);
  assert.deepEqual(range.start, tableStart(T));
  assert.deepEqual(range.end, tableEnd(T));
});

test('after(k) is the first position past every entry of k and before the next key', () => {
  const ks = new TableKeyspace(T, 'range');
  const a = ks.after(b('a'));
  assert.ok(Buffer.compare(a, ks.dataKey(b('a'))) > 0);
  assert.ok(Buffer.compare(a, ks.dataKey(b('a\u0000'))) < 0);
  assert.ok(Buffer.compare(a, rangeShardBound(T, b('a\u0000'))) <= 0);
});

test('requestKeyAt: bounds decode to their key; table and slot starts, and foreign bounds, to the empty key', () => {
  const range = new TableKeyspace(T, 'range');
  const hash = new TableKeyspace(T, 'hash');
  assert.deepEqual(range.requestKeyAt(rangeShardBound(T, b('split'))), b('split'));
  assert.deepEqual(range.requestKeyAt(range.after(b('last'))), b('last'));
  assert.deepEqual(range.requestKeyAt(range.dataKey(b('next'))), b('next'));
  assert.equal(range.requestKeyAt(range.start).length, 0);
  assert.equal(range.requestKeyAt(range.end).length, 0);
  assert.deepEqual(hash.requestKeyAt(hash.after(b('hk'))), b('hk'));
  assert.equal(hash.requestKeyAt(slotRangeStart(T, 5000)).length, 0);
  assert.equal(hash.slotAt(slotRangeStart(T, 5000)), 5000);
  assert.equal(hash.slotAt(hash.after(b('foo'))), keySlot('foo'));
  const foreign = Uint8Array.from([...tableStart(T), 1, 2, 3]);
  assert.equal(range.requestKeyAt(foreign).length, 0, 'not a key bound: scan from the shard start and filter');
});
