/**
 * A token bucket that caps a byte rate, shared by every caller that holds it (the
 * transport shares one across all outgoing snapshots, so recovery traffic is capped
 * node-wide, not per transfer).
 *
 * Debt model: a reservation always succeeds at once and takes its bytes from the bucket,
 * which may go negative; the caller then waits until the debt is paid back at `rate`. So
 * reservations are served in FIFO order (each later one sees the earlier debt), a chunk
 * larger than the burst still passes, and over any interval starting with a full bucket
 * at most `burstBytes + rate · t` bytes pass — the property the tests check.
 *
 * The node's one byte-rate limiter: snapshot streams (transport) and value-log GC use it.
 */
import { assert } from '@shoal/common';

export interface TokenBucketOptions {
  readonly rateBytesPerSec: number;
  /** Bytes that may pass without waiting after an idle period; the bucket starts full. */
  readonly burstBytes: number;
  /** Monotonic milliseconds; injectable for tests. Default `performance.now`. */
  readonly nowMs?: () => number;
  /** Waits without an abort signal; injectable for tests (with `nowMs`). Default: a timer. */
  readonly sleepMs?: (ms: number) => Promise<void>;
}

export class TokenBucket {
  readonly rateBytesPerSec: number;
  readonly burstBytes: number;
  private readonly nowMs: () => number;
  private readonly sleepMs: ((ms: number) => Promise<void>) | undefined;
  private tokens: number;
  private lastMs: number;

  constructor(opts: TokenBucketOptions) {
    assert(Number.isFinite(opts.rateBytesPerSec) && opts.rateBytesPerSec > 0, 'rateBytesPerSec must be > 0');
    assert(Number.isFinite(opts.burstBytes) && opts.burstBytes > 0, 'burstBytes must be > 0');
    this.rateBytesPerSec = opts.rateBytesPerSec;
    this.burstBytes = opts.burstBytes;
    this.nowMs = opts.nowMs ?? (() => performance.now());
    this.sleepMs = opts.sleepMs;
    this.tokens = opts.burstBytes;
    this.lastMs = this.nowMs();
  }

  /** Takes `bytes` now and returns how long the caller must wait before using them. */
  reserve(bytes: number): number {
    assert(Number.isInteger(bytes) && bytes >= 0, () => `bad reservation of ${bytes} bytes`);
    this.refill();
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.rateBytesPerSec;
  }

  /** Gives back a reservation that was not used (its waiter was aborted). */
  refund(bytes: number): void {
    this.refill();
    this.tokens = Math.min(this.burstBytes, this.tokens + bytes);
  }

  /**
   * Resolves when `bytes` may be sent. Rejects with the signal's reason if aborted while
   * waiting (the reservation is then refunded).
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    const waitMs = this.reserve(bytes);
    if (waitMs === 0) return Promise.resolve();
    if (this.sleepMs !== undefined && signal === undefined) return this.sleepMs(waitMs);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.refund(bytes);
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.ceil(waitMs));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private refill(): void {
    const now = this.nowMs();
    const elapsedMs = Math.max(0, now - this.lastMs);
    this.lastMs = now;
    this.tokens = Math.min(this.burstBytes, this.tokens + (elapsedMs * this.rateBytesPerSec) / 1000);
  }
}
