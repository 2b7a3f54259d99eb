/**
 * On-disk formats of the value log: the file header, the record, and the pointer the engine
 * stores in classic-level in place of a large value.
 *
 *   file    := header record*
 *   header  := magic "SHOALVLG" (8) | version u32 (1) | fileId u32            16 bytes
 *   record  := crc u32 | keyLength u32 | valueLength u32 | key | value        12 + k + v
 *              crc = crc32cMask(crc32c(keyLength..value)): lengths, key and value
 *   pointer := fileId u32 | offset u64 | length u32 | crc u32                  20 bytes
 *              offset/length: the whole record; crc: the record's stored crc field
 *
 * All integers big-endian. The record carries its storage key so GC can find the key that
 * points at it; the pointer carries the record's crc so a read also proves the record at
 * that offset is the one the pointer was made for (not merely some valid record).
 */
import { crc32c, crc32cMask, KvError } from '@shoal/common';
import { readU32, readU64, writeU32, writeU64 } from './bytes-be.js';

export const FILE_MAGIC = new TextEncoder().encode('SHOALVLG');
export const FILE_FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 12;
export const POINTER_BYTES = 20;
/** A record's length is a u32 in the pointer. */
export const RECORD_BYTES_MAX = 0xffff_ffff;

/** Where a value lives: one whole record of one value-log file. */
export interface ValuePointer {
  readonly fileId: number;
  /** Byte offset of the record in the file. */
  readonly offset: number;
  /** Length of the whole record (header + key + value). */
  readonly length: number;
  /** The record's stored (masked) crc field. */
  readonly crc: number;
}

/** A decoded record. `key` and `value` are views into the buffer read from disk. */
export interface ValueRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export function fileHeader(fileId: number): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_BYTES);
  out.set(FILE_MAGIC, 0);
  writeU32(out, 8, FILE_FORMAT_VERSION);
  writeU32(out, 12, fileId);
  return out;
}

/** Throws CORRUPTION unless `buf` is the header of file `fileId`. */
export function checkFileHeader(buf: Uint8Array, fileId: number, name: string): void {
  if (buf.length < FILE_HEADER_BYTES) throw new KvError('CORRUPTION', `value-log file ${name}: truncated header`);
  for (let i = 0; i < FILE_MAGIC.length; i++) {
    if (buf[i] !== FILE_MAGIC[i]) throw new KvError('CORRUPTION', `value-log file ${name}: bad magic`);
  }
  const version = readU32(buf, 8);
  if (version !== FILE_FORMAT_VERSION) {
    throw new KvError('INCOMPATIBLE_VERSION', `value-log file ${name}: format version ${version}, expected ${FILE_FORMAT_VERSION}`);
  }
  if (readU32(buf, 12) !== fileId) throw new KvError('CORRUPTION', `value-log file ${name}: header names another file id`);
}

export function recordLength(keyBytes: number, valueBytes: number): number {
  return RECORD_HEADER_BYTES + keyBytes + valueBytes;
}

/**
 * The record's header (crc, lengths) followed by the key; the value is written after it
 * unchanged (no copy of a possibly huge value). Returns the header+key bytes and the crc.
 */
export function encodeRecordHead(key: Uint8Array, value: Uint8Array): { head: Uint8Array; crc: number } {
  const head = new Uint8Array(RECORD_HEADER_BYTES + key.length);
  writeU32(head, 4, key.length);
  writeU32(head, 8, value.length);
  head.set(key, RECORD_HEADER_BYTES);
  const crc = crc32cMask(crc32c(value, crc32c(head.subarray(4))));
  writeU32(head, 0, crc);
  return { head, crc };
}

/**
 * Decodes and verifies a whole record read from disk. Throws CORRUPTION when the lengths do
 * not add up to `buf.length` or the crc does not match, so a damaged record can never be
 * returned as a value.
 */
export function decodeRecord(buf: Uint8Array, where: string): ValueRecord {
  if (buf.length < RECORD_HEADER_BYTES) throw new KvError('CORRUPTION', `value-log record ${where}: truncated header`);
  const keyLength = readU32(buf, 4);
  const valueLength = readU32(buf, 8);
  if (RECORD_HEADER_BYTES + keyLength + valueLength !== buf.length) {
    throw new KvError('CORRUPTION', `value-log record ${where}: lengths ${keyLength}+${valueLength} do not match ${buf.length}`);
  }
  const stored = readU32(buf, 0);
  if (crc32cMask(crc32c(buf.subarray(4))) !== stored) {
    throw new KvError('CORRUPTION', `value-log record ${where}: checksum mismatch`);
  }
  return {
    key: buf.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + keyLength),
    value: buf.subarray(RECORD_HEADER_BYTES + keyLength),
  };
}

export function encodePointer(out: Uint8Array, o: number, p: ValuePointer): void {
  writeU32(out, o, p.fileId);
  writeU64(out, o + 4, p.offset);
  writeU32(out, o + 12, p.length);
  writeU32(out, o + 16, p.crc);
}

export function decodePointer(buf: Uint8Array, o: number): ValuePointer {
  if (buf.length < o + POINTER_BYTES) throw new KvError('CORRUPTION', 'truncated value-log pointer');
  return { fileId: readU32(buf, o), offset: readU64(buf, o + 4), length: readU32(buf, o + 12), crc: readU32(buf, o + 16) };
}

export function samePointer(a: ValuePointer, b: ValuePointer): boolean {
  return a.fileId === b.fileId && a.offset === b.offset && a.length === b.length && a.crc === b.crc;
}

export function describePointer(p: ValuePointer): string {
  return `file ${p.fileId} offset ${p.offset} length ${p.length}`;
}
