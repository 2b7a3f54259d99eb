// Goal: initial shard ranges tile a table's storage-key range exactly (hash: slots 0..16384 in equal runs; range: cut at the split keys), and hash shard bounds decode back to their slots.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareBytes, dataKey, inRange, keySlot, rangeShardBound, SLOT_COUNT, tableEnd, tableId, tableStart,
} from '@shoal/common';
import {
  checkSplitKeys, hashMiddleKey, hashShardRanges, isPowerOfTwo, rangeShardRanges, rangesOverlap, slotBoundsOf,
  strictlyInside, tilesTable,
} from './key-ranges.js';
import { utf8 } from './testing/fixtures.js';

const T = tableId(9);

describe('hash tables', () => {
  for (const n of [1, 2, 4, 64, 1024, SLOT_COUNT]) {
    it(`${n} shards tile the table and own ${SLOT_COUNT / n} slots each`, () => {
      const ranges = hashShardRanges(T, n);
      assert.equal(ranges.length, n);
      assert.ok(tilesTable(T, ranges));
      let next = 0;
      for (const r of ranges) {
        const slots = slotBoundsOf(T, r);
        assert.deepEqual(slots, { lo: next, hi: next + SLOT_COUNT / n });
        next = slots!.hi;
      }
      assert.equal(next, SLOT_COUNT);
    });
  }

  it('every key of a slot falls in the shard owning the slot', () => {
    const ranges = hashShardRanges(T, 8);
    for (const k of ['a', 'foo', '{user}:1', 'zzz', '']) {
      const slot = keySlot(utf8(k));
      const owner = ranges.filter((r) => inRange(dataKey(T, slot, utf8(k)), { start: r.startKey, end: r.endKey }));
      assert.equal(owner.length, 1, k);
      const b = slotBoundsOf(T, owner[0]!)!;
      assert.ok(slot >= b.lo && slot < b.hi);
    }
  });

  it('the middle key halves a slot range; a single slot has none', () => {
    const [first] = hashShardRanges(T, 4);
    const mid = hashMiddleKey(T, first!)!;
    assert.deepEqual(slotBoundsOf(T, { startKey: first!.startKey, endKey: mid }), { lo: 0, hi: 2048 });
    assert.deepEqual(slotBoundsOf(T, { startKey: mid, endKey: first!.endKey }), { lo: 2048, hi: 4096 });
    const single = hashShardRanges(T, SLOT_COUNT)[5]!;
    assert.equal(hashMiddleKey(T, single), null);
  });

  it('bounds of another table or a range table are not slot bounds', () => {
    const [r] = hashShardRanges(tableId(10), 2);
    assert.equal(slotBoundsOf(T, r!), null);
    assert.equal(slotBoundsOf(T, { startKey: tableStart(T), endKey: rangeShardBound(T, utf8('m')) }), null);
  });

  it('isPowerOfTwo', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 6, 8, 16384].map(isPowerOfTwo), [false, true, true, false, true, false, true, true]);
  });
});

describe('range tables', () => {
  it('no split key: one shard covering the table', () => {
    const ranges = rangeShardRanges(T, []);
    assert.equal(ranges.length, 1);
    assert.deepEqual(ranges[0], { startKey: tableStart(T), endKey: tableEnd(T) });
  });

  it('N split keys: N + 1 shards tiling the table, user keys in order', () => {
    const keys = ['g', 'n', 'u'].map(utf8);
    const ranges = rangeShardRanges(T, keys);
    assert.equal(ranges.length, 4);
    assert.ok(tilesTable(T, ranges));
    const owner = (k: string): number => ranges.findIndex((r) => inRange(dataKey(T, null, utf8(k)), { start: r.startKey, end: r.endKey }));
    assert.deepEqual(['a', 'g', 'h', 'n', 'tz', 'u', 'zzzz'].map(owner), [0, 1, 1, 2, 2, 3, 3]);
  });

  it('split keys must be non-empty and strictly increasing', () => {
    assert.equal(checkSplitKeys([utf8('a'), utf8('b')]), null);
    assert.equal(checkSplitKeys([utf8('b'), utf8('a')])?.code, 'INVALID_ARGUMENT');
    assert.equal(checkSplitKeys([utf8('a'), utf8('a')])?.code, 'INVALID_ARGUMENT');
    assert.equal(checkSplitKeys([new Uint8Array()])?.code, 'INVALID_ARGUMENT');
  });
});

describe('range helpers', () => {
  it('overlap, inside, tiling detect gaps', () => {
    const [a, b] = rangeShardRanges(T, [utf8('m')]);
    assert.equal(rangesOverlap(a!, b!), false);
    assert.equal(rangesOverlap(a!, { startKey: tableStart(T), endKey: tableEnd(T) }), true);
    assert.ok(strictlyInside(a!.endKey, { startKey: tableStart(T), endKey: tableEnd(T) }));
    assert.equal(strictlyInside(a!.startKey, a!), false);
    assert.equal(tilesTable(T, [a!]), false);
    assert.ok(compareBytes(a!.endKey, b!.startKey) === 0);
  });
});
