/**
 * The real `Backend`: Redis commands run on the storage nodes' Redis executors through
 * the client SDK (`RedisExec`: one Kv.Exec per command on the leader of the keys' shard,
 * SDK routing and retries). See backend.ts for the contract and proxy/README.md.
 *
 * - One key, or several keys on one shard: one Exec — atomic on the node (one Raft
 *   proposal under the keys' latches).
 * - MGET, MSET, DEL, EXISTS, UNLINK, TOUCH whose keys span shards: one Exec per shard with
 *   that shard's keys, replies gathered into Redis' shape (MSET is then atomic per shard
 *   only). Other multi-key commands spanning shards: `-CROSSSLOT`.
 * - KEYS, RANDOMKEY, DBSIZE, SCAN: every shard (shoal-fanout.ts).
 * - FLUSHDB: Kv.DeleteRange over every shard of the table.
 *
 * Batching. Runs of consecutive commands whose keys each lie on one shard (and need no
 * fan-out) go out as one Kv.Exec per shard and chunk (shoal-batch.ts); the rest run one
 * by one as below, each run after the previous segment finished. A call of ONE plain
 * command (the unpipelined case) instead joins other clients' commands for the same shard
 * in one Kv.Exec per event-loop turn (shoal-coalesce.ts, `coalesceAcrossClients`).
 *
 * Ordering. Within one segment, a command waits for every earlier command of the call
 * that shares a key with it (and keyless commands wait for all earlier ones and block all
 * later ones); commands on disjoint keys run concurrently, at most `concurrencyMax` at a
 * time. So a client's commands on one key take effect in its order, while a deep pipeline
 * over many keys is not one round trip per command. Effects on different keys may become
 * visible to OTHER clients in a different order than pipelined — as with Redis Cluster.
 */
import { KvError } from '@shoal/common';
import type { RedisExec } from '@shoal/client-sdk';
import { kv } from '@shoal/proto';
import type {
  Backend, BackendStats, CommandArgs, ExecOptions, ScanOptions, ScanPage, TableStats, TransactionCommand, WatchStamp,
} from './backend.js';
import { dataCommandKeys, isWriteCommand } from './commands/data.js';
import { fromKvReply } from './kv-reply.js';
import { array, bulk, error, integer, kvErrorReply, NULL_BULK, OK } from './resp/reply.js';
import type { Reply } from './resp/reply.js';
import { runBatched } from './shoal-batch.js';
import type { PlainCommand } from './shoal-batch.js';
import { CrossClientCoalescer } from './shoal-coalesce.js';
import { dbsizeOf, everyShard, ScanCursors, scanStep } from './shoal-fanout.js';

export interface ShoalBackendOptions {
  readonly exec: RedisExec;
  /** Deadline of one command, SDK retries included. */
  readonly requestTimeoutMs: number;
  /** Commands of one `exec` call in flight at once. */
  readonly concurrencyMax: number;
  /** SCAN cursors remembered (see shoal-fanout.ts). */
  readonly scanCursorsMax: number;
  /** Commands per batched Kv.Exec (shoal-batch.ts); default 256. */
  readonly batchCommandsMax?: number;
  /** Argument bytes per batched Kv.Exec (a chunk closes above it); default 1 MiB. */
  readonly batchBytesMax?: number;
  /**
   * Single commands of different clients bound for one shard share one Kv.Exec, flushed
   * each event-loop turn (shoal-coalesce.ts); default true. Needs batchCommandsMax > 1.
   */
  readonly coalesceAcrossClients?: boolean;
  readonly random?: () => number;
}

/** How long INFO's key counts are reused (see stats()). */
const STATS_REUSE_MS = 2000;

/** Commands split by shard and gathered when their keys span shards, and how replies merge. */
const SPLIT: ReadonlyMap<string, 'values' | 'ok' | 'sum'> = new Map([
  ['mget', 'values'], ['mset', 'ok'], ['del', 'sum'], ['exists', 'sum'], ['unlink', 'sum'], ['touch', 'sum'],
] as const);

