/**
 * The storage node's client of the metaserver group (service Meta). Any member answers;
 * one that is not the leader answers NOT_LEADER with the leader's address in
 * `error.leaderHint.address`, which is tried next. The member that answered last is tried
 * first next time.
 *
 * - One gRPC channel per member address (at most META_ADDRESSES_MAX, configured plus
 *   learned from hints).
 * - Every attempt has a deadline (`requestTimeoutMs`).
 * - `call` makes one round over the members; `callRetrying` repeats rounds with
 *   exponential backoff (raft/backoff.ts) until a deadline, for start-up registration.
 * - A member's own answer with a non-retryable code (INVALID_ARGUMENT, CONDITION_FAILED…)
 *   is final and thrown at once; transport failures move on to the next member.
 */
import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { Client, MethodDefinition, ServiceError } from '@grpc/grpc-js';
import { KvError, kvErrorFromCode, nodeId, peerId } from '@shoal/common';
import type { KvErrorDetails, Logger } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { common } from '@shoal/proto';
import { Backoff } from '../raft/backoff.js';

/** Members remembered (configured plus learned from leader hints). */
const META_ADDRESSES_MAX = 16;

export interface WithError {
  readonly error?: common.ErrorDetail | undefined;
}

export interface MetaClientOptions {
  readonly addresses: readonly string[];
  readonly requestTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly logger: Logger;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
}

export class MetaClient {
  private readonly addresses: string[];
  private readonly clients = new Map<string, Client>();
  private readonly closed = new AbortController();

  constructor(private readonly o: MetaClientOptions) {
    if (o.addresses.length === 0) throw new KvError('INVALID_ARGUMENT', 'no metaserver address given', { details: { option: 'metaservers' } });
    this.addresses = [...new Set(o.addresses)].slice(0, META_ADDRESSES_MAX);
  }

  /** Members known, preferred first. */
  known(): readonly string[] {
    return [...this.addresses];
  }

  /** One round over the members, following leader hints. Throws the last error if none answered. */
  async call<Req, Res extends WithError>(method: MethodDefinition<Req, Res>, req: Req): Promise<Res> {
    const tried = new Set<string>();
    let last: KvError | undefined;
    let next: string | undefined = this.addresses[0];
    while (next !== undefined && !tried.has(next) && !this.closed.signal.aborted) {
      const address: string = next;
      tried.add(address);
      const out = await this.attempt(address, method, req);
      if (out.ok) {
        this.learn(address, true);
        return out.res;
      }
      if (out.final) throw out.error;
      last = out.error;
      const hint = out.error.code === 'NOT_LEADER' ? out.error.details?.leaderHint?.address ?? '' : '';
      if (hint !== '') this.learn(hint, false);
      next = hint !== '' && !tried.has(hint) ? hint : this.addresses.find((a) => !tried.has(a));
    }
    if (this.closed.signal.aborted) throw new KvError('CANCELLED', 'the metaserver client is closed');
    throw new KvError('UNAVAILABLE', `no metaserver of ${this.addresses.join(', ')} answered ${method.path}` +
      (last === undefined ? '' : ` (last error: ${last.code}: ${last.message})`), { cause: last });
  }

  /** Rounds of `call` with backoff between them until `deadlineMs` (wall clock); final errors end it at once. */
  async callRetrying<Req, Res extends WithError>(method: MethodDefinition<Req, Res>, req: Req, deadlineMs: number): Promise<Res> {
    const backoff = new Backoff({ initialMs: this.o.backoffInitialMs, maxMs: this.o.backoffMaxMs, random: this.o.random ?? Math.random });
    for (;;) {
      try {
        return await this.call(method, req);
      } catch (e) {
        if (!(e instanceof KvError) || !e.retryable || e.code === 'CANCELLED') throw e;
        const waitMs = backoff.nextDelayMs();
        if (Date.now() + waitMs >= deadlineMs) throw e;
        this.o.logger.info({ code: e.code, reason: e.message, retryInMs: waitMs, attempt: backoff.attempts }, 'metaserver not ready yet; retrying');
        await this.sleep(waitMs);
      }
    }
  }

  /** Closes every channel; calls in progress fail CANCELLED. Idempotent. */
  close(): void {
    this.closed.abort();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private learn(address: string, first: boolean): void {
    const i = this.addresses.indexOf(address);
    if (i < 0 && this.addresses.length >= META_ADDRESSES_MAX) return;
    if (i >= 0) this.addresses.splice(i, 1);
    if (first) this.addresses.unshift(address);
    else this.addresses.splice(i >= 0 ? i : this.addresses.length, 0, address);
  }

  private client(address: string): Client {
    let c = this.clients.get(address);
    if (c === undefined) {
      // grpc-js backs off reconnects up to 120 s by default: a member that restarted would
      // miss our heartbeats that long (and the node be declared down). Cap it at ours.
      c = new meta.MetaClient(address, credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': this.o.backoffInitialMs,
        'grpc.max_reconnect_backoff_ms': this.o.backoffMaxMs,
      });
      this.clients.set(address, c);
    }
    return c;
  }

  private attempt<Req, Res extends WithError>(
    address: string, method: MethodDefinition<Req, Res>, req: Req,
  ): Promise<{ ok: true; res: Res } | { ok: false; error: KvError; final: boolean }> {
    return new Promise((resolve) => {
      const signal = this.closed.signal;
      const call = this.client(address).makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req,
        new Metadata(), { deadline: Date.now() + this.o.requestTimeoutMs }, (err: ServiceError | null, res?: Res) => {
          signal.removeEventListener('abort', onAbort);
          if (err !== null || res === undefined) {
            const code = err?.code === status.UNIMPLEMENTED ? 'NOT_SUPPORTED' : signal.aborted ? 'CANCELLED' : 'UNAVAILABLE';
            const error = new KvError(code, `${method.path} at ${address}: ${err?.details ?? 'empty response'}`, { cause: err });
            // A member without the RPC (UNIMPLEMENTED) may be an older version: others may have it.
            resolve({ ok: false, error, final: code === 'CANCELLED' });
          } else if (res.error !== undefined) {
            const error = fromDetail(res.error);
            resolve({ ok: false, error, final: !error.retryable });
          } else {
            resolve({ ok: true, res });
          }
        });
      const onAbort = (): void => call.cancel();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.closed.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.closed.signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The `KvError` an `ErrorDetail` of a response stands for. */
export function fromDetail(d: common.ErrorDetail): KvError {
  const details: { -readonly [K in keyof KvErrorDetails]: KvErrorDetails[K] } = {};
  const h = d.leaderHint;
  if (h !== undefined && (h.peerId !== 0 || h.address !== '')) {
    details.leaderHint = { nodeId: nodeId(h.nodeId), peerId: peerId(h.peerId), address: h.address };
  }
  if (d.currentShard !== undefined) details.shard = d.currentShard;
  if (d.option !== '') details.option = d.option;
  if (d.retryAfterMs > 0) details.retryAfterMs = d.retryAfterMs;
  return kvErrorFromCode(d.code, d.message === '' ? d.code : d.message, { details });
}
