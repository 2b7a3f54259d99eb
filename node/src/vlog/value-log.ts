/**
 * The value log: append-only files `NNNNNNNNNN.vlog` holding the large values the engine
 * keeps out of classic-level (Bitcask-style, see record.ts for the formats).
 *
 * Obligations of the caller (the engine):
 * - `appendSync` writes the record into the OS page cache before returning; a DB write that
 *   references the returned pointer must come after it. Durability comes from `syncAll()`
 *   (fdatasync of every file written since the last sync, then the directory), which the
 *   engine runs before a synced DB write.
 * - Live-byte accounting is the engine's (it lives in the DB, in the same batch as the
 *   pointers). This class knows file sizes only; it never decides what is garbage.
 * - `deleteFile` only for a file no DB key and no open reader references any more.
 *
 * Invariants: exactly one active file takes appends; every other file is sealed and never
 * written again. After `open`, appends always go to a NEW file, so a torn tail left by a
 * crash is never appended to (it is garbage: no durable pointer can reference it).
 * An I/O error while writing leaves the log failed: every later append throws DISK_FAILURE.
 */
import { closeSync, fdatasync, fsync, openSync, read, readdirSync, readSync, statSync, unlink, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assert, equalBytes, KvError } from '@shoal/common';
import type { VlogLogger } from './logger.js';
import {
  checkFileHeader, decodeRecord, describePointer, encodeRecordHead, FILE_HEADER_BYTES, fileHeader,
  RECORD_BYTES_MAX, RECORD_HEADER_BYTES, recordLength,
} from './record.js';
import type { ValuePointer, ValueRecord } from './record.js';
import { readU32 } from './bytes-be.js';

const readAsync = promisify(read);
const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const unlinkAsync = promisify(unlink);

const FILE_NAME = /^(\d{10})\.vlog$/;
export const FILE_ID_MAX = 0xffff_ffff;

export interface ValueLogOptions {
  readonly dir: string;
  /** Rotate to a new file once the active one would exceed this many bytes. */
  readonly fileBytes: number;
  readonly logger?: VlogLogger | undefined;
  /** Tests and chaos: return true to make that operation fail with an I/O error. */
  readonly failpoints?: { readonly writeError?: () => boolean; readonly fsyncError?: () => boolean } | undefined;
}

/** One record met by `scanFile`, with the pointer that addresses it. */
export interface ScannedRecord extends ValueRecord {
  readonly pointer: ValuePointer;
}

interface VlogFile {
  readonly id: number;
  readonly fd: number;
  size: number;
}

export function vlogFileName(fileId: number): string {
  return `${String(fileId).padStart(10, '0')}.vlog`;
}

export class ValueLog {
  readonly dir: string;
  private readonly fileBytesMax: number;
  private readonly logger: VlogLogger | undefined;
  private readonly failpoints: ValueLogOptions['failpoints'];
  private readonly files = new Map<number, VlogFile>();
  private active: VlogFile;
  private readonly dirty = new Set<number>();
  private dirDirty = false;
  private failed: KvError | undefined;
  private closed = false;

  private constructor(opts: ValueLogOptions, existing: VlogFile[]) {
    this.dir = opts.dir;
    this.fileBytesMax = opts.fileBytes;
    this.logger = opts.logger;
    this.failpoints = opts.failpoints;
    for (const f of existing) this.files.set(f.id, f);
    const lastId = existing.reduce((m, f) => Math.max(m, f.id), 0);
    this.active = this.createFile(lastId + 1);
  }

