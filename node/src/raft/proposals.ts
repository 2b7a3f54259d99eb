/**
 * Proposals of one replica, from the caller's request to the applied result.
 *
 * A proposal is queued until the next scheduler turn, which hands every queued proposal
 * of the shard to raft in one `proposeBatch` and records the log position (index, term)
 * each one got. When the entry at that index is applied: same term → it is ours, the
 * caller gets the engine's result; other term → a new leader overwrote it, so it never
 * took effect (retryable NOT_LEADER). A snapshot that jumps past the index leaves the
 * outcome unknown. A deadline that passes while queued → TIMEOUT (no effect); after it
 * was handed to raft → UNKNOWN_OUTCOME (it may still commit).
 */
import { KvError } from '@shoal/common';
import type { ConfChange } from '@shoal/raft-ts';
import type { Expirable, Waiter } from './waiters.js';

export class Proposal implements Expirable {
  /** Log position once handed to raft; 0 while queued. */
  index = 0;
  term = 0;

  constructor(
    readonly waiter: Waiter<unknown>,
    /** A Normal entry's command; empty for a conf change. */
    readonly data: Uint8Array,
    /** Set for a membership change (proposed alone, with proposeConfChange). */
    readonly confChange: ConfChange | null,
  ) {}

  get deadlineMs(): number {
    return this.waiter.deadlineMs;
  }

  get settled(): boolean {
    return this.waiter.settled;
  }

  expire(): void {
    if (this.index === 0) {
      this.waiter.reject(new KvError('TIMEOUT', 'deadline exceeded before the write was proposed'));
    } else {
      this.waiter.reject(new KvError('UNKNOWN_OUTCOME', `deadline exceeded after proposing at index ${this.index}; the write may or may not apply`));
    }
  }
}

export class ProposalTracker {
  private queue: Proposal[] = [];
  private readonly byIndex = new Map<number, Proposal>();

  enqueue(p: Proposal): void {
    this.queue.push(p);
  }

  get queued(): number {
    return this.queue.length;
  }

  get tracked(): number {
    return this.byIndex.size;
  }

  /** Queued, unsettled normal proposals and conf changes, in arrival order; empties the queue. */
  takeQueued(): { normal: Proposal[]; conf: Proposal[] } {
    const normal: Proposal[] = [];
    const conf: Proposal[] = [];
    for (const p of this.queue) {
      if (p.settled) continue;
      (p.confChange === null ? normal : conf).push(p);
    }
    this.queue = [];
    return { normal, conf };
  }

  /** The proposal was appended to the leader's log at (index, term). */
  track(p: Proposal, index: number, term: number): void {
    p.index = index;
    p.term = term;
    const old = this.byIndex.get(index);
    // The old leader's entry at this index was truncated by a later leader of ours.
    old?.waiter.reject(new KvError('NOT_LEADER', `entry ${index} was overwritten by a newer leader`));
    this.byIndex.set(index, p);
  }

  /** The entry at (index, term) was applied with `result`. */
  applied(index: number, term: number, result: () => unknown): void {
    const p = this.byIndex.get(index);
    if (p === undefined) return;
    this.byIndex.delete(index);
    if (p.term === term) p.waiter.resolve(result());
    else p.waiter.reject(new KvError('NOT_LEADER', `entry ${index} was overwritten by a newer leader (term ${term})`));
  }

  /** The state machine jumped to `index` by snapshot: proposals at or below it may or may not have applied. */
  skippedTo(index: number): void {
    for (const [i, p] of this.byIndex) {
      if (i > index) continue;
      this.byIndex.delete(i);
      p.waiter.reject(new KvError('UNKNOWN_OUTCOME', `replica installed a snapshot past entry ${i}`));
    }
  }

  /** Fails queued proposals (they had no effect). */
  failQueued(e: KvError): void {
    for (const p of this.queue) p.waiter.reject(e);
    this.queue = [];
  }

  /** The replica goes away: queued ones had no effect, tracked ones are unknown. */
  failAll(e: KvError): void {
    this.failQueued(e);
    for (const p of this.byIndex.values()) {
      p.waiter.reject(new KvError('UNKNOWN_OUTCOME', `replica stopped after the write was proposed: ${e.message}`, { cause: e }));
    }
    this.byIndex.clear();
  }
}
