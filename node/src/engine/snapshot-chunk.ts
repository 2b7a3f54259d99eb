/**
 * The chunk format of a shard snapshot stream (EngineSnapshot.chunks → SnapshotInstaller.write).
 * Each chunk is a self-describing, checksummed frame:
 *
 *   magic u32 "SHNC" | version u8 (1) | flags u8 (0x01 last) | reserved u16 (0)
 *   length u32 (of the whole frame) | seq u32 (0, 1, 2, … in stream order)
 *   count u32 (entries here) | cumulative u64 (entries in this and all earlier frames)
 *   entry × count: keyLength u32 | valueLength u32 | storage key | value
 *   crc u32 = crc32cMask(crc32c(everything before it))
 *
 * The stream is a byte stream: a transport may cut or join the yielded chunks as it likes
 * (it does cut them at its message size), and the installer reassembles frames by their
 * length (ChunkAssembler). Values of data keys are stored values (stored-value.ts) that
 * are always inline: pointers are resolved before sending, because value-log files are
 * node-local. The last frame carries flag 0x01; a stream without it is incomplete.
 */
import { crc32c, crc32cMask, KvError } from '@shoal/common';
import { readU32, readU64, writeU32, writeU64 } from '../vlog/index.js';

const MAGIC = 0x53484e43;
const VERSION = 1;
const HEADER_BYTES = 28;
const ENTRY_HEADER_BYTES = 8;
const CRC_BYTES = 4;
const FLAG_LAST = 0x01;

export interface ChunkEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface DecodedChunk {
  readonly seq: number;
  readonly last: boolean;
  readonly cumulative: number;
  readonly entries: readonly ChunkEntry[];
}

/** Collects entries of one chunk. */
export class ChunkBuilder {
  readonly entries: ChunkEntry[] = [];
  bytes = HEADER_BYTES + CRC_BYTES;

  add(key: Uint8Array, value: Uint8Array): void {
    this.entries.push({ key, value });
    this.bytes += ENTRY_HEADER_BYTES + key.length + value.length;
  }

  encode(seq: number, last: boolean, cumulative: number): Uint8Array {
    const out = new Uint8Array(this.bytes);
    writeU32(out, 0, MAGIC);
    out[4] = VERSION;
    out[5] = last ? FLAG_LAST : 0;
    writeU32(out, 8, this.bytes);
    writeU32(out, 12, seq);
    writeU32(out, 16, this.entries.length);
    writeU64(out, 20, cumulative);
    let o = HEADER_BYTES;
    for (const e of this.entries) {
      writeU32(out, o, e.key.length);
      writeU32(out, o + 4, e.value.length);
      out.set(e.key, o + ENTRY_HEADER_BYTES);
      out.set(e.value, o + ENTRY_HEADER_BYTES + e.key.length);
      o += ENTRY_HEADER_BYTES + e.key.length + e.value.length;
    }
    writeU32(out, o, crc32cMask(crc32c(out.subarray(0, o))));
    return out;
  }
}

function bad(why: string): KvError {
  return new KvError('CORRUPTION', `snapshot chunk: ${why}`);
}

/** Verifies and decodes a chunk; entries are views into `buf`. Throws CORRUPTION. */
export function decodeChunk(buf: Uint8Array): DecodedChunk {
  if (buf.length < HEADER_BYTES + CRC_BYTES) throw bad('too short');
  if (readU32(buf, 0) !== MAGIC) throw bad('bad magic');
  const body = buf.length - CRC_BYTES;
  if (crc32cMask(crc32c(buf.subarray(0, body))) !== readU32(buf, body)) throw bad('checksum mismatch');
  if (buf[4] !== VERSION) throw new KvError('INCOMPATIBLE_VERSION', `snapshot chunk version ${String(buf[4])}`);
  if (readU32(buf, 8) !== buf.length) throw bad('length field does not match the frame');
  const count = readU32(buf, 16);
  const entries: ChunkEntry[] = [];
  let o = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (o + ENTRY_HEADER_BYTES > body) throw bad('entry header past the end');
    const k = readU32(buf, o);
    const v = readU32(buf, o + 4);
    const end = o + ENTRY_HEADER_BYTES + k + v;
    if (end > body) throw bad('entry past the end');
    entries.push({ key: buf.subarray(o + ENTRY_HEADER_BYTES, o + ENTRY_HEADER_BYTES + k), value: buf.subarray(o + ENTRY_HEADER_BYTES + k, end) });
    o = end;
  }
  if (o !== body) throw bad('trailing bytes');
  return { seq: readU32(buf, 12), last: (buf[5]! & FLAG_LAST) !== 0, cumulative: readU64(buf, 20), entries };
}

/**
 * Reassembles frames from a byte stream cut anywhere. Keeps copies of what it is given
 * (a transport may reuse its buffers) and at most one frame of `frameBytesMax`.
 */
export class ChunkAssembler {
  private parts: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly frameBytesMax: number) {}

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.parts.push(new Uint8Array(data)); // a copy (Buffer#slice would be a view)
    this.bytes += data.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** The next whole frame, or undefined until more bytes arrive. Throws CORRUPTION on a bad header. */
  next(): Uint8Array | undefined {
    if (this.bytes < HEADER_BYTES) return undefined;
    const head = this.take(HEADER_BYTES, false);
    if (readU32(head, 0) !== MAGIC) throw bad('bad magic');
    const length = readU32(head, 8);
    if (length < HEADER_BYTES + CRC_BYTES) throw bad(`frame length ${length} is too small`);
    if (length > this.frameBytesMax) throw bad(`frame length ${length} exceeds ${this.frameBytesMax}`);
    if (this.bytes < length) return undefined;
    return this.take(length, true);
  }

  /** The first n buffered bytes as one array; removed from the buffer if `consume`. */
  private take(n: number, consume: boolean): Uint8Array {
    const first = this.parts[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
    } else {
      out = new Uint8Array(n);
      let o = 0;
      for (const p of this.parts) {
        const k = Math.min(p.length, n - o);
        out.set(p.subarray(0, k), o);
        o += k;
        if (o === n) break;
      }
    }
    if (consume) this.drop(n);
    return out;
  }

  private drop(n: number): void {
    this.bytes -= n;
    while (n > 0) {
      const p = this.parts[0]!;
      if (p.length <= n) {
        this.parts.shift();
        n -= p.length;
      } else {
        this.parts[0] = p.subarray(n);
        n = 0;
      }
    }
  }
}

/** The largest `chunkBytes` an exporter may be asked for. */
export const CHUNK_BYTES_MAX = 64 * 1024 * 1024;

/**
 * The largest frame an exporter can produce: it closes a frame once it reaches chunkBytes,
 * so a frame is below CHUNK_BYTES_MAX plus one entry (storage key ≤ 2 × keyBytesMax + 64,
 * stored value = 9 + value).
 */
export function frameBytesMax(keyBytesMax: number, valueBytesMax: number): number {
  return HEADER_BYTES + CRC_BYTES + CHUNK_BYTES_MAX + ENTRY_HEADER_BYTES + 2 * keyBytesMax + 64 + 9 + valueBytesMax;
}