  /** Opens every existing file read-only and starts a new active file after the last. */
  static async open(opts: ValueLogOptions): Promise<ValueLog> {
    assert(Number.isSafeInteger(opts.fileBytes) && opts.fileBytes > FILE_HEADER_BYTES, 'fileBytes too small');
    await mkdir(opts.dir, { recursive: true });
    const existing: VlogFile[] = [];
    for (const name of readdirSync(opts.dir).sort()) {
      const m = FILE_NAME.exec(name);
      if (m === null) continue;
      const id = Number(m[1]);
      const path = join(opts.dir, name);
      const size = statSync(path).size;
      if (size < FILE_HEADER_BYTES) {
        // Created by a rotation that crashed before its header reached the disk: no record
        // was ever written to it, so no pointer can reference it.
        opts.logger?.warn({ file: name, size }, 'value log: removing a file with a torn header');
        await unlinkAsync(path);
        continue;
      }
      const fd = openSync(path, 'r');
      const head = new Uint8Array(FILE_HEADER_BYTES);
      readFully(fd, head, 0, name);
      checkFileHeader(head, id, name);
      existing.push({ id, fd, size });
    }
    return new ValueLog(opts, existing);
  }

  /**
   * Appends one record (storage key + value) to the active file, rotating first if it would
   * overflow `fileBytes`. Synchronous: apply runs synchronously. Throws DISK_FAILURE on an
   * I/O error, after which the log is failed.
   */
  appendSync(key: Uint8Array, value: Uint8Array): ValuePointer {
    this.checkWritable();
    const length = recordLength(key.length, value.length);
    assert(length <= RECORD_BYTES_MAX, () => `value-log record of ${length} bytes exceeds the u32 length`);
    if (this.active.size > FILE_HEADER_BYTES && this.active.size + length > this.fileBytesMax) this.rotate();
    const { head, crc } = encodeRecordHead(key, value);
    const offset = this.active.size;
    this.writeAt(this.active, head, offset);
    this.writeAt(this.active, value, offset + head.length);
    this.active.size = offset + length;
    this.dirty.add(this.active.id);
    return { fileId: this.active.id, offset, length, crc };
  }

  /** Seals the active file and starts the next one. */
  rotate(): void {
    this.checkWritable();
    assert(this.active.id < FILE_ID_MAX, 'value-log file ids exhausted');
    this.active = this.createFile(this.active.id + 1);
  }

  /**
   * Reads and verifies the record at `p`; returns its value. Throws CORRUPTION if the file
   * is missing or short, the record's checksum or lengths are wrong, the record is not the
   * one the pointer was made for, or its key differs from `expectedKey`.
   */
  readSync(p: ValuePointer, expectedKey?: Uint8Array): Uint8Array {
    const f = this.fileFor(p);
    const buf = Buffer.allocUnsafe(p.length);
    readFully(f.fd, buf, p.offset, describePointer(p));
    return this.verify(p, buf, expectedKey);
  }

  /** `readSync` without blocking the event loop (scans, snapshots, GC). */
  async read(p: ValuePointer, expectedKey?: Uint8Array): Promise<Uint8Array> {
    const f = this.fileFor(p);
    const buf = Buffer.allocUnsafe(p.length);
    await readFullyAsync(f.fd, buf, p.offset, describePointer(p));
    return this.verify(p, buf, expectedKey);
  }

  private verify(p: ValuePointer, buf: Uint8Array, expectedKey: Uint8Array | undefined): Uint8Array {
    if (readU32(buf, 0) !== p.crc) {
      throw new KvError('CORRUPTION', `value-log ${describePointer(p)}: record crc differs from the pointer's`);
    }
    const rec = decodeRecord(buf, describePointer(p));
    if (expectedKey !== undefined && !equalBytes(rec.key, expectedKey)) {
      throw new KvError('CORRUPTION', `value-log ${describePointer(p)}: record belongs to another key`);
    }
    return rec.value;
  }

  private fileFor(p: ValuePointer): VlogFile {
    assert(!this.closed, 'value log is closed');
    const f = this.files.get(p.fileId);
    if (f === undefined) throw new KvError('CORRUPTION', `value-log ${describePointer(p)}: no such file`);
    if (p.offset < FILE_HEADER_BYTES || p.offset + p.length > f.size) {
      throw new KvError('CORRUPTION', `value-log ${describePointer(p)}: outside the file (size ${f.size})`);
    }
    return f;
  }

