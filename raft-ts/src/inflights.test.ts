// Goal: check the inflight window (count and bytes), freeing acknowledged messages, and ring wrap-around.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';

test('count limit', () => {
  const f = new Inflights(3, 0);
  f.add(1, 10);
  f.add(2, 10);
  assert.equal(f.full(), false);
  f.add(5, 10);
  assert.equal(f.full(), true);
  assert.throws(() => f.add(6, 1), /full inflights/);
  f.freeLE(2);
  assert.equal(f.count(), 1);
  assert.equal(f.bytes(), 10);
  assert.equal(f.full(), false);
});

test('byte limit closes the window once reached', () => {
  const f = new Inflights(100, 64);
  f.add(1, 32);
  assert.equal(f.full(), false);
  f.add(2, 32);
  assert.equal(f.full(), true);
  f.freeLE(1);
  assert.equal(f.full(), false);
  assert.equal(f.bytes(), 32);
});

test('freeLE ignores stale acks and frees everything at or below the index', () => {
  const f = new Inflights(10, 0);
  for (const i of [3, 5, 8]) f.add(i, 1);
  f.freeLE(2);
  assert.equal(f.count(), 3);
  f.freeLE(6);
  assert.equal(f.count(), 1);
  f.freeLE(100);
  assert.equal(f.count(), 0);
  assert.equal(f.bytes(), 0);
});

test('wraps around the ring many times without losing order', () => {
  const f = new Inflights(4, 0);
  let next = 1;
  let freed = 0;
  for (let round = 0; round < 50; round++) {
    while (!f.full()) f.add(next++, 2);
    freed += 2;
    f.freeLE(freed);
    assert.equal(f.count(), next - 1 - freed);
    assert.equal(f.bytes(), f.count() * 2);
  }
  assert.throws(() => f.add(1, 1), /not after/);
});

test('indexes must increase', () => {
  const f = new Inflights(4, 0);
  f.add(5, 1);
  assert.throws(() => f.add(5, 1), /not after/);
});
