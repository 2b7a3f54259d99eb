/**
 * Number text exactly as Redis reads and writes it: `string2ll` (util.c), which the
 * protocol parser and every integer argument use, and `d2string`, which formats doubles in
 * replies.
 */

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;
/** Redis' LONG_STR_SIZE: text this long or longer is never a valid 64-bit integer. */
const LONG_STR_SIZE = 21;
const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;

/**
 * Parses bytes [from, to) as a signed 64-bit decimal integer with Redis' strictness: no
 * sign but `-`, no leading zeros, no spaces, nothing after the digits. Returns null when
 * Redis' string2ll would fail. Values beyond 2^53 come back rounded (callers compare them
 * with limits far below that); the range check itself is exact.
 */
export function string2ll(buf: Uint8Array, from = 0, to = buf.length): number | null {
  const len = to - from;
  if (len <= 0 || len >= LONG_STR_SIZE) return null;
  if (len === 1 && buf[from] === ZERO) return 0;
  let p = from;
  const negative = buf[p] === MINUS;
  if (negative) {
    p++;
    if (p === to) return null;
  }
  const first = buf[p]!;
  if (first < ZERO + 1 || first > NINE) return null;
  let v = first - ZERO;
  p++;
  for (; p < to; p++) {
    const c = buf[p]!;
    if (c < ZERO || c > NINE) return null;
    v = v * 10 + (c - ZERO);
  }
  // Up to 15 digits a double is exact and far inside the range; longer text is checked with BigInt.
  if (len - (negative ? 1 : 0) <= 15) return negative ? -v : v;
  let exact = BigInt(Buffer.from(buf.buffer, buf.byteOffset + from + (negative ? 1 : 0), len - (negative ? 1 : 0)).toString('latin1'));
  if (negative) exact = -exact;
  if (exact > LLONG_MAX || exact < LLONG_MIN) return null;
  return Number(exact);
}

/** `string2ll` of a whole buffer or string: the integer argument parser of most commands. */
export function parseInteger(arg: Uint8Array | string): number | null {
  const b = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
  return string2ll(b, 0, b.length);
}

/**
 * A double as Redis 7.0's addReplyDouble prints it, in RESP2 and RESP3 alike: `%.17g`
 * (`0.1` → `0.10000000000000001`, `1.5e-7` → `1.4999999999999999e-07`), `inf`, `-inf`.
 * The storage nodes format their RESP2 doubles the same way (node/src/redis/numbers.ts)
 * and are tested against redis-server 7.0, so a client sees one spelling whatever its
 * protocol version. (Redis 7.2 switched to the shortest round-trip form.)
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mant, expText] = d.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  const sign = mant.startsWith('-') ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 17) {
    const frac = digits.slice(1).replace(/0+$/, '');
    return `${sign}${digits[0]!}${frac === '' ? '' : `.${frac}`}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const intPart = exp >= 0 ? digits.slice(0, exp + 1) : '0';
  const frac = (exp >= 0 ? digits.slice(exp + 1) : '0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
  return `${sign}${intPart}${frac === '' ? '' : `.${frac}`}`;
}