  /**
   * Every record of a sealed file in order, verified. Stops at the end of the file, at a
   * torn tail, or at the first record that fails verification (logged): GC copies what it
   * can and then relies on the live-byte count to decide whether the file may go.
   */
  async *scanFile(fileId: number): AsyncGenerator<ScannedRecord> {
    const f = this.files.get(fileId);
    assert(f !== undefined && f !== this.active, () => `scanFile: ${fileId} is not a sealed file`);
    const head = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    let offset = FILE_HEADER_BYTES;
    while (offset + RECORD_HEADER_BYTES <= f.size) {
      await readFullyAsync(f.fd, head, offset, `file ${fileId}`);
      const length = recordLength(readU32(head, 4), readU32(head, 8));
      if (offset + length > f.size) break;
      const buf = Buffer.allocUnsafe(length);
      await readFullyAsync(f.fd, buf, offset, `file ${fileId}`);
      let rec: ValueRecord;
      try {
        rec = decodeRecord(buf, `file ${fileId} offset ${offset}`);
      } catch (e) {
        this.logger?.error({ fileId, offset, err: String(e) }, 'value log: scan stopped at a bad record');
        return;
      }
      yield { pointer: { fileId, offset, length, crc: readU32(buf, 0) }, key: rec.key, value: rec.value };
      offset += length;
    }
  }

  /** fdatasync every file appended to since the last call, then the directory if files came or went. */
  async syncAll(): Promise<void> {
    this.checkWritable();
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      for (const id of ids) {
        const f = this.files.get(id);
        if (f === undefined) continue;
        if (this.failpoints?.fsyncError?.() === true) throw new Error('failpoint: fsync');
        await fdatasyncAsync(f.fd);
      }
      if (this.dirDirty) {
        this.dirDirty = false;
        await syncDir(this.dir);
      }
    } catch (e) {
      throw this.fail('fsync', e);
    }
  }

  /** Closes and unlinks a sealed file. Its space returns to the filesystem. */
  async deleteFile(fileId: number): Promise<void> {
    const f = this.files.get(fileId);
    assert(f !== undefined && f !== this.active, () => `deleteFile: ${fileId} is not a sealed file`);
    this.files.delete(fileId);
    this.dirty.delete(fileId);
    closeSync(f.fd);
    await unlinkAsync(join(this.dir, vlogFileName(fileId)));
    this.dirDirty = true;
  }

  fileIds(): number[] {
    return [...this.files.keys()].sort((a, b) => a - b);
  }

  activeFileId(): number {
    return this.active.id;
  }

  fileSize(fileId: number): number | undefined {
    return this.files.get(fileId)?.size;
  }

  totalBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.size;
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.files.values()) closeSync(f.fd);
    this.files.clear();
  }

  private createFile(id: number): VlogFile {
    const fd = openSync(join(this.dir, vlogFileName(id)), 'wx+');
    const f: VlogFile = { id, fd, size: 0 };
    this.files.set(id, f);
    this.dirDirty = true;
    this.writeAt(f, fileHeader(id), 0);
    f.size = FILE_HEADER_BYTES;
    this.dirty.add(id);
    return f;
  }

  private writeAt(f: VlogFile, data: Uint8Array, position: number): void {
    try {
      if (this.failpoints?.writeError?.() === true) throw new Error('failpoint: write');
      let done = 0;
      while (done < data.length) done += writeSync(f.fd, data, done, data.length - done, position + done);
    } catch (e) {
      throw this.fail('write', e);
    }
  }

  private checkWritable(): void {
    assert(!this.closed, 'value log is closed');
    if (this.failed !== undefined) throw this.failed;
  }

  private fail(op: string, cause: unknown): KvError {
    this.failed ??= new KvError('DISK_FAILURE', `value log: ${op} failed: ${String(cause)}`, { cause });
    this.logger?.error({ op, err: String(cause) }, 'value log failed');
    return this.failed;
  }
}

function readFully(fd: number, buf: Uint8Array, position: number, where: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new KvError('CORRUPTION', `value log ${where}: file ends early`);
    done += n;
  }
}

async function readFullyAsync(fd: number, buf: Uint8Array, position: number, where: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await readAsync(fd, buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new KvError('CORRUPTION', `value log ${where}: file ends early`);
    done += bytesRead;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}
