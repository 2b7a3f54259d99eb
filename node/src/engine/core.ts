/**
 * The engine's shared internals: the DB and value log, the live-byte accounting, the one
 * write path, and the registry of open readers that holds back value-log deletions.
 *
 * Serialized writes: every DB write that changes data pointers or accounting (apply-batch
 * commits, GC swaps, snapshot staging and swaps, shard removal, makeDurable) runs inside
 * `exclusive()`, one at a time, in call order. Apply reads (synchronous `getSync`) happen
 * outside it, which is safe because the only writes that can land between an apply read and
 * its commit are GC pointer swaps, and a swap never changes a key's logical value; the
 * commit recomputes accounting from what the DB holds at write time, under the lock.
 *
 * Deferred file deletion: a reader with an explicit DB snapshot (scan, snapshot export) may
 * still hold pointers into a file GC just emptied. A retired file is unlinked only once every
 * reader registered before the retirement has been released.
 */
import { ClassicLevel } from 'classic-level';
import type { ChainedBatch } from 'classic-level';
import { assert, KvError } from '@shoal/common';
import type { KeyRange } from '@shoal/common';
import type { ValueLog } from '../vlog/index.js';
import type { ResolvedEngineOptions } from './options.js';
import { decodeStoredValue } from './stored-value.js';
import type { StoredValue } from './stored-value.js';
import { encodeU64Value, vlogLiveKey } from './local-keys.js';
import type { ShardKeyspace } from './keyspace.js';
import type { ShardLocalState, TableInfo } from './types.js';

export type Db = ClassicLevel<Uint8Array, Uint8Array>;
export type DbBatch = ChainedBatch<Db, Uint8Array, Uint8Array>;
export type DbSnapshot = ReturnType<Db['snapshot']>;

/** A replica as the engine holds it in memory. */
export interface ShardRuntime {
  state: ShardLocalState;
  table: TableInfo;
  ks: ShardKeyspace;
  /** A snapshot install is swapping the range: reads get NOT_READY. */
  installing: boolean;
  /** An installer exists (staging or swapping). */
  installerOpen: boolean;
}

export function openDb(location: string): Db {
  return new ClassicLevel<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' });
}

/** Live-byte changes of one write, applied to the DB in its batch and to memory after it. */
export class LiveDelta {
  private readonly deltas = new Map<number, number>();

  add(v: StoredValue | undefined): void {
    if (v?.storage === 'pointer') this.bump(v.pointer.fileId, v.pointer.length);
  }

  sub(v: StoredValue | undefined): void {
    if (v?.storage === 'pointer') this.bump(v.pointer.fileId, -v.pointer.length);
  }

  bump(fileId: number, bytes: number): void {
    if (bytes !== 0) this.deltas.set(fileId, (this.deltas.get(fileId) ?? 0) + bytes);
  }

  get empty(): boolean {
    return this.deltas.size === 0;
  }

  /** Puts each touched file's new total into `b`. */
  writeTo(b: DbBatch, live: ReadonlyMap<number, number>): void {
    for (const [fileId, d] of this.deltas) {
      const n = (live.get(fileId) ?? 0) + d;
      assert(n >= 0, () => `value-log file ${fileId}: live bytes would become ${n}`);
      b.put(vlogLiveKey(fileId), encodeU64Value(n));
    }
  }

  applyTo(live: Map<number, number>): void {
    for (const [fileId, d] of this.deltas) live.set(fileId, (live.get(fileId) ?? 0) + d);
  }
}

export class EngineCore {
  readonly live = new Map<number, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private failed: KvError | undefined;
  // Reader registry (see the file comment).
  private readerSeq = 0;
  private nextReaderId = 1;
  private readonly readers = new Map<number, number>();
  private readonly retiring: { fileId: number; seq: number }[] = [];
  private nextPinId = 1;
  private readonly pins = new Map<number, number>();

  constructor(readonly db: Db, readonly vlog: ValueLog, readonly opts: ResolvedEngineOptions) {}

  /** Runs `fn` alone on the write path, after every write queued before it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      this.checkHealthy();
      return fn();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Writes a batch; any failure leaves the engine failed (DISK_FAILURE from then on). */
  async write(b: DbBatch, sync: boolean): Promise<void> {
    this.checkHealthy();
    try {
      await b.write({ sync });
    } catch (e) {
      this.failed ??= new KvError('DISK_FAILURE', `engine: DB write failed: ${String(e)}`, { cause: e });
      this.opts.logger?.error({ err: String(e) }, 'engine: DB write failed');
      throw this.failed;
    }
  }

  checkHealthy(): void {
    if (this.failed !== undefined) throw this.failed;
  }

