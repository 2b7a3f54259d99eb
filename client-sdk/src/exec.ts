/**
 * `RedisExec`: the low-level API the RESP proxy runs Redis commands through. Each call is
 * one `Kv.Exec` RPC on the leader of the shard that holds the command's keys, routed and
 * retried exactly like `Table` calls (executor.ts): EPOCH_NOT_MATCH / KEY_NOT_IN_SHARD
 * patch the route cache and retry, NOT_LEADER follows the hint, and a write whose outcome
 * is unknown is never re-sent (UNKNOWN_OUTCOME).
 *
 * What Kv.Exec accepts (proto/kv.proto): one command (`exec`), several independent
 * commands for one shard in one round trip (`execBatch`: per-key order kept, one reply or
 * operating error each), a MULTI/EXEC block run atomically on one shard (`multi`, with
 * optional WATCH stamps from `watch`), each with the RESP version that shapes replies.
 *
 * The caller's obligations, in order:
 * 1. `RedisExec.of(db)` once per `Shoal` client (cheap);
 * 2. per command, pass its keys (`keys`) and whether it writes (`write`); keys that do not
 *    share a shard fail with CROSSSLOT before anything is sent; keyless per-shard commands
 *    (SCAN, DBSIZE, KEYS, RANDOMKEY) walk the shards with `execAt` from `tableStart()`;
 * 3. `clear(table)` deletes every key of a table (FLUSHDB): one DeleteRange per shard.
 */
import { compareBytes, KvError, kvErrorFromCode } from '@shoal/common';
import { common, kv } from '@shoal/proto';
import type { ClientCore } from './client-core.js';
import { execute, RegroupSignal, REGROUP } from './executor.js';
import type { CallContext, RouteChoice } from './executor.js';
import { checkCall } from './request-args.js';
import type { Shoal } from './shoal.js';
import type { TableRoutes } from './table-routes.js';

const EMPTY = new Uint8Array(0);
/** Redis Cluster's text, which clients recognise. */
export const CROSSSLOT_MESSAGE = 'Keys in request don\'t hash to the same slot';

export interface ExecCallOptions {
  /** Per-call deadline (retries included); default the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** RESP version of the Redis client, which shapes the reply; default 2. */
  readonly respVersion?: 2 | 3;
}

export interface ExecCommandOptions extends ExecCallOptions {
  /** The command's keys; every key must lie in one shard (else CROSSSLOT). */
  readonly keys: readonly Uint8Array[];
  /** Writes data: never re-sent once its outcome is unknown. Read-only commands are retried. */
  readonly write: boolean;
}

/** The reply of one command run on the shard at a position, and where the next shard starts. */
export interface ShardExecResult {
  readonly reply: kv.RedisReply;
  readonly shardId: number;
  /** Storage position right after this shard, or null if it was the table's last. */
  readonly next: Uint8Array | null;
}

export class RedisExec {
  private constructor(private readonly core: ClientCore) {}

  /** The exec API of a connected client (shares its routes, connections and close()). */
  static of(db: Shoal): RedisExec {
    return new RedisExec(db._core);
  }

  /**
   * Groups the indexes of `keys` by the shard holding each key now (loading the table's
   * routes first), for commands that are split and gathered (MGET, DEL…). A group may be
   * split again by `exec` if a shard splits meanwhile: it then fails with CROSSSLOT and
   * the caller may regroup.
   */
  async groupByShard(table: string, keys: readonly Uint8Array[], options?: ExecCallOptions): Promise<number[][]> {
    const t = this.core.routesFor(table);
    return this.call(t, options, async (ctx) => {
      if (keys.some((k) => t.routes.locate(t.ks.dataKey(k)) === undefined)) {
        await t.refresh(ctx.deadline, ctx.signal).catch((e: unknown) => {
          if (!(e instanceof KvError) || !e.retryable) throw e;
        });
      }
      const groups = new Map<number, number[]>();
      keys.forEach((k, i) => {
        const id = t.routes.locate(t.ks.dataKey(k))?.id ?? -1;
        let g = groups.get(id);
        if (g === undefined) groups.set(id, g = []);
        g.push(i);
      });
      return [...groups.values()];
    });
  }

