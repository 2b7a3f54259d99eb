/**
 * Memcomparable encodings: byte strings whose byte-lexicographic order is the order of the
 * values they encode, so LevelDB's default comparator sorts encoded keys correctly.
 *
 * `encodeBytes` is TiKV's / MyRocks' group encoding. The input is cut into groups of
 * GROUP_BYTES (8) bytes; each group is written as its 8 bytes, zero-padded if short,
 * followed by a marker byte MARKER_FULL - padCount (0xFF for a full group; 0xF7..0xFE for
 * the last group). A full group is always followed by another group, so an input whose
 * length is a multiple of 8 ends with an all-padding group (8 zeros + 0xF7).
 *
 * Properties (property-tested in memcomparable.test.ts):
 * - order-preserving: a < b  ⇔  encodeBytes(a) < encodeBytes(b);
 * - prefix-free and self-delimiting: no encoding is a proper prefix of another, and the
 *   decoder finds the end without a length, so more key components may follow it and
 *   `encodeBytes(a) ‖ x < encodeBytes(b) ‖ y` whenever a < b, for any x and y;
 * - canonical: every value has one encoding; the decoder rejects any other byte string.
 * Cost: 9 bytes out per 8 in, rounded up to a whole group (an empty input takes 9).
 */
import { assert } from './assert.js';
import { KvError } from './errors.js';

export const GROUP_BYTES = 8;
const GROUP_ENCODED_BYTES = GROUP_BYTES + 1;
const MARKER_FULL = 0xff;
/** The smallest valid marker: a last group holding no data byte. */
export const MARKER_MIN = MARKER_FULL - GROUP_BYTES;

/** Length of `encodeBytes(value)` for a value of `byteLength` bytes. */
export function encodedBytesLength(byteLength: number): number {
  return (Math.floor(byteLength / GROUP_BYTES) + 1) * GROUP_ENCODED_BYTES;
}

/** Writes the encoding of `value` into `out` at `offset`; returns the offset after it. */
export function writeEncodedBytes(out: Uint8Array, offset: number, value: Uint8Array): number {
  let o = offset;
  for (let i = 0; i <= value.length; i += GROUP_BYTES) {
    const remaining = value.length - i;
    if (remaining >= GROUP_BYTES) {
      out.set(value.subarray(i, i + GROUP_BYTES), o);
      out[o + GROUP_BYTES] = MARKER_FULL;
    } else {
      out.set(value.subarray(i), o);
      out.fill(0, o + remaining, o + GROUP_BYTES);
      out[o + GROUP_BYTES] = MARKER_FULL - (GROUP_BYTES - remaining);
    }
    o += GROUP_ENCODED_BYTES;
  }
  return o;
}

export function encodeBytes(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(encodedBytesLength(value.length));
  writeEncodedBytes(out, 0, value);
  return out;
}

export interface Decoded<T> {
  readonly value: T;
  /** Offset of the first byte after the encoding. */
  readonly next: number;
}

/**
 * Decodes the `encodeBytes` encoding that starts at `offset` of `buf`. Throws
 * `KvError('CORRUPTION')` if it is truncated, has a marker below MARKER_MIN, or has a
 * non-zero padding byte (a non-canonical encoding: accepting it would let two byte strings
 * name one key).
 */
export function decodeBytes(buf: Uint8Array, offset = 0): Decoded<Uint8Array> {
  const end = encodedEnd(buf, offset);
  const groups = (end - offset) / GROUP_ENCODED_BYTES;
  const lastMarker = buf[end - 1]!;
  const length = (groups - 1) * GROUP_BYTES + (GROUP_BYTES - (MARKER_FULL - lastMarker));
  const value = new Uint8Array(length);
  for (let g = 0, o = offset; g < groups; g++, o += GROUP_ENCODED_BYTES) {
    const take = Math.min(GROUP_BYTES, length - g * GROUP_BYTES);
    value.set(buf.subarray(o, o + take), g * GROUP_BYTES);
  }
  return { value, next: end };
}

/** The offset just after the encoding that starts at `offset`, validating it on the way. */
export function encodedEnd(buf: Uint8Array, offset = 0): number {
  assert(Number.isInteger(offset) && offset >= 0, () => `encodedEnd: bad offset ${offset}`);
  let o = offset;
  while (true) {
    if (o + GROUP_ENCODED_BYTES > buf.length) {
      throw new KvError('CORRUPTION', `memcomparable bytes truncated at offset ${o} (length ${buf.length})`);
    }
    const marker = buf[o + GROUP_BYTES]!;
    if (marker === MARKER_FULL) {
      o += GROUP_ENCODED_BYTES;
      continue;
    }
    if (marker < MARKER_MIN) {
      throw new KvError('CORRUPTION', `memcomparable marker 0x${marker.toString(16)} invalid at offset ${o + GROUP_BYTES}`);
    }
    const pad = MARKER_FULL - marker;
    for (let i = o + GROUP_BYTES - pad; i < o + GROUP_BYTES; i++) {
      if (buf[i] !== 0) throw new KvError('CORRUPTION', `memcomparable padding byte non-zero at offset ${i}`);
    }
    return o + GROUP_ENCODED_BYTES;
  }
}

const TWO_POW_64 = 1n << 64n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** u64 as 8 bytes big-endian: order-preserving for unsigned values. */
export function encodeU64(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v >= TWO_POW_64) throw new KvError('INVALID_ARGUMENT', `u64 out of range: ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

export function decodeU64(buf: Uint8Array, offset = 0): Decoded<bigint> {
  checkAvailable(buf, offset, 8, 'u64');
  return { value: new DataView(buf.buffer, buf.byteOffset).getBigUint64(offset), next: offset + 8 };
}

/** i64 as 8 bytes big-endian with the sign bit flipped, so negatives sort first. */
export function encodeI64(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  if (v < I64_MIN || v > I64_MAX) throw new KvError('INVALID_ARGUMENT', `i64 out of range: ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, v) ^ (1n << 63n));
  return out;
}

export function decodeI64(buf: Uint8Array, offset = 0): Decoded<bigint> {
  checkAvailable(buf, offset, 8, 'i64');
  const raw = new DataView(buf.buffer, buf.byteOffset).getBigUint64(offset) ^ (1n << 63n);
  return { value: BigInt.asIntN(64, raw), next: offset + 8 };
}

function checkAvailable(buf: Uint8Array, offset: number, n: number, what: string): void {
  if (offset < 0 || offset + n > buf.length) {
    throw new KvError('CORRUPTION', `${what} truncated at offset ${offset} (length ${buf.length})`);
  }
}
