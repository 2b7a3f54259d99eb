/**
 * The state one `Shoal` client shares between its tables: options, the channel pool, the
 * metaserver client, node addresses, table routes, the route watcher, and the set of calls
 * in flight (which `close()` drains).
 *
 * Lifecycle: open → closing (new calls fail with CANCELLED; in-flight calls may finish
 * within `closeTimeoutMs`) → closed (remaining calls are cancelled — a write already
 * sent then fails with UNKNOWN_OUTCOME — and every channel is closed).
 */
import { setMaxListeners } from 'node:events';
import { KvError } from '@shoal/common';
import { ChannelPool } from './channel-pool.js';
import type { CallContext, ExecEnv } from './executor.js';
import { emit } from './hooks.js';
import type { OpName } from './hooks.js';
import { MetaClient } from './meta-client.js';
import type { ResolvedOptions } from './options.js';
import { RouteWatcher } from './route-watcher.js';
import { NodeDirectory, TableRoutes } from './table-routes.js';
import { backoffMs, Deadline, sleep } from './timing.js';

/** Most distinct tables one client holds routes for. */
const TABLES_MAX = 4096;
const REQUEST_ID_RANGE = 2 ** 53 - 2;

export class ClientCore implements ExecEnv {
  readonly pool: ChannelPool;
  readonly nodes = new NodeDirectory();
  readonly meta: MetaClient;
  readonly watcher: RouteWatcher | undefined;
  private readonly tables = new Map<string, TableRoutes>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | undefined;

  constructor(readonly options: ResolvedOptions) {
    // Every in-flight call listens on this one signal (close() cancels them) and removes its
    // listener when it settles, so the listener count is the number of calls in flight, not a
    // leak: Node's default warning at 11 listeners would fire under any real concurrency.
    setMaxListeners(0, this.abort.signal);
    this.pool = new ChannelPool(options.channelOptions);
    this.meta = new MetaClient(options.metaservers, this.pool, options);
    this.watcher = options.watchRoutes ? new RouteWatcher(this.pool, this.meta, options, this.abort.signal) : undefined;
  }

  /** Aborted once the client stops waiting for in-flight calls. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The routes of a table, created on first use. */
  routesFor(name: string): TableRoutes {
    let t = this.tables.get(name);
    if (t === undefined) {
      if (this.tables.size >= TABLES_MAX) throw new KvError('REQUEST_TOO_LARGE', `more than ${TABLES_MAX} tables in one client`);
      t = new TableRoutes(name, {
        meta: this.meta, nodes: this.nodes, options: this.options, signal: this.abort.signal,
        loaded: (loaded) => this.watcher?.add(loaded),
      });
      this.tables.set(name, t);
    }
    return t;
  }

  /**
   * Runs one public call: refuses it once closing, gives it a deadline, tracks it for
   * close(), and reports it to the `onCall` hook.
   */
  run<T>(op: OpName, table: string, timeoutMs: number | undefined, fn: (ctx: CallContext) => Promise<T>): Promise<T> {
    if (this.state !== 'open') return Promise.reject(new KvError('CANCELLED', `${op}: the client is closed`));
    const ctx: CallContext = {
      op, table, deadline: new Deadline(timeoutMs ?? this.options.timeoutMs), signal: this.abort.signal,
      requestId: 1 + Math.floor(this.options.random() * REQUEST_ID_RANGE), attempts: 0,
    };
    const started = performance.now();
    const p = fn(ctx).then((v) => {
      this.report(ctx, started, undefined);
      return v;
    }, (e: unknown) => {
      this.report(ctx, started, e);
      throw e;
    });
    const tracked = p.catch(() => undefined).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
    return p;
  }

  /** Loads a table's routes, retrying retryable failures until the call's deadline. */
  async ensureLoaded(ctx: CallContext, t: TableRoutes): Promise<void> {
    for (let retry = 0; !t.loaded; retry++) {
      try {
        await t.ensure(ctx.deadline, ctx.signal);
      } catch (e) {
        if (!(e instanceof KvError) || !e.retryable) throw e;
        const wait = backoffMs(retry, this.options.backoffBaseMs, this.options.backoffMaxMs, this.options.random);
        if (wait >= ctx.deadline.remainingMs()) {
          throw new KvError('TIMEOUT', `table ${t.name}: routes could not be loaded within ${ctx.deadline.timeoutMs} ms (${e.code}: ${e.message})`, { cause: e });
        }
        await sleep(wait, ctx.signal);
      }
    }
  }

  /** See the file comment. Idempotent; every call returns the same promise. */
  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  private async drainAndClose(): Promise<void> {
    this.state = 'closing';
    this.watcher?.close();
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs);
      });
      await Promise.race([Promise.all([...this.inflight]), grace]);
      clearTimeout(timer);
    }
    this.abort.abort();
    // Cancelled calls settle promptly: their gRPC calls and back-off sleeps listen to the signal.
    await Promise.all([...this.inflight]);
    this.state = 'closed';
    this.pool.close();
  }

  private report(ctx: CallContext, started: number, e: unknown): void {
    const code = e === undefined ? undefined : e instanceof KvError ? e.code : 'INTERNAL';
    emit(this.options.hooks.onCall, {
      op: ctx.op, table: ctx.table, durationMs: performance.now() - started, attempts: ctx.attempts,
      ...(code === undefined ? {} : { code }),
    });
  }
}
