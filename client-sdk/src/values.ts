/**
 * Keys and values as callers give and receive them. Inputs are bytes or strings (a string
 * is stored as its UTF-8 bytes, so `'a'` and `new TextEncoder().encode('a')` name the same
 * key); outputs are bytes unless the call asks for `'utf8'`.
 */
import { KvError, toBytes } from '@shoal/common';

/** A key: raw bytes, or a string stored as its UTF-8 bytes. */
export type Key = Uint8Array | string;

/** A value: raw bytes, or a string stored as its UTF-8 bytes. */
export type Value = Uint8Array | string;

/** How a call returns keys or values: `'bytes'` (Uint8Array, the default) or `'utf8'` (string). */
export type Encoding = 'bytes' | 'utf8';

/** The type a key or value is returned as under encoding `E`. */
export type Decoded<E extends Encoding> = E extends 'utf8' ? string : Uint8Array;

const utf8 = new TextDecoder('utf-8');

/** The bytes of a key or value; asserts the type at run time for callers without TypeScript. */
export function bytesOf(x: Key, option: string): Uint8Array {
  if (typeof x === 'string' || x instanceof Uint8Array) return toBytes(x);
  throw new KvError('INVALID_ARGUMENT', `${option} must be a Uint8Array or a string, got ${typeof x}`, { details: { option } });
}

/** Bytes as the caller asked to receive them. */
export function decode<E extends Encoding>(bytes: Uint8Array, encoding: E | undefined): Decoded<E> {
  return (encoding === 'utf8' ? utf8.decode(bytes) : bytes) as Decoded<E>;
}

/** Checks an `Encoding` option given at run time. */
export function checkEncoding(encoding: unknown, option: string): void {
  if (encoding === undefined || encoding === 'bytes' || encoding === 'utf8') return;
  throw new KvError('INVALID_ARGUMENT', `${option} must be 'bytes' or 'utf8', got ${String(encoding)}`, { details: { option } });
}