  /**
   * Runs one Redis command on the leader of the shard holding all of `keys`. Resolves with
   * the node's reply (Redis errors such as WRONGTYPE are replies); rejects with a KvError
   * for operating failures — CROSSSLOT when the keys span shards (nothing sent),
   * UNKNOWN_OUTCOME when a write was sent and its answer lost.
   */
  async exec(table: string, args: readonly Uint8Array[], options: ExecCommandOptions): Promise<kv.RedisReply> {
    const res = await this.onKeysShard(table, options, { args: [...args] });
    return res.reply ?? kv.RedisReply.create({ type: kv.RedisReplyType.NIL });
  }

  /**
   * Several independent commands on the shard holding all of `keys` (their keys' union),
   * in one Kv.Exec: each runs as its own command, in order per key. Resolves with one
   * result per command: its reply, or the KvError that stopped it (it did not run, or with
   * UNKNOWN_OUTCOME may have); rejects (nothing ran, or UNKNOWN_OUTCOME for the whole
   * request) like `exec`.
   */
  async execBatch(table: string, commands: readonly (readonly Uint8Array[])[], options: ExecCommandOptions): Promise<(kv.RedisReply | KvError)[]> {
    const res = await this.onKeysShard(table, options, { commands: commands.map((args) => kv.ExecCommand.create({ args: [...args] })) });
    if (res.replies.length !== commands.length) throw new KvError('INTERNAL', `Exec answered ${res.replies.length} replies for ${commands.length} commands`);
    return res.replies.map((r, i) => {
      const e = res.errors[i];
      return e === undefined || e.code === '' ? r : kvErrorFromCode(e.code, e.message, { details: { option: e.option || undefined } });
    });
  }

  /**
   * A MULTI/EXEC block, atomic on the shard holding all of `keys` (the block's and the
   * watched ones). Resolves with EXEC's array reply, or null when a WATCH stamp no longer
   * holds (nothing ran).
   */
  async multi(table: string, commands: readonly (readonly Uint8Array[])[], watches: readonly kv.WatchStamp[], options: ExecCommandOptions): Promise<kv.RedisReply | null> {
    const res = await this.onKeysShard(table, options, {
      commands: commands.map((args) => kv.ExecCommand.create({ args: [...args] })), atomic: true, watches: [...watches],
    });
    const reply = res.reply ?? kv.RedisReply.create({ type: kv.RedisReplyType.NIL });
    return reply.type === kv.RedisReplyType.NIL ? null : reply;
  }

  /** WATCH: one stamp per key (all on one shard), for a later `multi`. */
  async watch(table: string, keys: readonly Uint8Array[], options?: ExecCallOptions): Promise<readonly kv.WatchStamp[]> {
    const res = await this.onKeysShard(table, { ...options, keys, write: false }, { watchKeys: [...keys] });
    if (res.watches.length !== keys.length) throw new KvError('INTERNAL', `WATCH answered ${res.watches.length} stamps for ${keys.length} keys`);
    return res.watches;
  }

  private async onKeysShard(
    table: string, options: ExecCommandOptions, body: Partial<Pick<kv.ExecRequest, 'args' | 'commands' | 'atomic' | 'watches' | 'watchKeys'>>,
  ): Promise<kv.ExecResponse> {
    const keys = options.keys;
    if (keys.length === 0) throw new KvError('INVALID_ARGUMENT', 'exec needs the command\'s keys; use execAt for keyless commands', { details: { option: 'keys' } });
    const t = this.core.routesFor(table);
    return this.call(t, options, async (ctx) => {
      const route = (rt: TableRoutes): RouteChoice => {
        const s = rt.routes.locate(rt.ks.dataKey(keys[0]!));
        if (s === undefined) return undefined;
        return keys.every((k) => s.contains(rt.ks.dataKey(k))) ? s : REGROUP;
      };
      try {
        const { res } = await execute(this.core, ctx, t, {
          method: kv.KvService.exec, write: options.write, consistency: common.ReadConsistency.LINEARIZABLE, maxStalenessMs: 0, route,
          build: (header) => kv.ExecRequest.create({ ...body, header, respVersion: options.respVersion ?? 2 }),
        });
        return res;
      } catch (e) {
        if (e instanceof RegroupSignal) throw new KvError('CROSSSLOT', CROSSSLOT_MESSAGE);
        throw e;
      }
    });
  }

