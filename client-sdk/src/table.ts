/**
 * `Table`: the operations on one table. Every method validates its arguments (a bad one
 * fails with INVALID_ARGUMENT naming it), then runs as one call of the client: routed by
 * the table's route cache, retried under the call's deadline (executor.ts), and drained
 * by `close()`.
 */
import { KvError } from '@shoal/common';
import { common, kv } from '@shoal/proto';
import { batchWrite, getMany, prepareOps } from './batch.js';
import type { ClientCore } from './client-core.js';
import { deleteRange } from './delete-range.js';
import { execute } from './executor.js';
import type { CallContext } from './executor.js';
import type { OpName } from './hooks.js';
import { checkBool, checkCall, checkDelta, checkTtl, keyRoute, resolveRead } from './request-args.js';
import { Scanner } from './scan.js';
import type { TableRoutes } from './table-routes.js';
import type {
  AtomicBatchWriteResult, BatchWriteOptions, BatchWriteResult, CallOptions, CasOptions, CasResult, DeleteRangeResult,
  GetOptions, IncrOptions, PutOptions, PutResult, PutResultWithPrevious, ScanOptions, TableDescription, WriteOp,
} from './table-types.js';
import { bytesOf, checkEncoding, decode } from './values.js';
import type { Decoded, Encoding, Key, Value } from './values.js';

const WRITE = { write: true, consistency: common.ReadConsistency.LINEARIZABLE, maxStalenessMs: 0 } as const;

/** One table of a Shoal cluster. Get it with `Shoal.table(name)`; it is cheap and cached. */
export class Table {
  /** @internal Made by `Shoal.table`. */
  constructor(private readonly core: ClientCore, private readonly t: TableRoutes) {}

  /** The table's name. */
  get name(): string {
    return this.t.name;
  }

  /** The table's id, partition scheme and read policy (loads its routes if needed). */
  async describe(options?: CallOptions): Promise<TableDescription> {
    return this.call('describe', options, () => {
      const i = this.t.info;
      return Promise.resolve({
        id: i.id, name: i.name, partition: i.scheme, readPolicy: i.readPolicy, maxStalenessMs: i.maxStalenessMs, shardCount: this.t.routes.size,
      });
    });
  }

  /** The value of `key`, or undefined if it does not exist (or has expired). */
  async get<V extends Encoding = 'bytes'>(key: Key, options?: GetOptions<V>): Promise<Decoded<V> | undefined> {
    const k = bytesOf(key, 'key');
    checkEncoding(options?.valueEncoding, 'valueEncoding');
    return this.call('get', options, async (ctx) => {
      const { res } = await execute(this.core, ctx, this.t, {
        method: kv.KvService.get, write: false, ...resolveRead(options ?? {}, this.t, this.core.options), route: keyRoute(k),
        build: (header) => kv.GetRequest.create({ header, key: k }),
      });
      return res.found ? decode(res.value, options?.valueEncoding) : undefined;
    });
  }

  /**
   * The values of `keys`, in the same order (undefined where a key does not exist). Keys
   * are grouped by shard and fetched concurrently; each shard's group is read at one point
   * in time, different shards' groups are not.
   */
  async getMany<V extends Encoding = 'bytes'>(keys: readonly Key[], options?: GetOptions<V>): Promise<(Decoded<V> | undefined)[]> {
    if (!Array.isArray(keys)) throw new KvError('INVALID_ARGUMENT', 'keys must be an array', { details: { option: 'keys' } });
    const ks = keys.map((k, i) => bytesOf(k, `keys[${i}]`));
    checkEncoding(options?.valueEncoding, 'valueEncoding');
    return this.call('getMany', options, async (ctx) => {
      if (ks.length === 0) return [];
      const results = await getMany(this.core, ctx, this.t, ks, resolveRead(options ?? {}, this.t, this.core.options));
      return results.map((r) => (r?.found === true ? decode(r.value, options?.valueEncoding) : undefined));
    });
  }

