/**
 * Record framing of the WAL (see README.md, "Record format").
 *
 * ```
 * length u32 | masked crc32c u32 | type u8 | groupId u64 | payload
 * ```
 * All integers little-endian. `length` counts the bytes after the crc field (9 + payload),
 * so a record occupies 8 + length bytes. The CRC-32C covers the length field and every
 * byte after the crc field, and is stored masked (LevelDB's `crc32cMask`) because records
 * may themselves be copied into checksummed data. The same check runs on write (assert)
 * and on every read: recovery and the synchronous entry reads.
 */
import { crc32c, crc32cMask } from '@shoal/common';
import { getU32, putU32, putU64 } from './binary.js';

export const RecordType = {
  /** First record of every segment: magic, format version, segment id. groupId 0. */
  SegmentHeader: 1,
  /** Consecutive entries of one group; truncates that group's log from the first index. */
  Entries: 2,
  HardState: 3,
  /** Snapshot metadata; flags say whether it replaces the log or compacts up to its index. */
  Snapshot: 4,
  /** Entries <= index are no longer needed; carries the term of index. */
  Compact: 5,
  RemoveGroup: 6,
  /** A group's whole metadata (hard state, snapshot, compaction point): create and GC rewrite. */
  GroupState: 7,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** length u32 + crc u32 + type u8 + groupId u64. */
export const RECORD_HEADER_BYTES = 17;
/** Bytes of a record before its `length` counts: the length and crc fields. */
const FRAME_BYTES = 8;
const TYPE_MAX = RecordType.GroupState;

export function recordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}

/** Writes the header of a record whose payload follows; returns where the payload starts. */
export function writeRecordHeader(
  buf: Uint8Array, pos: number, type: RecordType, groupId: number, payloadBytes: number,
): number {
  putU32(buf, pos, RECORD_HEADER_BYTES - FRAME_BYTES + payloadBytes);
  putU32(buf, pos + 4, 0);
  buf[pos + 8] = type;
  putU64(buf, pos + 9, groupId);
  return pos + RECORD_HEADER_BYTES;
}

function recordCrc(buf: Uint8Array, pos: number, end: number): number {
  const withLength = crc32c(buf.subarray(pos, pos + 4));
  return crc32cMask(crc32c(buf.subarray(pos + FRAME_BYTES, end), withLength));
}

/** Fills in the CRC once header and payload are written. */
export function sealRecord(buf: Uint8Array, pos: number): void {
  const end = pos + FRAME_BYTES + getU32(buf, pos);
  putU32(buf, pos + 4, recordCrc(buf, pos, end));
}

export type ParsedRecord =
  | { readonly ok: true; readonly type: RecordType; readonly groupId: number; readonly payloadStart: number;
    readonly end: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses and verifies the record at `buf[pos]`, which must end by `end`. A failure is a
 * value: recovery decides whether it is a torn tail or corruption.
 */
export function parseRecord(buf: Uint8Array, pos: number, end: number): ParsedRecord {
  if (end - pos < FRAME_BYTES) return { ok: false, reason: `partial record header (${end - pos} bytes)` };
  const length = getU32(buf, pos);
  if (length < RECORD_HEADER_BYTES - FRAME_BYTES) return { ok: false, reason: `invalid record length ${length}` };
  const recEnd = pos + FRAME_BYTES + length;
  if (recEnd > end) return { ok: false, reason: `partial record (${end - pos} of ${FRAME_BYTES + length} bytes)` };
  const stored = getU32(buf, pos + 4);
  const actual = recordCrc(buf, pos, recEnd);
  if (stored !== actual) {
    return { ok: false, reason: `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})` };
  }
  const type = buf[pos + 8]!;
  if (type < 1 || type > TYPE_MAX) return { ok: false, reason: `unknown record type ${type}` };
  const lo = getU32(buf, pos + 9);
  const hi = getU32(buf, pos + 13);
  if (hi > 0x1fffff) return { ok: false, reason: 'group id exceeds 2^53' };
  return { ok: true, type: type as RecordType, groupId: hi * 4294967296 + lo, payloadStart: pos + RECORD_HEADER_BYTES,
    end: recEnd };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
