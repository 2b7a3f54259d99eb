// Goal: the token bucket lets at most burst + rate·t bytes pass in any interval, serves
// reservations in order, lets oversized chunks through as debt, and refunds aborted waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isKvError, KvError } from '@shoal/common';
import { TokenBucket } from './rate-limiter.js';

describe('TokenBucket', () => {
  it('computes waits from the rate (injected clock)', () => {
    let now = 0;
    const b = new TokenBucket({ rateBytesPerSec: 1000, burstBytes: 100, nowMs: () => now });
    assert.equal(b.reserve(100), 0); // the burst
    assert.equal(b.reserve(50), 50); // 50 bytes of debt at 1000 B/s
    assert.equal(b.reserve(1000), 1050); // FIFO: waits behind the earlier debt; larger than the burst is fine
    now = 2000; // debt paid, bucket refilled to (not beyond) the burst
    assert.equal(b.reserve(100), 0);
    assert.equal(b.reserve(1), 1);
  });

  it('never lets more than burst + rate·t bytes be usable by time t (property)', () => {
    fc.assert(fc.property(fc.array(fc.record({ bytes: fc.nat(5000), gapMs: fc.nat(50) }), { maxLength: 60 }), (ops) => {
      let now = 0;
      const rate = 10_000;
      const burst = 1000;
      const b = new TokenBucket({ rateBytesPerSec: rate, burstBytes: burst, nowMs: () => now });
      let total = 0;
      for (const op of ops) {
        now += op.gapMs;
        const usableAt = now + b.reserve(op.bytes);
        total += op.bytes;
        assert.ok(total <= burst + (rate * usableAt) / 1000 + 1e-6, `${total} bytes usable at ${usableAt} ms`);
      }
    }));
  });

  it('acquire waits for the debt and refunds when aborted', async () => {
    const b = new TokenBucket({ rateBytesPerSec: 100_000, burstBytes: 1000 });
    await b.acquire(1000);
    const start = performance.now();
    await b.acquire(2000); // 20 ms of debt
    assert.ok(performance.now() - start >= 15, 'waited for the debt');
    const ac = new AbortController();
    const pending = b.acquire(1_000_000, ac.signal);
    ac.abort(new KvError('CANCELLED', 'stop'));
    await assert.rejects(pending, (e) => isKvError(e, 'CANCELLED'));
    assert.ok(b.reserve(0) < 100, 'the aborted reservation was refunded');
  });
});
