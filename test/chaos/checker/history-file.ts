/**
 * Reading and writing history files on disk. The writer is for the workload runner: it
 * validates each record as it is made, buffers lines, and writes them in order; a write
 * error is reported by the next `flush` or `close`, so the caller must await `close`
 * before trusting the file.
 */
import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { KvError } from '@shoal/common';
import type { HistoryRecord } from './history.js';
import { formatRecord, parseHistory } from './history.js';

/** Buffered text above this is handed to the file at once rather than held. */
export const HISTORY_WRITE_BUFFER_CHARS_MAX = 64 * 1024;
/** A history file above this is refused: the checker holds it in memory. */
export const HISTORY_FILE_BYTES_MAX = 512 * 1024 * 1024;

export async function readHistoryFile(path: string): Promise<HistoryRecord[]> {
  const text = await readFile(path, 'utf8');
  if (text.length > HISTORY_FILE_BYTES_MAX) {
    throw new KvError('INVALID_ARGUMENT', `${path}: larger than ${HISTORY_FILE_BYTES_MAX} bytes`, { details: { option: 'file' } });
  }
  return parseHistory(text, path);
}

export class HistoryWriter {
  private buffer: string[] = [];
  private bufferChars = 0;
  private written: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private closed = false;
  private recordCount = 0;

  private constructor(private readonly file: FileHandle, readonly path: string) {}

  /** Creates (or truncates) `path`. */
  static async create(path: string): Promise<HistoryWriter> {
    return new HistoryWriter(await open(path, 'w'), path);
  }

  /** Records written so far (buffered or on disk). */
  get count(): number {
    return this.recordCount;
  }

  /** Appends one record; throws at once if the record is malformed. */
  record(r: HistoryRecord): void {
    if (this.closed) throw new Error(`history writer for ${this.path}: record after close`);
    const line = `${formatRecord(r)}\n`;
    this.buffer.push(line);
    this.bufferChars += line.length;
    this.recordCount++;
    if (this.bufferChars >= HISTORY_WRITE_BUFFER_CHARS_MAX) this.startWrite();
  }

  /** Resolves once every record so far is in the file (not fsynced: a crash of the checker host is out of scope). */
  async flush(): Promise<void> {
    this.startWrite();
    await this.written;
    if (this.failure !== undefined) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.file.close();
    }
  }

  private startWrite(): void {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.bufferChars = 0;
    // Chained so chunks land in order; the first error is kept and later chunks dropped.
    this.written = this.written.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await this.file.write(chunk);
      } catch (e) {
        this.failure = e;
      }
    });
  }
}
