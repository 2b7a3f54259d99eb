// Goal: the storage-key layout keeps tables, slots, range shards and internal keys in disjoint contiguous ranges, orders range tables by user key, and decodes what it encodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareBytes, toHex } from './bytes.js';
import { keySlot, SLOT_COUNT } from './crc16.js';
import { isKvError } from './errors.js';
import { shardId, tableId, TABLE_ID_MAX } from './ids.js';
import type { TableId } from './ids.js';
import {
  dataKey, decodeDataKey, decodeStorageKey, inRange, INTERNAL_RANGE, internalKey, InternalSpace, KeyKind,
  prefixRange, rangeShardBound, shardLocalKey, shardLocalRange, ShardLocalField, slotRange, slotRangeEnd,
  slotRangeStart, subKey, subKeyRange, tableRange, ttlIndexKey, ttlIndexRange, USER_RANGE, userKeyRange,
} from './keys.js';
import type { KeyRange } from './keys.js';

const T = tableId(7);
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const sign = (n: number): number => Math.sign(n);
const isCorruption = (e: unknown): boolean => isKvError(e, 'CORRUPTION');
const userKey = fc.uint8Array({ maxLength: 24 });
const table = fc.integer({ min: 1, max: TABLE_ID_MAX }).map((n) => tableId(n));
const slot = fc.integer({ min: 0, max: SLOT_COUNT - 1 });
const version = fc.nat({ max: Number.MAX_SAFE_INTEGER });

function within(key: Uint8Array, range: KeyRange): boolean {
  return inRange(key, range);
}

describe('layout', () => {
  it('writes the documented bytes', () => {
    assert.equal(toHex(dataKey(T, null, b('a'))), '00000007' + '61' + '00'.repeat(7) + 'f8' + '01');
    assert.equal(toHex(dataKey(T, 0x1234, b(''))), '00000007' + '1234' + '00'.repeat(8) + 'f7' + '01');
    assert.equal(toHex(subKey(T, 5, b('h'), 9, b('f'))), '00000007' + '0005' + '68' + '00'.repeat(7) + 'f8' + '02' + '0000000000000009' + '66');
    assert.equal(toHex(ttlIndexKey(T, 5, 1000, b('h'))), '00000007' + '0005' + '00'.repeat(9) + '01' + '00000000000003e8' + '68' + '00'.repeat(7) + 'f8');
    assert.equal(toHex(shardLocalKey(shardId(3), ShardLocalField.AppliedState)), '00000000' + '02' + '0000000000000003' + '01');
    assert.equal(toHex(internalKey(InternalSpace.Node, b('id'))), '00000000' + '01' + '6964');
  });

  it('bounds tables with the next table id and the end sentinel', () => {
    assert.equal(toHex(tableRange(T).start), '00000007');
    assert.equal(toHex(tableRange(T).end), '00000008');
    assert.equal(toHex(tableRange(tableId(TABLE_ID_MAX)).end), 'ffffffff');
    assert.deepEqual(slotRange(T, 0, SLOT_COUNT), tableRange(T));
    assert.equal(toHex(slotRangeStart(T, 100)), '000000070064');
    assert.equal(toHex(slotRangeEnd(T, 200)), '0000000700c8');
  });

  it('keeps internal keys out of every user range', () => {
    fc.assert(fc.property(table, fc.oneof(slot, fc.constant(null)), userKey, version, (t, p, k, v) => {
      for (const key of [dataKey(t, p, k), subKey(t, p, k, v, k), subKey(t, p, k, v, k, KeyKind.SubIndex)]) {
        assert.ok(within(key, USER_RANGE) && within(key, tableRange(t)) && !within(key, INTERNAL_RANGE));
      }
      const internal = shardLocalKey(shardId(v), ShardLocalField.Descriptor);
      assert.ok(within(internal, INTERNAL_RANGE) && !within(internal, USER_RANGE));
    }));
  });
});

describe('range tables', () => {
  it('order data keys by user key', () => {
    fc.assert(fc.property(userKey, userKey, (a, c) => {
      assert.equal(sign(compareBytes(dataKey(T, null, a), dataKey(T, null, c))), sign(compareBytes(a, c)));
    }));
  });

  it('split so every entry of a key below the bound sorts below it, and the rest at or above', () => {
    fc.assert(fc.property(userKey, userKey, version, userKey, (k, split, v, sub) => {
      const bound = rangeShardBound(T, split);
      const below = compareBytes(k, split) < 0;
      for (const key of [dataKey(T, null, k), subKey(T, null, k, v, sub), subKey(T, null, k, v, sub, KeyKind.SubIndex)]) {
        assert.equal(compareBytes(key, bound) < 0, below);
      }
    }));
  });

  it('keep every range shard inside the table', () => {
    fc.assert(fc.property(userKey, (k) => {
      assert.ok(within(rangeShardBound(T, k), tableRange(T)));
    }));
  });
});

describe('hash tables', () => {
  it('slot bounds contain exactly the keys of their slots', () => {
    fc.assert(fc.property(userKey, slot, slot, (k, x, y) => {
      const lo = Math.min(x, y);
      const hi = Math.max(x, y) + 1;
      const s = keySlot(k);
      const range = slotRange(T, lo, hi);
      const inside = s >= lo && s < hi;
      assert.equal(within(dataKey(T, s, k), range), inside);
      assert.equal(within(subKey(T, s, k, 1, k), range), inside);
      assert.equal(within(ttlIndexKey(T, s, 5, k), range), inside);
    }));
  });

  it('adjacent slot ranges tile the table', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: SLOT_COUNT - 1 }), (mid) => {
      assert.deepEqual(slotRange(T, 0, mid).end, slotRange(T, mid, SLOT_COUNT).start);
    }));
  });

  it('place a slot\'s TTL area before all its user keys, ordered by expiry', () => {
    fc.assert(fc.property(slot, userKey, userKey, fc.nat(), fc.nat(), (s, k1, k2, e1, e2) => {
      const ttl = ttlIndexKey(T, s, e1, k1);
      assert.ok(compareBytes(ttl, dataKey(T, s, k2)) < 0);
      assert.ok(within(ttl, ttlIndexRange(T, s)));
      if (e1 !== e2) assert.equal(sign(compareBytes(ttl, ttlIndexKey(T, s, e2, k2))), sign(e1 - e2));
      assert.equal(within(ttl, ttlIndexRange(T, s, e2)), e1 < e2);
    }));
  });
});

