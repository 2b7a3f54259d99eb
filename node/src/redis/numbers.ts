/**
 * Numbers as Redis 7.0 reads and writes them.
 *
 * - Integers: `string2ll` — an optional '-', digits without a leading zero (except "0"),
 *   no '+', no spaces, within int64 (the engine's `parseInt64`, shared with the KV Incr).
 * - Doubles: `strtod` over the whole argument — decimal with optional exponent, `inf` /
 *   `infinity` (any case, signed), hex floats; never NaN, no leading space, no overflow to
 *   ±HUGE_VAL, no underflow to 0 ("value is not a valid float" otherwise).
 * - Doubles out: `%.17g` (Redis 7.0's addReplyDouble), `inf` / `-inf`.
 * - INCRBYFLOAT / HINCRBYFLOAT: Redis parses both operands with strtold into x86 80-bit
 *   `long double`s (64-bit significand), adds them (one rounding) and prints `%.17Lf` with
 *   the trailing zeros cut. This module emulates exactly that with BigInt arithmetic:
 *   each operand is rounded to the nearest 64-bit-significand binary value (ties to even),
 *   the exact sum is rounded the same way, and the exact binary result is printed with 17
 *   fractional digits — so the binary noise Redis shows (`-4989.39999999999999991`)
 *   appears here too.
 */
import { INT64_MAX, INT64_MIN, parseInt64 } from '../engine/index.js';

export { INT64_MAX, INT64_MIN };

const latin1 = new TextDecoder('latin1');
const utf8 = new TextEncoder();

export function text(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}

/** string2ll: the int64 the bytes spell, or undefined. */
export function parseI64(bytes: Uint8Array): bigint | undefined {
  return parseInt64(bytes);
}

export function formatI64(v: bigint): Uint8Array {
  return utf8.encode(v.toString());
}

