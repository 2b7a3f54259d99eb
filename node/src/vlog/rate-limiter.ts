/**
 * Paces a byte stream to `rateBytesPerSec`: `consume(n)` resolves once sending n more bytes
 * keeps the average at or under the rate, allowing a burst of `burstMs` worth of bytes.
 * Clock and sleep are injected so tests need no real time.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { assert } from '@shoal/common';

export interface RateLimiterOptions {
  readonly rateBytesPerSec: number;
  readonly burstMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class RateLimiter {
  private readonly rateBytesPerSec: number;
  private readonly burstMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** The time at which everything consumed so far has been "paid for". */
  private paidUntilMs = 0;

  constructor(opts: RateLimiterOptions) {
    assert(opts.rateBytesPerSec > 0, 'rateBytesPerSec must be positive');
    this.rateBytesPerSec = opts.rateBytesPerSec;
    this.burstMs = opts.burstMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => sleepMs(ms).then(() => undefined));
  }

  async consume(bytes: number): Promise<void> {
    const now = this.now();
    this.paidUntilMs = Math.max(this.paidUntilMs, now - this.burstMs) + (bytes * 1000) / this.rateBytesPerSec;
    const waitMs = this.paidUntilMs - now - this.burstMs;
    if (waitMs > 0) await this.sleep(waitMs);
  }
}
