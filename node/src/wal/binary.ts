/**
 * Little-endian integer helpers for the WAL's binary encodings. u64 fields hold JS safe
 * integers (< 2^53): they are written as two u32 halves and a decoded value above 2^53 is
 * malformed data, not a number to round.
 */

const TWO_32 = 4294967296;
/** The high u32 of any safe integer is at most this (2^53 - 1 = 0x1FFFFF_FFFFFFFF). */
const SAFE_HIGH_MAX = 0x1fffff;

/** A malformed encoding. Callers turn it into `KvError('CORRUPTION')` naming file and offset. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export function putU32(buf: Uint8Array, pos: number, v: number): number {
  buf[pos] = v & 0xff;
  buf[pos + 1] = (v >>> 8) & 0xff;
  buf[pos + 2] = (v >>> 16) & 0xff;
  buf[pos + 3] = (v >>> 24) & 0xff;
  return pos + 4;
}

/** Writes a non-negative safe integer (the caller has validated it). */
export function putU64(buf: Uint8Array, pos: number, v: number): number {
  putU32(buf, pos, v >>> 0);
  return putU32(buf, pos + 4, Math.floor(v / TWO_32));
}

export function getU32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
}

/** Sequential, bounds-checked reads from `buf[pos, end)`; every overrun is a DecodeError. */
export class ByteReader {
  pos: number;

  constructor(private readonly buf: Uint8Array, pos: number, private readonly end: number) {
    this.pos = pos;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new DecodeError(`truncated ${what} at byte ${this.pos}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = getU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u64(what: string): number {
    this.need(8, what);
    const lo = getU32(this.buf, this.pos);
    const hi = getU32(this.buf, this.pos + 4);
    if (hi > SAFE_HIGH_MAX) throw new DecodeError(`${what} exceeds 2^53 at byte ${this.pos}`);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** Skips `n` bytes and returns where they start. */
  skip(n: number, what: string): number {
    this.need(n, what);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) throw new DecodeError(`${this.end - this.pos} trailing bytes after ${what}`);
  }
}