/** a + b if it stays in int64. */
export function addI64(a: bigint, b: bigint): bigint | undefined {
  const r = a + b;
  return r < INT64_MIN || r > INT64_MAX ? undefined : r;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(inity)?$/i;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
/** Redis refuses numeric arguments this long (MAX_LONG_DOUBLE_CHARS). */
const NUMBER_CHARS_MAX = 5 * 1024;

/** strtod as Redis uses it (string2d): the double, or undefined if Redis says "not a valid float". */
export function parseDouble(bytes: Uint8Array): number | undefined {
  if (bytes.length === 0 || bytes.length >= NUMBER_CHARS_MAX) return undefined;
  const s = text(bytes);
  const inf = INFINITY.exec(s);
  if (inf !== null) return inf[1] === '-' ? -Infinity : Infinity;
  if (DECIMAL.test(s)) {
    const d = Number(s);
    if (!Number.isFinite(d)) return undefined; // ERANGE overflow
    if (d === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) return undefined; // ERANGE underflow to zero
    return d;
  }
  return parseHexDouble(s);
}

function parseHexDouble(s: string): number | undefined {
  const m = HEX.exec(s);
  if (m === null) return undefined;
  const intDigits = m[2] ?? '';
  const fracDigits = m[3] ?? '';
  if (intDigits.length + fracDigits.length === 0) return undefined;
  const mantissa = BigInt(`0x${intDigits}${fracDigits}`);
  const exp = Number(m[4] ?? '0') - 4 * fracDigits.length;
  const d = Number(mantissa) * 2 ** exp;
  if (!Number.isFinite(d) || Number.isNaN(d)) return undefined;
  if (d === 0 && mantissa !== 0n) return undefined;
  return m[1] === '-' ? -d : d;
}

/** `%.17g`, with Redis' explicit `inf` / `-inf`. */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mant, expText] = d.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  const negative = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 17) {
    const frac = digits.slice(1).replace(/0+$/, '');
    const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${digits[0]!}${frac === '' ? '' : `.${frac}`}e${e}`;
  }
  let intPart: string;
  let frac: string;
  if (exp >= 0) {
    intPart = digits.slice(0, exp + 1);
    frac = digits.slice(exp + 1);
  } else {
    intPart = '0';
    frac = '0'.repeat(-exp - 1) + digits;
  }
  frac = frac.replace(/0+$/, '');
  return `${sign}${intPart}${frac === '' ? '' : `.${frac}`}`;
}

export function formatDoubleBytes(d: number): Uint8Array {
  return utf8.encode(formatDouble(d));
}

// ------------------------------------------------------------------------- long doubles

/** An exact decimal `n / 10^scale`. */
export interface Decimal {
  readonly n: bigint;
  readonly scale: number;
}

export type LongDouble = { readonly kind: 'finite'; readonly value: Decimal } | { readonly kind: 'inf'; readonly negative: boolean };

/** Exponents beyond a long double's range (≈1e±4932) overflow or underflow in strtold. */
const LONG_DOUBLE_EXP_MAX = 4930;
const HUMAN_DECIMALS = 17;

/** strtold as Redis uses it (string2ld); undefined where Redis says "not a valid float". */
export function parseLongDouble(bytes: Uint8Array): LongDouble | undefined {
  if (bytes.length === 0 || bytes.length >= NUMBER_CHARS_MAX) return undefined;
  const s = text(bytes);
  const inf = INFINITY.exec(s);
  if (inf !== null) return { kind: 'inf', negative: inf[1] === '-' };
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (m === null || !DECIMAL.test(s)) return undefined;
  const intDigits = m[2] ?? '';
  const fracDigits = m[3] ?? '';
  const exp = Number(m[4] ?? '0');
  let n = BigInt(`${intDigits}${fracDigits}` || '0');
  if (n !== 0n) {
    const magnitude = intDigits.replace(/^0+/, '').length - 1 + exp;
    if (magnitude > LONG_DOUBLE_EXP_MAX || magnitude < -LONG_DOUBLE_EXP_MAX) return undefined;
  } else if (Math.abs(exp) > LONG_DOUBLE_EXP_MAX * 2) {
    return undefined;
  }
  if (m[1] === '-') n = -n;
  let scale = fracDigits.length - exp;
  if (scale < 0) {
    n *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { kind: 'finite', value: roundToExtended({ n, scale }) };
}

/** a + b, or undefined when a long double would be inf or NaN. */
export function addLongDouble(a: LongDouble, b: LongDouble): Decimal | undefined {
  if (a.kind === 'inf' || b.kind === 'inf') return undefined;
  const scale = Math.max(a.value.scale, b.value.scale);
  const n = a.value.n * 10n ** BigInt(scale - a.value.scale) + b.value.n * 10n ** BigInt(scale - b.value.scale);
  const sum = roundToExtended({ n, scale });
  return magnitudeOf(sum) > LONG_DOUBLE_EXP_MAX ? undefined : sum;
}

/** Significand bits of an x87 80-bit extended float (the explicit integer bit included). */
const EXTENDED_SIGNIFICAND_BITS = 64;
const SIGNIFICAND_MIN = 1n << BigInt(EXTENDED_SIGNIFICAND_BITS - 1);
const SIGNIFICAND_LIMIT = 1n << BigInt(EXTENDED_SIGNIFICAND_BITS);
const LOG2_10 = Math.log2(10);

/**
 * The exact decimal `d` rounded to the nearest value `m · 2^e` with a 64-bit significand
 * (ties to even), returned again as an exact decimal. Range is checked by the callers
 * (|exponent| ≤ 4930 decimal), far inside the extended format's, so no subnormals arise.
 */
export function roundToExtended(d: Decimal): Decimal {
  if (d.n === 0n) return { n: 0n, scale: 0 };
  assertScale(d.scale);
  const negative = d.n < 0n;
  const abs = negative ? -d.n : d.n;
  // Estimate e so that abs / 10^scale / 2^e lands in [2^63, 2^64), then correct it.
  let e = Math.floor(abs.toString(2).length - 1 - d.scale * LOG2_10) - (EXTENDED_SIGNIFICAND_BITS - 1);
  for (let attempt = 0; attempt < 8; attempt++) {
    const { q, r, den } = divideScaled(abs, d.scale, e);
    if (q < SIGNIFICAND_MIN) {
      e -= 1;
      continue;
    }
    if (q >= SIGNIFICAND_LIMIT) {
      e += 1;
      continue;
    }
    let m = q;
    if (r * 2n > den || (r * 2n === den && (m & 1n) === 1n)) m += 1n;
    if (m === SIGNIFICAND_LIMIT) {
      m = SIGNIFICAND_MIN;
      e += 1;
    }
    const exact = binaryToDecimal(m, e);
    return negative ? { n: -exact.n, scale: exact.scale } : exact;
  }
  throw new Error(`roundToExtended: exponent search did not converge for ${d.n}e-${d.scale}`);
}

function assertScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 0) throw new Error(`decimal scale must be a non-negative integer, got ${scale}`);
}

/** floor(abs / 10^scale / 2^e) with its remainder over the common denominator. */
function divideScaled(abs: bigint, scale: number, e: number): { q: bigint; r: bigint; den: bigint } {
  let num = abs;
  let den = 10n ** BigInt(scale);
  if (e < 0) num <<= BigInt(-e);
  else den <<= BigInt(e);
  return { q: num / den, r: num % den, den };
}

/** m · 2^e as an exact decimal (2^-k = 5^k / 10^k). */
function binaryToDecimal(m: bigint, e: number): Decimal {
  if (e >= 0) return { n: m << BigInt(e), scale: 0 };
  return { n: m * 5n ** BigInt(-e), scale: -e };
}

function magnitudeOf(d: Decimal): number {
  const abs = d.n < 0n ? -d.n : d.n;
  return abs === 0n ? 0 : abs.toString().length - 1 - d.scale;
}

/** `%.17Lf` with trailing zeros (and a trailing '.') cut, and "-0" as "0" (ld2string LD_STR_HUMAN). */
export function formatLongDouble(d: Decimal): string {
  let { n, scale } = d;
  if (scale > HUMAN_DECIMALS) {
    const div = 10n ** BigInt(scale - HUMAN_DECIMALS);
    const negative = n < 0n;
    const abs = negative ? -n : n;
    let q = abs / div;
    const r = abs % div;
    // Round half to even, as printf does on the exact value.
    if (r * 2n > div || (r * 2n === div && q % 2n === 1n)) q += 1n;
    n = negative ? -q : q;
    scale = HUMAN_DECIMALS;
  }
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const intPart = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  const out = `${intPart}${frac === '' ? '' : `.${frac}`}`;
  return negative && out !== '0' ? `-${out}` : out;
}

/** Clamps an int64 argument to a safe JS number range (for indexes and counts over collections that are far smaller). */
export function clampToSafe(v: bigint): number {
  const lim = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(v > lim ? lim : v < -lim ? -lim : v);
}
