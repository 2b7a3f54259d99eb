// Goal: the memcomparable codecs preserve order, round-trip, are self-delimiting and reject malformed bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareBytes, toHex } from './bytes.js';
import { isKvError } from './errors.js';
import { decodeBytes, decodeI64, decodeU64, encodeBytes, encodedBytesLength, encodeI64, encodeU64 } from './memcomparable.js';

const sign = (n: number): number => Math.sign(n);
const isCorruption = (e: unknown): boolean => isKvError(e, 'CORRUPTION');

describe('encodeBytes', () => {
  it('produces the TiKV group encoding', () => {
    assert.equal(toHex(encodeBytes(new Uint8Array())), '0000000000000000f7');
    assert.equal(toHex(encodeBytes(new Uint8Array([1, 2, 3]))), '010203' + '0000000000' + 'fa');
    assert.equal(toHex(encodeBytes(new Uint8Array(8).fill(0xab))), 'ab'.repeat(8) + 'ff' + '0000000000000000f7');
    assert.equal(toHex(encodeBytes(new Uint8Array(9).fill(1))), '01'.repeat(8) + 'ff' + '01' + '00'.repeat(7) + 'f8');
  });

  it('round-trips and has the predicted length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (v) => {
      const enc = encodeBytes(v);
      assert.equal(enc.length, encodedBytesLength(v.length));
      const { value, next } = decodeBytes(enc);
      assert.deepEqual(value, v);
      assert.equal(next, enc.length);
    }));
  });

  it('preserves byte-lexicographic order', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
      assert.equal(sign(compareBytes(encodeBytes(a), encodeBytes(b))), sign(compareBytes(a, b)));
    }));
  });

  it('preserves order on near-equal inputs (shared prefixes, zero bytes)', () => {
    const small = fc.uint8Array({ maxLength: 20 }).map((a) => a.map((b) => b % 3));
    fc.assert(fc.property(small, small, (a, b) => {
      assert.equal(sign(compareBytes(encodeBytes(a), encodeBytes(b))), sign(compareBytes(a, b)));
    }));
  });

  it('is self-delimiting: order survives anything appended, and decoding stops at the end', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ maxLength: 30 }), fc.uint8Array(), fc.uint8Array(), (a, b, x, y) => {
      fc.pre(compareBytes(a, b) !== 0);
      const ea = new Uint8Array([...encodeBytes(a), ...x]);
      const eb = new Uint8Array([...encodeBytes(b), ...y]);
      assert.equal(sign(compareBytes(ea, eb)), sign(compareBytes(a, b)));
      const d = decodeBytes(ea);
      assert.deepEqual(d.value, a);
      assert.equal(d.next, encodedBytesLength(a.length));
    }));
  });

  it('decodes at an offset', () => {
    const buf = new Uint8Array([7, 7, ...encodeBytes(new Uint8Array([5])), 9]);
    assert.deepEqual(decodeBytes(buf, 2), { value: new Uint8Array([5]), next: 11 });
  });
});

describe('decodeBytes on malformed input', () => {
  it('rejects truncation', () => {
    assert.throws(() => decodeBytes(new Uint8Array(8)), isCorruption);
    assert.throws(() => decodeBytes(encodeBytes(new Uint8Array(8)).subarray(0, 9)), isCorruption);
  });

  it('rejects a marker below 0xF7', () => {
    assert.throws(() => decodeBytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0xf6])), isCorruption);
    assert.throws(() => decodeBytes(new Uint8Array(9)), isCorruption);
  });

  it('rejects non-zero padding (non-canonical encodings)', () => {
    assert.throws(() => decodeBytes(new Uint8Array([1, 2, 3, 0, 0, 0, 0, 1, 0xfa])), isCorruption);
  });

  it('accepts exactly the encodings encodeBytes produces', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 9, maxLength: 27 }), (junk) => {
      let decoded: Uint8Array | undefined;
      try {
        decoded = decodeBytes(junk).value;
      } catch (e) {
        assert.ok(isCorruption(e));
        return;
      }
      const canonical = encodeBytes(decoded);
      assert.deepEqual(junk.subarray(0, canonical.length), canonical);
    }));
  });
});

describe('fixed-width integers', () => {
  it('u64 round-trips and preserves order', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (a, b) => {
      assert.equal(decodeU64(encodeU64(a)).value, a);
      assert.equal(sign(compareBytes(encodeU64(a), encodeU64(b))), a < b ? -1 : a > b ? 1 : 0);
    }));
  });

  it('i64 round-trips and sorts negatives first', () => {
    const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    fc.assert(fc.property(i64, i64, (a, b) => {
      assert.equal(decodeI64(encodeI64(a)).value, a);
      assert.equal(sign(compareBytes(encodeI64(a), encodeI64(b))), a < b ? -1 : a > b ? 1 : 0);
    }));
  });

  it('rejects out-of-range values and truncated input', () => {
    assert.throws(() => encodeU64(-1n), (e: unknown) => isKvError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => encodeI64(2n ** 63n), (e: unknown) => isKvError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => decodeU64(new Uint8Array(7)), isCorruption);
    assert.throws(() => decodeI64(new Uint8Array(9), 2), isCorruption);
  });
});
