/**
 * A ReadView over another one plus pending writes: what the base will hold once the writes
 * apply. MULTI/EXEC runs each command of the block on it, so a command sees the writes of
 * the commands before it, and the block proposes all of them as one batch.
 */
import { compareBytes, inRange } from '@shoal/common';
import type { KeyRange } from '@shoal/common';
import { keyBytes, keyId } from './memory-view.js';
import type { IterateOptions, RawWrite, ReadView } from './view.js';

export class LayeredView implements ReadView {
  /** Point writes since the last range delete covering them: value, or null for a delete. */
  private readonly points = new Map<string, Uint8Array | null>();
  private readonly ranges: KeyRange[] = [];
  private readonly log: RawWrite[] = [];

  constructor(private readonly base: ReadView) {}

  apply(writes: readonly RawWrite[]): void {
    for (const w of writes) {
      this.log.push(w);
      switch (w.type) {
        case 'put': this.points.set(keyId(w.key), w.value); break;
        case 'delete': this.points.set(keyId(w.key), null); break;
        case 'deleteRange':
          this.ranges.push(w.range);
          for (const id of [...this.points.keys()]) if (inRange(keyBytes(id), w.range)) this.points.delete(id);
          break;
      }
    }
  }

  /** Every write applied so far, in order. */
  writes(): readonly RawWrite[] {
    return this.log;
  }

  async get(storageKey: Uint8Array): Promise<Uint8Array | undefined> {
    const p = this.points.get(keyId(storageKey));
    if (p !== undefined) return p ?? undefined;
    if (this.masked(storageKey)) return undefined;
    return this.base.get(storageKey);
  }

  private masked(k: Uint8Array): boolean {
    return this.ranges.some((r) => inRange(k, r));
  }

  async *iterate(range: KeyRange, options: IterateOptions = {}): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const reverse = options.reverse ?? false;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const sign = reverse ? -1 : 1;
    const mine = [...this.points.entries()]
      .map(([id, v]) => [keyBytes(id), v] as const)
      .filter(([k]) => inRange(k, range))
      .sort(([a], [b]) => sign * compareBytes(a, b));
    let i = 0;
    let n = 0;
    for await (const [k, v] of this.base.iterate(range, { reverse })) {
      // Own entries that sort before this base entry come first.
      while (i < mine.length && sign * compareBytes(mine[i]![0], k) < 0) {
        const [mk, mv] = mine[i++]!;
        if (mv === null) continue;
        if (n++ >= limit) return;
        yield [mk, mv] as const;
      }
      if (this.points.has(keyId(k)) || this.masked(k)) continue;
      if (n++ >= limit) return;
      yield [k, v] as const;
    }
    for (; i < mine.length; i++) {
      const [mk, mv] = mine[i]!;
      if (mv === null) continue;
      if (n++ >= limit) return;
      yield [mk, mv] as const;
    }
  }
}
