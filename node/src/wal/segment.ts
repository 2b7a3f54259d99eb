/**
 * Segment files and the WAL's file-system primitives.
 *
 * A segment is `<16 hex digits>.wal` (its id, starting at 1, +1 per rotation). Segment ids
 * on disk are contiguous: GC deletes only a prefix, so a missing id in the middle means a
 * file was lost. Every write and sync goes through `WalIo`, which consults the failpoints
 * and counts fsyncs; reads are synchronous (`fs.readSync`) because raft-ts's `Storage` is.
 */
import { readSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '@shoal/common';
import type { WalFailpoints } from './options.js';
import { RECORD_HEADER_BYTES, RecordType, sealRecord, writeRecordHeader } from './record.js';
import { SEGMENT_HEADER_PAYLOAD_BYTES, writeSegmentHeader } from './payload.js';

const SEGMENT_NAME = /^([0-9a-f]{16})\.wal$/;

export function segmentFileName(id: number): string {
  assert(Number.isSafeInteger(id) && id > 0, () => `invalid segment id ${id}`);
  return `${id.toString(16).padStart(16, '0')}.wal`;
}

/** Ids of the segment files in `dir`, ascending. Other files are ignored. */
export async function listSegmentIds(dir: string): Promise<number[]> {
  const ids: number[] = [];
  for (const name of await readdir(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (m !== null) ids.push(Number.parseInt(m[1]!, 16));
  }
  return ids.sort((a, b) => a - b);
}

export class SegmentFile {
  constructor(
    readonly id: number,
    readonly path: string,
    readonly handle: FileHandle,
    /** Bytes written so far (the file's length once those writes completed). */
    public size: number,
  ) {}

  static path(dir: string, id: number): string {
    return join(dir, segmentFileName(id));
  }

  get name(): string {
    return segmentFileName(this.id);
  }

  /** Reads `length` bytes at `offset`; returns fewer only at the end of the file. */
  readSync(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.handle.fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }
}

/** The first record of segment `id`. */
export function encodeSegmentHeader(id: number): Buffer {
  const buf = Buffer.alloc(RECORD_HEADER_BYTES + SEGMENT_HEADER_PAYLOAD_BYTES);
  writeSegmentHeader(buf, writeRecordHeader(buf, 0, RecordType.SegmentHeader, 0, SEGMENT_HEADER_PAYLOAD_BYTES), id);
  sealRecord(buf, 0);
  return buf;
}

/**
 * Creates segment `id` holding only its header, and makes its directory entry durable.
 * The header itself becomes durable with the first synced batch; a torn header is a torn
 * tail of the last segment, which recovery repairs.
 */
export async function createSegment(dir: string, id: number, io: WalIo): Promise<SegmentFile> {
  const path = SegmentFile.path(dir, id);
  const handle = await open(path, 'wx+');
  try {
    const header = encodeSegmentHeader(id);
    await io.writeAll(handle, [header], 0);
    await io.syncDir(dir);
    return new SegmentFile(id, path, handle, header.length);
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** An I/O error injected by a failpoint; looks like the EIO a failing disk returns. */
function injectedError(op: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`EIO: injected ${op} failure (failpoint)`);
  e.code = 'EIO';
  return e;
}

export class WalIo {
  fsyncs = 0;
  writes = 0;

  constructor(private readonly failpoints: WalFailpoints) {}

  async datasync(handle: FileHandle): Promise<void> {
    if (this.failpoints.fsyncError?.() === true) throw injectedError('fdatasync');
    await handle.datasync();
    this.fsyncs++;
  }

  /** fsync of a directory, making file creations and deletions in it durable. */
  async syncDir(dir: string): Promise<void> {
    if (this.failpoints.fsyncError?.() === true) throw injectedError('directory fsync');
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
      this.fsyncs++;
    } finally {
      await fh.close();
    }
  }

  /** Writes all of `parts` at `position`, continuing after short writes. */
  async writeAll(handle: FileHandle, parts: readonly Buffer[], position: number): Promise<number> {
    if (this.failpoints.writeError?.() === true) throw injectedError('write');
    let rest = parts.filter((p) => p.length > 0);
    let pos = position;
    while (rest.length > 0) {
      const { bytesWritten } = await handle.writev(rest, pos);
      assert(bytesWritten > 0, 'writev wrote nothing');
      pos += bytesWritten;
      rest = skipBytes(rest, bytesWritten);
    }
    this.writes++;
    return pos - position;
  }

  async truncate(handle: FileHandle, length: number): Promise<void> {
    if (this.failpoints.writeError?.() === true) throw injectedError('truncate');
    await handle.truncate(length);
  }
}

function skipBytes(parts: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
