/**
 * Group commit: the one writer of the WAL's segment files.
 *
 * Records are staged into the current `BatchBuilder`. A single pump writes batches in
 * order: it seals the current batch (a new one starts at once, so staging never waits),
 * places the batch's records in the active segment, writes it with one `writev` and, in
 * `always` mode, one fdatasync. `flush()` calls made while a batch is being written wait
 * for the next batch, which then carries everything staged meanwhile: concurrent flushes
 * coalesce, and each resolves only once everything staged before it is written (async)
 * or durable (always) — batches complete in staging order.
 *
 * Batches are numbered; `writtenBatch` and `durableBatch` only grow. In `async` mode a
 * timer (unref'd) fdatasyncs every `syncIntervalMs` when something is written but not
 * yet durable, and `flush(true)` (used by GC and close) forces the sync.
 *
 * Any I/O error fails the writer for good: waiting and later flushes get the same
 * `KvError('DISK_FAILURE')`. After a failed write or fsync the kernel may have dropped
 * the dirty pages while reporting success to a retry (fsyncgate), so nothing written
 * since the last good fsync can be trusted; the node must stop.
 */
import { unlink } from 'node:fs/promises';
import { AssertionError, assert, KvError } from '@shoal/common';
import { BatchBuilder } from './batch.js';
import type { StagedRecord } from './group.js';
import type { ResolvedWalOptions } from './options.js';
import { createSegment } from './segment.js';
import type { SegmentFile, WalIo } from './segment.js';

interface Waiter {
  readonly target: number;
  readonly durable: boolean;
  readonly resolve: () => void;
  readonly reject: (e: KvError) => void;
}

/** Bound on flush() calls waiting at once; each turn of the scheduler makes one. */
const WAITERS_MAX = 10_000;

export class LogWriter {
  private readonly segments = new Map<number, SegmentFile>();
  private active: SegmentFile;
  private batch: BatchBuilder;
  private recordSeq: number;
  private waiters: Waiter[] = [];
  private pumping = false;
  private idle: Promise<void> = Promise.resolve();
  private syncRequested = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: KvError | undefined;
  private closed = false;
  /** What the pump is doing, for the failure message. */
  private op = 'write';
  writtenBatch = 0;
  durableBatch = 0;
  writtenRecordSeq: number;
  flushes = 0;

  constructor(
    private readonly opts: ResolvedWalOptions,
    readonly io: WalIo,
    segments: readonly SegmentFile[],
    recordSeq: number,
    /** Called after each batch write with the highest record seq now on disk. */
    private readonly onWritten: (writtenRecordSeq: number) => void,
  ) {
    assert(segments.length > 0, 'the WAL needs an active segment');
    for (const s of segments) this.segments.set(s.id, s);
    this.active = segments[segments.length - 1]!;
    this.recordSeq = recordSeq;
    this.writtenRecordSeq = recordSeq;
    this.batch = new BatchBuilder(1, 0);
    if (opts.sync === 'async') {
      this.timer = setInterval(() => this.requestSync(), opts.syncIntervalMs);
      this.timer.unref();
    }
  }

  get failed(): KvError | undefined {
    return this.failure;
  }

