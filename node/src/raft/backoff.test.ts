// Goal: reconnect delays grow exponentially up to the cap, stay within [base/2, base] for any
// injected random value, and start over after reset().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from initial to max with the lower half of the jitter at random() = 0', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    assert.deepEqual(Array.from({ length: 6 }, () => b.nextDelayMs()), [50, 100, 200, 400, 500, 500]);
    assert.equal(b.attempts, 6);
    b.reset();
    assert.equal(b.nextDelayMs(), 50);
  });

  it('stays within [base/2, base] for any random value and any number of failures', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 80 }), (rs) => {
      let i = 0;
      const b = new Backoff({ initialMs: 10, maxMs: 5000, random: () => rs[i] ?? 0 });
      for (; i < rs.length; i++) {
        const base = Math.min(5000, 10 * 2 ** i);
        const d = b.nextDelayMs();
        assert.ok(d >= Math.floor(base / 2) && d <= base, `attempt ${i}: ${d} not in [${base / 2}, ${base}]`);
      }
    }));
  });
});