describe('entry ranges', () => {
  it('userKeyRange holds all of one key\'s entries and no other key\'s', () => {
    fc.assert(fc.property(fc.oneof(slot, fc.constant(null)), userKey, userKey, version, userKey, (p, k, other, v, sub) => {
      const range = userKeyRange(T, p, k);
      assert.ok(within(dataKey(T, p, k), range));
      assert.ok(within(subKey(T, p, k, v, sub), range));
      assert.ok(within(subKey(T, p, k, v, sub, KeyKind.SubIndex), range));
      if (compareBytes(k, other) !== 0) assert.ok(!within(dataKey(T, p, other), range));
    }));
  });

  it('subKeyRange holds one version\'s subkeys only', () => {
    fc.assert(fc.property(userKey, version, version, userKey, (k, v, w, sub) => {
      const range = subKeyRange(T, 9, k, v);
      assert.ok(within(subKey(T, 9, k, v, sub), range));
      assert.equal(within(subKey(T, 9, k, w, sub), range), v === w);
      assert.ok(!within(dataKey(T, 9, k), range));
      assert.ok(!within(subKey(T, 9, k, v, sub, KeyKind.SubIndex), range));
    }));
  });

  it('shardLocalRange holds one shard\'s local keys only', () => {
    const range = shardLocalRange(shardId(42));
    assert.ok(within(shardLocalKey(shardId(42), ShardLocalField.RaftState, b('x')), range));
    assert.ok(!within(shardLocalKey(shardId(43), ShardLocalField.AppliedState), range));
  });

  it('prefixRange skips trailing 0xFF bytes', () => {
    assert.equal(toHex(prefixRange(new Uint8Array([1, 0xff, 0xff])).end), '02');
  });
});

describe('decoding', () => {
  it('round-trips every key kind', () => {
    fc.assert(fc.property(table, slot, userKey, version, userKey, fc.nat(), (t, s, k, v, sub, exp) => {
      assert.deepEqual(decodeStorageKey(dataKey(t, s, k), 'hash'), { type: 'data', table: t, partition: s, userKey: k });
      assert.deepEqual(decodeStorageKey(dataKey(t, null, k), 'range'), { type: 'data', table: t, partition: null, userKey: k });
      assert.deepEqual(decodeDataKey(dataKey(t, s, k), 'hash'), { table: t, partition: s, userKey: k });
      assert.deepEqual(decodeStorageKey(subKey(t, null, k, v, sub), 'range'),
        { type: 'subkey', table: t, partition: null, userKey: k, version: v, sub });
      assert.deepEqual(decodeStorageKey(subKey(t, s, k, v, sub, KeyKind.SubIndex), 'hash'),
        { type: 'subindex', table: t, partition: s, userKey: k, version: v, sub });
      assert.deepEqual(decodeStorageKey(ttlIndexKey(t, s, exp, k), 'hash'),
        { type: 'ttl', table: t, partition: s, expireAtMs: exp, userKey: k });
    }));
    const internal = decodeStorageKey(shardLocalKey(shardId(1), ShardLocalField.Descriptor), 'hash');
    assert.equal(internal.type, 'internal');
  });

  it('rejects keys that are not data keys where a data key is expected', () => {
    assert.throws(() => decodeDataKey(subKey(T, 1, b('k'), 1, b('f')), 'hash'), isCorruption);
    assert.throws(() => decodeDataKey(shardLocalKey(shardId(1), ShardLocalField.Descriptor), 'hash'), isCorruption);
  });

  it('rejects malformed keys with CORRUPTION', () => {
    const bad: Uint8Array[] = [
      new Uint8Array([0, 0, 0]),
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 1]),
      new Uint8Array([0, 0, 0, 7, 0x40, 0x00]), // slot 16384
      new Uint8Array([...dataKey(T, 1, b('k')), 0]), // bytes after a data key
      dataKey(T, 1, b('k')).subarray(0, 15), // no kind byte
      new Uint8Array([...dataKey(T, 1, b('k')).subarray(0, 15), 0x09]), // unknown kind
      subKey(T, 1, b('k'), 1, b('')).subarray(0, 20), // truncated version
      ttlIndexKey(T, 1, 5, b('k')).subarray(0, 20), // truncated TTL entry
    ];
    for (const key of bad) assert.throws(() => decodeStorageKey(key, 'hash'), isCorruption, toHex(key));
  });
});

describe('argument checks', () => {
  it('assert on programmer errors', () => {
    assert.throws(() => dataKey(0 as TableId, null, b('k')), /not a user table id/);
    assert.throws(() => dataKey(T, SLOT_COUNT, b('k')), /not a slot/);
    assert.throws(() => slotRange(T, 5, 5), /empty slot range/);
    assert.throws(() => subKey(T, null, b('k'), -1, b('')), /non-negative safe integer/);
    assert.throws(() => ttlIndexKey(T, null as unknown as number, 1, b('k')), /hash tables only/);
  });
});
