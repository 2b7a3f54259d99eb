/**
 * Options of the shared Raft log, validated once in `Wal.open` (STYLE.md rule 9): every
 * size and queue has a named limit, and a bad value fails with `CONFIG_INVALID` naming the
 * option (`details.option`).
 */
import { KvError } from '@shoal/common';

export interface WalLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/** Test and chaos hooks: each is asked before the operation; `true` makes it fail with EIO. */
export interface WalFailpoints {
  fsyncError?: () => boolean;
  writeError?: () => boolean;
}

export interface WalOptions {
  dir: string;
  /** Rotate to a new segment once the active one holds at least this many bytes. */
  segmentBytes: number;
  /** always: flush() fdatasyncs; async: a timer fdatasyncs every syncIntervalMs. */
  sync: 'always' | 'async';
  syncIntervalMs: number;
  /** Bound on cached entry bytes (payload + a fixed per-entry overhead) across all groups. */
  entryCacheBytesMax: number;
  failpoints?: WalFailpoints;
  logger?: WalLogger;
  /**
   * Largest record written (header included). Entries of one stage call are split over
   * several records as needed; a single entry larger than this is refused with
   * REQUEST_TOO_LARGE, so keep raft's proposalBytesMax below it. Default 1 GiB.
   */
  recordBytesMax?: number;
  /** Bound on the bytes one maybeGc() call copies forward. Default 64 MiB. */
  gcRewriteBytesMax?: number;
  /**
   * A group whose live tail (encoded entry bytes) exceeds this is never copied by GC: its
   * entries keep their segment alive until the group compacts. Default 1 MiB.
   */
  gcGroupRewriteBytesMax?: number;
}

export interface ResolvedWalOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly sync: 'always' | 'async';
  readonly syncIntervalMs: number;
  readonly entryCacheBytesMax: number;
  readonly failpoints: WalFailpoints;
  readonly logger: WalLogger;
  readonly recordBytesMax: number;
  readonly gcRewriteBytesMax: number;
  readonly gcGroupRewriteBytesMax: number;
}

/** Smallest segment accepted: tests use tiny segments to exercise rotation and GC. */
export const SEGMENT_BYTES_MIN = 512;
/** Positions are JS numbers; keep a segment far below 2^53 and within one fs call's reach. */
export const SEGMENT_BYTES_MAX = 2 ** 40;
/** A record's length field is u32 and one fs.readSync reads at most 2^31-1 bytes. */
export const RECORD_BYTES_LIMIT = 2 ** 31 - 1;
export const RECORD_BYTES_MIN = 1024;
export const SYNC_INTERVAL_MS_MAX = 60_000;

const NOOP_LOGGER: WalLogger = { info() {}, warn() {}, error() {} };

function invalid(option: string, reason: string, value: unknown): KvError {
  return new KvError('CONFIG_INVALID', `invalid WAL option ${option}: ${reason}, got ${String(value)}`,
    { details: { option } });
}

function intInRange(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(option, `must be an integer in [${min}, ${max}]`, value);
  }
  return value;
}

export function resolveWalOptions(o: WalOptions): ResolvedWalOptions {
  if (typeof o.dir !== 'string' || o.dir === '') throw invalid('dir', 'must be a non-empty path', o.dir);
  if (o.sync !== 'always' && o.sync !== 'async') throw invalid('sync', 'must be "always" or "async"', o.sync);
  const segmentBytes = intInRange('segmentBytes', o.segmentBytes, SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX);
  const recordBytesMax = intInRange('recordBytesMax', o.recordBytesMax ?? 2 ** 30, RECORD_BYTES_MIN,
    RECORD_BYTES_LIMIT);
  const gcRewriteBytesMax = intInRange('gcRewriteBytesMax', o.gcRewriteBytesMax ?? 64 * 2 ** 20, 0,
    Number.MAX_SAFE_INTEGER);
  return {
    dir: o.dir,
    segmentBytes,
    sync: o.sync,
    syncIntervalMs: intInRange('syncIntervalMs', o.syncIntervalMs, 1, SYNC_INTERVAL_MS_MAX),
    entryCacheBytesMax: intInRange('entryCacheBytesMax', o.entryCacheBytesMax, 0, Number.MAX_SAFE_INTEGER),
    failpoints: o.failpoints ?? {},
    logger: o.logger ?? NOOP_LOGGER,
    recordBytesMax,
    gcRewriteBytesMax,
    gcGroupRewriteBytesMax: intInRange('gcGroupRewriteBytesMax', o.gcGroupRewriteBytesMax ?? Math.min(2 ** 20, gcRewriteBytesMax), 0,
      gcRewriteBytesMax),
  };
}