  /**
   * Stores `value` under `key`. With `ifAbsent` / `ifPresent` the write happens only if
   * the condition holds (`applied` says whether it did). Never re-sent once its outcome
   * is unknown: then it fails with UNKNOWN_OUTCOME.
   */
  put<V extends Encoding = 'bytes'>(key: Key, value: Value, options: PutOptions<V> & { readonly returnPrevious: true }): Promise<PutResultWithPrevious<V>>;
  put(key: Key, value: Value, options?: PutOptions): Promise<PutResult>;
  async put<V extends Encoding>(key: Key, value: Value, options?: PutOptions<V>): Promise<PutResult | PutResultWithPrevious<V>> {
    const k = bytesOf(key, 'key');
    const v = bytesOf(value, 'value');
    const ttlMs = checkTtl(options?.ttlMs);
    const ifAbsent = checkBool(options?.ifAbsent, 'ifAbsent') ?? false;
    const ifPresent = checkBool(options?.ifPresent, 'ifPresent') ?? false;
    const returnPrevious = checkBool(options?.returnPrevious, 'returnPrevious') ?? false;
    checkEncoding(options?.valueEncoding, 'valueEncoding');
    if (ifAbsent && ifPresent) throw new KvError('INVALID_ARGUMENT', 'ifAbsent and ifPresent exclude each other', { details: { option: 'ifPresent' } });
    const condition = ifAbsent ? kv.PutCondition.IF_ABSENT : ifPresent ? kv.PutCondition.IF_PRESENT : kv.PutCondition.NONE;
    return this.call('put', options, async (ctx) => {
      const { res } = await execute(this.core, ctx, this.t, {
        method: kv.KvService.put, ...WRITE, route: keyRoute(k),
        build: (header) => kv.PutRequest.create({ header, key: k, value: v, ttlMs, condition, returnPrevious }),
      });
      if (!returnPrevious) return { applied: res.applied };
      return { applied: res.applied, previous: res.previousFound ? decode(res.previousValue, options?.valueEncoding) : undefined };
    });
  }

  /** Deletes `key`; resolves true if it existed. Never re-sent once its outcome is unknown. */
  async delete(key: Key, options?: CallOptions): Promise<boolean> {
    const k = bytesOf(key, 'key');
    return this.call('delete', options, async (ctx) => {
      const { res } = await execute(this.core, ctx, this.t, {
        method: kv.KvService.delete, ...WRITE, route: keyRoute(k),
        build: (header) => kv.DeleteRequest.create({ header, key: k }),
      });
      return res.deleted;
    });
  }

  /**
   * Atomically: if `key` currently holds `expected` (null: does not exist), store `next`
   * (null: delete the key). A mismatch is a result (`swapped: false` with the value
   * found), not an error.
   */
  async compareAndSwap<V extends Encoding = 'bytes'>(
    key: Key, expected: Value | null, next: Value | null, options?: CasOptions<V>,
  ): Promise<CasResult<V>> {
    const k = bytesOf(key, 'key');
    const exp = expected === null ? undefined : bytesOf(expected, 'expected');
    const nxt = next === null ? undefined : bytesOf(next, 'next');
    const ttlMs = checkTtl(options?.ttlMs);
    checkEncoding(options?.valueEncoding, 'valueEncoding');
    return this.call('compareAndSwap', options, async (ctx) => {
      const { res } = await execute(this.core, ctx, this.t, {
        method: kv.KvService.compareAndSwap, ...WRITE, route: keyRoute(k),
        build: (header) => kv.CompareAndSwapRequest.create({
          header, key: k, expectAbsent: exp === undefined, expectedValue: exp, newValue: nxt, delete: nxt === undefined, ttlMs,
        }),
      });
      const enc = options?.valueEncoding;
      if (res.swapped) return { swapped: true, current: nxt === undefined ? undefined : decode(nxt, enc) };
      return { swapped: false, current: res.currentFound ? decode(res.currentValue, enc) : undefined };
    });
  }

