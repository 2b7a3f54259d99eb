/**
 * Integer values for Incr, with Redis' rules (string2ll): an optional '-', then digits with
 * no leading zero (except "0" itself); no '+', no spaces, no "-0"; within int64.
 */
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
const DIGITS_MAX = 20;

/** The int64 a stored value holds, or undefined if it is not a canonical decimal int64. */
export function parseInt64(bytes: Uint8Array): bigint | undefined {
  const n = bytes.length;
  if (n === 0 || n > DIGITS_MAX) return undefined;
  if (n === 1 && bytes[0] === 0x30) return 0n;
  const negative = bytes[0] === 0x2d;
  const first = negative ? 1 : 0;
  if (first === n) return undefined;
  if (bytes[first]! < 0x31 || bytes[first]! > 0x39) return undefined;
  let v = 0n;
  for (let i = first; i < n; i++) {
    const c = bytes[i]!;
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10n + BigInt(c - 0x30);
  }
  if (negative) v = -v;
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

export function formatInt64(v: bigint): Uint8Array {
  return new TextEncoder().encode(v.toString());
}

/** a + b, or undefined when the result leaves int64. */
export function addInt64(a: bigint, b: bigint): bigint | undefined {
  const r = a + b;
  return r < INT64_MIN || r > INT64_MAX ? undefined : r;
}
