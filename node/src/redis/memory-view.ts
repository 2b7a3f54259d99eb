/**
 * An in-memory sorted map of storage keys: a `ReadView` for tests and the simulator, and a
 * `RawApplyTarget` so tests apply a command's writes exactly as a replica would
 * (apply-raw.ts). Keys are held as latin1 strings, whose native order is byte order.
 */
import type { KeyRange } from '@shoal/common';
import { encodeInline } from '../engine/index.js';
import type { RawApplyTarget, StoredDataValue } from './apply-raw.js';
import type { IterateOptions, ReadView } from './view.js';

export function keyId(k: Uint8Array): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');
}

export function keyBytes(id: string): Uint8Array {
  return new Uint8Array(Buffer.from(id, 'latin1'));
}

export class MemoryView implements ReadView, RawApplyTarget {
  private readonly data = new Map<string, Uint8Array>();
  private sorted: string[] = [];
  private dirty = false;

  get size(): number {
    return this.data.size;
  }

  get(storageKey: Uint8Array): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.data.get(keyId(storageKey)));
  }

  getSync(storageKey: Uint8Array): Uint8Array | undefined {
    return this.data.get(keyId(storageKey));
  }

  async *iterate(range: KeyRange, options: IterateOptions = {}): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const keys = this.keys();
    const lo = lowerBound(keys, keyId(range.start));
    const hi = lowerBound(keys, keyId(range.end));
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    // A copy of the slice: a consumer may write while iterating (apply between pages).
    const slice = keys.slice(lo, hi);
    if (options.reverse === true) slice.reverse();
    let n = 0;
    for (const id of slice) {
      if (n >= limit) return;
      const v = this.data.get(id);
      if (v === undefined) continue;
      n++;
      yield [keyBytes(id), v] as const;
    }
  }

  /** Every entry, in order (for comparisons in tests). */
  entries(): [string, Uint8Array][] {
    return this.keys().map((id) => [id, this.data.get(id)!]);
  }

  countInRange(range: KeyRange): number {
    const keys = this.keys();
    return lowerBound(keys, keyId(range.end)) - lowerBound(keys, keyId(range.start));
  }

  // RawApplyTarget
  putData(storageKey: Uint8Array, v: StoredDataValue): void {
    this.set(storageKey, encodeInline(v.expireAtUnixMs, v.body, v.type));
  }

  putRaw(storageKey: Uint8Array, value: Uint8Array): void {
    this.set(storageKey, new Uint8Array(value));
  }

  del(storageKey: Uint8Array): void {
    if (this.data.delete(keyId(storageKey))) this.dirty = true;
  }

  deleteRange(range: KeyRange): void {
    const keys = this.keys();
    const lo = lowerBound(keys, keyId(range.start));
    const hi = lowerBound(keys, keyId(range.end));
    for (let i = lo; i < hi; i++) this.data.delete(keys[i]!);
    if (hi > lo) {
      keys.splice(lo, hi - lo);
    }
  }

  private set(storageKey: Uint8Array, value: Uint8Array): void {
    const id = keyId(storageKey);
    if (!this.data.has(id)) this.dirty = true;
    this.data.set(id, value);
  }

  private keys(): string[] {
    if (this.dirty) {
      this.sorted = [...this.data.keys()].sort();
      this.dirty = false;
    }
    return this.sorted;
  }
}

function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
