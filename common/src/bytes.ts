/**
 * Small byte-string helpers shared by the key codecs. Keys are `Uint8Array`s (a Node
 * `Buffer` is one) and compare byte-lexicographically, as LevelDB's default comparator does.
 */

const utf8 = new TextEncoder();

/** The bytes of a key given as bytes or as a string (UTF-8). */
export function toBytes(key: Uint8Array | string): Uint8Array {
  return typeof key === 'string' ? utf8.encode(key) : key;
}

/** Byte-lexicographic order: negative if a < b, 0 if equal, positive if a > b. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Lower-case hex, for logs and error messages. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