  /** Throws the failure, if any; asserts the WAL is still open. */
  checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    assert(!this.closed, 'the WAL is closed');
  }

  get stagingBatch(): number {
    return this.batch.seq;
  }

  get stagedBytes(): number {
    return this.batch.bytes;
  }

  get activeSegmentId(): number {
    return this.active.id;
  }

  nextRecordSeq(): number {
    return ++this.recordSeq;
  }

  reserve(n: number): { buffer: Buffer; position: number; batchOffset: number } {
    return this.batch.reserve(n);
  }

  addRecord(r: StagedRecord): void {
    this.batch.records.push(r);
  }

  segment(id: number): SegmentFile | undefined {
    return this.segments.get(id);
  }

  segmentList(): SegmentFile[] {
    return [...this.segments.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * Resolves once everything staged so far is written (`durable` false) or written and
   * fdatasynced (`durable` true). Rejects with DISK_FAILURE if the WAL fails.
   */
  flush(durable: boolean): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.checkUsable();
    const target = this.batch.isEmpty() ? this.batch.seq - 1 : this.batch.seq;
    if ((durable ? this.durableBatch : this.writtenBatch) >= target) return Promise.resolve();
    assert(this.waiters.length < WAITERS_MAX, () => `more than ${WAITERS_MAX} concurrent flush() calls`);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, durable, resolve, reject });
      this.pump();
    });
  }

  private requestSync(): void {
    if (this.failure !== undefined || this.durableBatch >= this.writtenBatch) return;
    this.syncRequested = true;
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.failure !== undefined) return;
    this.pumping = true;
    this.idle = this.runPump();
  }

  /** The loop clears `pumping` in the same synchronous step that finds nothing to do. */
  private async runPump(): Promise<void> {
    try {
      for (;;) {
        if (!this.batch.isEmpty() && !this.closed) {
          await this.writeBatch();
        } else if (this.durableBatch < this.writtenBatch && (this.syncRequested || this.durableWanted())) {
          await this.syncActive();
        } else {
          this.pumping = false;
          return;
        }
        this.settleWaiters();
      }
    } catch (e) {
      this.pumping = false;
      this.fail(e);
    }
  }

  private durableWanted(): boolean {
    return this.waiters.some((w) => w.durable && w.target > this.durableBatch);
  }

  private async writeBatch(): Promise<void> {
    if (this.active.size >= this.opts.segmentBytes) await this.rotate();
    const batch = this.batch;
    this.batch = new BatchBuilder(batch.seq + 1, batch.bytes);
    const seg = this.active;
    const base = seg.size;
    for (const r of batch.records) r.place(seg.id, base);
    this.op = `write to ${seg.name}`;
    await this.io.writeAll(seg.handle, batch.parts(), base);
    seg.size = base + batch.bytes;
    this.flushes++;
    this.writtenBatch = batch.seq;
    this.writtenRecordSeq = batch.records[batch.records.length - 1]!.recordSeq;
    this.onWritten(this.writtenRecordSeq);
    if (this.opts.sync === 'always' || this.durableWanted()) await this.syncActive();
  }

  private async syncActive(): Promise<void> {
    const upTo = this.writtenBatch;
    this.syncRequested = false;
    this.op = `fdatasync of ${this.active.name}`;
    await this.io.datasync(this.active.handle);
    this.durableBatch = Math.max(this.durableBatch, upTo);
  }

  /** A segment is fdatasynced before the log moves on, so only the last one can be torn. */
  private async rotate(): Promise<void> {
    const old = this.active;
    await this.syncActive();
    this.op = `creation of segment ${old.id + 1}`;
    const next = await createSegment(this.opts.dir, old.id + 1, this.io);
    this.segments.set(next.id, next);
    this.active = next;
    this.opts.logger.info({ segment: next.path, previousBytes: old.size }, 'WAL: rotated to a new segment');
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const pending: Waiter[] = [];
    for (const w of this.waiters) {
      if ((w.durable ? this.durableBatch : this.writtenBatch) >= w.target) w.resolve();
      else pending.push(w);
    }
    this.waiters = pending;
  }

  private fail(e: unknown): void {
    if (this.failure !== undefined) return;
    const message = e instanceof Error ? e.message : String(e);
    this.failure = e instanceof AssertionError
      ? new KvError('INTERNAL', `WAL ${this.op}: ${message}`, { cause: e })
      : new KvError('DISK_FAILURE', `WAL ${this.op} failed in ${this.opts.dir}: ${message}`, { cause: e });
    this.opts.logger.error({ err: e, op: this.op, dir: this.opts.dir }, 'WAL failed; the node must stop');
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
  }

  /**
   * Deletes whole segments older than the active one (GC decided nobody needs them):
   * close, unlink, then one directory fsync. Space is returned once the handle is closed.
   */
  async deleteSegments(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    this.checkUsable();
    try {
      for (const id of ids) {
        const seg = this.segments.get(id);
        assert(seg !== undefined && id < this.active.id, () => `segment ${id} cannot be deleted`);
        this.segments.delete(id);
        this.op = `deletion of ${seg.name}`;
        await seg.handle.close();
        await unlink(seg.path);
      }
      this.op = 'directory fsync';
      await this.io.syncDir(this.opts.dir);
    } catch (e) {
      this.fail(e);
      throw this.failure;
    }
  }

  /**
   * Stops the writer and closes every file. With `flushStaged`, everything staged is first
   * written and fdatasynced, and a failure of that is thrown (after the files are closed);
   * without it, staged records are dropped as a crash would drop them. A WAL that had
   * already failed just releases its files.
   */
  async close(flushStaged: boolean): Promise<void> {
    if (this.closed) return;
    let error: unknown;
    if (flushStaged && this.failure === undefined) {
      try {
        await this.flush(true);
      } catch (e) {
        error = e;
      }
    }
    this.closed = true;
    this.batch = new BatchBuilder(this.batch.seq, 0);
    if (this.timer !== undefined) clearInterval(this.timer);
    while (this.pumping) await this.idle;
    const closedError = new KvError('UNAVAILABLE', 'the WAL was closed before this flush completed');
    for (const w of this.waiters) w.reject(closedError);
    this.waiters = [];
    await Promise.allSettled([...this.segments.values()].map((s) => s.handle.close()));
    this.segments.clear();
    if (error !== undefined) throw error;
  }
}
