/**
 * Exponential backoff with jitter for reconnecting to a peer node.
 *
 * Attempt k (0-based) waits a delay drawn uniformly from [base/2, base], where
 * base = min(maxMs, initialMs · 2^k) ("equal jitter"): the lower half keeps a floor under the
 * retry rate, the random upper half keeps nodes that lost a peer at the same moment from
 * redialling in lock-step. The random source is injected so tests are deterministic.
 */
import { assert } from '@shoal/common';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Uniform in [0, 1), like Math.random. */
  readonly random: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions) {
    assert(opts.initialMs > 0 && opts.maxMs >= opts.initialMs, () => `bad backoff ${opts.initialMs}..${opts.maxMs} ms`);
    this.initialMs = opts.initialMs;
    this.maxMs = opts.maxMs;
    this.random = opts.random;
  }

  /** Failed attempts since the last `reset()`. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  nextDelayMs(): number {
    // 2^31 · initialMs is far past any sane max; capping the exponent keeps the product finite.
    const baseMs = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 31));
    this.attempt++;
    const r = this.random();
    assert(r >= 0 && r < 1, () => `random() must be in [0, 1), got ${r}`);
    const delayMs = baseMs / 2 + r * (baseMs / 2);
    assert(delayMs >= baseMs / 2 && delayMs <= this.maxMs, 'backoff delay out of bounds');
    return Math.round(delayMs);
  }

  /** A connection succeeded: the next failure starts from `initialMs` again. */
  reset(): void {
    this.attempt = 0;
  }
}
