/**
 * WatchRoutes streams on the metaserver leader. After every apply that moved
 * `state.routeVersion`, each stream gets `routeChangesSince(its version)` — one event per
 * changed table, or a single `resync` event (table id 0) when the history it needs was
 * trimmed, after which the client reloads with GetRoutes.
 *
 * Limits: at most `streamsMax` streams; a stream whose unsent events exceed
 * `queueEventsMax` (a watcher that does not read) is ended with RESOURCE_EXHAUSTED rather
 * than buffered without bound — it reconnects and catches up from its route version.
 * Losing leadership ends every stream with NOT_LEADER (gRPC UNAVAILABLE, the leader's
 * address in the `shoal-leader-address` trailer), so clients reconnect to the leader.
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { isKvError, KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { MetaRaft } from './meta-raft.js';
import { routeChangesSince } from './state/index.js';

export interface RouteWatchOptions {
  readonly streamsMax: number;
  readonly queueEventsMax: number;
  readonly logger: Logger;
}

type WatchCall = ServerWritableStream<meta.WatchRoutesRequest, meta.RouteEvent>;

/** What the hub needs of the member's raft group (tests pass a fake). */
export type RouteSource = Pick<MetaRaft, 'state' | 'readBarrier'>;

interface Watch {
  readonly call: WatchCall;
  readonly tableIds: readonly number[];
  /** Every change up to this route version was sent. */
  version: number;
}

/** Ends a stream with a KvError as its gRPC status (code, `CODE: message`, trailers). */
export function endWithError(call: WatchCall, e: unknown): void {
  const k = isKvError(e) ? e : new KvError('INTERNAL', e instanceof Error ? e.message : String(e));
  const metadata = new Metadata();
  metadata.set('shoal-error-code', k.code);
  const hint = k.details?.leaderHint?.address;
  if (hint !== undefined && hint !== '') metadata.set('shoal-leader-address', hint);
  call.emit('error', { code: k.grpcStatus, details: `${k.code}: ${k.message}`, metadata });
}

export class RouteWatchHub {
  private readonly watches = new Set<Watch>();

  constructor(private readonly raft: RouteSource, private readonly o: RouteWatchOptions) {}

  get size(): number {
    return this.watches.size;
  }

  /** Serves one WatchRoutes call: after a read barrier, so the first event is never older than the client's view. */
  async open(call: WatchCall): Promise<void> {
    if (this.watches.size >= this.o.streamsMax) {
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `more than watchRoutesStreamsMax (${this.o.streamsMax}) WatchRoutes streams` });
      return;
    }
    try {
      await this.raft.readBarrier();
    } catch (e) {
      endWithError(call, e);
      return;
    }
    if (call.cancelled) return;
    const from = call.request.fromVersion;
    const w: Watch = { call, tableIds: [...call.request.tableIds], version: from === 0 ? this.raft.state.routeVersion : from };
    this.watches.add(w);
    const forget = (): void => {
      this.watches.delete(w);
    };
    call.on('cancelled', forget);
    call.on('close', forget);
    call.on('error', forget);
    if (from !== 0) this.push(w);
  }

  /** After an apply: feed every stream that is behind the state's route version. */
  onApplied(): void {
    const version = this.raft.state.routeVersion;
    for (const w of this.watches) if (version > w.version) this.push(w);
  }

  /** Ends every stream (NOT_LEADER on leadership loss, UNAVAILABLE on shutdown). */
  endAll(e: KvError): void {
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      endWithError(w.call, e);
    }
  }

  private push(w: Watch): void {
    const changes = routeChangesSince(this.raft.state, w.version, w.tableIds);
    w.version = changes.routeVersion;
    const events = changes.resync ? [meta.RouteEvent.create({ routeVersion: changes.routeVersion, resync: true })] : changes.events;
    for (const ev of events) w.call.write(ev);
    if (w.call.writableLength > this.o.queueEventsMax) {
      this.watches.delete(w);
      this.o.logger.info({ peer: w.call.getPeer(), queued: w.call.writableLength }, 'WatchRoutes stream ended: the watcher does not keep up');
      w.call.emit('error', {
        code: status.RESOURCE_EXHAUSTED,
        details: `more than watchRoutesQueueEventsMax (${this.o.queueEventsMax}) route events unsent: reconnect from your route version`,
      });
    }
  }
}
