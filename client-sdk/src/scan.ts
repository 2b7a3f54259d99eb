/**
 * `Table.scan`: an async iterator over every shard of a table, one page at a time.
 *
 * The scan keeps one position in the storage keyspace (keyspace.ts): forward, every entry
 * at or above it is still to come; reverse, every entry below it. Each page is routed by
 * the position (not by a shard id), requested with user-key bounds at or beyond it, and
 * its entries are filtered by it again. So when a shard splits or merges mid-scan — the
 * node answers EPOCH_NOT_MATCH and the executor re-routes — the next page starts exactly
 * where the last entry returned left off: no key is skipped or returned twice, whatever
 * the new shard boundaries are. After a page the position moves to the node's `next_key`
 * (more in this shard) or to the shard's end (start, in reverse).
 *
 * Order: range tables in key order (descending with `reverse`); hash tables in
 * (slot, key) order, the order of their storage keys, shard after shard.
 */
import { compareBytes, KvError } from '@shoal/common';
import { kv } from '@shoal/proto';
import type { ClientCore } from './client-core.js';
import { formatScanCursor, parseScanCursor } from './cursor.js';
import type { ScanCursor } from './cursor.js';
import { execute } from './executor.js';
import { checkInt } from './options.js';
import { checkBool, checkCall, resolveRead } from './request-args.js';
import type { TableRoutes } from './table-routes.js';
import type { ScanEntry, ScanOptions } from './table-types.js';
import { bytesOf, checkEncoding, decode } from './values.js';
import type { Encoding } from './values.js';

const EMPTY = new Uint8Array(0);
/** Largest page a scan asks for; nodes cap pages further. */
const PAGE_KEYS_MAX = 100_000;

interface Page {
  readonly entries: readonly kv.KeyValue[];
  /** The position after the page; a shard bound if `boundary`. */
  readonly next: Uint8Array;
  readonly boundary: boolean;
}

/**
 * A running scan: iterate it with `for await`; take `cursor` to resume later.
 *
 * @typeParam K - how keys come back: `'bytes'` (Uint8Array) or `'utf8'` (string).
 * @typeParam V - how values come back: `'bytes'` or `'utf8'`.
 */
export class Scanner<K extends Encoding = 'bytes', V extends Encoding = 'bytes'> implements AsyncIterable<ScanEntry<K, V>> {
  private pos: Uint8Array | undefined;
  private stop: Uint8Array | undefined;
  private lastKey: Uint8Array | undefined;
  private finished = false;
  private iterating = false;
  private readonly limit: number;
  private readonly pageSize: number;
  private readonly timeoutMs: number | undefined;
  private readonly startKey: Uint8Array | undefined;
  private readonly endKey: Uint8Array | undefined;
  private readonly resume: ScanCursor | undefined;
  private readonly reverse: boolean;

  /** @internal Made by `Table.scan`. */
  constructor(private readonly core: ClientCore, private readonly t: TableRoutes, private readonly o: ScanOptions<K, V>) {
    this.timeoutMs = checkCall(o);
    this.limit = checkInt(o.limit, 'limit', 1, Number.MAX_SAFE_INTEGER) ?? Infinity;
    this.pageSize = checkInt(o.pageSize, 'pageSize', 1, PAGE_KEYS_MAX) ?? core.options.scanPageKeys;
    checkEncoding(o.keyEncoding, 'keyEncoding');
    checkEncoding(o.valueEncoding, 'valueEncoding');
    checkBool(o.keysOnly, 'keysOnly');
    const reverse = checkBool(o.reverse, 'reverse');
    this.resume = o.cursor === undefined ? undefined : parseScanCursor(o.cursor);
    if (this.resume !== undefined && (o.start !== undefined || o.end !== undefined || (reverse !== undefined && reverse !== this.resume.reverse))) {
      throw new KvError('INVALID_ARGUMENT', 'a cursor carries its scan\'s bounds and direction; do not pass start, end or reverse with it',
        { details: { option: 'cursor' } });
    }
    this.reverse = this.resume?.reverse ?? reverse ?? false;
    this.startKey = this.resume === undefined ? optionalKey(o.start, 'start') : this.resume.start;
    this.endKey = this.resume === undefined ? optionalKey(o.end, 'end') : this.resume.end;
  }

  /** True once the scan has returned every entry up to its end bound. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Where to resume: pass it as `scan({ cursor })`, here or in another process. Undefined
   * when the scan is done, or before its first page (then rerun the same scan).
   */
  get cursor(): string | undefined {
    if (this.finished || this.pos === undefined) return undefined;
    const { ks } = this.t;
    return formatScanCursor({
      tableId: ks.tableId, partition: ks.scheme, reverse: this.reverse, position: this.pos,
      slot: ks.scheme === 'hash' ? ks.slotAt(this.pos) ?? 0 : null, lastKey: this.lastKey, start: this.startKey, end: this.endKey,
    });
  }

