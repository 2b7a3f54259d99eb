/**
 * Value-log garbage collection. A sealed file's garbage is its size minus the bytes the DB
 * still references (the engine's live-byte count). A file whose garbage ratio exceeds
 * `garbageRatio` is rewritten: each record still current for its key is appended to the
 * active file, then the key's pointer is swapped to the copy — only if the key still points
 * at the old record. The compare and the swap happen inside the engine's serialized write
 * path (`GcHost.swapPointers`), never here, so a swap can never undo a concurrent write:
 * an overwrite that lands first makes the compare fail and the copy is just garbage.
 *
 * A file is retired only when its live count has reached zero, so a record GC could not copy
 * (say, a corrupt one) keeps its file. Copying is paced by `rateBytesPerSec` so online
 * traffic keeps its disk bandwidth.
 */
import { assert } from '@shoal/common';
import type { VlogLogger } from './logger.js';
import { TokenBucket } from '../rate-limiter.js';
import { FILE_HEADER_BYTES } from './record.js';
import type { ValuePointer } from './record.js';
import type { ValueLog } from './value-log.js';

/** Move `key` from `from` to `to`, if it still points at `from`. */
export interface PointerSwap {
  readonly key: Uint8Array;
  readonly from: ValuePointer;
  readonly to: ValuePointer;
}

/** What GC needs from the engine that owns the DB. */
export interface GcHost {
  /** Bytes of `fileId` referenced by DB keys (0 if none). */
  liveBytes(fileId: number): number;
  /**
   * Files with this id or above may hold records whose references are not in the DB yet
   * (an apply batch or snapshot staging is in flight): they are not candidates.
   */
  appendFloor(): number;
  /** Whether storage key `key` currently points at `p` (a hint: the swap compares again). */
  isCurrent(key: Uint8Array, p: ValuePointer): boolean;
  /** Applies each swap whose key still points at `from`, in the engine's write path; returns how many did. */
  swapPointers(swaps: readonly PointerSwap[]): Promise<number>;
  /** Drops the accounting of a file with no live bytes and unlinks it once no reader can still need it. */
  retireFile(fileId: number): Promise<void>;
}

export interface ValueLogGcOptions {
  /** Rewrite sealed files whose garbage / data bytes exceeds this (0 < r < 1). */
  readonly garbageRatio: number;
  readonly rateBytesPerSec: number;
  /** Swaps per engine write. */
  readonly swapBatchMax?: number;
  readonly limiter?: TokenBucket;
  readonly logger?: VlogLogger | undefined;
}

export interface GcCandidate {
  readonly fileId: number;
  readonly sizeBytes: number;
  readonly liveBytes: number;
  readonly garbageRatio: number;
}

export interface GcRunResult {
  readonly filesRewritten: number;
  readonly bytesReclaimed: number;
  readonly bytesCopied: number;
}

const SWAP_BATCH_MAX_DEFAULT = 256;

export class ValueLogGc {
  private readonly limiter: TokenBucket;
  private readonly swapBatchMax: number;
  private running = false;

  constructor(
    private readonly vlog: ValueLog,
    private readonly host: GcHost,
    private readonly opts: ValueLogGcOptions,
  ) {
    assert(opts.garbageRatio > 0 && opts.garbageRatio < 1, 'garbageRatio must be in (0, 1)');
    this.limiter = opts.limiter ?? new TokenBucket({ rateBytesPerSec: opts.rateBytesPerSec, burstBytes: Math.max(1, opts.rateBytesPerSec / 10) });
    this.swapBatchMax = opts.swapBatchMax ?? SWAP_BATCH_MAX_DEFAULT;
  }

  /** Sealed files above the garbage ratio, most garbage first. */
  candidates(): GcCandidate[] {
    const out: GcCandidate[] = [];
    const floor = Math.min(this.vlog.activeFileId(), this.host.appendFloor());
    for (const fileId of this.vlog.fileIds()) {
      if (fileId >= floor) continue;
      const sizeBytes = this.vlog.fileSize(fileId) ?? 0;
      const dataBytes = Math.max(0, sizeBytes - FILE_HEADER_BYTES);
      const liveBytes = this.host.liveBytes(fileId);
      const garbageRatio = dataBytes === 0 ? 1 : (dataBytes - liveBytes) / dataBytes;
      if (garbageRatio > this.opts.garbageRatio || liveBytes === 0) out.push({ fileId, sizeBytes, liveBytes, garbageRatio });
    }
    return out.sort((a, b) => b.garbageRatio - a.garbageRatio || a.fileId - b.fileId);
  }

  /** One pass: rewrites (or just retires) every candidate, at most `filesMax` of them. */
  async run(filesMax = Number.MAX_SAFE_INTEGER): Promise<GcRunResult> {
    assert(!this.running, 'value-log GC is already running');
    this.running = true;
    let filesRewritten = 0;
    let bytesReclaimed = 0;
    let bytesCopied = 0;
    try {
      for (const c of this.candidates().slice(0, filesMax)) {
        if (c.liveBytes > 0) {
          const copied = await this.rewriteFile(c.fileId);
          bytesCopied += copied.bytesCopied;
          await this.swapAll(copied.swaps);
        }
        const left = this.host.liveBytes(c.fileId);
        if (left !== 0) {
          this.opts.logger?.warn({ fileId: c.fileId, liveBytes: left }, 'value-log GC: file still referenced after rewrite; kept');
          continue;
        }
        await this.host.retireFile(c.fileId);
        filesRewritten++;
        bytesReclaimed += c.sizeBytes;
      }
    } finally {
      this.running = false;
    }
    return { filesRewritten, bytesReclaimed, bytesCopied };
  }

  /**
   * Copies every record of `fileId` that is current for its key to the active file and
   * returns the swaps to make. Nothing in the DB changes here.
   */
  async rewriteFile(fileId: number): Promise<{ swaps: PointerSwap[]; bytesCopied: number }> {
    const swaps: PointerSwap[] = [];
    let bytesCopied = 0;
    for await (const rec of this.vlog.scanFile(fileId)) {
      if (!this.host.isCurrent(rec.key, rec.pointer)) continue;
      await this.limiter.acquire(rec.pointer.length);
      // Re-check after the pause: the key may have moved on meanwhile (saves a useless copy).
      if (!this.host.isCurrent(rec.key, rec.pointer)) continue;
      const key = new Uint8Array(rec.key); // a copy: do not keep the whole record buffer alive
      const to = this.vlog.appendSync(key, rec.value);
      swaps.push({ key, from: rec.pointer, to });
      bytesCopied += rec.pointer.length;
    }
    return { swaps, bytesCopied };
  }

  /** Hands swaps to the host in batches; returns how many took effect. */
  async swapAll(swaps: readonly PointerSwap[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < swaps.length; i += this.swapBatchMax) {
      n += await this.host.swapPointers(swaps.slice(i, i + this.swapBatchMax));
    }
    return n;
  }
}