export class ShoalBackend implements Backend {
  private readonly x: RedisExec;
  private readonly cursors: ScanCursors;
  private readonly random: () => number;
  /** Undefined when cross-client coalescing is off. */
  readonly coalescer: CrossClientCoalescer | undefined;
  private statsCache: { key: string; atMs: number; value: Promise<BackendStats> } | undefined;

  constructor(private readonly o: ShoalBackendOptions) {
    for (const k of ['requestTimeoutMs', 'concurrencyMax', 'scanCursorsMax', 'batchCommandsMax', 'batchBytesMax'] as const) {
      if (o[k] === undefined) continue;
      if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new KvError('CONFIG_INVALID', `${k} must be a positive integer`, { details: { option: k } });
    }
    this.x = o.exec;
    this.random = o.random ?? Math.random;
    this.cursors = new ScanCursors(o.scanCursorsMax, this.random);
    this.coalescer = (o.coalesceAcrossClients ?? true) && (o.batchCommandsMax ?? 256) > 1
      ? new CrossClientCoalescer({
        exec: o.exec, batchCommandsMax: o.batchCommandsMax ?? 256, batchBytesMax: o.batchBytesMax ?? 1 << 20, timeoutMs: o.requestTimeoutMs,
        runAlone: (table, c, resp) => this.runOne(table, [...c.args], [...c.keys], resp),
      })
      : undefined;
  }

  async exec(table: string, commands: readonly CommandArgs[], options?: ExecOptions): Promise<readonly Reply[]> {
    const resp = options?.respVersion?.() ?? 2;
    // Arguments are views into network buffers: copy before anything awaits.
    const cmds = commands.map((c) => c.map((a) => Buffer.from(a)));
    if (cmds.length === 1 && this.coalescer !== undefined) {
      const args = cmds[0]!;
      const name = args[0]!.toString('latin1').toLowerCase();
      const keys = dataCommandKeys(args) ?? [];
      const fanned = name === 'keys' || name === 'randomkey' || ((name === 'mset' || name === 'msetnx') && args.length % 2 === 0);
      if (keys.length > 0 && !fanned) {
        const nullArray = (name === 'lpop' || name === 'rpop') && args.length === 3;
        return [await this.coalescer.submit(table, { args, keys, write: isWriteCommand(name), nullArray }, resp, options?.signal)];
      }
    }
    const replies = new Array<Reply>(cmds.length);
    // batchCommandsMax 1: no coalescing at all — every command its own Kv.Exec, run as before.
    const coalesce = cmds.length > 1 && (this.o.batchCommandsMax ?? 256) > 1;
    const shardOf = coalesce ? await this.plainShards(table, cmds) : cmds.map(() => undefined);
    let i = 0;
    while (i < cmds.length) {
      let j = i;
      while (j < cmds.length && shardOf[j] !== undefined) j++;
      if (j - i >= 2) {
        const byShard = new Map<number, PlainCommand[]>();
        for (let k = i; k < j; k++) {
          const args = cmds[k]!;
          const name = args[0]!.toString('latin1').toLowerCase();
          const c: PlainCommand = {
            index: k, args, keys: dataCommandKeys(args) ?? [], write: isWriteCommand(name), nullArray: (name === 'lpop' || name === 'rpop') && args.length === 3,
          };
          let g = byShard.get(shardOf[k]!);
          if (g === undefined) byShard.set(shardOf[k]!, g = []);
          g.push(c);
        }
        const limits = { batchCommandsMax: this.o.batchCommandsMax ?? 256, batchBytesMax: this.o.batchBytesMax ?? 1 << 20, timeoutMs: this.o.requestTimeoutMs };
        await runBatched(this.x, table, [...byShard.values()], resp, limits, replies, (c) => this.runOne(table, cmds[c.index]!, [...c.keys], resp));
      } else {
        j = Math.max(j, i + 1);
        while (j < cmds.length && shardOf[j] === undefined) j++;
        const part = await this.execEach(table, cmds.slice(i, j), resp, options);
        part.forEach((r, k) => { replies[i + k] = r; });
      }
      i = j;
    }
    return replies;
  }

