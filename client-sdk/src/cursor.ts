/**
 * Scan cursors: where a scan stopped, as a string the caller can store and pass back
 * (`scan({ cursor })`) — in another process, after route changes, days later.
 *
 * A cursor names a position in the table's storage keyspace, not a shard: shards split
 * and merge, positions stay valid. For a hash table the position is a (slot, last key)
 * pair, for a range table the last key; before any key of a shard was returned it is the
 * shard's start bound (a slot for hash tables). The scan resumes strictly after the last
 * key returned (before it, in reverse), so nothing is returned twice or skipped.
 */
import { KvError } from '@shoal/common';

/** The decoded content of a cursor string (see the file comment). */
export interface ScanCursor {
  /** The table the scan runs over. */
  readonly tableId: number;
  /** The table's partition scheme. */
  readonly partition: 'hash' | 'range';
  /** Descending scan (range tables). */
  readonly reverse: boolean;
  /**
   * The storage-key position the scan resumes at: forward, every entry at or above it is
   * still to come; reverse, every entry below it.
   */
  readonly position: Uint8Array;
  /** Hash tables: the slot the scan resumes in; null for range tables. */
  readonly slot: number | null;
  /** The last key returned before the cursor was taken; undefined if it points at a shard bound. */
  readonly lastKey: Uint8Array | undefined;
  /** The scan's inclusive lower bound (range tables), if it had one. */
  readonly start: Uint8Array | undefined;
  /** The scan's exclusive upper bound (range tables), if it had one. */
  readonly end: Uint8Array | undefined;
}

const PREFIX = 'shoal-scan-v1.';
/** A cursor longer than this is not one we made (keys are far smaller on nodes). */
const CURSOR_CHARS_MAX = 64 * 1024;

interface Wire {
  t: number;
  h: boolean;
  r: boolean;
  p: string;
  l?: string;
  s?: string;
  e?: string;
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const unb64 = (s: unknown): Uint8Array => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new TypeError('not base64url');
  return new Uint8Array(Buffer.from(s, 'base64url'));
};

/** Encodes a cursor as an opaque, URL-safe string. */
export function formatScanCursor(c: ScanCursor): string {
  const w: Wire = { t: c.tableId, h: c.partition === 'hash', r: c.reverse, p: b64(c.position) };
  if (c.lastKey !== undefined) w.l = b64(c.lastKey);
  if (c.start !== undefined) w.s = b64(c.start);
  if (c.end !== undefined) w.e = b64(c.end);
  return PREFIX + Buffer.from(JSON.stringify(w)).toString('base64url');
}

/** Decodes a cursor string; throws INVALID_ARGUMENT (option `cursor`) if it is not one. */
export function parseScanCursor(text: string): ScanCursor {
  const bad = (why: string): KvError => new KvError('INVALID_ARGUMENT', `cursor is not a scan cursor: ${why}`, { details: { option: 'cursor' } });
  if (typeof text !== 'string' || !text.startsWith(PREFIX) || text.length > CURSOR_CHARS_MAX) throw bad('wrong format');
  let w: Partial<Wire>;
  try {
    w = JSON.parse(Buffer.from(text.slice(PREFIX.length), 'base64url').toString('utf8')) as Partial<Wire>;
  } catch {
    throw bad('undecodable');
  }
  if (typeof w !== 'object' || w === null || typeof w.t !== 'number' || !Number.isInteger(w.t) || typeof w.h !== 'boolean' || typeof w.r !== 'boolean') {
    throw bad('missing fields');
  }
  try {
    const position = unb64(w.p);
    const slot = !w.h ? null : position.length >= 6 ? (position[4]! << 8) | position[5]! : 0;
    return {
      tableId: w.t, partition: w.h ? 'hash' : 'range', reverse: w.r, position, slot,
      lastKey: w.l === undefined ? undefined : unb64(w.l),
      start: w.s === undefined ? undefined : unb64(w.s),
      end: w.e === undefined ? undefined : unb64(w.e),
    };
  } catch {
    throw bad('bad key encoding');
  }
}