  /**
   * Atomically adds `delta` (default 1) to the decimal int64 stored at `key` (a missing
   * key counts as 0) and resolves the new value. Fails with INVALID_ARGUMENT if the value
   * is not a decimal int64, OVERFLOW if the result leaves the int64 range. Not idempotent:
   * never re-sent once its outcome is unknown.
   */
  async incr(key: Key, delta: bigint | number = 1n, options?: IncrOptions): Promise<bigint> {
    const k = bytesOf(key, 'key');
    const d = checkDelta(delta);
    const ttlMs = checkTtl(options?.ttlMs);
    return this.call('incr', options, async (ctx) => {
      const { res } = await execute(this.core, ctx, this.t, {
        method: kv.KvService.incr, ...WRITE, route: keyRoute(k),
        build: (header) => kv.IncrRequest.create({ header, key: k, delta: d, ttlMs }),
      });
      return res.value;
    });
  }

  /**
   * Applies puts and deletes, atomically per shard. One shard: all or nothing, and the
   * result says `atomic: true`. Several shards: one atomic part per shard, applied
   * concurrently; the result says `atomic: false`, and a failure of any part throws
   * `PartialWriteError` listing what was applied. With `{ atomic: true }` a batch spanning
   * shards is refused with CROSSSLOT before anything is sent.
   */
  batchWrite(ops: readonly WriteOp[], options: BatchWriteOptions & { readonly atomic: true }): Promise<AtomicBatchWriteResult>;
  batchWrite(ops: readonly WriteOp[], options?: BatchWriteOptions): Promise<BatchWriteResult>;
  async batchWrite(ops: readonly WriteOp[], options?: BatchWriteOptions): Promise<BatchWriteResult> {
    const prepared = prepareOps(ops);
    const atomic = checkBool(options?.atomic, 'atomic') ?? false;
    return this.call('batchWrite', options, async (ctx) => {
      if (prepared.length === 0) return { atomic: true, shardCount: 0 };
      const parts = await batchWrite(this.core, ctx, this.t, prepared, atomic);
      return { atomic: parts.length === 1, shardCount: parts.length };
    });
  }

  /**
   * An async iterator over the table's entries: every shard in key order for range tables
   * (`start`, `end`, `reverse` allowed), every slot in slot order for hash tables. Take
   * `scanner.cursor` at any point to resume later with `scan({ cursor })`. `timeoutMs`
   * bounds each page fetch, not the whole scan.
   */
  scan<K extends Encoding = 'bytes', V extends Encoding = 'bytes'>(options?: ScanOptions<K, V>): Scanner<K, V> {
    return new Scanner<K, V>(this.core, this.t, options ?? {});
  }

  /**
   * Deletes every key in `[start, end)` of a range table (null: unbounded on that side),
   * one atomic proposal per shard; the result says how many shards, and a failure after
   * some shard was done throws `PartialWriteError`. Hash tables: NOT_SUPPORTED.
   */
  async deleteRange(start: Key | null, end: Key | null, options?: CallOptions): Promise<DeleteRangeResult> {
    const s = start === null ? undefined : nonEmpty(bytesOf(start, 'start'), 'start');
    const e = end === null ? undefined : nonEmpty(bytesOf(end, 'end'), 'end');
    return this.call('deleteRange', options, (ctx) => deleteRange(this.core, ctx, this.t, s, e));
  }

  /** Runs `fn` as one call of the client, once the table's routes are loaded. */
  private call<T>(op: OpName, options: unknown, fn: (ctx: CallContext) => Promise<T>): Promise<T> {
    const timeoutMs = checkCall(options);
    return this.core.run(op, this.t.name, timeoutMs, async (ctx) => {
      await this.core.ensureLoaded(ctx, this.t);
      return fn(ctx);
    });
  }
}

function nonEmpty(b: Uint8Array, option: string): Uint8Array {
  if (b.length === 0) throw new KvError('INVALID_ARGUMENT', `${option} must not be empty (pass null for unbounded)`, { details: { option } });
  return b;
}