  /** The first storage position of a table: where a walk over its shards starts. */
  async tableStart(table: string, options?: ExecCallOptions): Promise<Uint8Array> {
    const t = this.core.routesFor(table);
    return this.call(t, options, () => Promise.resolve(t.ks.start));
  }

  /**
   * Runs a keyless command (SCAN, DBSIZE, KEYS, RANDOMKEY) on the shard holding storage
   * position `at`; `next` is where the following shard starts (null after the last). A
   * walk that follows `next` visits every shard once even while shards split.
   */
  async execAt(table: string, at: Uint8Array, args: readonly Uint8Array[], options: ExecCallOptions & { readonly write: boolean }): Promise<ShardExecResult> {
    const t = this.core.routesFor(table);
    return this.call(t, options, async (ctx) => {
      const { res, shard } = await execute(this.core, ctx, t, {
        method: kv.KvService.exec, write: options.write, consistency: common.ReadConsistency.LINEARIZABLE, maxStalenessMs: 0,
        route: (rt) => rt.routes.locate(at),
        build: (header) => kv.ExecRequest.create({ header, args: [...args], respVersion: options.respVersion ?? 2 }),
      });
      const reply = res.reply ?? kv.RedisReply.create({ type: kv.RedisReplyType.NIL });
      return { reply, shardId: shard.id, next: compareBytes(shard.end, t.ks.end) >= 0 ? null : shard.end };
    });
  }

  /**
   * Deletes every key of `table` (FLUSHDB): one DeleteRange over each shard's whole range,
   * each one atomic Raft proposal; shards are independent. Stops at the first failure.
   */
  async clear(table: string, options?: ExecCallOptions): Promise<{ deletedCount: number; shardCount: number }> {
    const t = this.core.routesFor(table);
    return this.call(t, options, async (ctx) => {
      let pos = t.ks.start;
      let deletedCount = 0;
      let shardCount = 0;
      while (compareBytes(pos, t.ks.end) < 0) {
        const at = pos;
        const { res, shard } = await execute(this.core, ctx, t, {
          method: kv.KvService.deleteRange, write: true, consistency: common.ReadConsistency.LINEARIZABLE, maxStalenessMs: 0,
          route: (rt) => rt.routes.locate(at),
          // Empty bounds: the shard's own range, whatever it is when the node applies it.
          build: (header) => kv.DeleteRangeRequest.create({ header, startKey: EMPTY, endKey: EMPTY }),
        });
        deletedCount += res.deletedCount;
        shardCount++;
        pos = shard.end;
      }
      return { deletedCount, shardCount };
    });
  }

  /** Shards and distinct leader nodes the cache knows for a table (INFO cluster). */
  async topology(table: string, options?: ExecCallOptions): Promise<{ shards: number; partition: 'hash' | 'range' }> {
    const t = this.core.routesFor(table);
    return this.call(t, options, () => Promise.resolve({ shards: t.routes.size, partition: t.info.scheme }));
  }

  private call<T>(t: TableRoutes, options: ExecCallOptions | undefined, fn: (ctx: CallContext) => Promise<T>): Promise<T> {
    const timeoutMs = checkCall(options === undefined ? undefined : { timeoutMs: options.timeoutMs });
    return this.core.run('exec', t.name, timeoutMs, async (ctx) => {
      await this.core.ensureLoaded(ctx, t);
      return fn(ctx);
    });
  }
}
