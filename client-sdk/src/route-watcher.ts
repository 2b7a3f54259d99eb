/**
 * Keeps route caches fresh with the metaserver's WatchRoutes stream: one stream per
 * client, for every table it has loaded, on the member that last answered (the leader,
 * normally). Events replace cached shards as they arrive.
 *
 * The stream ends when its member loses leadership or goes away. Then the watcher backs
 * off, reloads every watched table with GetRoutes — which finds the new leader and covers
 * whatever changed while no stream was open — and reopens the stream from the oldest
 * route version it holds. A newly loaded table reopens the stream with the wider table set.
 * Duplicate events are harmless: applying a shard twice changes nothing.
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { ClientReadableStream, StatusObject } from '@grpc/grpc-js';
import { meta } from '@shoal/proto';
import type { ChannelPool } from './channel-pool.js';
import type { MetaClient } from './meta-client.js';
import type { ResolvedOptions } from './options.js';
import type { TableRoutes } from './table-routes.js';
import { backoffMs, Deadline } from './timing.js';

/** Most tables one client watches; beyond this, tables rely on reloads on errors alone. */
const WATCHED_TABLES_MAX = 4096;
/** How often to try again a metaserver that answered WatchRoutes with UNIMPLEMENTED. */
const UNIMPLEMENTED_RETRY_MS = 30_000;

export class RouteWatcher {
  private readonly tables = new Map<number, TableRoutes>();
  private call: ClientReadableStream<meta.RouteEvent> | undefined;
  /** Bumped for every stream opened, so events of a replaced stream are ignored. */
  private generation = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: ChannelPool,
    private readonly metaClient: MetaClient,
    private readonly o: ResolvedOptions,
    private readonly signal: AbortSignal,
  ) {}

  /** Number of streams opened so far (tests observe reconnects with it). */
  get streamsOpened(): number {
    return this.generation;
  }

  /** Starts watching a loaded table. */
  add(t: TableRoutes): void {
    if (this.closed || this.tables.has(t.info.id) || this.tables.size >= WATCHED_TABLES_MAX) return;
    this.tables.set(t.info.id, t);
    if (this.timer === undefined) this.open();
  }

  /** Stops the stream for good. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.generation++;
    this.call?.cancel();
    this.call = undefined;
  }

  private open(): void {
    if (this.closed || this.tables.size === 0) return;
    const previous = this.call;
    const gen = ++this.generation;
    previous?.cancel();
    let fromVersion = Number.MAX_SAFE_INTEGER;
    for (const t of this.tables.values()) fromVersion = Math.min(fromVersion, t.routeVersion);
    const req = meta.WatchRoutesRequest.create({ tableIds: [...this.tables.keys()], fromVersion });
    const m = meta.MetaService.watchRoutes;
    let call: ClientReadableStream<meta.RouteEvent>;
    try {
      call = this.pool.get(this.metaClient.preferred())
        .makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new Metadata(), {});
    } catch {
      return; // The pool is closed: the client is closing.
    }
    this.call = call;
    call.on('data', (ev: meta.RouteEvent) => {
      if (gen !== this.generation) return;
      this.failures = 0;
      const t = this.tables.get(ev.tableId);
      if (t !== undefined) t.applyEvent(ev);
      else if (ev.resync) this.resyncAll(); // a resync for no table in particular: all of them
    });
    // Errors arrive again as 'status'; this listener only keeps them from being unhandled.
    call.on('error', () => undefined);
    call.on('status', (st: StatusObject) => {
      if (gen === this.generation) this.broken(st.code === status.UNIMPLEMENTED);
    });
  }

  /** The stream ended: back off, catch up with GetRoutes, reopen. */
  private broken(unimplemented: boolean): void {
    if (this.closed) return;
    this.call = undefined;
    // A metaserver without WatchRoutes: look again now and then; errors still refresh routes.
    const wait = unimplemented
      ? UNIMPLEMENTED_RETRY_MS
      : backoffMs(this.failures++, Math.max(this.o.backoffBaseMs, 50), Math.max(this.o.backoffMaxMs, 1000), this.o.random);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.catchUpAndReopen();
    }, wait);
    this.timer.unref();
  }

  private resyncAll(): void {
    const deadline = new Deadline(this.o.timeoutMs);
    for (const t of this.tables.values()) t.refresh(deadline, this.signal).catch(() => undefined);
  }

  private async catchUpAndReopen(): Promise<void> {
    const deadline = new Deadline(this.o.timeoutMs);
    await Promise.all([...this.tables.values()].map((t) => t.refresh(deadline, this.signal).catch(() => undefined)));
    if (this.closed || this.timer !== undefined) return;
    this.open();
  }
}
