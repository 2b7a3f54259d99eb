/**
 * Callers waiting on the scheduler (a proposal to apply, a read to become safe), and the
 * one coarse timer that expires them (undici style: one timer for many timeouts, not one
 * per request).
 *
 * A waiter settles exactly once; settling is idempotent so a waiter may stay referenced
 * from a queue or map after its deadline passed and be skipped there later.
 */
import type { KvError } from '@shoal/common';

export class Waiter<T> {
  settled = false;
  private readonly onSettle: (() => void) | undefined;

  constructor(
    readonly deadlineMs: number,
    private readonly res: (v: T) => void,
    private readonly rej: (e: KvError) => void,
    onSettle?: () => void,
  ) {
    this.onSettle = onSettle;
  }

  /** Builds a waiter and the promise it settles. */
  static create<T>(deadlineMs: number, onSettle?: () => void): { waiter: Waiter<T>; promise: Promise<T> } {
    let res!: (v: T) => void;
    let rej!: (e: KvError) => void;
    const promise = new Promise<T>((resolve, reject) => {
      res = resolve;
      rej = reject;
    });
    return { waiter: new Waiter<T>(deadlineMs, res, rej, onSettle), promise };
  }

  resolve(v: T): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettle?.();
    this.res(v);
  }

  reject(e: KvError): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettle?.();
    this.rej(e);
  }
}

/** Something with a deadline that knows how to fail itself when it passes. */
export interface Expirable {
  readonly deadlineMs: number;
  readonly settled: boolean;
  expire(): void;
}

/**
 * Deadlines bucketed by `resolutionMs`; `expire(nowMs)` fails everything whose deadline
 * passed. Cost per call is proportional to the expired buckets, not to all waiters.
 */
export class Deadlines {
  private readonly buckets = new Map<number, Expirable[]>();
  private size = 0;

  constructor(private readonly resolutionMs: number) {}

  add(e: Expirable): void {
    const b = Math.ceil(e.deadlineMs / this.resolutionMs);
    const list = this.buckets.get(b);
    if (list === undefined) this.buckets.set(b, [e]);
    else list.push(e);
    this.size++;
  }

  get count(): number {
    return this.size;
  }

  /** Whether some deadline has passed (cheap: buckets, not waiters). */
  hasDue(nowMs: number): boolean {
    const due = Math.floor(nowMs / this.resolutionMs);
    for (const b of this.buckets.keys()) if (b <= due) return true;
    return false;
  }

  expire(nowMs: number): void {
    const due = Math.floor(nowMs / this.resolutionMs);
    for (const [b, list] of this.buckets) {
      if (b > due) continue;
      this.buckets.delete(b);
      this.size -= list.length;
      // ceil(deadline / r) <= floor(now / r) implies deadline <= now: all of them are due.
      for (const e of list) if (!e.settled) e.expire();
    }
  }
}

/** A condition some caller waits for. */
class Condition implements Expirable {
  constructor(readonly waiter: Waiter<undefined>, readonly check: () => boolean, readonly onExpire: () => KvError) {}
  get deadlineMs(): number {
    return this.waiter.deadlineMs;
  }
  get settled(): boolean {
    return this.waiter.settled;
  }
  expire(): void {
    this.waiter.reject(this.onExpire());
  }
}

/** Conditions callers wait for, re-checked by the scheduler after every turn. */
export class Conditions {
  private readonly set = new Set<Condition>();

  get size(): number {
    return this.set.size;
  }

  /** A promise resolved once `check()` holds; the returned Expirable fails it at its deadline. */
  add(check: () => boolean, deadlineMs: number, onExpire: () => KvError): { promise: Promise<undefined>; expirable: Expirable } {
    const { waiter, promise } = Waiter.create<undefined>(deadlineMs);
    const c = new Condition(waiter, check, onExpire);
    this.set.add(c);
    return { promise, expirable: c };
  }

  checkAll(): void {
    for (const c of this.set) {
      if (c.settled) {
        this.set.delete(c);
      } else if (c.check()) {
        this.set.delete(c);
        c.waiter.resolve(undefined);
      }
    }
  }

  failAll(e: KvError): void {
    for (const c of this.set) c.waiter.reject(e);
    this.set.clear();
  }
}
