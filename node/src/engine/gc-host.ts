/**
 * The engine's side of value-log GC (vlog/gc.ts): pointer lookups against the DB, and
 * pointer swaps and file retirement in the engine's serialized write path, so a swap is a
 * true compare-and-swap with respect to apply: it happens between whole apply batches, and
 * only if the key still holds exactly the old pointer.
 */
import type { GcHost, PointerSwap, ValuePointer } from '../vlog/index.js';
import { samePointer } from '../vlog/index.js';
import { LiveDelta } from './core.js';
import type { EngineCore } from './core.js';
import { vlogLiveKey } from './local-keys.js';
import { decodeStoredValue, encodePointerValue } from './stored-value.js';
import type { StoredValue } from './stored-value.js';
import { assert } from '@shoal/common';

export class EngineGcHost implements GcHost {
  constructor(private readonly core: EngineCore) {}

  liveBytes(fileId: number): number {
    return this.core.live.get(fileId) ?? 0;
  }

  appendFloor(): number {
    return this.core.appendFloor();
  }

  isCurrent(key: Uint8Array, p: ValuePointer): boolean {
    const v = this.current(key);
    return v?.storage === 'pointer' && samePointer(v.pointer, p);
  }

  swapPointers(swaps: readonly PointerSwap[]): Promise<number> {
    const core = this.core;
    return core.exclusive(async () => {
      // The copies must be durable before a DB write that references them (see valueLogSyncOnCommit).
      if (core.opts.valueLogSyncOnCommit) await core.vlog.syncAll();
      const b = core.db.batch();
      const delta = new LiveDelta();
      let swapped = 0;
      for (const s of swaps) {
        const v = this.current(s.key);
        if (v?.storage !== 'pointer' || !samePointer(v.pointer, s.from)) continue;
        const next = encodePointerValue(v.expireAtUnixMs, s.to, v.type);
        b.put(s.key, next);
        delta.sub(v);
        delta.add(decodeStoredValue(next));
        swapped++;
      }
      if (swapped === 0) {
        await b.close();
        return 0;
      }
      delta.writeTo(b, core.live);
      await core.write(b, false);
      delta.applyTo(core.live);
      return swapped;
    });
  }

  retireFile(fileId: number): Promise<void> {
    const core = this.core;
    return core.exclusive(async () => {
      assert((core.live.get(fileId) ?? 0) === 0, () => `retiring value-log file ${fileId} with live bytes`);
      // The unlink cannot be undone, so the swaps that emptied the file — and the copies they
      // point at — must survive a power loss first: sync the copies, then a synced DB write
      // (LevelDB syncs its whole log, so the earlier unsynced swap batches go with it).
      await core.vlog.syncAll();
      const b = core.db.batch();
      b.del(vlogLiveKey(fileId));
      await core.write(b, true);
      core.live.delete(fileId);
      await core.retire(fileId);
    });
  }

  /** The stored value under a record's key; a key that holds no stored value counts as none. */
  private current(key: Uint8Array): StoredValue | undefined {
    const raw = this.core.db.getSync(key);
    if (raw === undefined) return undefined;
    try {
      return decodeStoredValue(raw);
    } catch {
      return undefined;
    }
  }
}
