/**
 * The reply encoder: writes `Reply` values as RESP2 or RESP3 bytes.
 *
 * A `ReplyWriter` appends encoded replies to a slab it owns and hands out chunks
 * (`take`) for one socket write; the bytes handed out are never written again, so the
 * socket may hold them as long as it likes, and the rest of the slab serves the next
 * replies. Large bulk values are not copied: they become chunks of their own.
 */
import { assert, assertNever } from '@shoal/common';
import { formatDouble } from './numbers.js';
import type { Reply } from './reply.js';

export type RespVersion = 2 | 3;

/** Bulk values at least this long are handed to the socket as they are instead of copied. */
const ZERO_COPY_BYTES_MIN = 16 * 1024;
const SLAB_BYTES = 64 * 1024;
/** Replies nest a few levels (EXEC of an array, COMMAND DOCS); deeper means a bug. */
const NESTING_MAX = 64;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;

export class ReplyWriter {
  private slab: Buffer = Buffer.allocUnsafe(SLAB_BYTES);
  /** Bytes [start, pos) of the slab are written but not yet taken. */
  private start = 0;
  private pos = 0;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  /** Bytes written since the last `take`. */
  get pendingBytes(): number {
    return this.bytes + (this.pos - this.start);
  }

  write(reply: Reply, version: RespVersion): void {
    this.writeValue(reply, version, 0);
  }

  /** Pre-encoded RESP bytes, written as they are. */
  writeRaw(bytes: Uint8Array): void {
    this.putBytes(bytes);
  }

  /** The bytes written since the last call, as chunks for one (corked) socket write. */
  take(): Buffer[] {
    this.cutSlab();
    const out = this.chunks.splice(0);
    this.bytes = 0;
    return out;
  }

  private writeValue(r: Reply, v: RespVersion, depth: number): void {
    assert(depth <= NESTING_MAX, 'reply nested too deeply');
    switch (r.type) {
      case 'simple': return this.writeLine(0x2b, r.value);
      case 'error': return this.writeLine(0x2d, r.value);
      case 'integer':
        assert(typeof r.value === 'bigint' || Number.isSafeInteger(r.value), () => `integer reply ${r.value} is not an integer`);
        return this.writeAscii(`:${r.value}\r\n`);
      case 'bulk': return this.writeBulk(0x24, r.value, '');
      case 'null':
        if (v === 3) return this.writeAscii('_\r\n');
        return this.writeAscii(r.resp2 === 'bulk' ? '$-1\r\n' : '*-1\r\n');
      case 'array': return this.writeAggregate('*', r.items, v, depth);
      case 'set': return this.writeAggregate(v === 3 ? '~' : '*', r.items, v, depth);
      case 'push': return this.writeAggregate(v === 3 ? '>' : '*', r.items, v, depth);
      case 'map': {
        this.writeAscii(v === 3 ? `%${r.entries.length}\r\n` : `*${r.entries.length * 2}\r\n`);
        for (const [key, value] of r.entries) {
          this.writeValue(key, v, depth + 1);
          this.writeValue(value, v, depth + 1);
        }
        return;
      }
      case 'double': {
        const text = formatDouble(r.value);
        return v === 3 ? this.writeAscii(`,${text}\r\n`) : this.writeBulk(0x24, text, '');
      }
      case 'boolean':
        if (v === 3) return this.writeAscii(r.value ? '#t\r\n' : '#f\r\n');
        return this.writeAscii(r.value ? ':1\r\n' : ':0\r\n');
      case 'bignum':
        return v === 3 ? this.writeAscii(`(${r.value}\r\n`) : this.writeBulk(0x24, r.value.toString(), '');
      case 'verbatim':
        if (v === 2) return this.writeBulk(0x24, r.value, '');
        assert(r.format.length === 3, 'verbatim format must be three characters');
        return this.writeBulk(0x3d, r.value, `${r.format}:`);
      default:
        return assertNever(r, 'reply');
    }
  }

  private writeAggregate(marker: string, items: readonly Reply[], v: RespVersion, depth: number): void {
    this.writeAscii(`${marker}${items.length}\r\n`);
    for (const item of items) this.writeValue(item, v, depth + 1);
  }

  /** `+…` or `-…`: one line; CR and LF inside become spaces, as Redis does for errors. */
  private writeLine(marker: number, value: string | Uint8Array): void {
    const bytes = typeof value === 'string' ? value : null;
    const len = bytes !== null ? Buffer.byteLength(bytes) : (value as Uint8Array).length;
    this.reserve(len + 3);
    this.slab[this.pos++] = marker;
    const at = this.pos;
    if (bytes !== null) this.pos += this.slab.write(bytes, this.pos, 'utf8');
    else { this.slab.set(value as Uint8Array, this.pos); this.pos += len; }
    for (let i = at; i < this.pos; i++) {
      const c = this.slab[i];
      if (c === CR || c === LF) this.slab[i] = SPACE;
    }
    this.slab[this.pos++] = CR;
    this.slab[this.pos++] = LF;
  }

  private writeBulk(marker: number, value: string | Uint8Array, prefix: string): void {
    const isString = typeof value === 'string';
    const len = isString ? Buffer.byteLength(value) : value.length;
    this.writeAscii(`${String.fromCharCode(marker)}${len + prefix.length}\r\n${prefix}`);
    if (isString) {
      this.reserve(len);
      this.pos += this.slab.write(value, this.pos, 'utf8');
    } else {
      this.putBytes(value);
    }
    this.writeAscii('\r\n');
  }

  private putBytes(bytes: Uint8Array): void {
    if (bytes.length >= ZERO_COPY_BYTES_MIN) {
      this.cutSlab();
      this.chunks.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      this.bytes += bytes.length;
      return;
    }
    this.reserve(bytes.length);
    this.slab.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private writeAscii(text: string): void {
    this.reserve(text.length);
    this.pos += this.slab.write(text, this.pos, 'latin1');
  }

  /** Makes room for `n` more bytes at `pos`, moving to a new slab when needed. */
  private reserve(n: number): void {
    if (this.slab.length - this.pos >= n) return;
    this.cutSlab();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, n));
    this.start = 0;
    this.pos = 0;
  }

  /** Moves the written part of the slab into `chunks`; the slab's tail stays in use. */
  private cutSlab(): void {
    if (this.pos === this.start) return;
    this.chunks.push(this.slab.subarray(this.start, this.pos));
    this.bytes += this.pos - this.start;
    this.start = this.pos;
  }
}

/** Encodes one reply into a single buffer (tests, pre-encoded constants). */
export function encodeReply(reply: Reply, version: RespVersion): Buffer {
  const w = new ReplyWriter();
  w.write(reply, version);
  return Buffer.concat(w.take());
}
