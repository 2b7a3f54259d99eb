/**
 * Linearizable reads of one replica (ReadIndex, Raft thesis §6.4).
 *
 * Reads queued during one event-loop turn share one ReadIndex request: the scheduler
 * submits them together with a fresh context; raft answers with a ReadState (at once
 * under a valid leader lease, after a heartbeat round otherwise, or — on a follower —
 * after the leader answered the forwarded request). Each read is then served once the
 * replica's applied index reaches the read index. Raft drops a request silently when no
 * leader is known, so requests unanswered for `retryTicks` are re-submitted until their
 * deadline. Reads that required this replica to lead fail with NOT_LEADER when it
 * steps down before they got an index (the lease or heartbeat round may be lost with it).
 */
import { KvError } from '@shoal/common';
import type { RawNode, ReadState } from '@shoal/raft-ts';
import type { Expirable, Waiter } from './waiters.js';

/** First byte of every read context the node generates (see hibernation.ts for others). */
export const READ_CTX_TAG = 0x01;

export class ReadRequest implements Expirable {
  constructor(readonly waiter: Waiter<undefined>, readonly leaderOnly: boolean) {}

  get deadlineMs(): number {
    return this.waiter.deadlineMs;
  }

  get settled(): boolean {
    return this.waiter.settled;
  }

  expire(): void {
    this.waiter.reject(new KvError('TIMEOUT', 'deadline exceeded waiting for a read index'));
  }
}

interface Batch {
  readonly reqs: ReadRequest[];
  submittedTick: number;
}

export class ReadTracker {
  private queue: ReadRequest[] = [];
  private readonly inflight = new Map<string, Batch>();
  /** Reads with a known index, waiting for apply; indexes non-decreasing in practice. */
  private waitingApply: { index: number; reqs: ReadRequest[] }[] = [];
  private seq = 0;

  /**
   * Contexts must be unique at the leader, across this group's peers and across restarts
   * (an answer to a forgotten request with the same context would carry an older index),
   * so each carries the peer id and a per-process nonce.
   */
  constructor(private readonly peerId: number, private readonly nonce: number) {}

  enqueue(r: ReadRequest): void {
    this.queue.push(r);
  }

  get queued(): number {
    return this.queue.length;
  }

  hasWork(): boolean {
    return this.queue.length > 0 || this.inflight.size > 0 || this.waitingApply.length > 0;
  }

  /** Hands the queued reads to raft as one ReadIndex request. */
  submit(raw: RawNode, tick: number): boolean {
    const reqs = this.queue.filter((r) => !r.settled);
    this.queue = [];
    if (reqs.length === 0) return false;
    const ctx = this.nextCtx();
    this.inflight.set(ctxKey(ctx), { reqs, submittedTick: tick });
    raw.readIndex(ctx);
    return true;
  }

  /** Re-submits requests raft may have dropped (no leader), and forgets settled ones; true if any was re-submitted. */
  retry(raw: RawNode, tick: number, retryTicks: number): boolean {
    let again = false;
    for (const [key, b] of this.inflight) {
      if (b.reqs.every((r) => r.settled)) {
        this.inflight.delete(key);
        continue;
      }
      if (tick - b.submittedTick < retryTicks) continue;
      this.inflight.delete(key);
      const ctx = this.nextCtx();
      this.inflight.set(ctxKey(ctx), { reqs: b.reqs, submittedTick: tick });
      raw.readIndex(ctx);
      again = true;
    }
    return again;
  }

  /** A ReadState arrived; reads of its batch are served once applied >= its index. */
  onReadState(rs: ReadState, applied: number): void {
    const key = ctxKey(rs.requestCtx);
    const b = this.inflight.get(key);
    if (b === undefined) return;
    this.inflight.delete(key);
    if (applied >= rs.index) {
      for (const r of b.reqs) r.waiter.resolve(undefined);
      return;
    }
    this.waitingApply.push({ index: rs.index, reqs: b.reqs });
  }

  onApplied(applied: number): void {
    if (this.waitingApply.length === 0) return;
    const rest: { index: number; reqs: ReadRequest[] }[] = [];
    for (const w of this.waitingApply) {
      if (w.index <= applied) for (const r of w.reqs) r.waiter.resolve(undefined);
      else rest.push(w);
    }
    this.waitingApply = rest;
  }

  /** This replica stopped leading: reads that needed it to lead and have no index yet fail. */
  onLostLeadership(e: KvError): void {
    for (const r of this.queue) if (r.leaderOnly) r.waiter.reject(e);
    for (const b of this.inflight.values()) for (const r of b.reqs) if (r.leaderOnly) r.waiter.reject(e);
  }

  failAll(e: KvError): void {
    for (const r of this.queue) r.waiter.reject(e);
    for (const b of this.inflight.values()) for (const r of b.reqs) r.waiter.reject(e);
    for (const w of this.waitingApply) for (const r of w.reqs) r.waiter.reject(e);
    this.queue = [];
    this.inflight.clear();
    this.waitingApply = [];
  }

  private nextCtx(): Uint8Array {
    this.seq++;
    const ctx = new Uint8Array(25);
    ctx[0] = READ_CTX_TAG;
    const view = new DataView(ctx.buffer);
    view.setFloat64(1, this.peerId);
    view.setFloat64(9, this.nonce);
    view.setFloat64(17, this.seq);
    return ctx;
  }
}

export function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}