  /**
   * Per command, the shard group holding all its keys when it may be batched (it has keys,
   * they share a shard, and it is not fanned out), else undefined. Routing failures leave
   * every command to the one-by-one path, which reports them per command.
   */
  private async plainShards(table: string, cmds: readonly Buffer[][]): Promise<(number | undefined)[]> {
    const keysOf = cmds.map((args) => {
      const name = args[0]!.toString('latin1').toLowerCase();
      if (name === 'keys' || name === 'randomkey' || ((name === 'mset' || name === 'msetnx') && args.length % 2 === 0)) return [];
      return dataCommandKeys(args) ?? [];
    });
    const flat = keysOf.flat();
    if (flat.length === 0) return cmds.map(() => undefined);
    let groups: number[][];
    try {
      groups = await this.x.groupByShard(table, flat, { timeoutMs: this.o.requestTimeoutMs });
    } catch (e) {
      if (e instanceof KvError) return cmds.map(() => undefined);
      throw e;
    }
    const groupOfKey = new Array<number>(flat.length);
    groups.forEach((g, gi) => { for (const k of g) groupOfKey[k] = gi; });
    let at = 0;
    return keysOf.map((keys) => {
      const gs = new Set(keys.map((_, n) => groupOfKey[at + n]));
      at += keys.length;
      return keys.length > 0 && gs.size === 1 ? [...gs][0] : undefined;
    });
  }

  /** Commands one by one, concurrent across disjoint keys (see "Ordering" above). */
  private async execEach(table: string, cmds: readonly Buffer[][], resp: 2 | 3, options?: ExecOptions): Promise<Reply[]> {
    const replies = new Array<Reply>(cmds.length);
    const lastByKey = new Map<string, Promise<unknown>>();
    let barrier: Promise<unknown> = Promise.resolve();
    const running = new Set<Promise<unknown>>();
    for (let i = 0; i < cmds.length; i++) {
      if (options?.signal?.aborted === true) {
        replies.fill(error('ERR client disconnected'), i);
        break;
      }
      const args = cmds[i]!;
      const keys = dataCommandKeys(args) ?? [];
      const ids = keys.map((k) => k.toString('latin1'));
      const waits: Promise<unknown>[] = [barrier];
      if (ids.length === 0) waits.push(...running);
      else for (const id of ids) { const p = lastByKey.get(id); if (p !== undefined) waits.push(p); }
      while (running.size >= this.o.concurrencyMax) await Promise.race(running);
      const task = Promise.all(waits)
        .then(() => this.runOne(table, args, keys, resp))
        .then((r) => { replies[i] = r; });
      const tracked = task.finally(() => running.delete(tracked));
      running.add(tracked);
      if (ids.length === 0) barrier = tracked;
      else for (const id of ids) lastByKey.set(id, tracked);
    }
    await Promise.all(running);
    return replies;
  }

  /** One command; operating failures become its error reply (other commands go on). */
  private async runOne(table: string, args: Buffer[], keys: readonly Buffer[], resp: 2 | 3): Promise<Reply> {
    const name = args[0]!.toString('latin1').toLowerCase();
    // Key/value pairs with a missing value: Redis' arity error, not a routing error.
    if ((name === 'mset' || name === 'msetnx') && args.length % 2 === 0) return error(`ERR wrong number of arguments for '${name}' command`);
    try {
      if (name === 'keys') return await this.keysCommand(table, args, resp);
      if (name === 'randomkey') return await this.randomKey(table, args);
      const split = SPLIT.get(name);
      if (split !== undefined && keys.length > 1) return await this.splitAndGather(table, name, args, split, resp);
      return await this.single(table, name, args, keys, resp);
    } catch (e) {
      if (e instanceof KvError) return kvErrorReply(e);
      throw e;
    }
  }

  private async single(table: string, name: string, args: Buffer[], keys: readonly Buffer[], resp: 2 | 3): Promise<Reply> {
    const write = isWriteCommand(name);
    const o = { write, respVersion: resp, timeoutMs: this.o.requestTimeoutMs };
    let reply: kv.RedisReply;
    if (keys.length === 0) {
      // No key (or an unparsable numkeys): any shard gives the Redis error or answer.
      const at = await this.x.tableStart(table, o);
      reply = (await this.x.execAt(table, at, args, o)).reply;
    } else {
      reply = await this.x.exec(table, args, { ...o, keys });
    }
    // LPOP/RPOP with a count answer Redis' null ARRAY on a missing key.
    const nullArray = (name === 'lpop' || name === 'rpop') && args.length === 3;
    return fromKvReply(reply, nullArray);
  }