  /** Collects every remaining entry (mind the memory: use `limit` on big tables). */
  async toArray(): Promise<ScanEntry<K, V>[]> {
    const out: ScanEntry<K, V>[] = [];
    for await (const e of this) out.push(e);
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ScanEntry<K, V>, void, undefined> {
    if (this.iterating) throw new KvError('INVALID_ARGUMENT', 'a scan can be iterated once; start another scan (or resume from its cursor)');
    this.iterating = true;
    if (this.pos === undefined) await this.init();
    let count = 0;
    while (!this.finished && count < this.limit) {
      const page = await this.fetch(Math.min(this.pageSize, this.limit - count));
      for (const e of page.entries) {
        if (count >= this.limit) return;
        this.pos = this.reverse ? this.t.ks.dataKey(e.key) : this.t.ks.after(e.key);
        this.lastKey = e.key;
        count++;
        yield {
          key: decode(e.key, this.o.keyEncoding), value: decode(e.value, this.o.valueEncoding), expireAtUnixMs: e.expireAtUnixMs,
        };
      }
      this.pos = page.next;
      if (page.boundary) this.lastKey = undefined;
      this.finished = this.reverse ? compareBytes(page.next, this.stop!) <= 0 : compareBytes(page.next, this.stop!) >= 0;
    }
  }

  /** Loads the table and sets the starting position and the stop bound. */
  private async init(): Promise<void> {
    await this.core.run('scan', this.t.name, this.timeoutMs, (ctx) => this.core.ensureLoaded(ctx, this.t));
    const { ks } = this.t;
    if (ks.scheme === 'hash' && (this.startKey !== undefined || this.endKey !== undefined || this.reverse)) {
      throw new KvError('NOT_SUPPORTED', `table ${this.t.name} is a hash table: scans run over all slots, forward, without start/end`);
    }
    const lower = this.startKey === undefined ? ks.start : ks.rangeBound(this.startKey);
    const upper = this.endKey === undefined ? ks.end : ks.rangeBound(this.endKey);
    this.stop = this.reverse ? lower : upper;
    const c = this.resume;
    if (c !== undefined) {
      if (c.tableId !== ks.tableId || c.partition !== ks.scheme) {
        throw new KvError('INVALID_ARGUMENT', `cursor belongs to table id ${c.tableId}, not ${this.t.name} (${ks.tableId})`, { details: { option: 'cursor' } });
      }
      if (compareBytes(c.position, lower) < 0 || compareBytes(c.position, upper) > 0) {
        throw new KvError('INVALID_ARGUMENT', 'cursor position lies outside its scan\'s bounds', { details: { option: 'cursor' } });
      }
      this.lastKey = c.lastKey;
    }
    this.pos = c?.position ?? (this.reverse ? upper : lower);
    this.finished = compareBytes(lower, upper) >= 0 || (this.reverse ? compareBytes(this.pos, lower) <= 0 : compareBytes(this.pos, upper) >= 0);
  }

  /** One page at the current position, routed and retried by the executor. */
  private fetch(limit: number): Promise<Page> {
    return this.core.run('scan', this.t.name, this.timeoutMs, async (ctx) => {
      const { ks } = this.t;
      const from = this.pos!;
      const read = resolveRead(this.o, this.t, this.core.options);
      const { res, shard } = await execute(this.core, ctx, this.t, {
        method: kv.KvService.scan, write: false, ...read,
        route: (t) => (this.reverse ? t.routes.locateBefore(from) : t.routes.locate(from)),
        build: (header) => kv.ScanRequest.create({
          header, limit, reverse: this.reverse, keysOnly: this.o.keysOnly ?? false,
          startKey: this.reverse ? this.startKey ?? EMPTY : ks.requestKeyAt(from),
          endKey: this.reverse ? ks.requestKeyAt(from) : this.endKey ?? EMPTY,
        }),
      });
      const stop = this.stop!;
      const inside = (k: Uint8Array): boolean => {
        const d = ks.dataKey(k);
        return this.reverse
          ? compareBytes(d, from) < 0 && compareBytes(d, stop) >= 0
          : compareBytes(d, from) >= 0 && compareBytes(d, stop) < 0;
      };
      const entries = res.pairs.filter((p) => inside(p.key));
      if (!res.more) return { entries, next: this.reverse ? shard.start : shard.end, boundary: true };
      const next = ks.dataKey(res.nextKey);
      const progress = compareBytes(next, from);
      if (res.nextKey.length === 0 || (this.reverse ? progress >= 0 : progress <= 0)) {
        throw new KvError('INTERNAL', `scan of shard ${shard.id}: the node's next_key does not advance the scan`);
      }
      return { entries, next, boundary: false };
    });
  }
}

function optionalKey(k: unknown, option: string): Uint8Array | undefined {
  if (k === undefined) return undefined;
  const b = bytesOf(k as Uint8Array | string, option);
  // An empty bound would mean "unbounded" on the wire; say so instead of guessing.
  if (b.length === 0) throw new KvError('INVALID_ARGUMENT', `${option} must not be empty (leave it out for an unbounded scan)`, { details: { option } });
  return b;
}
