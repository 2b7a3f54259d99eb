/**
 * Deadlines, back-off and cancellable sleeps. Deadlines run on the monotonic clock
 * (`performance.now`), so a wall-clock jump cannot stretch or cut a call's budget.
 */
import { KvError } from '@shoal/common';

/** A per-call time budget. */
export class Deadline {
  /** Monotonic time (performance.now) at which the budget runs out. */
  readonly atMs: number;

  constructor(readonly timeoutMs: number, startMs: number = performance.now()) {
    this.atMs = startMs + timeoutMs;
  }

  /** Milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, this.atMs - performance.now());
  }

  expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** The same instant as a wall-clock `Date`, for gRPC's `deadline` call option. */
  toDate(): Date {
    return new Date(Date.now() + this.remainingMs());
  }

  /** The earlier of this deadline and `ms` from now. */
  capped(ms: number): Deadline {
    const remaining = this.remainingMs();
    return remaining <= ms ? this : new Deadline(ms);
  }
}

/**
 * "Full jitter" exponential back-off: a uniformly random wait in [0, min(max, base·2^n)]
 * before retry n (0-based). Randomness spreads retries of many clients apart; the cap
 * bounds the wait.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * (ceiling + 1));
}

/** The error a call cancelled by `close()` fails with. */
export function cancelledError(what: string): KvError {
  return new KvError('CANCELLED', `${what}: the client is closing`);
}

/** Waits `ms`, or rejects with CANCELLED as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(cancelledError('back-off'));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError('back-off'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves or rejects like `p`, but rejects with `onTimeout()` once `deadline` passes and
 * with CANCELLED once `signal` aborts. `p` keeps running; the caller no longer waits for it.
 */
export function raceDeadline<T>(p: Promise<T>, deadline: Deadline, signal: AbortSignal, onTimeout: () => KvError): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelledError('wait'));
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(cancelledError('wait'));
    };
    const timer = setTimeout(() => {
      done();
      reject(onTimeout());
    }, deadline.remainingMs());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => {
      done();
      resolve(v);
    }, (e: unknown) => {
      done();
      reject(e);
    });
  });
}