  private async splitAndGather(table: string, name: string, args: Buffer[], how: 'values' | 'ok' | 'sum', resp: 2 | 3): Promise<Reply> {
    const pairs = name === 'mset';
    const keys = pairs ? args.filter((_, i) => i % 2 === 1) : args.slice(1);
    const groups = await this.x.groupByShard(table, keys, { timeoutMs: this.o.requestTimeoutMs });
    if (groups.length === 1) return this.single(table, name, args, keys, resp);
    const parts = await Promise.all(groups.map(async (g) => {
      const sub = [args[0]!, ...g.flatMap((i) => (pairs ? [args[1 + 2 * i]!, args[2 + 2 * i]!] : [args[1 + i]!]))];
      return { group: g, reply: await this.single(table, name, sub, g.map((i) => keys[i]!), resp) };
    }));
    const failed = parts.find((p) => p.reply.type === 'error');
    if (failed !== undefined) return failed.reply;
    switch (how) {
      case 'ok': return OK;
      case 'sum': return integer(parts.reduce((n, p) => n + (p.reply.type === 'integer' ? BigInt(p.reply.value) : 0n), 0n));
      case 'values': {
        const out = new Array<Reply>(keys.length).fill(NULL_BULK);
        for (const p of parts) {
          const items = p.reply.type === 'array' ? p.reply.items : [];
          p.group.forEach((k, j) => { out[k] = items[j] ?? NULL_BULK; });
        }
        return array(out);
      }
    }
  }

  private async keysCommand(table: string, args: Buffer[], resp: 2 | 3): Promise<Reply> {
    const replies = await everyShard(this.x, table, args, { timeoutMs: this.o.requestTimeoutMs, respVersion: resp });
    const out: Reply[] = [];
    for (const r of replies) {
      if (r.type !== kv.RedisReplyType.ARRAY) return fromKvReply(r);
      for (const k of r.elements) out.push(bulk(Buffer.from(k.str)));
    }
    return array(out);
  }

  /** A random key of a random non-empty shard (each shard offers one). */
  private async randomKey(table: string, args: Buffer[]): Promise<Reply> {
    const replies = await everyShard(this.x, table, args, { timeoutMs: this.o.requestTimeoutMs, respVersion: 2 });
    const found = replies.filter((r) => r.type === kv.RedisReplyType.BULK_STRING || r.type === kv.RedisReplyType.ERROR);
    if (found.length === 0) return NULL_BULK;
    return fromKvReply(found[Math.floor(this.random() * found.length)]!);
  }

  /**
   * WATCH: each key's stamp from its shard leader (docs/decisions.md "WATCH"): the leader
   * term, shard epoch, the key's revision and expiry. The token is the stamp's encoding.
   */
  async watch(table: string, keys: readonly Buffer[]): Promise<readonly WatchStamp[]> {
    const own = keys.map((k) => Buffer.from(k));
    const groups = await this.x.groupByShard(table, own, { timeoutMs: this.o.requestTimeoutMs });
    const out = new Array<WatchStamp>(own.length);
    await Promise.all(groups.map(async (g) => {
      const stamps = await this.x.watch(table, g.map((i) => own[i]!), { timeoutMs: this.o.requestTimeoutMs });
      g.forEach((i, n) => {
        out[i] = { table, key: own[i]!, token: Buffer.from(kv.WatchStamp.encode(stamps[n]!).finish()).toString('base64') };
      });
    }));
    return out;
  }