  markFailed(e: KvError): void {
    this.failed ??= e;
  }

  /** The stored value under `key` (expired or not), from the DB or a snapshot. */
  getStored(key: Uint8Array, snapshot?: DbSnapshot): StoredValue | undefined {
    const raw = snapshot === undefined ? this.db.getSync(key) : this.db.getSync(key, { snapshot });
    return raw === undefined ? undefined : decodeStoredValue(raw);
  }

  resolveSync(storageKey: Uint8Array, v: StoredValue): Uint8Array {
    return v.storage === 'inline' ? v.value : this.vlog.readSync(v.pointer, storageKey);
  }

  resolve(storageKey: Uint8Array, v: StoredValue): Promise<Uint8Array> {
    return v.storage === 'inline' ? Promise.resolve(v.value) : this.vlog.read(v.pointer, storageKey);
  }

  // ------------------------------------------------------------------ readers and retirement

  acquireReader(): number {
    const id = this.nextReaderId++;
    this.readers.set(id, this.readerSeq);
    return id;
  }

  releaseReader(id: number): void {
    if (this.readers.delete(id)) void this.unlinkRetired();
  }

  get openReaders(): number {
    return this.readers.size;
  }

  get filesAwaitingDelete(): number {
    return this.retiring.length;
  }

  /**
   * The file has no live bytes and its accounting is gone: unlink it now if no reader
   * registered before this call is open, else when the last of them is released.
   */
  async retire(fileId: number): Promise<void> {
    this.retiring.push({ fileId, seq: ++this.readerSeq });
    await this.unlinkRetired();
  }

  private async unlinkRetired(): Promise<void> {
    let oldest = Number.POSITIVE_INFINITY;
    for (const seq of this.readers.values()) oldest = Math.min(oldest, seq);
    const due = this.retiring.filter((r) => oldest >= r.seq);
    if (due.length === 0) return;
    this.retiring.splice(0, this.retiring.length, ...this.retiring.filter((r) => oldest < r.seq));
    for (const r of due) {
      try {
        await this.vlog.deleteFile(r.fileId);
      } catch (e) {
        this.opts.logger?.error({ fileId: r.fileId, err: String(e) }, 'engine: could not delete a value-log file');
      }
    }
  }

  /**
   * Deletes every key in `range`, in writes of about internalWriteBytesMax keys' worth,
   * each under the write lock. Accounting reads each key's current value under the lock
   * (a GC swap may have moved it since the iterator saw it). `isStoredValue(key)` says
   * whether a key's value is a stored value (data keys, staged entries). Call it outside
   * `exclusive()`. Returns the number of keys deleted.
   */
  async deleteRangeChunked(range: KeyRange, isStoredValue: (key: Uint8Array) => boolean): Promise<number> {
    let deleted = 0;
    const it = this.db.keys({ gte: range.start, lt: range.end });
    try {
      for (;;) {
        const keys: Uint8Array[] = [];
        let bytes = 0;
        while (bytes < this.opts.internalWriteBytesMax) {
          const more = await it.nextv(256);
          if (more.length === 0) break;
          for (const k of more) {
            keys.push(k);
            bytes += k.length + 64;
          }
        }
        if (keys.length === 0) break;
        deleted += await this.exclusive(() => this.deleteKeys(keys, isStoredValue));
      }
    } finally {
      await it.close();
    }
    return deleted;
  }

  private async deleteKeys(keys: readonly Uint8Array[], isStoredValue: (key: Uint8Array) => boolean): Promise<number> {
    const b = this.db.batch();
    const delta = new LiveDelta();
    let n = 0;
    for (const k of keys) {
      const cur = this.db.getSync(k);
      if (cur === undefined) continue;
      b.del(k);
      if (isStoredValue(k)) delta.sub(decodeStoredValue(cur));
      n++;
    }
    if (n === 0) {
      await b.close();
      return 0;
    }
    delta.writeTo(b, this.live);
    await this.write(b, false);
    delta.applyTo(this.live);
    return n;
  }

  // ------------------------------------------------------------------ append pins

  /**
   * Pins the value-log files an in-flight writer may append to (the active one and any
   * rotated in after it) until `unpin`: GC must not retire a file whose new references are
   * not yet in the DB. Returns a token.
   */
  pinAppends(): number {
    const id = this.nextPinId++;
    this.pins.set(id, this.vlog.activeFileId());
    return id;
  }

  unpin(token: number): void {
    this.pins.delete(token);
  }

  /** The lowest file id an in-flight writer may still reference without the DB knowing. */
  appendFloor(): number {
    let floor = Number.POSITIVE_INFINITY;
    for (const f of this.pins.values()) floor = Math.min(floor, f);
    return floor;
  }
}

