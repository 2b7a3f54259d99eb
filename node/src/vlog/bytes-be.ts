/**
 * Big-endian fixed-width integers for the on-disk formats of the value log and the engine.
 * u64 fields hold safe integers only (offsets, indexes, Unix ms): a larger value on disk is
 * corruption, so the reader throws `KvError('CORRUPTION')` rather than return a rounded number.
 */
import { assert, KvError } from '@shoal/common';

export function writeU32(out: Uint8Array, o: number, n: number): void {
  assert(Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff, () => `u32 out of range: ${n}`);
  out[o] = n >>> 24;
  out[o + 1] = (n >>> 16) & 0xff;
  out[o + 2] = (n >>> 8) & 0xff;
  out[o + 3] = n & 0xff;
}

export function readU32(buf: Uint8Array, o: number): number {
  assert(o + 4 <= buf.length, () => `u32 read past the end: ${o} + 4 > ${buf.length}`);
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

export function writeU64(out: Uint8Array, o: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, () => `u64 field must be a non-negative safe integer, got ${n}`);
  writeU32(out, o, Math.floor(n / 0x1_0000_0000));
  writeU32(out, o + 4, n >>> 0);
}

export function readU64(buf: Uint8Array, o: number): number {
  const n = readU32(buf, o) * 0x1_0000_0000 + readU32(buf, o + 4);
  if (!Number.isSafeInteger(n)) throw new KvError('CORRUPTION', `u64 field above 2^53 at offset ${o}`);
  return n;
}

export function u32Bytes(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32(out, 0, n);
  return out;
}

export function u64Bytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(out, 0, n);
  return out;
}