  /**
   * MULTI/EXEC: one atomic Kv.Exec on the shard of every key (the block's and the watched
   * ones; CROSSSLOT otherwise, before anything runs). null when a watched key changed.
   */
  async transaction(commands: readonly TransactionCommand[], watched: readonly WatchStamp[], options?: ExecOptions): Promise<readonly Reply[] | null> {
    if (commands.length === 0 && watched.length === 0) return [];
    const resp = options?.respVersion?.() ?? 2;
    const table = commands[0]?.table ?? watched[0]!.table;
    if (commands.some((c) => c.table !== table) || watched.some((w) => w.table !== table)) {
      throw new KvError('CROSSSLOT', 'Keys in request don\'t hash to the same slot');
    }
    const all = commands.map((c) => c.args.map((a) => Buffer.from(a)));
    const keys = [...all.flatMap((a) => dataCommandKeys(a) ?? []), ...watched.map((w) => w.key)];
    if (keys.length === 0) return this.keylessTransaction(table, all, resp);
    const groups = await this.x.groupByShard(table, keys, { timeoutMs: this.o.requestTimeoutMs });
    if (groups.length > 1) throw new KvError('CROSSSLOT', 'Keys in request don\'t hash to the same slot');
    const stamps = watched.map((w) => kv.WatchStamp.decode(Buffer.from(w.token, 'base64')));
    const reply = await this.x.multi(table, all, stamps, { keys, write: true, respVersion: resp, timeoutMs: this.o.requestTimeoutMs });
    if (reply === null) return null;
    if (reply.type !== kv.RedisReplyType.ARRAY) return all.map(() => fromKvReply(reply));
    return reply.elements.map((r, i) => {
      const name = all[i]?.[0]?.toString('latin1').toLowerCase();
      return fromKvReply(r, (name === 'lpop' || name === 'rpop') && all[i]!.length === 3);
    });
  }

  /** A block without keys (DBSIZE, KEYS…): per-shard commands; one alone runs as usual. */
  private async keylessTransaction(table: string, all: Buffer[][], resp: 2 | 3): Promise<readonly Reply[]> {
    if (all.length > 1) throw new KvError('CROSSSLOT', 'a MULTI block of several keyless commands spans every shard');
    const args = all[0]!;
    return [await this.runOne(table, args, [], resp)];
  }

  dbsize(table: string): Promise<number> {
    return dbsizeOf(this.x, table, this.o.requestTimeoutMs);
  }

  async flush(table: string): Promise<void> {
    await this.x.clear(table, { timeoutMs: this.o.requestTimeoutMs });
  }

  scan(table: string, cursor: string, options: ScanOptions & ExecOptions): Promise<ScanPage> {
    return scanStep(this.x, this.cursors, table, cursor, { ...options, timeoutMs: this.o.requestTimeoutMs });
  }

  /**
   * INFO keyspace / cluster. Counting keys walks every shard (DBSIZE is O(keys) on the
   * nodes) and clients such as ioredis send INFO on every connect, so the figures are
   * shared by concurrent callers and reused for STATS_REUSE_MS.
   */
  stats(tables: readonly string[]): Promise<BackendStats> {
    const key = [...new Set(tables)].sort().join('\0');
    const now = Date.now();
    const hit = this.statsCache;
    if (hit !== undefined && hit.key === key && now - hit.atMs < STATS_REUSE_MS) return hit.value;
    const value = this.computeStats([...new Set(tables)]);
    this.statsCache = { key, atMs: now, value };
    value.catch(() => {
      if (this.statsCache?.value === value) this.statsCache = undefined;
    });
    return value;
  }

  private async computeStats(tables: readonly string[]): Promise<BackendStats> {
    const out = new Map<string, TableStats>();
    let shards = 0;
    for (const t of tables) {
      try {
        const keys = await this.dbsize(t);
        shards += (await this.x.topology(t, { timeoutMs: this.o.requestTimeoutMs })).shards;
        // The nodes do not count keys with an expiry per table: INFO shows expires=0.
        if (keys > 0) out.set(t, { keys, expires: 0, avgTtlMs: 0 });
      } catch (e) {
        if (!(e instanceof KvError) || e.code !== 'TABLE_NOT_FOUND') throw e;
      }
    }
    const co = this.coalescer?.counters;
    return {
      tables: out,
      cluster: { shards, scan_cursors: this.cursors.size, coalesced_batches: co?.batches ?? 0, coalesced_commands: co?.batchedCommands ?? 0 },
    };
  }

}

