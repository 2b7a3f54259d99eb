/**
 * Pending ReadIndex requests on the leader (ReadOnlyOption.Safe, and LeaseBased while the
 * lease is not valid). Each request records the commit index and the tick when it arrived;
 * it is answered once a quorum acknowledged a heartbeat carrying its context, proving the
 * leader was still the leader at that moment (and, with leases, that every acknowledging
 * follower heard from it no earlier than that tick).
 *
 * Invariant: `queue` holds exactly the keys of `pending`, oldest first. Acknowledging a
 * request also acknowledges every older one (heartbeats are answered in order).
 */
import type { LogIndex, Message, PeerId } from './types.js';

export interface ReadIndexStatus {
  readonly req: Message;
  readonly index: LogIndex;
  /** The leader's tick count when the request arrived: every heartbeat carrying it left later. */
  readonly tick: number;
  readonly acks: Set<PeerId>;
}

/** Request contexts as map keys (byte-exact). */
export function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Adds a request (`req.context` is its id) that may be served at `index`. Duplicates are ignored. */
  addRequest(index: LogIndex, req: Message, tick: number): void {
    const key = ctxKey(req.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req, index, tick, acks: new Set() });
    this.queue.push(key);
  }

  /** Records a heartbeat ack for `ctx`; returns the acks so far, or null if unknown. */
  recvAck(id: PeerId, ctx: Uint8Array): ReadonlySet<PeerId> | null {
    const rs = this.pending.get(ctxKey(ctx));
    if (rs === undefined) return null;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Dequeues and returns every request up to and including the one with `ctx`. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = ctxKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      out.push(this.pending.get(k)!);
      this.pending.delete(k);
    }
    return out;
  }

  /** Context of the newest pending request: heartbeats carry it so acks cover all requests. */
  lastPendingRequestCtx(): Uint8Array | null {
    const k = this.queue[this.queue.length - 1];
    return k === undefined ? null : this.pending.get(k)!.req.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
