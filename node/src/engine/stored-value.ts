/**
 * The value classic-level stores under a data key:
 *
 *   header u8 | expireAtUnixMs u64be | body
 *   header  = type << 4 | storage
 *     storage 0x1 inline  — body is the value itself
 *     storage 0x2 pointer — body is a value-log pointer (fileId u32 | offset u64 | length u32 | crc u32)
 *     type    0x0 a plain KV value; 0x1‥0xF reserved for Redis-model metadata (hash, set, …)
 *   expireAtUnixMs: absolute expiry on the leader's clock; 0 = never expires
 *
 * Any other header is corruption (an old binary reading a newer format also lands here,
 * deliberately: it must not guess).
 */
import { KvError } from '@shoal/common';
import { decodePointer, encodePointer, POINTER_BYTES, readU64, writeU64 } from '../vlog/index.js';
import type { ValuePointer } from '../vlog/index.js';

export const STORED_HEADER_BYTES = 9;
const STORAGE_INLINE = 0x1;
const STORAGE_POINTER = 0x2;
/** The only value type so far: a plain KV value. */
export const VALUE_TYPE_PLAIN = 0x0;

interface StoredCommon {
  /** The high nibble of the header (VALUE_TYPE_PLAIN for KV values). */
  readonly type: number;
  readonly expireAtUnixMs: number;
}

export interface InlineValue extends StoredCommon {
  readonly storage: 'inline';
  /** A view into the stored bytes. */
  readonly value: Uint8Array;
}

export interface PointerValue extends StoredCommon {
  readonly storage: 'pointer';
  readonly pointer: ValuePointer;
}

export type StoredValue = InlineValue | PointerValue;

export function encodeInline(expireAtUnixMs: number, value: Uint8Array, type = VALUE_TYPE_PLAIN): Uint8Array {
  const out = new Uint8Array(STORED_HEADER_BYTES + value.length);
  out[0] = (type << 4) | STORAGE_INLINE;
  writeU64(out, 1, expireAtUnixMs);
  out.set(value, STORED_HEADER_BYTES);
  return out;
}

export function encodePointerValue(expireAtUnixMs: number, pointer: ValuePointer, type = VALUE_TYPE_PLAIN): Uint8Array {
  const out = new Uint8Array(STORED_HEADER_BYTES + POINTER_BYTES);
  out[0] = (type << 4) | STORAGE_POINTER;
  writeU64(out, 1, expireAtUnixMs);
  encodePointer(out, STORED_HEADER_BYTES, pointer);
  return out;
}

export function decodeStoredValue(buf: Uint8Array): StoredValue {
  if (buf.length < STORED_HEADER_BYTES) throw new KvError('CORRUPTION', `stored value of ${buf.length} bytes is shorter than its header`);
  const header = buf[0]!;
  const type = header >>> 4;
  const expireAtUnixMs = readU64(buf, 1);
  switch (header & 0x0f) {
    case STORAGE_INLINE:
      return { storage: 'inline', type, expireAtUnixMs, value: buf.subarray(STORED_HEADER_BYTES) };
    case STORAGE_POINTER:
      if (buf.length !== STORED_HEADER_BYTES + POINTER_BYTES) throw new KvError('CORRUPTION', 'stored pointer value has the wrong length');
      return { storage: 'pointer', type, expireAtUnixMs, pointer: decodePointer(buf, STORED_HEADER_BYTES) };
    default:
      throw new KvError('CORRUPTION', `unknown stored-value header 0x${header.toString(16)}`);
  }
}

/** Expired at `nowMs`: reads at or after the expiry instant no longer see the key. */
export function isExpired(expireAtUnixMs: number, nowMs: number): boolean {
  return expireAtUnixMs !== 0 && expireAtUnixMs <= nowMs;
}

/** Bytes a stored value keeps alive in the value log (0 for inline values). */
export function vlogBytesOf(v: StoredValue | undefined): number {
  return v?.storage === 'pointer' ? v.pointer.length : 0;
}
