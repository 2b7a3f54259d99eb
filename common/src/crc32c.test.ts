// Goal: the slicing-by-8 CRC-32C matches the standard vectors and a bit-at-a-time reference on any input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32c, crc32cMask, crc32cUnmask } from './crc32c.js';

/** The definition, one bit at a time: slow and obviously right. */
function reference(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the check value and the RFC 3720 (iSCSI) vectors', () => {
    assert.equal(crc32c('123456789'), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  it('equals the bitwise reference on random data, at any alignment', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), (data, skip) => {
      const view = data.subarray(Math.min(skip, data.length));
      assert.equal(crc32c(view), reference(view));
    }));
  });

  it('chains: crc32c(b, crc32c(a)) is the CRC of a followed by b', () => {
    fc.assert(fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
      assert.equal(crc32c(b, crc32c(a)), crc32c(new Uint8Array([...a, ...b])));
    }));
  });

  it('masks reversibly and changes the value', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (crc) => {
      assert.equal(crc32cUnmask(crc32cMask(crc)), crc);
    }));
    assert.notEqual(crc32cMask(0xe3069283), 0xe3069283);
  });
});
