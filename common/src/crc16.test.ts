// Goal: crc16 and keySlot agree bit-for-bit with Redis Cluster, hash tags included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc16, keySlot, SLOT_COUNT } from './crc16.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc16', () => {
  it('matches the CRC-16/XMODEM check value and the Redis cluster spec vector', () => {
    assert.equal(crc16('123456789'), 0x31c3);
    assert.equal(crc16(''), 0);
  });

  it('hashes a sub-range like the same bytes alone', () => {
    fc.assert(fc.property(fc.uint8Array(), fc.nat(), fc.nat(), (data, x, y) => {
      const start = Math.min(x, y) % (data.length + 1);
      const end = start + ((Math.max(x, y) - Math.min(x, y)) % (data.length - start + 1));
      assert.equal(crc16(data, start, end), crc16(data.slice(start, end)));
    }));
  });
});

describe('keySlot', () => {
  it('gives the slots Redis gives (CLUSTER KEYSLOT)', () => {
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('bar'), 5061);
    assert.equal(keySlot('somekey'), 11058);
    assert.equal(keySlot('hello'), 866);
    assert.equal(keySlot('123456789'), 0x31c3 % SLOT_COUNT);
  });

  it('applies the hash tag rules of the cluster spec', () => {
    assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
    assert.equal(keySlot('{user1000}.followers'), keySlot('user1000'));
    assert.equal(keySlot('foo{}{bar}'), crc16('foo{}{bar}') % SLOT_COUNT, 'empty first tag: whole key');
    assert.equal(keySlot('foo{{bar}}zap'), keySlot('{bar'), 'tag runs from the first { to the first } after it');
    assert.equal(keySlot('foo{bar}{zap}'), keySlot('bar'), 'only the first tag counts');
    assert.equal(keySlot('{}'), crc16('{}') % SLOT_COUNT);
    assert.equal(keySlot('no}tag{here'), crc16('no}tag{here') % SLOT_COUNT);
  });

  it('treats a string as its UTF-8 bytes', () => {
    assert.equal(keySlot('ключ{标签}'), keySlot(bytes('ключ{标签}')));
    assert.equal(keySlot('ключ{标签}'), keySlot('标签'));
  });

  it('puts a key with a hash tag in the slot of the tag', () => {
    const noOpen = fc.uint8Array().map((a) => a.filter((b) => b !== 0x7b));
    const tag = fc.uint8Array({ minLength: 1 }).map((a) => a.filter((b) => b !== 0x7d)).filter((a) => a.length > 0);
    fc.assert(fc.property(noOpen, tag, fc.uint8Array(), (prefix, t, suffix) => {
      const key = new Uint8Array([...prefix, 0x7b, ...t, 0x7d, ...suffix]);
      assert.equal(keySlot(key), crc16(t) % SLOT_COUNT);
    }));
  });

  it('always returns a slot in [0, 16384)', () => {
    fc.assert(fc.property(fc.uint8Array(), (key) => {
      const slot = keySlot(key);
      assert.ok(Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT);
    }));
  });
});
