// Goal: the simulator's PRNG is deterministic per seed, stays in range, is not visibly biased, and its forked streams are independent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from './prng.js';

function draw(r: Prng, n: number): number[] {
  return Array.from({ length: n }, () => r.nextU32());
}

describe('Prng', () => {
  it('replays the same sequence for the same seed and differs across seeds', () => {
    assert.deepEqual(draw(new Prng(42), 100), draw(new Prng(42), 100));
    assert.notDeepEqual(draw(new Prng(42), 100), draw(new Prng(43), 100));
    // Seeds above 2^32 use their high half too.
    assert.notDeepEqual(draw(new Prng(2 ** 40), 10), draw(new Prng(0), 10));
  });

  it('intn stays in [0, n) and covers it evenly', () => {
    const r = new Prng(7);
    const counts = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const x = r.intn(10);
      assert.ok(Number.isInteger(x) && x >= 0 && x < 10);
      counts[x]!++;
    }
    for (const c of counts) assert.ok(Math.abs(c - draws / 10) < draws / 100, `bucket count ${c}`);
    assert.throws(() => r.intn(0));
    assert.throws(() => r.intn(1.5));
  });

  it('between, chance, pick and shuffle respect their contracts', () => {
    const r = new Prng(9);
    for (let i = 0; i < 1000; i++) {
      const x = r.between(-3, 3);
      assert.ok(x >= -3 && x <= 3);
    }
    assert.equal(r.chance(0), false);
    assert.equal(r.chance(1), true);
    const items = [1, 2, 3, 4, 5];
    assert.ok(items.includes(r.pick(items)));
    assert.deepEqual([...r.shuffle([...items])].sort(), items);
  });

  it('forked streams are deterministic and differ from each other', () => {
    const a = new Prng(5);
    const b = new Prng(5);
    assert.deepEqual(draw(a.fork(1), 20), draw(b.fork(1), 20));
    const c = new Prng(5);
    assert.notDeepEqual(draw(c.fork(1), 20), draw(c.fork(2), 20));
  });
});
