/**
 * Per-key latches of a shard leader (TiKV's scheduler latches): a command that writes keys
 * holds their latches from before it reads until its proposal is applied, so the next
 * command on any of those keys reads the result.
 *
 * - FIFO per key: a command is queued on each of its keys and runs when it is at the head
 *   of every one of its queues.
 * - Deadlock-free multi-key acquisition: a command's keys are deduplicated, sorted and
 *   queued all at once (one synchronous step). So for any two commands sharing keys, the
 *   one queued first is ahead in every shared queue; the earliest queued waiting command is
 *   therefore at the head of all its queues as soon as the holders ahead of it release,
 *   and holders never wait for latches (they wait only for their own proposal).
 * - Bounded: at most `waitersMax` commands waiting node-wide and `queuePerKeyMax` per key
 *   (holder included); beyond that `acquire` fails with SERVER_BUSY at once (retryable:
 *   nothing happened). A waiter whose AbortSignal fires leaves every queue and rejects
 *   with the signal's KvError reason, or TIMEOUT.
 */
import { assert, isKvError, KvError } from '@shoal/common';
import { keyId } from './memory-view.js';

export interface LatchOptions {
  /** Commands waiting (not yet holding) across all keys. Default 10,000. */
  readonly waitersMax?: number;
  /** Commands queued on one key, holder included. Default 1,000. */
  readonly queuePerKeyMax?: number;
  /** Keys one command may latch. Default 100,000. */
  readonly keysPerCommandMax?: number;
  /** The back-off SERVER_BUSY suggests. Default 10 ms. */
  readonly busyRetryAfterMs?: number;
}

export interface LatchGuard {
  /** Releases every latch of the command; idempotent. */
  release(): void;
}

class Waiter {
  notHead = 0;
  granted = false;
  released = false;
  settle: ((err?: unknown) => void) | undefined;

  constructor(readonly ids: readonly string[]) {}
}

export class LatchManager {
  private readonly queues = new Map<string, Waiter[]>();
  private waiting = 0;
  private readonly waitersMax: number;
  private readonly queuePerKeyMax: number;
  private readonly keysPerCommandMax: number;
  private readonly busyRetryAfterMs: number;

  constructor(options: LatchOptions = {}) {
    this.waitersMax = positive(options.waitersMax ?? 10_000, 'waitersMax');
    this.queuePerKeyMax = positive(options.queuePerKeyMax ?? 1_000, 'queuePerKeyMax');
    this.keysPerCommandMax = positive(options.keysPerCommandMax ?? 100_000, 'keysPerCommandMax');
    this.busyRetryAfterMs = positive(options.busyRetryAfterMs ?? 10, 'busyRetryAfterMs');
  }

  /** Latched keys and waiting commands (for metrics and tests). */
  stats(): { keys: number; waiting: number } {
    return { keys: this.queues.size, waiting: this.waiting };
  }

  /**
   * Resolves once the command holds every key's latch. Rejects SERVER_BUSY (queues full),
   * REQUEST_TOO_LARGE (too many keys) or the abort reason.
   */
  acquire(keys: readonly Uint8Array[], signal?: AbortSignal): Promise<LatchGuard> {
    const ids = normalize(keys);
    if (ids.length > this.keysPerCommandMax) {
      return Promise.reject(new KvError('REQUEST_TOO_LARGE', `${ids.length} keys exceed ${this.keysPerCommandMax} latches per command`));
    }
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const free = ids.every((id) => !this.queues.has(id));
    if (!free) {
      if (this.waiting >= this.waitersMax) return Promise.reject(this.busy(`${this.waiting} commands wait for latches`));
      for (const id of ids) {
        if ((this.queues.get(id)?.length ?? 0) >= this.queuePerKeyMax) return Promise.reject(this.busy('too many commands queued on one key'));
      }
    }
    const w = this.enqueue(ids);
    if (w.notHead === 0) {
      w.granted = true;
      return Promise.resolve(this.guard(w));
    }
    this.waiting++;
    return new Promise<LatchGuard>((resolve, reject) => {
      const onAbort = (): void => {
        if (w.granted) return;
        this.waiting--;
        this.remove(w);
        w.settle = undefined;
        reject(abortError(signal!));
      };
      w.settle = (e?: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        if (e === undefined) resolve(this.guard(w));
        else reject(e);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The latches if every key is free right now, else undefined (for background work that must not queue). */
  tryAcquire(keys: readonly Uint8Array[]): LatchGuard | undefined {
    const ids = normalize(keys);
    if (ids.length > this.keysPerCommandMax || !ids.every((id) => !this.queues.has(id))) return undefined;
    const w = this.enqueue(ids);
    assert(w.notHead === 0, 'tryAcquire on free keys must hold at once');
    w.granted = true;
    return this.guard(w);
  }

  private enqueue(ids: readonly string[]): Waiter {
    const w = new Waiter(ids);
    for (const id of ids) {
      const q = this.queues.get(id);
      if (q === undefined) {
        this.queues.set(id, [w]);
      } else {
        q.push(w);
        w.notHead++;
      }
    }
    return w;
  }

  private guard(w: Waiter): LatchGuard {
    return {
      release: (): void => {
        if (w.released) return;
        w.released = true;
        this.remove(w);
      },
    };
  }

  /** Takes `w` out of each of its queues, granting whoever becomes head of all theirs. */
  private remove(w: Waiter): void {
    for (const id of w.ids) {
      const q = this.queues.get(id);
      assert(q !== undefined, () => `latch queue for a key of a queued command is missing`);
      const at = q.indexOf(w);
      assert(at >= 0, 'command missing from its latch queue');
      q.splice(at, 1);
      if (q.length === 0) {
        this.queues.delete(id);
        continue;
      }
      if (at === 0) this.promote(q[0]!);
    }
  }

  private promote(next: Waiter): void {
    next.notHead--;
    assert(next.notHead >= 0, 'latch head count below zero');
    if (next.notHead > 0 || next.granted) return;
    next.granted = true;
    this.waiting--;
    next.settle?.();
  }

  private busy(why: string): KvError {
    return new KvError('SERVER_BUSY', `latches: ${why}`, { details: { retryAfterMs: this.busyRetryAfterMs } });
  }
}

function normalize(keys: readonly Uint8Array[]): string[] {
  return [...new Set(keys.map(keyId))].sort();
}

function abortError(signal: AbortSignal): KvError {
  const r: unknown = signal.reason;
  return isKvError(r) ? r : new KvError('TIMEOUT', 'gave up waiting for key latches', { cause: r });
}

function positive(n: number, option: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new KvError('CONFIG_INVALID', `latches: ${option} must be a positive integer, got ${n}`, { details: { option } });
  return n;
}
