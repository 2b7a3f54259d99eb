/**
 * A ReadView over the node engine's classic-level DB: one explicit DB snapshot per view,
 * so a command (or a sweep) reads one point in time, with data keys' value-log pointers
 * resolved into inline stored values.
 *
 * The engine does not export its DB (node/src/engine/index.ts has no raw-read accessor), so
 * this takes the few members it needs as `EngineRawAccess` — exactly the shape of the
 * engine's internal EngineCore (`db`, `resolve`, `acquireReader`, `releaseReader`). The
 * engine owner adds one method returning it (README "Engine hooks"); tests pass a bare
 * ClassicLevel.
 *
 * Obligations: open the view after the caller's consistency step (latches held, or the
 * read barrier passed); `close()` it when the command is done (it pins a snapshot and,
 * through the reader registration, the value-log files its pointers name).
 */
import { assert, compareBytes, decodeStorageKey, inRange, KvError } from '@shoal/common';
import type { KeyRange, PartitionScheme } from '@shoal/common';
import type { ClassicLevel } from 'classic-level';
import { decodeStoredValue, encodeInline } from '../engine/index.js';
import type { StoredValue } from '../engine/index.js';
import type { IterateOptions, ReadView } from './view.js';

export type RawDb = ClassicLevel<Uint8Array, Uint8Array>;

/** What the view needs from the engine (EngineCore has exactly these members). */
export interface EngineRawAccess {
  readonly db: RawDb;
  /** The bytes of a stored value: inline as is, a pointer read from the value log (verified). */
  resolve(storageKey: Uint8Array, v: StoredValue): Promise<Uint8Array>;
  /** Registers a reader so GC does not unlink value-log files while the snapshot may name them. */
  acquireReader?(): number;
  releaseReader?(id: number): void;
}

/** Batch size of the DB iterator (entries per native call). */
const NEXTV_BATCH = 256;

export interface ClosableView extends ReadView {
  close(): Promise<void>;
}

export class EngineReadView implements ClosableView {
  private readonly snapshot: ReturnType<RawDb['snapshot']>;
  private readonly reader: number | undefined;
  private closed = false;

  /** Takes the DB snapshot now (synchronously). `range` is the shard's storage range; reads outside it are bugs. */
  constructor(private readonly access: EngineRawAccess, private readonly scheme: PartitionScheme, private readonly range: KeyRange) {
    this.reader = access.acquireReader?.();
    this.snapshot = access.db.snapshot();
  }

  async get(storageKey: Uint8Array): Promise<Uint8Array | undefined> {
    this.check();
    assert(inRange(storageKey, this.range), 'EngineReadView.get outside the shard range');
    const raw = await this.access.db.get(storageKey, { snapshot: this.snapshot });
    return raw === undefined ? undefined : this.inline(storageKey, raw);
  }

  async *iterate(range: KeyRange, options: IterateOptions = {}): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    this.check();
    const start = compareBytes(range.start, this.range.start) < 0 ? this.range.start : range.start;
    const end = compareBytes(range.end, this.range.end) > 0 ? this.range.end : range.end;
    if (compareBytes(start, end) >= 0) return;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const it = this.access.db.iterator({ gte: start, lt: end, reverse: options.reverse ?? false, snapshot: this.snapshot });
    let n = 0;
    try {
      while (n < limit) {
        const batch = await it.nextv(Math.min(NEXTV_BATCH, limit - n));
        if (batch.length === 0) return;
        for (const [k, v] of batch) {
          n++;
          yield [k, await this.inline(k, v)] as const;
        }
      }
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.snapshot.close();
    } finally {
      if (this.reader !== undefined) this.access.releaseReader?.(this.reader);
    }
  }

  private check(): void {
    if (this.closed) throw new KvError('INTERNAL', 'read through a closed EngineReadView');
  }

  /** Data keys come back as inline stored values; other keys as stored. */
  private async inline(storageKey: Uint8Array, raw: Uint8Array): Promise<Uint8Array> {
    if (decodeStorageKey(storageKey, this.scheme).type !== 'data') return raw;
    const v = decodeStoredValue(raw);
    if (v.storage === 'inline') return raw;
    return encodeInline(v.expireAtUnixMs, await this.access.resolve(storageKey, v), v.type);
  }
}
